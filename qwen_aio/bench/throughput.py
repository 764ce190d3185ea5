"""`qwen-aio bench --server`: labels per second, local one at a time against a loopback
llama-cpp-python server at concurrency 1, 4 and 8; same model, same machine, one run.

The server is started here (`python -m llama_cpp.server`, the `remote` extra) and its log is
read for its prompt-cache reuse ("N prefix-match hit"): the mood prefix must be covered.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from qwen_aio.bench.common import open_engine
from qwen_aio.engine.batch import label_in_order
from qwen_aio.engine.remote import RemoteEngine

log = logging.getLogger(__name__)

TEXTS = ("what a lovely surprise", "I am so happy with this", "great work, thank you",
         "this is awful", "I am so tired of waiting", "it broke after one day",
         "今天的实验终于成功了，太棒了！", "好累啊，今天什么都没做成")


def texts(n: int) -> list[str]:
    """Distinct texts (no result-cache hits), short like chat messages."""
    return [f"{TEXTS[i % len(TEXTS)]} (#{i})" for i in range(n)]


def start_server(model: str, threads: int, log_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = open(log_path, "wb")  # noqa: SIM115 - the child writes it
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", model,
                             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048",
                             "--n_threads", str(threads), "--n_threads_batch", str(threads)],
                            stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"the loopback server did not start; see {log_path}")


def _rate(engine: Any, items: list[str], concurrency: int) -> dict[str, Any]:
    summary = label_in_order(engine, items, lambda *_: None, concurrency=concurrency)
    if summary.failure is not None:
        raise summary.failure
    return {"labels": summary.labelled, "seconds": round(summary.elapsed_s, 2),
            "labels_per_s": round(summary.labels_per_s, 2)}


def run(args: argparse.Namespace) -> int:
    n = max(8, args.server_lines)
    load_before = os.getloadavg()[0]
    engine, model = open_engine(args, adaptive_threads=False)
    rows: dict[str, Any] = {}
    try:
        threads = engine.threads
        engine.mood("warm up")
        engine.clear_mood_cache()
        print(f"Local, one at a time ({n} labels) ...", file=sys.stderr, flush=True)
        rows["local_1"] = _rate(engine, texts(n), 1)
        prefix_tokens = engine.mood_prefix_tokens
    finally:
        engine.close()
    log_path = Path(tempfile.mkdtemp(prefix="qwen-aio-bench-")) / "server.log"
    proc, url = start_server(model, threads, log_path)
    try:
        for confidence in (True, False):
            remote = RemoteEngine.connect(url, max_retries=0, confidence=confidence,
                                          timeout=300)
            try:
                for c in (1, 4, 8):
                    key = f"server_{c}" + ("" if confidence else "_no_logprobs")
                    print(f"Server, concurrency {c}{'' if confidence else ', no logprobs'} "
                          f"({n} labels) ...", file=sys.stderr, flush=True)
                    remote.clear_mood_cache()
                    rows[key] = _rate(remote, texts(n), c)
            finally:
                remote.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    hits = [int(h) for h in re.findall(r"(\d+) prefix-match hit",
                                       log_path.read_text(encoding="utf-8", errors="replace"))]
    out = {"model": model, "threads": threads, "labels_per_run": n, "rows": rows,
           "mood_prefix_tokens": prefix_tokens,
           "server_prefix_hits": len(hits),
           "server_prefix_hits_covering_prefix": sum(h >= prefix_tokens - 3 for h in hits),
           "server_prefix_hit_median": sorted(hits)[len(hits) // 2] if hits else None,
           "load_avg_start": round(load_before, 2), "load_avg_end": round(os.getloadavg()[0], 2),
           "server_log": str(log_path)}
    print("| engine | concurrency | labels/s |\n|---|---|---|")
    for key, row in rows.items():
        where = "local, one at a time" if key == "local_1" else (
            "loopback llama-cpp-python server" + (", no logprobs" if "no_" in key else ""))
        conc = 1 if key == "local_1" else int(key.split("_")[1])
        print(f"| {where} | {conc} | {row['labels_per_s']} |")
    print(f"\nServer prompt-cache: {out['server_prefix_hits_covering_prefix']} of "
          f"{out['server_prefix_hits']} requests reused at least the {prefix_tokens}-token "
          f"mood prefix (median reuse {out['server_prefix_hit_median']} tokens). "
          f"Load {out['load_avg_start']} -> {out['load_avg_end']}.")
    if args.json:
        import json

        args.json.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return 0
