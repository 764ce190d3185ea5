"""The one place the desktop app touches the Qt-free core, so API changes are fixed here only."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from qwen_aio.engine.types import CancelToken, Message, MoodResult, ReplyStats
from qwen_aio.foundation.errors import QwenAioError
from qwen_aio.foundation.settings import Settings
from qwen_aio.models.download import DownloadProgress as Progress  # re-exported for the dialog
from qwen_aio.models.resolve import ResolvedModel  # re-exported: the model the app runs

log = logging.getLogger(__name__)

__all__ = [
    "CancelToken", "Message", "MoodResult", "ReplyStats", "EngineLike", "ReplyStreamLike",
    "ResolvedModel", "Progress", "load_engine", "resolve_model", "download_model",
    "catalog_choices", "default_model_id", "fallback_model_id", "model_size", "is_gguf",
    "verify_model_full", "TaskInfo", "TaskReply", "TaskStreamLike", "task_infos", "keywords_of",
    "task_problems",
]


class ReplyStreamLike(Protocol):
    """What `Engine.chat` and `Engine.continue_reply` return: text pieces with live `stats`."""

    stats: ReplyStats

    def __iter__(self) -> Iterator[str]: ...


class EngineLike(Protocol):
    """The engine surface the worker uses; the tests' scripted fake implements the same."""

    name: str

    def mood(self, text: str, *, cancel: CancelToken | None = None) -> MoodResult: ...

    def chat(self, history: Sequence[Message], text: str, *, max_tokens: int = 128,
             system_prompt: str | None = None, cancel: CancelToken | None = None,
             mood: str | None = None, confidence: float | None = None) -> ReplyStreamLike: ...

    def continue_reply(self, history: Sequence[Message], *, max_tokens: int,
                       system_prompt: str | None = None,
                       cancel: CancelToken | None = None) -> ReplyStreamLike: ...

    def set_corrections(self, pairs: Sequence[tuple[str, str]]) -> bool: ...

    def prepare(self, history: Sequence[Message], draft: str, *, max_tokens: int = 128,
                system_prompt: str | None = None, label: bool = False,
                cancel: CancelToken | None = None,
                on_label: Callable[[MoodResult], None] | None = None) -> MoodResult | None: ...

    def run_task(self, task_id: str, text: str, *, target: str | None = None,
                 cancel: CancelToken | None = None) -> TaskStreamLike: ...

    def close(self) -> None: ...


class TaskStreamLike(Protocol):
    """What `Engine.run_task` returns: text pieces, with `result` (a TaskResult) filling in."""

    result: Any

    def __iter__(self) -> Iterator[str]: ...


@dataclass(frozen=True)
class TaskInfo:
    """A task the window offers (the engine's registry, less the mood pass it always runs)."""

    id: str
    name_en: str
    name_zh: str
    structured: bool = False  # its output is a JSON list (keywords): shown as chips

    def name(self, language: str) -> str:
        return self.name_zh if language == "zh" and self.name_zh else self.name_en


def task_infos(engine: object) -> list[TaskInfo]:
    """The engine's tasks for the picker, slash commands and the tray ([] when it has none)."""
    registry = getattr(engine, "tasks", None)
    if registry is None:
        return []
    try:
        tasks = list(registry.list())
    except Exception:  # a broken registry must not stop the window: chat still works
        log.exception("The engine's task list could not be read")
        return []
    return [TaskInfo(t.id, t.name_en, t.name_zh, bool(getattr(t, "structured", False)))
            for t in tasks if t.id != "mood"]


class TaskReply:
    """A task's stream as a reply stream: the worker streams it like a chat reply, and its
    `stats` take the task's figures at the end (stop reason, tokens, speed, notices)."""

    def __init__(self, stream: TaskStreamLike) -> None:
        self._stream = stream
        self._pieces = iter(stream)
        self.stats = ReplyStats()

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        try:
            return next(self._pieces)
        except StopIteration:
            self._fill()
            raise

    def _fill(self) -> None:
        r = getattr(self._stream, "result", None)
        if r is None:
            return
        self.stats.prompt_tokens = r.prompt_tokens
        self.stats.evaluated_tokens = r.evaluated_tokens
        self.stats.generated_tokens = r.generated_tokens
        self.stats.ttft_ms = r.ttft_ms
        self.stats.decode_tps = r.decode_tps
        self.stats.stop_reason = r.stop_reason if r.stop_reason in ("end", "limit",
                                                                    "cancelled") else "end"
        self.stats.notices = list(r.notices)


def task_problems(engine: object) -> list[str]:
    """What was wrong in tasks.toml (each names the file and line; those tasks were skipped)."""
    registry = getattr(engine, "tasks", None)
    return [str(p) for p in getattr(registry, "problems", None) or []]


def keywords_of(text: str) -> list[str] | None:
    """A keywords task's output (a JSON array of strings) as a list; None if it is not one."""
    try:
        items = json.loads(text)
    except ValueError:
        return None
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        return None
    return [i.strip() for i in items if i.strip()]


def load_engine(choice: ResolvedModel, settings: Settings) -> EngineLike:
    """Verify, then load the real llama.cpp engine (slow: call it only from the worker thread);
    or, when the backend_url setting names an inference server, connect to it instead
    (`engine.api.EngineAPI`: both satisfy this module's EngineLike)."""
    from qwen_aio.foundation.paths import tasks_file

    if settings.backend_url.strip():
        from qwen_aio.engine.remote import RemoteEngine

        return RemoteEngine.connect(settings.backend_url, model=settings.backend_model or None,
                                    mood_bias=settings.mood_bias, n_ctx=settings.n_ctx,
                                    temperature=settings.temperature, tasks_file=tasks_file())
    from qwen_aio.engine import Engine
    from qwen_aio.models.store import verify_before_load

    verify_before_load(choice.id, choice.path)

    return Engine.load(
        choice.path,
        threads=settings.threads or None,
        n_ctx=settings.n_ctx,
        mood_bias=settings.mood_bias,
        name=choice.title,
        temperature=settings.temperature,
        tasks_file=tasks_file(),
    )


def resolve_model(settings: Settings, requested: str | None = None) -> ResolvedModel:
    """The model to run from disk; raises ModelNotFound when the setup dialog is needed."""
    from qwen_aio.models.resolve import resolve

    return resolve(requested, settings.model)


def download_model(model_id: str, progress: Callable[[Progress], None] | None,
                   cancel: threading.Event) -> Path:
    """Fetch a catalogue model (blocking; run it off the UI thread)."""
    from qwen_aio.models.download import download

    return Path(download(model_id, progress=progress, cancel=cancel))


def default_model_id() -> str:
    from qwen_aio.models.catalog import DEFAULT_MODEL_ID

    return DEFAULT_MODEL_ID


def fallback_model_id() -> str:
    from qwen_aio.models.catalog import FALLBACK_MODEL_ID

    return FALLBACK_MODEL_ID


def catalog_choices() -> list[tuple[str, str, bool]]:
    """(id, title, on disk) for every catalogue model, for the settings dialog."""
    from qwen_aio.models.catalog import CATALOG
    from qwen_aio.models.store import is_present

    return [(spec.id, spec.title, is_present(spec.id)) for spec in CATALOG.values()]


def verify_model_full(model_id: str, cancel: threading.Event) -> Path:
    """Hash a catalogue model in full (slow: off the UI thread); Cancelled once `cancel` is set."""
    from qwen_aio.foundation.errors import Cancelled
    from qwen_aio.models.store import verify_model

    def between_chunks(_done: int, _total: int) -> None:
        if cancel.is_set():
            raise Cancelled()

    return verify_model(model_id, full=True, progress=between_chunks).path


def model_size(model_id: str) -> int | None:
    """The catalogue's byte count for a model (None when only the hub knows it)."""
    from qwen_aio.models.catalog import get_spec

    return get_spec(model_id).size


def is_gguf(path: Path) -> bool:
    """A cheap check before a user's file is accepted (the loader checks again)."""
    from qwen_aio.models.store import check_header

    try:
        check_header(path)
    except QwenAioError:
        return False
    return True
