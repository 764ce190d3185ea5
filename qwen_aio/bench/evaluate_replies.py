"""`qwen-aio eval --replies FILE…`: what people receive, judged from `qwen-aio chat --json` lines.

Per reply preset (short / normal / long): the share of replies in the writer's language, the
share that end mid-sentence, the share that refuse or disclaim, and the median length. The
judges are the engine's own (`engine.text`), so the figures measure what the engine aims at.
"""

from __future__ import annotations

import difflib
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qwen_aio.bench.common import median
from qwen_aio.engine.text import ends_sentence, is_refusal, language_of

log = logging.getLogger(__name__)

PRESET_ORDER = ("short", "normal", "long")
ECHO_RATIO = 0.6  # a reply this similar to the message mostly repeats it back


def echoes(message: str, reply: str) -> bool:
    """The reply mostly repeats the person's message ("我跑完了马拉松" → "你跑完了马拉松。")."""
    return difflib.SequenceMatcher(None, message, reply).ratio() >= ECHO_RATIO


class RepliesFileError(ValueError):
    """A replies file that cannot be read (missing, or not `qwen-aio chat --json` output)."""


@dataclass
class PresetReport:
    preset: str
    n: int = 0
    errors: int = 0
    lang_n: int = 0  # replies whose message has a detectable zh/en language
    in_language: int = 0
    by_language: dict[str, list[int]] = field(default_factory=dict)  # lang -> [in, of]
    mid_sentence: int = 0
    cut_at_limit: int = 0
    refusals: int = 0
    echoes: int = 0
    tokens: list[int] = field(default_factory=list)
    chars: list[int] = field(default_factory=list)
    ttft_ms: list[float] = field(default_factory=list)
    examples: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    def share(self, count: int, of: int | None = None) -> float | None:
        total = self.n if of is None else of
        return count / total if total else None

    def to_json(self) -> dict[str, Any]:
        return {
            "preset": self.preset,
            "n": self.n,
            "errors": self.errors,
            "in_language": self.share(self.in_language, self.lang_n),
            "in_language_by_language": {k: (v[0] / v[1] if v[1] else None)
                                        for k, v in sorted(self.by_language.items())},
            "mid_sentence": self.share(self.mid_sentence),
            "cut_at_limit": self.share(self.cut_at_limit),
            "refusals": self.share(self.refusals),
            "echoes": self.share(self.echoes),
            "median_tokens": median(self.tokens),
            "median_chars": median(self.chars),
            "median_ttft_ms": median(self.ttft_ms),
            "examples": self.examples,
        }


def read_rows(paths: Sequence[Path]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in paths:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise RepliesFileError(f"Cannot read {path}: {exc}") from exc
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise RepliesFileError(f"{path}:{number}: not a JSON line (expected the output "
                                       "of `qwen-aio chat --file … --json`)") from exc
            if not isinstance(row, dict) or "text" not in row or "reply" not in row:
                raise RepliesFileError(f"{path}:{number}: a JSON object with 'text' and "
                                       "'reply' expected (`qwen-aio chat --file … --json`)")
            rows.append(row)
    return rows


def _example(report: PresetReport, kind: str, row: dict[str, Any]) -> None:
    items = report.examples.setdefault(kind, [])
    if len(items) < 3:
        items.append((row["text"][:60], (row["reply"] or "")[-80:]))


def judge(rows: Iterable[dict[str, Any]]) -> list[PresetReport]:
    reports: dict[str, PresetReport] = {}
    for row in rows:
        preset = str(row.get("preset") or row.get("max_tokens") or "?")
        rep = reports.setdefault(preset, PresetReport(preset))
        reply = row.get("reply")
        if reply is None:
            rep.errors += 1
            continue
        rep.n += 1
        want = language_of(row["text"])
        if want in ("zh", "en"):
            got = language_of(reply)
            ok = got == want
            rep.lang_n += 1
            rep.in_language += ok
            counts = rep.by_language.setdefault(want, [0, 0])
            counts[0] += ok
            counts[1] += 1
            if not ok:
                _example(rep, "wrong_language", row)
        if row.get("stop_reason") != "cancelled" and not ends_sentence(reply):
            rep.mid_sentence += 1
            _example(rep, "mid_sentence", row)
        rep.cut_at_limit += row.get("stop_reason") == "limit"
        if is_refusal(reply):
            rep.refusals += 1
            _example(rep, "refusal", row)
        if echoes(row["text"], reply):
            rep.echoes += 1
        rep.tokens.append(int(row.get("generated_tokens") or 0))
        rep.chars.append(len(reply))
        if row.get("ttft_ms") is not None:
            rep.ttft_ms.append(float(row["ttft_ms"]))
    order = {name: i for i, name in enumerate(PRESET_ORDER)}
    return sorted(reports.values(), key=lambda r: (order.get(r.preset, 99), r.preset))


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def format_table(reports: Sequence[PresetReport]) -> str:
    rows = ["| preset | replies | in the writer's language (zh / en) | mid-sentence | cut at "
            "the limit | refusals | echoes the message | median tokens | median chars |",
            "|---|---|---|---|---|---|---|---|---|"]
    for r in reports:
        j = r.to_json()
        by = j["in_language_by_language"]
        rows.append(
            f"| {r.preset} | {r.n} | {_pct(j['in_language'])} ({_pct(by.get('zh'))} / "
            f"{_pct(by.get('en'))}) | {_pct(j['mid_sentence'])} | {_pct(j['cut_at_limit'])} | "
            f"{_pct(j['refusals'])} | {_pct(j['echoes'])} | {j['median_tokens'] or 0:.0f} | "
            f"{j['median_chars'] or 0:.0f} |")
    return "\n".join(rows)


def format_examples(reports: Sequence[PresetReport]) -> str:
    out: list[str] = []
    for r in reports:
        for kind, items in r.examples.items():
            for text, reply in items:
                out.append(f"- {r.preset} {kind}: {text!r} → …{reply!r}")
    return "\n".join(out)
