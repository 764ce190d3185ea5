"""`qwen-aio eval --tasks [DIR]`: the built-in tasks on small hand-made sets, against the naive
approach (a one-line instruction in the user's turn, no grammar, the full prompt every time).

Sets (docs/benchmarks/tasks/, described in docs/benchmarks/tasks.md): translate-zh-en.tsv
(source, reference; both directions), summary.tsv (text), keywords.tsv (text, keywords split
by |), fix.tsv (text, reference). chrF comes from sacrebleu (the bench extra).
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qwen_aio.bench.common import fmt_num, median
from qwen_aio.bench.naive import NaiveRunner, render
from qwen_aio.engine import Engine, Message
from qwen_aio.engine.task_pass import parse_list
from qwen_aio.engine.tasks import resolve_target
from qwen_aio.engine.text import language_of

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "docs" / "benchmarks" / "tasks"
NAIVE_INSTRUCTIONS = {
    "summary": "Summarize this text in at most three sentences:",
    "keywords": "List at most eight keywords of this text as a JSON array of strings:",
    "fix": "Correct the spelling and grammar of this text:",
    "translate:en": "Translate this text into English:",
    "translate:zh": "Translate this text into Chinese:",
}
_FENCE = re.compile(r"```(?:json)?")
_SENTENCE_END = re.compile(r"[。！？!?]+|\.(?=\s|$)")


@dataclass
class Run:
    """One approach's outputs on one task's set, and what they cost."""

    outputs: list[str] = field(default_factory=list)
    ttft_ms: list[float] = field(default_factory=list)
    tps: list[float] = field(default_factory=list)
    total_ms: list[float] = field(default_factory=list)
    evaluated: list[int] = field(default_factory=list)  # prompt tokens evaluated per item

    def speed(self) -> dict[str, Any]:
        return {"ttft_p50_ms": median(self.ttft_ms), "decode_tps_p50": median(self.tps),
                "item_p50_ms": median(self.total_ms),
                "evaluated_prompt_tokens_mean": (sum(self.evaluated) / len(self.evaluated)
                                                 if self.evaluated else None)}


def read_rows(path: Path) -> list[list[str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in lines[1:] if line.strip()]


def chrf(outputs: list[str], refs: list[str]) -> float | None:
    try:
        import sacrebleu
    except ImportError:
        return None
    if not outputs:
        return None
    return float(sacrebleu.corpus_chrf(outputs, [refs]).score)


def sentences(text: str) -> int:
    return max(1, len(_SENTENCE_END.findall(text.strip().rstrip("。！？!?."))) + 1)


class TaskEval:
    def __init__(self, engine: Engine, naive: NaiveRunner, progress: bool) -> None:
        self.engine = engine
        self.naive = naive
        self.progress = progress
        self.fmt = engine.format

    def app(self, task_id: str, text: str, target: str | None, run: Run) -> None:
        t0 = time.perf_counter()
        r = self.engine.run_task(task_id, text, target=target).consume()
        run.total_ms.append((time.perf_counter() - t0) * 1000)
        run.outputs.append(r.text.strip())
        run.ttft_ms.append(r.ttft_ms)
        if r.decode_tps:
            run.tps.append(r.decode_tps)
        run.evaluated.append(r.evaluated_tokens)

    def naive_one(self, key: str, text: str, limit: int, run: Run) -> None:
        prompt = render(self.fmt, [Message("user", f"{NAIVE_INSTRUCTIONS[key]}\n\n{text}")])
        g = self.naive.generate(prompt, limit)
        run.total_ms.append(g.ms)
        run.outputs.append(g.text.strip())
        run.ttft_ms.append(g.ttft_ms)
        if g.decode_tps:
            run.tps.append(g.decode_tps)
        run.evaluated.append(g.prompt_tokens)

    def both(self, task_id: str, items: list[tuple[str, str | None]]) -> tuple[Run, Run]:
        """Each input through the app and the naive approach, alternating which goes first."""
        app, naive = Run(), Run()
        task = self.engine.tasks.get(task_id)
        t_start = time.perf_counter()
        for i, (text, target) in enumerate(items):
            key = f"{task_id}:{resolve_target(text, target)}" if task.uses_target else task_id
            limit = task.limit(len(self.fmt.plain(text)))
            calls: list[Callable[[], None]] = [
                lambda: self.app(task_id, text, target, app),  # noqa: B023 (called at once)
                lambda: self.naive_one(key, text, limit, naive)]  # noqa: B023
            for call in calls if i % 2 == 0 else calls[::-1]:
                call()
        if self.progress:
            print(f"  {task_id}: {len(items)} items ({time.perf_counter() - t_start:.0f} s)",
                  file=sys.stderr, flush=True)
        return app, naive


def score_translate(runs: tuple[Run, Run], rows: list[list[str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, run in zip(("app", "naive"), runs, strict=True):
        scores: dict[str, Any] = {}
        for target in ("en", "zh"):
            idx = [i for i, r in enumerate(rows) if (language_of(r[0]) == "zh") == (target == "en")]
            outs = [run.outputs[i] for i in idx]
            refs = [rows[i][1] for i in idx]
            scores[f"chrf_to_{target}"] = chrf(outs, refs)
            scores[f"right_language_to_{target}"] = sum(
                language_of(o) == target for o in outs) / max(1, len(outs))
        out[name] = {**scores, **run.speed()}
    return out


def score_summary(runs: tuple[Run, Run], rows: list[list[str]],
                  plain: Callable[[str], list[int]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, run in zip(("app", "naive"), runs, strict=True):
        ratios = [len(plain(o)) / max(1, len(plain(r[0])))
                  for o, r in zip(run.outputs, rows, strict=True)]
        same_lang = [language_of(o) == language_of(r[0])
                     for o, r in zip(run.outputs, rows, strict=True)]
        out[name] = {"length_ratio_mean": sum(ratios) / len(ratios),
                     "shorter_share": sum(x < 1 for x in ratios) / len(ratios),
                     "same_language_share": sum(same_lang) / len(same_lang),
                     "at_most_3_sentences_share": sum(sentences(o) <= 3 for o in run.outputs)
                     / len(run.outputs),
                     **run.speed()}
    return out


def _overlap(found: list[str], refs: list[str]) -> float:
    got = [f.casefold() for f in found]
    hit = sum(any(r.casefold() in g or (g and g in r.casefold()) for g in got) for r in refs)
    return hit / max(1, len(refs))


def score_keywords(runs: tuple[Run, Run], rows: list[list[str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, run in zip(("app", "naive"), runs, strict=True):
        valid, at_most_8, recall = 0, 0, []
        for o, row in zip(run.outputs, rows, strict=True):
            try:
                value = json.loads(o)
                ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
            except ValueError:
                ok = False
            valid += ok
            # recall is read leniently: an array inside ```json fences still counts
            items = parse_list(_FENCE.sub("", o))
            at_most_8 += ok and 1 <= len(items) <= 8
            recall.append(_overlap(items, row[1].split("|")))
        n = len(rows)
        out[name] = {"valid_json_share": valid / n, "one_to_eight_share": at_most_8 / n,
                     "reference_recall_mean": sum(recall) / n, **run.speed()}
    return out


def score_fix(runs: tuple[Run, Run], rows: list[list[str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    refs = [r[1] for r in rows]
    for name, run in zip(("app", "naive"), runs, strict=True):
        exact = sum(o == r for o, r in zip(run.outputs, refs, strict=True))
        out[name] = {"chrf": chrf(run.outputs, refs), "exact_share": exact / len(rows),
                     "unchanged_input_chrf": chrf([r[0] for r in rows], refs),
                     **run.speed()}
    return out


EXAMPLES = 3  # inputs per task whose outputs the report shows, both approaches


def _examples(runs: tuple[Run, Run], inputs: list[str]) -> list[dict[str, str]]:
    app, naive = runs
    return [{"input": text, "app": a, "naive": b}
            for text, a, b in zip(inputs[:EXAMPLES], app.outputs, naive.outputs, strict=False)]


def run_tasks(engine: Engine, model: str, folder: Path, *, progress: bool = False,
              limit: int = 0) -> dict[str, Any]:
    """Every set in ``folder`` through both approaches; the scores side by side."""
    naive = NaiveRunner(Path(model), threads=engine.threads, n_ctx=2048)
    ev = TaskEval(engine, naive, progress)
    out: dict[str, Any] = {}
    try:
        def rows_of(name: str) -> list[list[str]]:
            rows = read_rows(folder / name)
            return rows[:limit] if limit else rows

        tr = rows_of("translate-zh-en.tsv")
        if limit:  # both directions even in a short run
            all_tr = read_rows(folder / "translate-zh-en.tsv")
            tr = all_tr[:limit // 2 or 1] + all_tr[len(all_tr) // 2:][:limit // 2 or 1]
        runs = ev.both("translate", [(r[0], None) for r in tr])
        out["translate"] = {"n": len(tr), **score_translate(runs, tr)}
        # the examples of translate: both directions (one row in three)
        step = max(1, len(tr) // EXAMPLES)
        out["translate"]["examples"] = [
            {"input": tr[i][0], "app": runs[0].outputs[i], "naive": runs[1].outputs[i]}
            for i in range(0, len(tr), step)][:EXAMPLES]
        sm = rows_of("summary.tsv")
        runs = ev.both("summary", [(r[0], None) for r in sm])
        out["summary"] = {"n": len(sm), **score_summary(runs, sm, engine.format.plain),
                          "examples": _examples(runs, [r[0] for r in sm])}
        kw = rows_of("keywords.tsv")
        runs = ev.both("keywords", [(r[0], None) for r in kw])
        out["keywords"] = {"n": len(kw), **score_keywords(runs, kw),
                           "examples": _examples(runs, [r[0] for r in kw])}
        fx = rows_of("fix.tsv")
        runs = ev.both("fix", [(r[0], None) for r in fx])
        out["fix"] = {"n": len(fx), **score_fix(runs, fx),
                      "examples": _examples(runs, [r[0] for r in fx])}
    finally:
        naive.close()
    return out


def format_examples(results: dict[str, Any]) -> str:
    lines = []
    for task, res in results.items():
        for ex in res.get("examples", []):
            lines += [f"- **{task}**: {ex['input'][:120]}",
                      f"  - app: {ex['app'][:200]!r}", f"  - naive: {ex['naive'][:200]!r}"]
    return "\n".join(lines)


def format_tasks(results: dict[str, Any]) -> str:
    rows = ["| task | metric | app | naive |", "|---|---|---|---|"]
    for task, res in results.items():
        for metric, value in res["app"].items():
            other = res["naive"].get(metric)
            digits = 3 if isinstance(value, float) and abs(value) < 10 else 1
            rows.append(f"| {task} (n={res['n']}) | {metric} | {fmt_num(value, digits)} | "
                        f"{fmt_num(other, digits)} |")
    return "\n".join(rows)
