"""`qwen-aio mood`: label the mood of texts, one result line each (text or JSON)."""

from __future__ import annotations

import argparse
from pathlib import Path

from qwen_aio.cli.common import (
    EXIT_OK,
    EXIT_UNAVAILABLE,
    err,
    input_lines,
    json_line,
    open_engine,
)
from qwen_aio.engine.types import EMOJI
from qwen_aio.foundation.errors import Cancelled, EmptyInput, QwenAioError


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("text", nargs="*", help="texts to label (one result line each)")
    p.add_argument("--file", metavar="PATH", help="one message per line; - for standard input")
    p.add_argument("--json", action="store_true", help="one JSON object per line")


def run(args: argparse.Namespace) -> int:
    if args.file is None and not args.text:
        err("Give the text to label, e.g. `qwen-aio mood \"What a lovely day\"`, "
             "or --file PATH (- for standard input).")
        return EXIT_UNAVAILABLE
    if args.file not in (None, "-") and not Path(args.file).is_file():
        err(f"No such file: {args.file}")
        return EXIT_UNAVAILABLE
    engine, _ = open_engine(args)
    try:
        for text in input_lines(args):
            try:
                r = engine.mood(text)
                row = {"text": text, "label": r.label, "confidence": round(r.confidence, 4),
                       "latency_ms": round(r.latency_ms, 1), "cached": r.cached}
                if r.notice:
                    row["notice"] = r.notice
            except (EmptyInput, Cancelled) as exc:
                row = {"text": text, "label": None, "confidence": None, "latency_ms": None,
                       "cached": False, "error": str(exc)}
            except QwenAioError as exc:  # one bad line must not stop a file run
                row = {"text": text, "label": None, "confidence": None, "latency_ms": None,
                       "cached": False, "error": str(exc)}
            if args.json:
                print(json_line(row), flush=True)
            elif row["label"] is None:
                print(f"⚠️  -        -     {text}  ({row['error']})", flush=True)
            else:
                print(f"{EMOJI[row['label']]} {row['label']} {row['confidence']:.2f}  {text}",
                      flush=True)
    finally:
        engine.close()
    return EXIT_OK
