"""The benchmark's verdicts against the issue's targets, and its Markdown tables."""

from __future__ import annotations

from typing import Any

from qwen_aio.bench.common import fmt_num, median

# The targets for a 2-core machine, Qwen-family 0.5B Q4_K_M, 2 threads.
MOOD_P50_MAX_MS = 100.0
MOOD_VS_SEED = 5.0
MOOD_VS_NAIVE = 2.0
TTFT_MAX_MS = 150.0
DECODE_VS_NAIVE = 0.9
FULL_TURN_MAX_MS = 1800.0
PEAK_RSS_MAX_MB = 900.0
# issue 10: work done while the person types
TYPING_LABEL_MAX_MS = 16.0  # a frame, with the pause before Enter
TYPING_LABEL_VS_UNPREPARED = 5.0
TYPING_LABEL_NOPAUSE_SHARE = 0.5  # at most half the unprepared time without the pause
TYPING_TTFT_VS_UNPREPARED = 2.0
TYPING_CPU_MAX_RATIO = 2.0


def _ratio(slow: float | None, fast: float | None) -> float | None:
    if slow is None or fast is None or fast <= 0:
        return None
    return slow / fast


def _check(ok: bool | None, what: str) -> dict[str, Any]:
    return {"met": ok, "target": what}


def targets(r: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each target: met (True/False, or None when not measured in this run) and its wording."""

    def le(value: float | None, limit: float) -> bool | None:
        return None if value is None else value <= limit

    def ge(value: float | None, limit: float) -> bool | None:
        return None if value is None else value >= limit

    decode_share = _ratio(r.get("decode_tps"), r.get("naive_decode_tps"))
    return {
        "mood_p50": _check(le(r.get("mood_p50_ms"), MOOD_P50_MAX_MS),
                           f"mood p50 <= {MOOD_P50_MAX_MS:.0f} ms"),
        "mood_vs_naive": _check(ge(_ratio(r.get("naive_mood_p50_ms"), r.get("mood_p50_ms")),
                                   MOOD_VS_NAIVE), f">= {MOOD_VS_NAIVE:.0f}x faster than naive"),
        "mood_vs_seed": _check(ge(_ratio(r.get("seed_mood_p50_ms"), r.get("mood_p50_ms")),
                                  MOOD_VS_SEED), f">= {MOOD_VS_SEED:.0f}x faster than seed"),
        "ttft_turn1": _check(le(r.get("chat_ttft_p50_ms_turn1"), TTFT_MAX_MS),
                             f"TTFT p50 turn 1 <= {TTFT_MAX_MS:.0f} ms"),
        "ttft_turn30": _check(le(r.get("chat_ttft_p50_ms_turn30"), TTFT_MAX_MS),
                              f"TTFT p50 turn 30 <= {TTFT_MAX_MS:.0f} ms"),
        "decode_vs_naive": _check(ge(decode_share, DECODE_VS_NAIVE),
                                  f"decode >= {DECODE_VS_NAIVE:.0%} of naive"),
        "full_turn": _check(le(r.get("full_turn_p50_ms"), FULL_TURN_MAX_MS),
                            f"full turn p50 <= {FULL_TURN_MAX_MS:.0f} ms"),
        "peak_rss": _check(le(r.get("peak_rss_mb"), PEAK_RSS_MAX_MB),
                           f"peak RSS <= {PEAK_RSS_MAX_MB:.0f} MB"),
        **typing_targets(r),
    }


def typing_targets(r: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Issue 10's targets: prepared against unprepared, both from the same run."""

    def ratio_ge(slow: str, fast: str, limit: float) -> bool | None:
        s, f = r.get(slow), r.get(fast)
        if s is not None and f is not None and f <= 0 < s:
            return True  # the prepared figure is zero: there at Enter
        got = _ratio(s, f)
        return None if got is None else got >= limit

    def ttft(turn: str) -> dict[str, Any]:
        return _check(ratio_ge(f"typing_ttft_p50_ms_{turn}_unprepared",
                               f"typing_ttft_p50_ms_{turn}", TYPING_TTFT_VS_UNPREPARED),
                      f"typing TTFT {turn} >= {TYPING_TTFT_VS_UNPREPARED:.0f}x faster than "
                      "unprepared")

    label = r.get("typing_label_p50_ms")
    cpu = _ratio(r.get("typing_cpu_s_per_message"), r.get("typing_cpu_s_per_message_unprepared"))
    return {
        "typing_label": _check(None if label is None else label <= TYPING_LABEL_MAX_MS,
                               f"typing label p50 <= {TYPING_LABEL_MAX_MS:.0f} ms"),
        "typing_label_vs_unprepared": _check(
            ratio_ge("typing_label_p50_ms_unprepared", "typing_label_p50_ms",
                     TYPING_LABEL_VS_UNPREPARED),
            f"typing label >= {TYPING_LABEL_VS_UNPREPARED:.0f}x faster than unprepared"),
        "typing_label_nopause": _check(
            ratio_ge("typing_label_p50_ms_nopause_unprepared", "typing_label_p50_ms_nopause",
                     1 / TYPING_LABEL_NOPAUSE_SHARE),
            "typing label without the pause <= half the unprepared"),
        "typing_ttft_turn1": ttft("turn1"),
        "typing_ttft_turn30": ttft("turn30"),
        "typing_cpu": _check(None if cpu is None else cpu <= TYPING_CPU_MAX_RATIO,
                             f"typing CPU per message <= {TYPING_CPU_MAX_RATIO:.0f}x unprepared"),
    }


def _times(ratio: float | None) -> str:
    return "n/a" if ratio is None else f"{ratio:.1f}x"


def _verdict(t: dict[str, Any], *keys: str) -> str:
    marks = []
    for key in keys:
        met = t[key]["met"]
        marks.append("n/a" if met is None else "yes" if met else "**no**")
    return " / ".join(marks)


def markdown(r: dict[str, Any]) -> str:
    t = r["targets"]
    n = fmt_num

    def row(name: str, app: Any, naive: Any, seed: Any, target: str, verdict: str) -> str:
        return f"| {name} | {app} | {naive} | {seed} | {target} | {verdict} |"

    speedup_naive = _ratio(r.get("naive_mood_p50_ms"), r.get("mood_p50_ms"))
    speedup_seed = _ratio(r.get("seed_mood_p50_ms"), r.get("mood_p50_ms"))
    limit_s, limit_l = r.get("limit_small_tokens"), r.get("limit_large_tokens")
    curve = r.get("ttft_by_turn", [])
    first = curve[0]["ttft_ms"] if curve else None
    last5 = median([c["ttft_ms"] for c in curve[-5:]])
    lines = [
        f"## qwen-aio bench ({r['mode']}): {r['model'].rsplit('/', 1)[-1]}",
        "",
        f"CPU: {r['cpu']} ({r['machine']['logical_cpus']} logical), {r['threads']} threads, "
        f"llama-cpp-python {r['machine']['llama_cpp_python']}, load average "
        f"{r['load_avg_start']} at start, {r['load_avg_end']} at end; "
        f"{r['repeats']} repeats; seed stack: {r['seed_stack']}.",
        "",
        "| metric | app | naive | seed stack | target | met |",
        "|---|---|---|---|---|---|",
        row("mood label p50 (ms)", n(r.get("mood_p50_ms")), n(r.get("naive_mood_p50_ms")),
            n(r.get("seed_mood_p50_ms")), "<= 100; 2x naive; 5x seed",
            _verdict(t, "mood_p50", "mood_vs_naive", "mood_vs_seed")),
        row("mood label p90 (ms)", n(r.get("mood_p90_ms")), n(r.get("naive_mood_p90_ms")),
            n(r.get("seed_mood_p90_ms")), "", ""),
        row("app's mood speed-up over it", "1x", _times(speedup_naive), _times(speedup_seed),
            "", ""),
        row("tokens evaluated per label (mean)", n(r.get("mood_evaluated_tokens_mean"), 1),
            n(r.get("naive_mood_evaluated_tokens_mean"), 1), "", "", ""),
        row("mood label, cached repeat (ms)", n(r.get("mood_cached_p50_ms"), 2), "", "", "", ""),
        row("chat time to first token, turn 1 (ms)", n(r.get("chat_ttft_p50_ms_turn1")),
            n(r.get("naive_chat_ttft_p50_ms_turn1")), "", "<= 150",
            _verdict(t, "ttft_turn1")),
        row("chat time to first token, turn 30 (ms)", n(r.get("chat_ttft_p50_ms_turn30")),
            n(r.get("naive_chat_ttft_p50_ms_turn30")), "", "<= 150",
            _verdict(t, "ttft_turn30")),
        row("TTFT within the one conversation: turn 1 / median of the last 5 turns (ms)",
            f"{n(first)} / {n(last5)}", "", "", "", ""),
        row("prompt tokens evaluated at turn 30", n(r.get("chat_evaluated_tokens_turn30")),
            n(r.get("naive_chat_prompt_tokens_turn30")), "", "", ""),
        row("reply decode (tokens/s)", n(r.get("decode_tps"), 1), n(r.get("naive_decode_tps"), 1),
            n(r.get("seed_decode_tps"), 1), ">= 90% of naive", _verdict(t, "decode_vs_naive")),
        row(f"full turn: label + {n(r.get('full_turn_reply_tokens'))}-token reply (ms)",
            n(r.get("full_turn_p50_ms")), n(r.get("naive_full_turn_p50_ms")),
            n(r.get("seed_full_turn_p50_ms")), "<= 1800", _verdict(t, "full_turn")),
        row(f"reply limited to {limit_s} tokens (ms)", n(r.get("limit_small_ms")),
            n(r.get("naive_limit_small_ms")), n(r.get("seed_limit_small_ms")), "", ""),
        row(f"reply limited to {limit_l} tokens (ms)", n(r.get("limit_large_ms")),
            n(r.get("naive_limit_large_ms")), n(r.get("seed_limit_large_ms")), "", ""),
        row("peak resident memory, app alone (MB)", n(r.get("peak_rss_mb")), "", "", "<= 900",
            _verdict(t, "peak_rss")),
        row("cold start: process start to first label (ms)", n(r.get("cold_start_ms")), "", "",
            "", ""),
        "",
        "Mood label latency against message length (p50, ms):",
        "",
        "| message tokens | app | naive | seed stack |",
        "|---|---|---|---|",
    ]
    for p in r.get("mood_by_length", []):
        lines.append(f"| {p['tokens']:.0f} | {n(p['app_ms'])} | {n(p['naive_ms'])} | "
                     f"{n(p['seed_ms'])} |")
    lines += ["", "Chat time to first token against conversation depth (p50, ms):", "",
              "| turn | app | naive | tokens evaluated (app) | prompt tokens (naive) |",
              "|---|---|---|---|---|"]
    for p in r.get("ttft_by_depth", []):
        lines.append(f"| {p['depth']} | {n(p['app_ms'])} | {n(p['naive_ms'])} | "
                     f"{n(p['app_evaluated_tokens'])} | {n(p['naive_prompt_tokens'])} |")
    if r.get("typing_messages"):
        lines += ["", *typing_markdown(r)]
    if r.get("tasks"):
        lines += ["", "Tasks (p50; the app's fixed prefix evaluated once, the naive approach "
                  "evaluates the same prompt in full every time):", "",
                  "| task | first token app (ms) | naive (ms) | tokens/s app | naive | "
                  "tokens evaluated app | naive | prefix tokens |",
                  "|---|---|---|---|---|---|---|---|"]
        for t in r["tasks"]:
            lines.append(f"| {t['task']} | {n(t['app_ttft_ms'])} | {n(t['naive_ttft_ms'])} | "
                         f"{n(t['app_decode_tps'], 1)} | {n(t['naive_decode_tps'], 1)} | "
                         f"{n(t['app_evaluated_tokens'])} | {n(t['naive_prompt_tokens'])} | "
                         f"{t['prefix_tokens']} |")
    if r.get("prompt_build_turns"):
        lines += ["", f"Engine costs: a {r['prompt_build_turns']}-turn conversation's prompt "
                  f"build per turn p50 {n(r.get('prompt_build_p50_ms'), 2)} ms, p90 "
                  f"{n(r.get('prompt_build_p90_ms'), 2)} ms, max "
                  f"{n(r.get('prompt_build_max_ms'), 1)} ms; decode with the abort callback on "
                  f"every step {n(r.get('decode_tps_abort_cb_every_step'), 1)} tokens/s, only "
                  f"during prompts (the app) {n(r.get('decode_tps_abort_cb_prompt_only'), 1)} "
                  f"tokens/s (medians of {r.get('decode_abort_cb_runs')} runs each)."]
    return "\n".join(lines)


def typing_markdown(r: dict[str, Any]) -> list[str]:
    """The typing scenario: prepared while typing against the same replay unprepared."""
    t = r["targets"]
    n = fmt_num

    def row(name: str, key: str, target: str = "", verdict: str = "") -> str:
        prepared, unprepared = r.get(key), r.get(f"{key}_unprepared")
        zero = prepared is not None and prepared <= 0 and bool(unprepared)
        speedup = "at Enter" if zero else _times(_ratio(unprepared, prepared))
        return (f"| {name} | {n(prepared, 1)} | {n(unprepared)} | {speedup} | {target} | "
                f"{verdict} |")

    def cpu_row(name: str, key: str, target: str = "", verdict: str = "") -> str:
        prepared, unprepared = r.get(key), r.get(f"{key}_unprepared")
        return (f"| {name} | {n(prepared, 2)} | {n(unprepared, 2)} | "
                f"{_times(_ratio(prepared, unprepared))} more | {target} | {verdict} |")

    depth = r.get("typing_depth")
    lines = [
        f"Typing: {r['typing_messages']} messages (half Chinese) typed at 5 (English) / 2 "
        f"(Chinese) characters per second, sent at turn 1 and turn {depth}; the window's own "
        f"rules decide when to prepare; {r.get('typing_preparations')} preparations, "
        f"{r.get('typing_abandoned_preparations')} abandoned by the next keystroke.",
        "",
        "| after Enter | prepared | unprepared | speed-up | target | met |",
        "|---|---|---|---|---|---|",
        row("mood label p50, 300 ms pause (ms)", "typing_label_p50_ms",
            "<= 16; >= 5x", _verdict(t, "typing_label", "typing_label_vs_unprepared")),
        row("mood label p90, 300 ms pause (ms)", "typing_label_p90_ms"),
        row("mood label p50, no pause (ms)", "typing_label_p50_ms_nopause", ">= 2x",
            _verdict(t, "typing_label_nopause")),
        row("first reply token p50, turn 1 (ms)", "typing_ttft_p50_ms_turn1", ">= 2x",
            _verdict(t, "typing_ttft_turn1")),
        row("first reply token p90, turn 1 (ms)", "typing_ttft_p90_ms_turn1"),
        row(f"first reply token p50, turn {depth} (ms)", f"typing_ttft_p50_ms_turn{depth}",
            ">= 2x", _verdict(t, "typing_ttft_turn30")),
        row(f"first reply token p90, turn {depth} (ms)", f"typing_ttft_p90_ms_turn{depth}"),
        row("first reply token p50, turn 1, no pause (ms)", "typing_ttft_p50_ms_turn1_nopause"),
        cpu_row("CPU seconds per message (typing, label, reply)", "typing_cpu_s_per_message",
                "<= 2x", _verdict(t, "typing_cpu")),
        cpu_row("CPU seconds per message, no pause", "typing_cpu_s_per_message_nopause"),
        "",
        "Mood label after Enter against message length, typed with the pause (p50, ms):",
        "",
        "| message tokens | prepared | unprepared |",
        "|---|---|---|",
    ]
    for p in r.get("typing_label_by_length", []):
        lines.append(f"| {p['tokens']:.0f} | {n(p['prepared_ms'], 1)} | "
                     f"{n(p['unprepared_ms'])} |")
    return lines
