"""`qwen-aio bench --startup`: how long `qwen-aio --help` takes, and launch to the window shown.

Each run is a fresh process (`python -m qwen_aio`), so imports are counted as a user meets
them. The window runs offscreen in a throw-away QWEN_AIO_HOME with `-v`; it is timed until
it logs "Window shown", then sent SIGTERM (the app quits cleanly on it).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from qwen_aio.bench.common import fmt_num, machine_info, median

COMMAND = [sys.executable, "-m", "qwen_aio"]


def time_help(command: list[str] = COMMAND) -> float:
    """Milliseconds for `qwen-aio --help` in a fresh process."""
    t0 = time.perf_counter()
    subprocess.run([*command, "--help"], check=True, capture_output=True, timeout=120)
    return (time.perf_counter() - t0) * 1000


def time_window(model: str | None, command: list[str] = COMMAND) -> float:
    """Milliseconds from launching `qwen-aio` to its window shown (offscreen)."""
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, QWEN_AIO_HOME=home, QT_QPA_PLATFORM="offscreen")
        argv = [*command, "-v", "--no-tray", *(["--model", model] if model else [])]
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True, encoding="utf-8")
        assert proc.stderr is not None
        shown = None
        for line in proc.stderr:
            if "Window shown" in line:
                shown = (time.perf_counter() - t0) * 1000
                break
        proc.send_signal(signal.SIGTERM)
        try:
            proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
        if shown is None:
            raise RuntimeError(f"the window did not show (exit {proc.returncode})")
        return shown


def run(args: argparse.Namespace) -> int:
    runs = max(1, args.repeats or 7)
    model = args.model
    time_help()  # once, for the page cache
    time_window(model)
    helps = [time_help() for _ in range(runs)]
    windows = [time_window(model) for _ in range(runs)]
    out: dict[str, Any] = {
        "help_p50_ms": median(helps), "help_ms": [round(v, 1) for v in helps],
        "window_p50_ms": median(windows), "window_ms": [round(v, 1) for v in windows],
        "runs": runs, "model": model, "machine": machine_info(0),
    }
    print(f"| start-up (fresh process, median of {runs}) | ms |")
    print("|---|---|")
    print(f"| `qwen-aio --help` | {fmt_num(out['help_p50_ms'])} |")
    print(f"| launch to the window shown (offscreen) | {fmt_num(out['window_p50_ms'])} |")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return 0
