"""`qwen-aio eval PATH.tsv`: how often the mood pass agrees with labelled text, and how fast.

Files hold `label<TAB>text[<TAB>source]` with a header line. A fixed-seed sample keeps runs
short and comparable; `--calibrate` suggests the logit bias that best separates the labels.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qwen_aio.bench.common import fmt_num, median, open_engine, percentile
from qwen_aio.engine import Engine
from qwen_aio.engine.types import LABELS

log = logging.getLogger(__name__)

DEFAULT_SAMPLE = 400
DEFAULT_SEED = 0
_LABEL_NAMES = {"positive": "Positive", "pos": "Positive", "negative": "Negative",
                "neg": "Negative"}


class EvalFileError(ValueError):
    """A labelled file that cannot be read at all (missing, empty, no usable header)."""


@dataclass(frozen=True)
class Example:
    label: str
    text: str
    source: str = ""
    line: int = 0


@dataclass
class FileReport:
    path: str
    lines: int  # data lines in the file
    skipped: int  # malformed lines left out
    n: int  # examples evaluated
    correct: int = 0
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)  # gold -> predicted -> n
    latencies_ms: list[float] = field(default_factory=list)  # uncached calls only
    scores: list[float] = field(default_factory=list)  # Positive-minus-Negative log-odds
    golds: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else 0.0

    def recall(self, label: str) -> float | None:
        row = self.confusion.get(label, {})
        total = sum(row.values())
        return row.get(label, 0) / total if total else None

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "lines": self.lines,
            "skipped": self.skipped,
            "n": self.n,
            "correct": self.correct,
            "accuracy": self.accuracy,
            "recall": {lab: self.recall(lab) for lab in LABELS},
            "confusion": self.confusion,
            "latency_p50_ms": median(self.latencies_ms),
            "latency_p90_ms": percentile(self.latencies_ms, 90),
        }


def read_tsv(path: Path) -> tuple[list[Example], int]:
    """The examples of one file and how many malformed lines were skipped (each is logged)."""
    try:
        raw = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalFileError(f"Cannot read {path}: {exc}") from exc
    if not raw:
        raise EvalFileError(f"{path} is empty: expected a header line 'label<TAB>text'.")
    header = [h.strip().lower() for h in raw[0].split("\t")]
    if len(header) < 2 or header[0] != "label" or header[1] != "text":
        raise EvalFileError(f"{path}: the first line must be the header 'label<TAB>text"
                            f"[<TAB>source]', found {raw[0][:60]!r}.")
    examples: list[Example] = []
    skipped = 0
    for number, line in enumerate(raw[1:], start=2):
        if not line.strip():
            continue
        cols = line.split("\t")
        label = _LABEL_NAMES.get(cols[0].strip().lower()) if cols else None
        text = cols[1].strip() if len(cols) > 1 else ""
        if label is None or not text or len(cols) > 3:
            log.warning("%s:%d: skipped a malformed line (expected label<TAB>text[<TAB>source], "
                        "label Positive or Negative)", path, number)
            skipped += 1
            continue
        examples.append(Example(label, text, cols[2].strip() if len(cols) > 2 else "", number))
    return examples, skipped


def pick(examples: list[Example], *, sample: int = 0, limit: int = 0,
         seed: int = DEFAULT_SEED) -> list[Example]:
    """A fixed-seed random sample (in file order), or the first `limit` lines; both 0: all."""
    chosen = examples
    if sample and sample < len(chosen):
        idx = sorted(random.Random(seed).sample(range(len(chosen)), sample))
        chosen = [chosen[i] for i in idx]
    if limit:
        chosen = chosen[:limit]
    return chosen


def score_of(label: str, confidence: float) -> float:
    """Positive-minus-Negative log-odds recovered from the label's confidence."""
    p = min(max(confidence, 1e-6), 1 - 1e-6)
    odds = math.log(p / (1 - p))
    return odds if label == "Positive" else -odds


def evaluate(engine: Engine, path: Path, examples: list[Example], *, lines: int, skipped: int,
             progress: bool = False) -> FileReport:
    report = FileReport(str(path), lines, skipped, len(examples))
    report.confusion = {g: {p: 0 for p in LABELS} for g in LABELS}
    t_start = time.perf_counter()
    for i, ex in enumerate(examples, start=1):
        result = engine.mood(ex.text)
        report.confusion[ex.label][result.label] += 1
        report.correct += result.label == ex.label
        if not result.cached:
            report.latencies_ms.append(result.latency_ms)
        report.scores.append(score_of(result.label, result.confidence))
        report.golds.append(ex.label)
        if progress and (i % 50 == 0 or i == len(examples)):
            print(f"  {path.name}: {i}/{len(examples)}  accuracy so far {report.correct / i:.3f}"
                  f"  ({time.perf_counter() - t_start:.0f} s)", file=sys.stderr, flush=True)
    return report


def best_bias(reports: list[FileReport], current: float,
              grid: tuple[float, float, float] = (-6.0, 6.0, 0.25)) -> tuple[float, float]:
    """The bias (added to the label gap) that maximizes the mean of the files' accuracies.

    Scores were measured with `current` bias applied, so candidates shift relative to it.
    Ties go to the smallest change, so noise does not move the setting.
    """
    lo, hi, step = grid
    best = (current, -1.0)
    candidates = [lo + k * step for k in range(int(round((hi - lo) / step)) + 1)]
    candidates.sort(key=lambda b: abs(b - current))
    for bias in candidates:
        shift = bias - current
        accs = []
        for rep in reports:
            pairs = zip(rep.scores, rep.golds, strict=True)
            ok = sum((s + shift > 0) == (g == "Positive") for s, g in pairs)
            accs.append(ok / rep.n if rep.n else 0.0)
        mean = sum(accs) / len(accs)
        if mean > best[1] + 1e-9:
            best = (bias, mean)
    return best


def format_report(rep: FileReport) -> str:
    j = rep.to_json()
    rows = [
        f"### {Path(rep.path).name}",
        "",
        f"evaluated {rep.n} of {rep.lines} lines ({rep.skipped} malformed skipped)",
        "",
        "| metric | value |",
        "|---|---|",
        f"| accuracy | {rep.accuracy:.3f} ({rep.correct}/{rep.n}) |",
    ]
    for lab in LABELS:
        r = j["recall"][lab]
        rows.append(f"| recall {lab} | {'n/a' if r is None else f'{r:.3f}'} |")
    rows += [
        f"| latency p50 | {fmt_num(j['latency_p50_ms'])} ms |",
        f"| latency p90 | {fmt_num(j['latency_p90_ms'])} ms |",
        "",
        "| gold \\ predicted | " + " | ".join(LABELS) + " |",
        "|---|" + "---|" * len(LABELS),
    ]
    for gold in LABELS:
        rows.append(f"| {gold} | " + " | ".join(str(rep.confusion[gold][p]) for p in LABELS)
                    + " |")
    return "\n".join(rows)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                        help="labelled .tsv file(s): label<TAB>text[<TAB>source], header line")
    parser.add_argument("--replies", nargs="+", type=Path, metavar="FILE", default=None,
                        help="judge replies instead: `qwen-aio chat --file … --json` output(s); "
                        "per preset: writer's language, mid-sentence, refusals, length")
    parser.add_argument("--sheet", type=Path, metavar="DIR", default=None,
                        help="write blind reading sheets into DIR: replies of each "
                        "--configs to --messages (and --conversations), shuffled, with the "
                        "key apart (reuses DIR/replies.jsonl when it exists)")
    parser.add_argument("--scores", type=Path, metavar="DIR", default=None,
                        help="join the readers' DIR/scores-*.txt with DIR/key.json: a table "
                        "per configuration and language (DIR/table.md)")
    parser.add_argument("--messages", type=Path, default=Path("docs/replies/dev/messages.tsv"),
                        help="with --sheet: id<TAB>lang<TAB>category<TAB>feeling<TAB>text")
    parser.add_argument("--conversations", type=Path, default=None,
                        help="with --sheet: JSON lines {id, lang, turns: [...]}")
    parser.add_argument("--configs", default="free,planned",
                        help="with --sheet: configurations to compare (free, planned)")
    parser.add_argument("--limit-conversations", type=int, default=0,
                        help="with --sheet: at most the first N conversations")
    parser.add_argument("--max-tokens", type=int, default=128,
                        help="with --sheet: the reply limit (128 = normal)")
    parser.add_argument("--tasks", nargs="?", type=Path, metavar="DIR", default=None,
                        const=Path("-"), help="score the tasks (translate, summary, keywords, "
                        "fix) on the small sets in DIR (default: docs/benchmarks/tasks), side "
                        "by side with the naive approach")
    parser.add_argument("--sample", type=int, default=DEFAULT_SAMPLE,
                        help=f"evaluate a fixed-seed random sample of N lines per file "
                        f"(default {DEFAULT_SAMPLE}; 0 = all)")
    parser.add_argument("--limit", type=int, default=0, help="evaluate at most the first N "
                        "(after sampling)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="sampling seed")
    parser.add_argument("--bias", type=float, default=None,
                        help="mood logit bias (positive favours Positive); default: the setting")
    parser.add_argument("--prompt", choices=("current", "writeup"), default="current",
                        help="the app's mood prefix, or the write-up's plain prompt (baseline)")
    parser.add_argument("--calibrate", action="store_true",
                        help="also print the bias that would maximize the mean accuracy")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH",
                        help="write the results as JSON")
    parser.add_argument("--progress", action="store_true", help="progress on stderr")
    parser.add_argument("--corrections", default=None, metavar="K,K,…",
                        help="also measure what K label corrections do (e.g. 0,4,8): K lines "
                        "outside the sample that the model gets wrong, alternating files, are "
                        "corrected as a person would, then the sample is evaluated again")


def run_replies(args: argparse.Namespace) -> int:
    from qwen_aio.bench.evaluate_replies import (
        RepliesFileError,
        format_examples,
        format_table,
        judge,
        read_rows,
    )

    try:
        reports = judge(read_rows(args.replies))
    except RepliesFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_table(reports))
    examples = format_examples(reports)
    if examples:
        print("\nExamples:\n" + examples)
    if args.json:
        args.json.write_text(json.dumps({"files": [str(p) for p in args.replies],
                                         "presets": [r.to_json() for r in reports]},
                                        indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


def correction_pool(engine: Engine, files: list[tuple[list[Example], list[Example]]],
                    k: int, seed: int) -> list[tuple[str, str]]:
    """K corrections a person would make: lines outside each file's sample that the model
    (without corrections) labels wrong, taken in a seeded order, alternating between files."""
    queues = []
    for everything, sample in files:
        chosen = {(e.line, e.text) for e in sample}
        rest = [e for e in everything if (e.line, e.text) not in chosen]
        random.Random(seed + 1).shuffle(rest)
        queues.append(iter(rest))
    picked: list[tuple[str, str]] = []
    exhausted: set[int] = set()
    turn = 0
    while len(picked) < k and len(exhausted) < len(queues):
        i = turn % len(queues)
        turn += 1
        if i in exhausted:
            continue
        for ex in queues[i]:
            if engine.mood(ex.text).label != ex.label:
                picked.append((ex.text, ex.label))
                break
        else:
            exhausted.add(i)
    return picked


def run_corrections(args: argparse.Namespace, engine: Engine,
                    loaded: list[tuple[Path, list[Example], int, int]],
                    everything: list[list[Example]]) -> dict[str, Any]:
    ks = sorted({int(k) for k in str(args.corrections).split(",") if k.strip()})
    pool = correction_pool(engine, [(all_ex, ex) for all_ex, (_, ex, _, _)
                                    in zip(everything, loaded, strict=True)],
                           max(ks, default=0), args.seed)
    rows = []
    print("| K corrections | " + " | ".join(p.name for p, *_ in loaded) + " | mean |")
    print("|---|" + "---|" * (len(loaded) + 1))
    for k in ks:
        engine.set_corrections(pool[:k])
        accs = [evaluate(engine, p, ex, lines=n, skipped=s).accuracy for p, ex, n, s in loaded]
        mean = sum(accs) / len(accs)
        rows.append({"k": k, "accuracy": accs, "mean": mean, "corrections": pool[:k]})
        print(f"| {k} | " + " | ".join(f"{a:.3f}" for a in accs) + f" | {mean:.3f} |",
              flush=True)
    engine.set_corrections([])
    return {"corrections": rows}


def run_task_sets(args: argparse.Namespace) -> int:
    from qwen_aio.bench.evaluate_tasks import (
        DEFAULT_DIR,
        format_examples,
        format_tasks,
        run_tasks,
    )

    folder = DEFAULT_DIR if str(args.tasks) == "-" else args.tasks
    if not (folder / "translate-zh-en.tsv").is_file():
        print(f"error: no task sets in {folder} (translate-zh-en.tsv, summary.tsv, "
              "keywords.tsv, fix.tsv)", file=sys.stderr)
        return 2
    engine, model = open_engine(args)
    try:
        t0 = time.perf_counter()
        results = run_tasks(engine, model, folder, progress=args.progress, limit=args.limit)
        elapsed = time.perf_counter() - t0
    finally:
        engine.close()
    print(f"Model {Path(model).name}, {engine.threads} threads, {elapsed:.0f} s\n")
    print(format_tasks(results))
    print("\nExamples:\n" + format_examples(results))
    if args.json:
        args.json.write_text(json.dumps({"model": model, "threads": engine.threads,
                                         "elapsed_s": round(elapsed, 1), "tasks": results},
                                        indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.replies:
        return run_replies(args)
    if args.sheet is not None:
        from qwen_aio.bench.reply_sheet import run_sheet

        return run_sheet(args)
    if args.scores is not None:
        from qwen_aio.bench.reply_scores import run_scores

        return run_scores(args)
    if args.tasks is not None:
        return run_task_sets(args)
    if not args.paths:
        print("error: give labelled .tsv file(s), or --replies FILE…", file=sys.stderr)
        return 2
    loaded: list[tuple[Path, list[Example], int, int]] = []
    everything: list[list[Example]] = []
    try:
        for path in args.paths:
            examples, skipped = read_tsv(path)
            chosen = pick(examples, sample=args.sample, limit=args.limit, seed=args.seed)
            loaded.append((path, chosen, len(examples) + skipped, skipped))
            everything.append(examples)
    except EvalFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    engine, model = open_engine(args, prompt=args.prompt)
    try:
        if args.bias is not None:
            engine.set_mood_bias(args.bias)
        bias = engine.mood_bias  # the bias in force (setting or override)
        reports = [evaluate(engine, p, ex, lines=n, skipped=s, progress=args.progress)
                   for p, ex, n, s in loaded]
        extra = (run_corrections(args, engine, loaded, everything)
                 if args.corrections is not None else {})
    finally:
        engine.close()
    out: dict[str, Any] = {
        "model": model,
        "threads": engine.threads,
        "prompt": args.prompt,
        "bias": bias,
        "sample": args.sample,
        "seed": args.seed,
        "files": [r.to_json() for r in reports],
        **extra,
    }
    print(f"Model {Path(model).name}, prompt {args.prompt}, bias {bias:+.2f}, "
          f"{engine.threads} threads\n")
    for rep in reports:
        print(format_report(rep) + "\n")
    if args.calibrate:
        suggested, acc = best_bias(reports, bias)
        out["calibrated_bias"] = suggested
        out["calibrated_mean_accuracy"] = acc
        print(f"Calibration: bias {suggested:+.2f} would give mean accuracy {acc:.3f} "
              f"(now {sum(r.accuracy for r in reports) / len(reports):.3f})")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n",
                             encoding="utf-8")
    return 0
