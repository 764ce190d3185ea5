"""A guard against a busy CPU: llama.cpp's threads wait for each other at every layer, so when
another program takes one of two cores, two threads can be 20x slower than one. The governor
watches each evaluation and drops to one thread for a while when that happens, then tries the
configured number again.

"Slow" is relative to this model on this machine: a running baseline of the cost per token,
learned from the first evaluations at the configured thread count and updated slowly, so a
3-7B model (every step slower than a 0.5B one) is not mistaken for a busy CPU.
"""

from __future__ import annotations

import logging
import statistics
import time
from collections import deque
from collections.abc import Callable

log = logging.getLogger(__name__)

# One evaluation costs a fixed part (about the time of this many tokens: ~22 ms + ~5 ms per
# token for a 0.5B model on 2 cores) plus a part per token; costs are compared per such unit.
FIXED_COST_TOKENS = 4
LEARN_STEPS = 8  # observations before there is a baseline (none is judged slow before)
WINDOW = 64  # the baseline is the median of the last WINDOW normal observations
SLOW_FACTOR = 5.0  # a step this many times the baseline means another program took a core
MIN_SLOW_S = 0.1  # steps quicker than this are never called contention (jitter, and cheap)


def unit_cost(tokens: int, seconds: float) -> float:
    """Seconds per cost unit of one evaluation of ``tokens`` tokens."""
    return seconds / (FIXED_COST_TOKENS + max(1, tokens))


class ThreadGovernor:
    def __init__(self, threads: int, apply: Callable[[int], None], *, backoff_s: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.wanted = threads
        self.current = threads
        self._apply = apply
        self._backoff_s = backoff_s
        self._clock = clock
        self._retry_at = 0.0
        self._costs: deque[float] = deque(maxlen=WINDOW)
        self.baseline: float | None = None  # seconds per unit at the wanted thread count
        self.fallbacks = 0

    def observe(self, tokens: int, seconds: float) -> None:
        """Called after each llama_decode with how many tokens it evaluated and how long it took."""
        if self.current != self.wanted:
            if self._clock() >= self._retry_at:
                self._set(self.wanted, "trying the configured thread count again")
            return  # steps at a fallback thread count say nothing about the baseline
        cost = unit_cost(tokens, seconds)
        if (self.current > 1 and self.baseline is not None and seconds >= MIN_SLOW_S
                and cost > SLOW_FACTOR * self.baseline):
            self.fallbacks += 1
            self._set(1, f"{tokens} tokens took {seconds * 1000:.0f} ms, "
                         f"{cost / self.baseline:.0f}x this model's usual: the CPU is busy")
            self._retry_at = self._clock() + self._backoff_s
            return
        self._costs.append(cost)
        if len(self._costs) >= LEARN_STEPS:
            self.baseline = statistics.median(self._costs)

    def reset(self, threads: int) -> None:
        self.wanted = threads
        self._costs.clear()  # another thread count: another cost per token
        self.baseline = None
        self._set(threads, "thread setting changed")

    def _set(self, threads: int, why: str) -> None:
        if threads != self.current:
            log.info("Using %d thread(s): %s", threads, why)
        self.current = threads
        self._apply(threads)
