"""`qwen-aio eval --scores DIR`: the readers' scores joined with the key, one table.

Each ``DIR/scores-*.txt`` holds a reader's lines ``id<TAB>score<TAB>tags<TAB>why`` (tags
comma-separated, ``-`` for none; spaces instead of tabs are accepted). An id scored by
several readers counts once per reader. The table gives, per configuration and language, the
shares the rubric asks for (acceptable = 4-5, not wrong = 3-5), the mean, the not-wrong share
on messages whose writer feels bad (the set's ``feeling`` Negative), and the fail tags.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qwen_aio.engine.text import language_of

TAGS = ("opposite", "misread", "invented", "speaker", "echo", "generic", "advice", "language",
        "cut", "refusal")
_LINE = re.compile(r"^\s*#?(\d{4})[\s,;:|]+([1-5])(?:[\s,;:|]+([a-z,\-/ ]*?))?(?:\t(.*))?$")


@dataclass
class Row:
    n: int = 0
    total: int = 0
    acceptable: int = 0
    not_wrong: int = 0
    neg_n: int = 0
    neg_not_wrong: int = 0
    tags: Counter[str] = field(default_factory=Counter)

    def add(self, score: int, tags: list[str], negative: bool) -> None:
        self.n += 1
        self.total += score
        self.acceptable += score >= 4
        self.not_wrong += score >= 3
        if negative:
            self.neg_n += 1
            self.neg_not_wrong += score >= 3
        self.tags.update(t for t in tags if t in TAGS)


def read_scores(folder: Path) -> list[tuple[str, int, list[str]]]:
    """(id, score, tags) of every line of every scores-*.txt in ``folder``."""
    out = []
    for path in sorted(folder.glob("scores-*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            m = _LINE.match(line)
            if not m:
                continue
            tags = [t.strip() for t in re.split(r"[,/ ]+", m.group(3) or "") if t.strip("- ")]
            out.append((m.group(1), int(m.group(2)), tags))
    return out


def tabulate(key: dict[str, dict[str, Any]],
             scores: list[tuple[str, int, list[str]]]) -> dict[tuple[str, str], Row]:
    rows: dict[tuple[str, str], Row] = defaultdict(Row)
    for sid, score, tags in scores:
        item = key.get(sid)
        if item is None:
            continue
        lang = language_of(item["message"]) or item["lang"]
        lang = lang if lang in ("zh", "en") else "other"
        negative = item.get("feeling") == "Negative"
        for group in ((item["config"], lang), (item["config"], "all")):
            rows[group].add(score, tags, negative)
    return rows


def _pct(a: int, b: int) -> str:
    return f"{a / b:.0%}" if b else "n/a"


def format_table(rows: dict[tuple[str, str], Row]) -> str:
    lines = ["| configuration | language | replies | acceptable (4-5) | not wrong (3-5) | "
             "mean | not wrong, writer feels bad | " + " | ".join(TAGS) + " |",
             "|---|---|---|---|---|---|---|" + "---|" * len(TAGS)]
    for (config, lang), r in sorted(rows.items(), key=lambda kv: (kv[0][0], kv[0][1] == "all",
                                                                   kv[0][1])):
        lines.append(f"| {config} | {lang} | {r.n} | {_pct(r.acceptable, r.n)} | "
                     f"{_pct(r.not_wrong, r.n)} | {r.total / r.n:.2f} | "
                     f"{_pct(r.neg_not_wrong, r.neg_n)} ({r.neg_n}) | "
                     + " | ".join(str(r.tags[t]) for t in TAGS) + " |")
    return "\n".join(lines)


def run_scores(args: Any) -> int:
    folder: Path = args.scores
    key = json.loads((folder / "key.json").read_text(encoding="utf-8"))
    scores = read_scores(folder)
    if not scores:
        print(f"error: no scores in {folder}/scores-*.txt")
        return 2
    missing = sorted(set(key) - {s[0] for s in scores})
    table = format_table(tabulate(key, scores))
    (folder / "table.md").write_text(table + "\n", encoding="utf-8")
    print(table)
    print(f"\n{len(scores)} scores for {len(key) - len(missing)} of {len(key)} replies"
          + (f"; unscored: {', '.join(missing[:20])}" if missing else ""))
    return 0
