"""The engine interface the desktop, the CLI and the benchmark use, whichever engine runs.

Two implementations: `engine.engine.Engine` (llama.cpp in this process, the default) and
`engine.remote.RemoteEngine` (an OpenAI-compatible inference server: llama.cpp's llama-server,
llama-cpp-python's server or vLLM). Callers type against `EngineAPI` and never ask which.
Both run the same tasks (`tasks`: built-ins and tasks.toml; `run_task`: a `TaskStreamLike`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Protocol, runtime_checkable

from qwen_aio.engine.tasks import TaskRegistry
from qwen_aio.engine.types import CancelToken, Message, MoodResult, ReplyStats, TaskResult


@runtime_checkable
class ReplyStreamLike(Protocol):
    """What `chat` and `continue_reply` return: text pieces with live `stats` and the reply
    so far in `text`; `close()` stops the generation (remotely: closes the HTTP stream)."""

    stats: ReplyStats
    text: str

    def __iter__(self) -> Iterator[str]: ...

    def __next__(self) -> str: ...

    def close(self) -> None: ...


@runtime_checkable
class TaskStreamLike(Protocol):
    """What `run_task` returns (`engine.tasks.TaskStream`): text pieces, with `result` filled
    in as they stream and the output so far in `text`; `close()` stops the generation."""

    result: TaskResult

    @property
    def text(self) -> str: ...

    def __iter__(self) -> Iterator[str]: ...

    def __next__(self) -> str: ...

    def close(self) -> None: ...


@runtime_checkable
class EngineAPI(Protocol):
    """The passes and the settings that change without a reload."""

    name: str
    tasks: TaskRegistry  # the built-in tasks and tasks.toml's; its problems in `problems`

    def mood(self, text: str, *, cancel: CancelToken | None = None) -> MoodResult: ...

    def chat(self, history: Sequence[Message], text: str, *, max_tokens: int = 128,
             system_prompt: str | None = None, temperature: float | None = None,
             cancel: CancelToken | None = None, stop_at_end: bool = True,
             mood: str | None = None, hint: bool = True, confidence: float | None = None,
             plan: bool = True) -> ReplyStreamLike: ...

    def continue_reply(self, history: Sequence[Message], *, max_tokens: int = 128,
                       system_prompt: str | None = None, temperature: float | None = None,
                       cancel: CancelToken | None = None) -> ReplyStreamLike: ...

    def prepare(self, history: Sequence[Message], draft: str, *, max_tokens: int = 128,
                system_prompt: str | None = None, label: bool = False,
                cancel: CancelToken | None = None,
                on_label: Callable[[MoodResult], None] | None = None) -> MoodResult | None: ...

    def run_task(self, task_id: str, text: str, *, target: str | None = None,
                 cancel: CancelToken | None = None) -> TaskStreamLike: ...

    def set_threads(self, threads: int) -> None: ...

    def set_mood_bias(self, bias: float) -> None: ...

    def set_corrections(self, pairs: Sequence[tuple[str, str]]) -> bool: ...

    def clear_mood_cache(self) -> None: ...

    def close(self) -> None: ...
