"""What the reply plan costs: first text and CPU per reply, planned vs free, side by side.

Each message is answered twice in one process, alternating the order, from the same cached
prefix (the chat context is rewound to the empty conversation before each reply), so both
configurations see the same machine at the same moment. Reports medians.

    .venv/bin/python -m qwen_aio.bench.reply_cost --model M \
        --limit 40 --json docs/replies/cost.json
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import time
from pathlib import Path

from qwen_aio.engine import Engine


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True)
    p.add_argument("--messages", type=Path, default=Path("docs/replies/dev/messages.tsv"))
    p.add_argument("--limit", type=int, default=40)
    p.add_argument("--max-tokens", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args()
    with args.messages.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    step = max(1, len(rows) // args.limit)
    texts = [r["text"] for r in rows[::step]][:args.limit]
    engine = Engine.load(args.model, threads=args.threads, adaptive_threads=False)
    out: dict[str, dict[str, list[float]]] = {
        c: {"ttft_ms": [], "wall_ms": [], "cpu_ms": [], "tokens": []}
        for c in ("free", "planned")}
    with engine:
        for i, text in enumerate(texts):
            mood = engine.mood(text)
            order = ("free", "planned") if i % 2 == 0 else ("planned", "free")
            for config in order:
                engine.rewind([])
                cpu0, t0 = time.process_time(), time.perf_counter()
                stream = engine.chat([], text, max_tokens=args.max_tokens, mood=mood.label,
                                     confidence=mood.confidence, plan=config == "planned")
                "".join(stream)
                m = out[config]
                m["wall_ms"].append((time.perf_counter() - t0) * 1000)
                m["cpu_ms"].append((time.process_time() - cpu0) * 1000)
                m["ttft_ms"].append(stream.stats.ttft_ms)
                m["tokens"].append(stream.stats.generated_tokens)
    summary = {c: {k: statistics.median(v) for k, v in m.items()} for c, m in out.items()}
    for c, s in summary.items():
        print(f"{c:8s} first text {s['ttft_ms']:6.0f} ms | whole reply {s['wall_ms']:6.0f} ms"
              f" | CPU {s['cpu_ms']:6.0f} ms | {s['tokens']:.0f} tokens (medians, "
              f"{len(texts)} messages)")
    f, pl = summary["free"], summary["planned"]
    print(f"planned / free: first text {pl['ttft_ms'] / f['ttft_ms']:.2f}x, CPU "
          f"{pl['cpu_ms'] / f['cpu_ms']:.2f}x, CPU per token "
          f"{(pl['cpu_ms'] / pl['tokens']) / (f['cpu_ms'] / f['tokens']):.2f}x")
    if args.json:
        args.json.write_text(json.dumps({"messages": len(texts), "medians": summary,
                                         "raw": out}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
