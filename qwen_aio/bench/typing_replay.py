"""The typing scenario of `qwen-aio bench`: messages replayed keystroke by keystroke.

The person's clock is simulated (a keystroke every 1/cps seconds, then a pause before Enter),
the engine's work is real and timed: a preparation starts when the window's rules
(`qwen_aio.desktop.drafts`) would start it, no earlier than the end of the previous one, and is
abandoned through the real cancel path when the next keystroke comes first. At Enter the real
turn runs (mood pass, then the reply); a labelled preparation of the same text still running
then is its first step, as in the window: its label shows the moment it is known (the
window's `EngineClient.moodEarly`), the turn starts when it ends. The same turn without
preparing runs beside it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from qwen_aio.desktop.drafts import LABEL_QUIET_MS, WORD_QUIET_MS, finished_part
from qwen_aio.engine import CancelToken, Engine, Message
from qwen_aio.engine.text import language_of
from qwen_aio.foundation.errors import Cancelled

CPS = {"en": 5.0, "zh": 2.0}  # characters per second: a steady typist
PAUSE_MS = 300.0  # before Enter, in the "pause" variant


class _Deadline(CancelToken):
    """Cancelled once the wall clock passes ``at``: the next keystroke arriving."""

    def __init__(self, at: float) -> None:
        super().__init__()
        self.at = at

    @property
    def cancelled(self) -> bool:
        return time.perf_counter() >= self.at


@dataclass
class TypedTurn:
    label_ms: float  # Enter to the mood label
    ttft_ms: float  # Enter to the first reply token
    cpu_s: float  # process CPU for the whole message: typing, label and reply
    prepares: int = 0
    abandoned: int = 0
    evaluated_after_enter: int = 0  # chat prompt tokens the turn still evaluated at Enter


def replay(engine: Engine, history: Sequence[Message], text: str, *, prepared: bool,
           pause: bool, reply_tokens: int, system_prompt: str) -> TypedTurn:
    """One message typed and sent; returns what the person waited for after Enter."""
    engine.rewind(history, system_prompt)  # as right after the previous turn
    cpu0 = time.process_time()
    wait_ms = 0.0
    prepares = abandoned = 0
    enter = 0.0  # simulated ms of Enter, once known
    label_at: float | None = None  # simulated ms the kept preparation's label was known
    if prepared:
        gap = 1000.0 / CPS["zh" if language_of(text) == "zh" else "en"]
        busy_until = 0.0  # simulated ms when the worker is free again
        n = len(text)
        enter = n * gap + (PAUSE_MS if pause else 0.0)
        for k in range(1, n + 1):
            t_key = k * gap
            t_next = t_key + gap if k < n else enter
            for quiet, label in ((WORD_QUIET_MS, False), (LABEL_QUIET_MS, True)):
                draft = text[:k] if label else finished_part(text[:k])
                start = max(t_key + quiet, busy_until)
                if start >= t_next or not draft.strip():
                    continue
                final = label and k == n  # Enter keeps this one: it is the turn's first step
                budget_s = (t_next - start) / 1000.0
                t0 = time.perf_counter()
                cancel = CancelToken() if final else _Deadline(t0 + budget_s)
                heard: list[float] = []
                try:
                    engine.prepare(history, draft, max_tokens=reply_tokens,
                                   system_prompt=system_prompt, label=label, cancel=cancel,
                                   on_label=lambda _m, h=heard: h.append(time.perf_counter()))
                except Cancelled:
                    abandoned += 1
                prepares += 1
                busy_until = start + (time.perf_counter() - t0) * 1000.0
                if final and heard:  # the window shows a kept preparation's label at once
                    label_at = start + (heard[0] - t0) * 1000.0
        wait_ms = max(0.0, busy_until - enter)  # the turn starts when the worker is free
    mood = engine.mood(text)
    stream = engine.chat(history, text, max_tokens=reply_tokens, system_prompt=system_prompt,
                         temperature=0.0, stop_at_end=False, mood=mood.label)
    for _ in stream:
        pass
    label_ms = (max(0.0, label_at - enter) if label_at is not None
                else wait_ms + mood.latency_ms)
    ttft_ms = wait_ms + mood.latency_ms + stream.stats.ttft_ms
    return TypedTurn(label_ms, ttft_ms, time.process_time() - cpu0, prepares, abandoned,
                     stream.stats.evaluated_tokens)


def summarize(turns: Sequence[TypedTurn]) -> dict[str, Any]:
    from qwen_aio.bench.common import median, percentile

    return {
        "label_p50_ms": median([t.label_ms for t in turns]),
        "label_p90_ms": percentile([t.label_ms for t in turns], 90),
        "ttft_p50_ms": median([t.ttft_ms for t in turns]),
        "ttft_p90_ms": percentile([t.ttft_ms for t in turns], 90),
        "cpu_s": sum(t.cpu_s for t in turns) / len(turns),
        "abandoned": sum(t.abandoned for t in turns),
        "prepares": sum(t.prepares for t in turns),
    }
