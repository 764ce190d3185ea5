"""`qwen-aio eval --tasks`: the sets read, every score there, the app's keywords always JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qwen_aio.bench.evaluate_tasks import DEFAULT_DIR, Run, read_rows, score_keywords
from qwen_aio.cli import build_parser


def test_the_sets_are_well_formed() -> None:
    tr = read_rows(DEFAULT_DIR / "translate-zh-en.tsv")
    assert len(tr) == 60 and all(len(r) == 2 and r[0] and r[1] for r in tr)
    for name, cols in (("summary.tsv", 1), ("keywords.tsv", 2), ("fix.tsv", 2)):
        rows = read_rows(DEFAULT_DIR / name)
        assert rows and all(len(r) == cols for r in rows), name


def test_keyword_scores() -> None:
    app, naive = Run(outputs=['["solar panels", "school"]']), Run(outputs=["```json\n[]```"])
    got = score_keywords((app, naive), [["text", "solar panels|schools|mayor"]])
    assert got["app"]["valid_json_share"] == 1.0 and got["naive"]["valid_json_share"] == 0.0
    assert got["app"]["reference_recall_mean"] == pytest.approx(2 / 3)
    assert got["naive"]["reference_recall_mean"] == 0.0  # an empty array, fenced


def test_a_short_run_reports_both_approaches(model_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "tasks.json"
    args = build_parser().parse_args(["eval", "--tasks", "--limit", "2", "--model",
                                      str(model_path), "--threads", "2", "--json", str(out)])
    assert args.func(args) == 0
    result = json.loads(out.read_text(encoding="utf-8"))["tasks"]
    assert set(result) == {"translate", "summary", "keywords", "fix"}
    assert result["keywords"]["app"]["valid_json_share"] == 1.0
    assert result["translate"]["n"] == 2  # one pair each way
    for task in result.values():
        for side in ("app", "naive"):
            assert task[side]["ttft_p50_ms"] > 0 and task[side]["item_p50_ms"] > 0
        assert task["examples"] and {"input", "app", "naive"} <= set(task["examples"][0])
