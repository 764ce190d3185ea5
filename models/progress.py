"""Download progress: byte counts turned into reports with a speed, and the cancel check."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from qwen_aio.foundation.errors import DownloadCancelled


@dataclass(frozen=True)
class DownloadProgress:
    done_bytes: int
    total_bytes: int | None
    bytes_per_s: float
    stage: str


ProgressFn = Callable[[DownloadProgress], None]


class Meter:
    """Counts bytes for one download, reports them, and raises DownloadCancelled once asked to."""

    def __init__(self, what: str, total: int | None, progress: ProgressFn | None,
                 cancel: threading.Event | None) -> None:
        self.what, self.total, self.progress, self.cancel = what, total, progress, cancel
        self.done = 0
        self._t0 = time.monotonic()
        self._start_bytes = 0

    def restart(self, done: int, total: int | None) -> None:
        """A new phase (or a resumed file): speed counts only bytes fetched from now on."""
        self.done = self._start_bytes = done
        self.total = total
        self._t0 = time.monotonic()

    def check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise DownloadCancelled(self.what)

    def report(self, stage: str) -> None:
        self.check_cancel()
        if self.progress is not None:
            elapsed = max(time.monotonic() - self._t0, 1e-6)
            speed = (self.done - self._start_bytes) / elapsed
            self.progress(DownloadProgress(self.done, self.total, speed, stage))
