"""Plain values the engine hands to its callers (CLI, desktop, benchmark)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Literal

Label = Literal["Positive", "Negative"]
LABELS: tuple[Label, Label] = ("Positive", "Negative")
EMOJI: dict[str, str] = {"Positive": "😄", "Negative": "😞"}  # the one map: CLI, chips, tray


@dataclass(frozen=True)
class MoodResult:
    """One mood label; ``confidence`` is the chosen label's share of the two labels' probability."""

    text: str
    label: Label
    confidence: float
    latency_ms: float
    cached: bool
    evaluated_tokens: int = 0  # tokens llama.cpp evaluated for this call (0 when cached)
    notice: str | None = None  # e.g. the message was cut to fit the context
    corrected: bool = False  # the person corrected this text's label before: theirs is used

    @property
    def emoji(self) -> str:
        return EMOJI[self.label]


@dataclass(frozen=True)
class Message:
    """One chat message; user and assistant text is always tokenized as plain text."""

    role: Literal["system", "user", "assistant"]
    content: str


@dataclass
class ReplyStats:
    """What one chat pass cost; filled in while the reply streams."""

    prompt_tokens: int = 0  # tokens in the whole prompt
    evaluated_tokens: int = 0  # prompt tokens actually evaluated (the rest came from the cache)
    generated_tokens: int = 0
    ttft_ms: float = 0.0  # from the call to the first text piece
    decode_tps: float = 0.0  # generated tokens per second after the first
    # "end": the model ended its turn; "sentence": ended at a sentence end near the limit;
    # "limit": cut mid-sentence by the token limit (it can be continued); "cancelled": stopped
    stop_reason: Literal["end", "sentence", "limit", "cancelled", ""] = ""
    trimmed_messages: int = 0  # oldest history messages left out to fit the context
    notices: list[str] = field(default_factory=list)
    # the sampled starts of the reply: text, the faults found (engine.pick) and the model's
    # mean log-probability per token; ``written`` when the reply's body is a written line
    # (engine.openers.LINES) the model chose, not text it sampled
    candidates: list[tuple[str, list[str], float]] = field(default_factory=list)
    written: bool = False


@dataclass
class TaskResult:
    """One task's output (summary, keywords, ...); filled in while it streams."""

    task: str  # task id
    text: str = ""  # the whole output so far
    items: list[str] | None = None  # keywords: the parsed list; None for text tasks
    stop_reason: Literal["end", "limit", "cancelled", ""] = ""
    notices: list[str] = field(default_factory=list)  # e.g. the input was cut
    prompt_tokens: int = 0  # tokens in the whole prompt (fixed prefix + input + suffix)
    evaluated_tokens: int = 0  # prompt tokens actually evaluated (the rest came from the cache)
    generated_tokens: int = 0
    ttft_ms: float = 0.0  # from the call to the first text piece
    decode_tps: float = 0.0  # generated tokens per second after the first
    target: str | None = None  # translate: the language translated into ("en" or "zh")


class CancelToken:
    """A flag another thread sets to stop the current pass; the engine checks it between steps."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    def reset(self) -> None:
        self._event.clear()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()
