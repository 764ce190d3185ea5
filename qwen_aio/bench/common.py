"""What `qwen-aio bench` and `qwen-aio eval` share: opening the engine, stats, the machine."""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import os
import platform
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qwen_aio.engine import Engine

log = logging.getLogger(__name__)

# The write-up's mood prompt (the "seed stack"): the baseline for accuracy and speed.
WRITEUP_MOOD_PROMPT = ("You are a cold and precise sentiment analyst. Respond only with "
                       "'Positive' or 'Negative'. No explanation.")


def mood_prompt_options(kind: str) -> dict[str, Any]:
    """Engine options for a mood prefix: 'current' (the app's) or 'writeup' (the baseline)."""
    if kind == "current":
        return {}
    if kind != "writeup":
        raise ValueError(f"unknown prompt {kind!r}")
    return {"mood_prompt": WRITEUP_MOOD_PROMPT, "mood_examples": ()}


def open_engine(args: argparse.Namespace, *, prompt: str = "current",
                **engine_options: Any) -> tuple[Engine, str]:
    """The CLI's `open_engine` (resolve, download, verify, settings) with the chosen prompt.

    Returns the engine and the model's path as text (for the report).
    """
    from qwen_aio.cli.common import open_engine as cli_open

    engine, resolved = cli_open(args, **mood_prompt_options(prompt), **engine_options)
    return engine, str(resolved.path)


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100); None for no values."""
    data = sorted(v for v in values if v is not None and not math.isnan(v))
    if not data:
        return None
    if len(data) == 1:
        return data[0]
    pos = (len(data) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def median(values: Sequence[float]) -> float | None:
    data = [v for v in values if v is not None]
    return statistics.median(data) if data else None


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info(threads: int) -> dict[str, Any]:
    import llama_cpp

    info: dict[str, Any] = {
        "cpu": cpu_name(),
        "logical_cpus": os.cpu_count(),
        "threads": threads,
        "python": platform.python_version(),
        "llama_cpp_python": llama_cpp.__version__,
        "platform": platform.platform(),
    }
    with contextlib.suppress(OSError):
        info["load_avg_1m"] = round(os.getloadavg()[0], 2)
    return info


def fmt_num(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "n/a"
    return f"{value:.{digits}f}"
