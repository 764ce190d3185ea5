"""Labelling many texts: N requests in flight, results in input order, retries with backoff.

Used by `qwen-aio mood --file` with either engine (the local one runs one label at a time:
it is not thread-safe). A transient failure (no connection, timeout, 429, 5xx) is retried with
exponential backoff; when a line still fails the run stops there, and every line before it has
been handed to ``on_row`` already, so a stopped server loses no finished work.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from qwen_aio.engine.api import EngineAPI
from qwen_aio.engine.remote_errors import RemoteFailed, ServerRejected
from qwen_aio.engine.types import MoodResult
from qwen_aio.foundation.errors import QwenAioError

log = logging.getLogger(__name__)

ATTEMPTS = 4  # one try and three retries
BACKOFF_S = 0.5  # the first wait; doubles each retry, with jitter, at most MAX_BACKOFF_S
MAX_BACKOFF_S = 8.0
AHEAD = 4  # texts read ahead per request in flight (bounds memory on a million lines)
PER_LINE_STATUS = (400, 413, 422)  # the server refused this text (e.g. too long): one bad line


@dataclass
class BatchSummary:
    """How a run went; ``failure`` is set when it stopped before the end."""

    rows: int = 0  # results handed to on_row, in order (labels and per-line errors)
    labelled: int = 0
    errors: int = 0
    retries: int = 0
    elapsed_s: float = 0.0
    concurrency: int = 1
    failure: QwenAioError | None = None

    @property
    def labels_per_s(self) -> float:
        return self.labelled / self.elapsed_s if self.elapsed_s > 0 else 0.0


RowCallback = Callable[[int, str, MoodResult | None, QwenAioError | None], None]
ProgressCallback = Callable[[BatchSummary], None]


class _Stopped(Exception):
    """The run is stopping: a queued text is not sent."""


def label_in_order(engine: EngineAPI, texts: Iterable[str], on_row: RowCallback, *,
                   concurrency: int = 1, attempts: int = ATTEMPTS, backoff_s: float = BACKOFF_S,
                   on_progress: ProgressCallback | None = None,
                   sleep: Callable[[float], None] = time.sleep) -> BatchSummary:
    """Label ``texts`` with up to ``concurrency`` requests at once; ``on_row(index, text,
    result, error)`` hears each text in input order (``error`` for a bad line: empty, refused)."""
    concurrency = max(1, concurrency)
    summary = BatchSummary(concurrency=concurrency)
    stop = threading.Event()
    lock = threading.Lock()
    t0 = time.perf_counter()

    def task(text: str) -> tuple[MoodResult | None, QwenAioError | None]:
        for attempt in range(max(1, attempts)):
            if stop.is_set():
                raise _Stopped()
            try:
                return engine.mood(text), None
            except ServerRejected as exc:
                if exc.status in PER_LINE_STATUS:
                    return None, exc
                raise
            except RemoteFailed as exc:
                if not exc.transient or attempt + 1 >= attempts:
                    raise
                wait = min(MAX_BACKOFF_S, backoff_s * 2 ** attempt) * (0.5 + random.random())
                log.info("Retrying in %.1f s after: %s", wait, exc)
                with lock:
                    summary.retries += 1
                stop.wait(wait) if sleep is time.sleep else sleep(wait)
            except QwenAioError as exc:  # this line only (empty, unreadable): the run goes on
                return None, exc
        raise AssertionError("unreachable")

    pending: dict[int, tuple[str, Future[tuple[MoodResult | None, QwenAioError | None]]]] = {}
    it = iter(enumerate(texts))
    exhausted = False
    nxt = 0
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="label") as pool:
        try:
            while True:
                while not exhausted and len(pending) < concurrency * AHEAD:
                    try:
                        i, text = next(it)
                    except StopIteration:
                        exhausted = True
                        break
                    pending[i] = (text, pool.submit(task, text))
                if nxt not in pending:
                    break
                text, future = pending.pop(nxt)
                try:
                    result, error = future.result()
                except QwenAioError as exc:
                    summary.failure = exc
                    break
                on_row(nxt, text, result, error)
                summary.rows += 1
                if result is not None:
                    summary.labelled += 1
                else:
                    summary.errors += 1
                nxt += 1
                summary.elapsed_s = time.perf_counter() - t0
                if on_progress is not None:
                    on_progress(summary)
        finally:
            stop.set()  # queued texts are not sent; retries stop waiting
            for _, future in pending.values():
                future.cancel()
    summary.elapsed_s = time.perf_counter() - t0
    if summary.failure is not None:
        log.warning("Labelling stopped after %d rows: %s", summary.rows, summary.failure)
    return summary
