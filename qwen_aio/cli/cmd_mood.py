"""`qwen-aio mood`: label the mood of texts, one result line each (text or JSON), in order.

With --backend and --concurrency N, N requests are in flight at once; lines come out in input
order as they finish; transient server failures are retried with backoff; if the server
stops for good, the lines before the failure are all written and the exit code is 3.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from qwen_aio.cli.common import (
    EXIT_INCOMPLETE,
    EXIT_OK,
    EXIT_UNAVAILABLE,
    ProgressBar,
    count_lines,
    err,
    input_lines,
    json_line,
    open_any_engine,
)
from qwen_aio.engine.batch import BatchSummary, label_in_order
from qwen_aio.engine.types import EMOJI, MoodResult
from qwen_aio.foundation.errors import QwenAioError


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("text", nargs="*", help="texts to label (one result line each)")
    p.add_argument("--file", metavar="PATH", help="one message per line; - for standard input")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--concurrency", type=int, default=1, metavar="N",
                   help="with --backend: requests in flight at once (output keeps the input "
                   "order); the local model labels one at a time")
    p.add_argument("--no-confidence", dest="confidence", action="store_false",
                   help="with --backend: no logprobs, no confidence (much faster on "
                   "llama-cpp-python's server, which computes them in Python)")


def _row(text: str, r: MoodResult | None, error: QwenAioError | None) -> dict[str, Any]:
    if r is None:
        return {"text": text, "label": None, "confidence": None, "latency_ms": None,
                "cached": False, "error": str(error)}
    confidence = None if math.isnan(r.confidence) else round(r.confidence, 4)
    row: dict[str, Any] = {"text": text, "label": r.label, "confidence": confidence,
                           "latency_ms": round(r.latency_ms, 1), "cached": r.cached}
    if r.notice:
        row["notice"] = r.notice
    return row


def run(args: argparse.Namespace) -> int:
    if args.file is None and not args.text:
        err("Give the text to label, e.g. `qwen-aio mood \"What a lovely day\"`, "
             "or --file PATH (- for standard input).")
        return EXIT_UNAVAILABLE
    if args.file not in (None, "-") and not Path(args.file).is_file():
        err(f"No such file: {args.file}")
        return EXIT_UNAVAILABLE
    if args.concurrency < 1:
        err("--concurrency must be 1 or more.")
        return EXIT_UNAVAILABLE
    # retries are the batch runner's (with backoff), not the client's as well
    options: dict[str, Any] = {"max_retries": 0}
    if not args.confidence:
        options["confidence"] = False
    engine, _ = open_any_engine(args, **options)
    concurrency = args.concurrency
    if concurrency > 1 and not getattr(engine, "thread_safe_mood", False):  # local
        err(f"Note: the local model labels one text at a time; --concurrency {concurrency} "
            "applies to a server (--backend URL).")
        concurrency = 1
    bar = ProgressBar(count_lines(args.file) if args.file is not None else None)
    bar.enabled = bar.enabled and args.file is not None

    def write(_index: int, text: str, r: MoodResult | None, error: QwenAioError | None) -> None:
        row = _row(text, r, error)
        if bar.enabled:
            print("\r\033[K", end="", file=sys.stderr)
        if args.json:
            print(json_line(row), flush=True)
        elif row["label"] is None:
            print(f"⚠️  -        -     {text}  ({row['error']})", flush=True)
        else:
            shown = "  -  " if row["confidence"] is None else f"{row['confidence']:.2f}"
            print(f"{EMOJI[row['label']]} {row['label']} {shown}  {text}", flush=True)

    def progress(s: BatchSummary) -> None:
        bar(s.rows, s.labels_per_s)

    try:
        summary = label_in_order(engine, input_lines(args), write, concurrency=concurrency,
                                 on_progress=progress)
    finally:
        engine.close()
    if args.file is not None:
        bar(summary.rows, summary.labels_per_s, final=True)
        err(f"Labelled {summary.labelled} lines ({summary.errors} errors) in "
            f"{summary.elapsed_s:.1f} s: {summary.labels_per_s:.1f} labels/s "
            f"(concurrency {concurrency}, {summary.retries} retries).")
    if summary.failure is not None:
        resume = summary.rows + 1
        source = args.file if args.file not in (None, "-") else "the input"
        err(f"Error: stopped at line {resume}: {summary.failure}")
        err(f"The {summary.rows} lines before it are written. To go on from there: "
            f"`tail -n +{resume} {source} | qwen-aio mood --file - ...`.")
        return EXIT_INCOMPLETE
    return EXIT_OK
