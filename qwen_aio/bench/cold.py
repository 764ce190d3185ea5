"""Child process of `qwen-aio bench`: cold start (process start to first label) and peak memory.

Runs the app alone (one model, no baseline loaded beside it), so its peak resident memory is
what a user's machine sees. Prints one JSON line; the parent measures the wall time around it.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

T_START = time.time()  # as early as this module can note it; the parent also times the spawn


def peak_rss_mb() -> float:
    """This process's peak resident memory.

    Linux's VmHWM belongs to this program image; ru_maxrss would also count the parent's peak,
    which survives fork and exec.
    """
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024 / 1024 if sys.platform == "darwin" else kb / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--turns", type=int, default=4)
    parser.add_argument("--reply-tokens", type=int, default=64)
    args = parser.parse_args(argv)

    from qwen_aio.bench.workload import CONVERSATION, LONG_ANSWER
    from qwen_aio.engine import Engine, Message

    t_import = time.time()
    engine = Engine.load(args.model, threads=args.threads)
    first = engine.mood("I got the job!")
    t_label = time.time()
    # Then a little of everyday work, so the peak includes both contexts in use.
    history: list[Message] = []
    for text in CONVERSATION[: args.turns]:
        engine.mood(text)
        reply = "".join(engine.chat(history, text, max_tokens=24, temperature=0.0))
        history += [Message("user", text), Message("assistant", reply)]
    engine.mood(LONG_ANSWER[0])
    for _ in engine.chat(history, LONG_ANSWER[0], max_tokens=args.reply_tokens,
                         temperature=0.0):
        pass
    peak_mb = peak_rss_mb()
    engine.close()
    print(json.dumps({
        "t_start": T_START,
        "t_import": t_import,
        "t_label": t_label,
        "label": first.label,
        "load_ms": engine.load_ms,
        "peak_rss_mb": peak_mb,
    }), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
