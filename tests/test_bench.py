"""`qwen-aio bench --smoke`: every promised key, numbers only, and the app's reuse is real."""

from __future__ import annotations

import json
import numbers
from pathlib import Path
from typing import Any

import pytest

from qwen_aio.bench import seed as bench_seed
from qwen_aio.bench.benchmark import make_plan
from qwen_aio.bench.common import percentile
from qwen_aio.cli import build_parser

REQUIRED = ("mood_p50_ms", "mood_p90_ms", "naive_mood_p50_ms", "seed_mood_p50_ms",
            "chat_ttft_p50_ms_turn1", "chat_ttft_p50_ms_turn30", "decode_tps",
            "naive_decode_tps", "seed_decode_tps", "full_turn_p50_ms", "peak_rss_mb",
            "cold_start_ms", "prompt_build_p50_ms", "prompt_build_max_ms",
            "decode_tps_abort_cb_every_step", "decode_tps_abort_cb_prompt_only",
            "typing_label_p50_ms", "typing_label_p50_ms_unprepared",
            "typing_ttft_p50_ms_turn1", "typing_ttft_p50_ms_turn1_unprepared",
            "typing_ttft_p50_ms_turn30", "typing_ttft_p50_ms_turn30_unprepared",
            "typing_cpu_s_per_message", "typing_cpu_s_per_message_unprepared")


@pytest.fixture(scope="module")
def smoke(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One minimal run, asking for the seed stack while it looks uninstalled."""
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    mp = pytest.MonkeyPatch()
    mp.setattr(bench_seed, "missing_packages", lambda: ["torch"])
    mp.setattr("qwen_aio.bench.benchmark.missing_packages", lambda: ["torch"])
    try:
        args = build_parser().parse_args(
            ["bench", "--model", str(model_path), "--threads", "2", "--smoke", "--seed-stack",
             "--json", str(out)])
        assert args.func(args) == 0
    finally:
        mp.undo()
    return {"json": json.loads(out.read_text(encoding="utf-8")), "path": out}


def test_json_has_every_key_as_a_number_or_null(smoke: dict[str, Any]) -> None:
    result = smoke["json"]
    for key in REQUIRED:
        assert key in result, key
        value = result[key]
        assert value is None or (isinstance(value, numbers.Real)
                                 and not isinstance(value, bool)), (key, value)
    assert result["threads"] == 2
    assert result["model"].endswith(".gguf") and result["cpu"]
    for key in ("mood_p50_ms", "naive_mood_p50_ms", "chat_ttft_p50_ms_turn1", "decode_tps",
                "full_turn_p50_ms", "peak_rss_mb", "cold_start_ms", "prompt_build_p50_ms",
                "decode_tps_abort_cb_every_step", "decode_tps_abort_cb_prompt_only"):
        assert result[key] is not None and result[key] > 0, key
    assert result["chat_ttft_p50_ms_turn30"] is None  # a smoke run stops at turn 3
    assert result["typing_ttft_p50_ms_turn30"] is None
    # a prepared label is often known before Enter: 0 ms after it
    assert result["typing_label_p50_ms"] is not None and result["typing_label_p50_ms"] >= 0
    for key in ("typing_label_p50_ms_unprepared", "typing_ttft_p50_ms_turn1",
                "typing_ttft_p50_ms_turn3", "typing_cpu_s_per_message_unprepared"):
        assert result[key] is not None and result[key] > 0, key
    assert result["typing_preparations"] > 0  # the replay really prepared while typing
    assert [row["tokens"] for row in result["typing_label_by_length"]]
    for task in ("summary", "keywords", "fix", "translate"):
        for key in (f"task_{task}_ttft_ms", f"naive_task_{task}_ttft_ms",
                    f"task_{task}_evaluated_tokens", f"naive_task_{task}_prompt_tokens"):
            assert result[key] is not None and result[key] > 0, key


def test_tasks_evaluate_only_their_input_on_repeat(smoke: dict[str, Any]) -> None:
    rows = {row["task"]: row for row in smoke["json"]["tasks"]}
    assert set(rows) == {"summary", "keywords", "fix", "translate"}
    for row in rows.values():  # the fixed prefix came from the task's own context
        assert row["prefix_tokens"] > 20
        assert row["app_evaluated_tokens"] < row["naive_prompt_tokens"] - 20
        assert row["app_evaluated_tokens"] > 3  # its input was evaluated: not a cached repeat


def test_missing_seed_stack_is_reported_and_the_run_goes_on(smoke: dict[str, Any]) -> None:
    result = smoke["json"]
    assert result["seed_stack"].startswith("not installed")
    assert result["seed_mood_p50_ms"] is None and result["seed_decode_tps"] is None


def test_app_mood_evaluates_fewer_tokens_than_naive(smoke: dict[str, Any]) -> None:
    result = smoke["json"]
    assert result["mood_evaluated_tokens_mean"] < result["mood_prefix_tokens"]
    assert result["naive_mood_evaluated_tokens_mean"] > result["mood_prefix_tokens"]
    turn3 = next(p for p in result["ttft_by_depth"] if p["depth"] == 3)
    assert turn3["app_evaluated_tokens"] < turn3["naive_prompt_tokens"]


def test_plot_draws_a_png(smoke: dict[str, Any], tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from qwen_aio.bench.plot import plot

    png = tmp_path / "chart.png"
    plot(smoke["json"], png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plans_and_percentiles() -> None:
    parser = build_parser()
    quick = make_plan(parser.parse_args(["bench", "--quick"]))
    full = make_plan(parser.parse_args(["bench", "--repeats", "3"]))
    assert quick.mode == "quick" and 30 in quick.checkpoints
    assert full.repeats == 3 and full.full_turn_repeats == 3
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 90) == pytest.approx(4.6)
    assert percentile([], 50) is None


def test_startup_times_help_and_the_window(tmp_path: Path) -> None:
    out = tmp_path / "startup.json"
    args = build_parser().parse_args(["bench", "--startup", "--repeats", "1", "--json",
                                      str(out)])
    assert args.func(args) == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    assert 0 < result["help_p50_ms"] < 30_000 and 0 < result["window_p50_ms"] < 60_000
