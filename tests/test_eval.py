"""`qwen-aio eval`: reading labelled files, the report's arithmetic, calibration, real model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qwen_aio.bench.evaluate import EvalFileError, FileReport, best_bias, pick, read_tsv
from qwen_aio.cli import build_parser
from qwen_aio.engine.types import LABELS

ROWS = [
    ("Positive", "I love this phone, it works perfectly.", "test"),
    ("Negative", "Terrible service, I will never come back.", "test"),
    ("Positive", "房间很干净，服务也很好，下次还来。", "test"),
    ("Negative", "太吵了，一晚上没睡好，很失望。", "test"),
    ("Positive", "What a wonderful day, everything went right.", "test"),
    ("Negative", "The food was cold and the waiter was rude.", "test"),
]


def write_tsv(path: Path, malformed: bool = True) -> Path:
    lines = ["label\ttext\tsource"] + ["\t".join(r) for r in ROWS]
    if malformed:
        lines.insert(3, "Maybe\tnot a label we know\ttest")  # unknown label
        lines.insert(5, "no tab at all on this line")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_read_tsv_skips_and_counts_malformed_lines(tmp_path: Path) -> None:
    examples, skipped = read_tsv(write_tsv(tmp_path / "d.tsv"))
    assert skipped == 2
    assert [(e.label, e.text) for e in examples] == [(r[0], r[1]) for r in ROWS]
    assert examples[0].line == 2


def test_read_tsv_requires_the_header(tmp_path: Path) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text("Positive\tgreat\n", encoding="utf-8")
    with pytest.raises(EvalFileError, match="header"):
        read_tsv(path)


def test_sample_is_fixed_by_the_seed_and_keeps_file_order(tmp_path: Path) -> None:
    examples, _ = read_tsv(write_tsv(tmp_path / "d.tsv"))
    a = pick(examples, sample=4, seed=7)
    assert a == pick(examples, sample=4, seed=7)
    assert [e.line for e in a] == sorted(e.line for e in a)
    assert len(pick(examples, sample=4, limit=2)) == 2
    assert pick(examples, sample=0) == examples


def test_best_bias_moves_the_threshold_only_when_it_helps() -> None:
    rep = FileReport("x", lines=4, skipped=0, n=4)
    rep.scores = [2.0, 1.0, -0.5, -3.0]  # the third is Positive but scored slightly negative
    rep.golds = ["Positive", "Positive", "Positive", "Negative"]
    bias, acc = best_bias([rep], current=0.0)
    assert acc == 1.0
    assert 0.5 < bias < 3.0
    rep.golds = ["Positive", "Positive", "Negative", "Negative"]
    assert best_bias([rep], current=0.0) == (0.0, 1.0)  # already right: no change


def test_eval_end_to_end(model_path: Path, tmp_path: Path,
                         capsys: pytest.CaptureFixture[str]) -> None:
    data = write_tsv(tmp_path / "d.tsv")
    out = tmp_path / "eval.json"
    args = build_parser().parse_args(
        ["eval", str(data), "--model", str(model_path), "--threads", "2", "--sample", "0",
         "--bias", "0", "--calibrate", "--json", str(out)])
    assert args.func(args) == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["bias"] == 0.0 and result["prompt"] == "current"
    (rep,) = result["files"]
    assert (rep["lines"], rep["skipped"], rep["n"]) == (8, 2, 6)
    cells = [rep["confusion"][g][p] for g in LABELS for p in LABELS]
    assert sum(cells) == rep["n"]
    assert rep["correct"] == sum(rep["confusion"][lab][lab] for lab in LABELS)
    assert rep["accuracy"] == pytest.approx(rep["correct"] / rep["n"])
    assert rep["correct"] >= 5  # plain, strongly worded examples
    assert all(0.0 <= rep["recall"][lab] <= 1.0 for lab in LABELS)
    assert rep["latency_p50_ms"] > 0
    assert isinstance(result["calibrated_bias"], float)
    printed = capsys.readouterr().out
    assert "accuracy" in printed and "| gold \\ predicted |" in printed


def test_eval_reports_an_unreadable_file(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["eval", str(tmp_path / "missing.tsv")])
    assert args.func(args) == 2
    assert "Cannot read" in capsys.readouterr().err
