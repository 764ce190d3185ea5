"""A guard against a busy CPU: llama.cpp's threads wait for each other at every layer, so when
another program takes one of two cores, two threads can be 20x slower than one. The governor
watches each evaluation and drops to one thread for a while when that happens, then tries the
configured number again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

# On these machines one evaluation costs ~22 ms + ~5 ms per token at 2 threads; the limits
# leave ample room for slower laptops before calling it contention.
BASE_LIMIT_S = 0.25
PER_TOKEN_LIMIT_S = 0.02


class ThreadGovernor:
    def __init__(self, threads: int, apply: Callable[[int], None], *, backoff_s: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.wanted = threads
        self.current = threads
        self._apply = apply
        self._backoff_s = backoff_s
        self._clock = clock
        self._retry_at = 0.0
        self.fallbacks = 0

    def observe(self, tokens: int, seconds: float) -> None:
        """Called after each llama_decode with how many tokens it evaluated and how long it took."""
        if self.current > 1 and seconds > BASE_LIMIT_S + PER_TOKEN_LIMIT_S * tokens:
            self.fallbacks += 1
            self._set(1, f"{tokens} tokens took {seconds * 1000:.0f} ms: the CPU is busy")
            self._retry_at = self._clock() + self._backoff_s
        elif self.current != self.wanted and self._clock() >= self._retry_at:
            self._set(self.wanted, "trying the configured thread count again")

    def reset(self, threads: int) -> None:
        self.wanted = threads
        self._set(threads, "thread setting changed")

    def _set(self, threads: int, why: str) -> None:
        if threads != self.current:
            log.info("Using %d thread(s): %s", threads, why)
        self.current = threads
        self._apply(threads)
