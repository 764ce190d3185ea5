"""`qwen-aio bench`: the app against naive llama-cpp-python and the seed stack, side by side.

One process, one GGUF, the same threads; every measurement interleaves the stacks (A B C, then
B C A, ...) after a warm-up, and reports medians, so a busy neighbour hurts all of them alike.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from qwen_aio.bench.cold import peak_rss_mb
from qwen_aio.bench.common import (
    fmt_num,
    machine_info,
    median,
    open_engine,
    percentile,
)
from qwen_aio.bench.engine_costs import abort_callback_decode, prompt_build_curve
from qwen_aio.bench.naive import NaiveRunner, render
from qwen_aio.bench.report import markdown, targets
from qwen_aio.bench.seed import INSTALL_HINT, SeedRunner, missing_packages
from qwen_aio.bench.workload import (
    CONVERSATION,
    LENGTHS,
    LONG_ANSWER,
    QUICK_LENGTHS,
    SHORT_MESSAGES,
    VARIANTS,
    texts_of_length,
)
from qwen_aio.engine import Engine, Message
from qwen_aio.engine.prompts import mood_messages
from qwen_aio.engine.types import LABELS
from qwen_aio.foundation.settings import DEFAULT_CHAT_SYSTEM_PROMPT

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    """How much of each measurement to do: full, --quick or --smoke (tests)."""

    mode: str
    repeats: int
    messages: tuple[str, ...]
    lengths: tuple[int, ...]
    depth: int
    checkpoints: tuple[int, ...]
    conv_reply_tokens: int
    full_reply_tokens: int
    full_turn_repeats: int
    limits: tuple[int, int]
    limit_repeats: int
    seed_repeats: int


def make_plan(args: argparse.Namespace) -> Plan:
    if args.smoke:
        plan = Plan("smoke", 1, (SHORT_MESSAGES[0], SHORT_MESSAGES[8]), (5, 40), 3, (1, 3), 8,
                    8, 1, (2, 6), 1, 1)
    elif args.quick:
        plan = Plan("quick", 2, SHORT_MESSAGES, QUICK_LENGTHS, 30, (1, 10, 30), 24, 64, 3,
                    (10, 100), 1, 1)
    else:
        plan = Plan("full", 5, SHORT_MESSAGES, LENGTHS, 30, (1, 5, 10, 20, 30), 24, 64, 5,
                    (10, 100), 3, 2)
    if args.repeats:
        r = max(1, args.repeats)
        plan = Plan(plan.mode, r, plan.messages, plan.lengths, plan.depth, plan.checkpoints,
                    plan.conv_reply_tokens, plan.full_reply_tokens, r, plan.limits,
                    max(1, r // 2), max(1, min(plan.seed_repeats, r)))
    return plan


def say(message: str) -> None:
    """Progress on stderr; stdout carries only the table."""
    print(message, file=sys.stderr, flush=True)


def rotate(r: int, calls: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Run one round of the stacks, starting with a different one each repeat."""
    names = list(calls)
    k = r % len(names)
    return {name: calls[name]() for name in names[k:] + names[:k]}


class Bench:
    def __init__(self, engine: Engine, naive: NaiveRunner, seed: SeedRunner | None,
                 plan: Plan) -> None:
        self.engine = engine
        self.naive = naive
        self.seed = seed
        self.plan = plan
        self.fmt = engine.format
        self.system = Message("system", DEFAULT_CHAT_SYSTEM_PROMPT)
        self.label_limit = max(len(self.fmt.plain(lab)) for lab in LABELS) + 1
        self.out: dict[str, Any] = {}

    # -- one call of each stack -------------------------------------------------------------------

    def app_mood(self, text: str) -> tuple[float, int]:
        self.engine.clear_mood_cache()  # measure the model, not the result cache
        r = self.engine.mood(text)
        return r.latency_ms, r.evaluated_tokens

    def naive_mood(self, text: str) -> tuple[float, int]:
        messages = mood_messages()  # the app's prefix; the last (user) message gets the text
        messages[-1] = Message("user", text)
        g = self.naive.mood(render(self.fmt, messages), self.label_limit)
        return g.ms, g.prompt_tokens + max(0, g.generated - 1)

    def app_chat(self, history: list[Message], text: str, max_tokens: int,
                 fixed: bool = False) -> Any:
        """``fixed``: exactly ``max_tokens`` tokens, so the three stacks do the same work."""
        stream = self.engine.chat(history, text, max_tokens=max_tokens,
                                  system_prompt=self.system.content, temperature=0.0,
                                  stop_at_end=not fixed)
        for _ in stream:
            pass
        return stream

    def naive_prompt(self, history: list[Message], text: str) -> str:
        return render(self.fmt, [self.system, *history, Message("user", text)])

    # -- measurements -----------------------------------------------------------------------------

    def warm_up(self) -> None:
        self.app_mood("Hello there!")
        self.naive_mood("Hello there!")
        self.app_chat([], "Hello there!", 4)
        self.naive.generate(self.naive_prompt([], "Hello there!"), 4)
        if self.seed is not None:
            self.seed.mood("Hello there!")

    def _seed_round(self, r: int) -> bool:
        return self.seed is not None and r < self.plan.seed_repeats

    def mood_short(self) -> None:
        app, naive, seed, app_tok, naive_tok, cached = [], [], [], [], [], []
        for r in range(self.plan.repeats):
            for text in self.plan.messages:
                calls: dict[str, Callable[[], Any]] = {
                    "app": partial(self.app_mood, text), "naive": partial(self.naive_mood, text)}
                if self._seed_round(r):
                    calls["seed"] = partial(self.seed.mood, text)  # type: ignore[union-attr]
                got = rotate(r, calls)
                app.append(got["app"][0])
                app_tok.append(got["app"][1])
                naive.append(got["naive"][0])
                naive_tok.append(got["naive"][1])
                if "seed" in got:
                    seed.append(got["seed"].ms)
                cached.append(self.engine.mood(text).latency_ms)  # now a cache hit
        self.out.update({
            "mood_p50_ms": median(app), "mood_p90_ms": percentile(app, 90),
            "naive_mood_p50_ms": median(naive), "naive_mood_p90_ms": percentile(naive, 90),
            "seed_mood_p50_ms": median(seed), "seed_mood_p90_ms": percentile(seed, 90),
            "mood_cached_p50_ms": median(cached),
            "mood_evaluated_tokens_mean": sum(app_tok) / len(app_tok),
            "naive_mood_evaluated_tokens_mean": sum(naive_tok) / len(naive_tok),
            "mood_prefix_tokens": self.engine.mood_prefix_tokens,
            "mood_messages": len(self.plan.messages),
        })

    def mood_by_length(self) -> None:
        rows = []
        for target in self.plan.lengths:
            texts = texts_of_length(target, lambda t: len(self.fmt.plain(t)))
            got_all: dict[str, list[float]] = {"app": [], "naive": [], "seed": []}
            for r in range(self.plan.repeats):
                for text in texts:
                    calls: dict[str, Callable[[], Any]] = {
                        "app": partial(self.app_mood, text),
                        "naive": partial(self.naive_mood, text)}
                    if self._seed_round(r):
                        calls["seed"] = partial(self.seed.mood, text)  # type: ignore[union-attr]
                    for name, value in rotate(r, calls).items():
                        got_all[name].append(value.ms if name == "seed" else value[0])
            tokens = sum(len(self.fmt.plain(t)) for t in texts) / len(texts)
            app, naive = median(got_all["app"]), median(got_all["naive"])
            rows.append({"tokens": tokens, "app_ms": app, "naive_ms": naive,
                         "seed_ms": median(got_all["seed"])})
            say(f"  mood at ~{target} tokens: app {fmt_num(app)} ms, naive {fmt_num(naive)} ms")
        self.out["mood_by_length"] = rows

    def conversation(self) -> list[Message]:
        """Turns 1..depth with the app (its time to first token per turn), greedy replies."""
        history: list[Message] = []
        curve = []
        for i, text in enumerate(CONVERSATION[: self.plan.depth], start=1):
            stream = self.app_chat(history, text, self.plan.conv_reply_tokens)
            curve.append({"turn": i, "ttft_ms": stream.stats.ttft_ms,
                          "prompt_tokens": stream.stats.prompt_tokens,
                          "evaluated_tokens": stream.stats.evaluated_tokens})
            history += [Message("user", text), Message("assistant", stream.text)]
        self.out["ttft_by_turn"] = curve
        return history

    def _app_ttft(self, hist: list[Message], text: str) -> tuple[float, int]:
        stats = self.app_chat(hist, text, 4).stats
        return stats.ttft_ms, stats.evaluated_tokens

    def _naive_ttft(self, hist: list[Message], text: str) -> tuple[float, int]:
        g = self.naive.generate(self.naive_prompt(hist, text), 1, first_only=True)
        return g.ttft_ms, g.prompt_tokens

    def ttft_by_depth(self, history: list[Message]) -> None:
        points = []
        for depth in self.plan.checkpoints:
            if depth > self.plan.depth:
                continue
            hist = history[: 2 * (depth - 1)]
            self.app_chat(hist, VARIANTS[-1], 2)  # as after turn depth-1: the history is cached
            got_all: dict[str, list[tuple[float, int]]] = {"app": [], "naive": []}
            for r in range(self.plan.repeats):
                text = VARIANTS[r % (len(VARIANTS) - 1)]
                got = rotate(r, {"app": partial(self._app_ttft, hist, text),
                                 "naive": partial(self._naive_ttft, hist, text)})
                for name, value in got.items():
                    got_all[name].append(value)
            app = median([v[0] for v in got_all["app"]])
            naive = median([v[0] for v in got_all["naive"]])
            points.append({"depth": depth, "app_ms": app, "naive_ms": naive,
                           "app_evaluated_tokens": median([v[1] for v in got_all["app"]]),
                           "naive_prompt_tokens": median([v[1] for v in got_all["naive"]])})
            say(f"  turn {depth}: time to first token app {fmt_num(app)} ms, "
                f"naive {fmt_num(naive)} ms")
        self.out["ttft_by_depth"] = points
        by = {p["depth"]: p for p in points}
        for d in (1, 30):
            p = by.get(d, {})
            self.out[f"chat_ttft_p50_ms_turn{d}"] = p.get("app_ms")
            self.out[f"naive_chat_ttft_p50_ms_turn{d}"] = p.get("naive_ms")
            self.out[f"chat_evaluated_tokens_turn{d}"] = p.get("app_evaluated_tokens")
            self.out[f"naive_chat_prompt_tokens_turn{d}"] = p.get("naive_prompt_tokens")

    def typing(self, history: list[Message]) -> None:
        """Messages typed keystroke by keystroke, sent with and without preparing (same run,
        alternating), at turn 1 and at the last checkpoint; then label-after-Enter against
        message length at turn 1."""
        # here, not at the top: `qwen-aio --help` builds every parser and must not load the
        # desktop's timing rules (tests/test_layering.py)
        from qwen_aio.bench.typing_replay import TypedTurn, replay, summarize

        n_msgs = {"smoke": 2, "quick": 8}.get(self.plan.mode, len(SHORT_MESSAGES))
        half = (n_msgs + 1) // 2  # as many Chinese messages as English ones
        msgs = [*SHORT_MESSAGES[:half], *SHORT_MESSAGES[8:8 + n_msgs - half]]
        system = self.system.content
        tokens = self.plan.conv_reply_tokens
        results: dict[tuple[str, bool, int], list[TypedTurn]] = {}
        for depth in (1, self.plan.depth):
            hist = history[: 2 * (depth - 1)]
            self.app_chat(hist, VARIANTS[-1], 2)  # as after turn depth-1: the history is cached
            for r, text in enumerate(msgs):
                for pause in (True, False):
                    calls: dict[str, Callable[[], Any]] = {
                        mode: partial(replay, self.engine, hist, text, prepared=mode == "prepared",
                                      pause=pause, reply_tokens=tokens, system_prompt=system)
                        for mode in ("prepared", "unprepared")}
                    for mode, turn in rotate(r, calls).items():
                        results.setdefault((mode, pause, depth), []).append(turn)
        out: dict[str, Any] = {}
        last = self.plan.depth
        for mode, suffix in (("prepared", ""), ("unprepared", "_unprepared")):
            with_pause = [*results[(mode, True, 1)], *results[(mode, True, last)]]
            no_pause = [*results[(mode, False, 1)], *results[(mode, False, last)]]
            s, s_np = summarize(with_pause), summarize(no_pause)
            out[f"typing_label_p50_ms{suffix}"] = s["label_p50_ms"]
            out[f"typing_label_p90_ms{suffix}"] = s["label_p90_ms"]
            out[f"typing_label_p50_ms_nopause{suffix}"] = s_np["label_p50_ms"]
            out[f"typing_label_p90_ms_nopause{suffix}"] = s_np["label_p90_ms"]
            for depth in (1, last):
                d = summarize(results[(mode, True, depth)])
                dn = summarize(results[(mode, False, depth)])
                out[f"typing_ttft_p50_ms_turn{depth}{suffix}"] = d["ttft_p50_ms"]
                out[f"typing_ttft_p90_ms_turn{depth}{suffix}"] = d["ttft_p90_ms"]
                out[f"typing_ttft_p50_ms_turn{depth}_nopause{suffix}"] = dn["ttft_p50_ms"]
            out.setdefault(f"typing_ttft_p50_ms_turn30{suffix}", None)  # a smoke run: turn 3
            out[f"typing_cpu_s_per_message{suffix}"] = s["cpu_s"]
            out[f"typing_cpu_s_per_message_nopause{suffix}"] = s_np["cpu_s"]
        out["typing_abandoned_preparations"] = sum(
            t.abandoned for turns in results.values() for t in turns)
        out["typing_preparations"] = sum(t.prepares for turns in results.values() for t in turns)
        out["typing_messages"] = len(msgs)
        out["typing_depth"] = last
        say(f"  typing: label after Enter {fmt_num(out['typing_label_p50_ms'])} ms prepared, "
            f"{fmt_num(out['typing_label_p50_ms_unprepared'])} ms unprepared")
        rows = []
        self.app_chat([], VARIANTS[-1], 2)
        for target in self.plan.lengths[:1] if self.plan.mode == "smoke" else self.plan.lengths:
            got: dict[str, list[TypedTurn]] = {"prepared": [], "unprepared": []}
            texts = texts_of_length(target, lambda t: len(self.fmt.plain(t)))
            for r, text in enumerate(texts):
                calls = {mode: partial(replay, self.engine, [], text, prepared=mode == "prepared",
                                       pause=True, reply_tokens=2, system_prompt=system)
                         for mode in ("prepared", "unprepared")}
                for mode, turn in rotate(r, calls).items():
                    got[mode].append(turn)
            rows.append({"tokens": sum(len(self.fmt.plain(t)) for t in texts) / len(texts),
                         "prepared_ms": summarize(got["prepared"])["label_p50_ms"],
                         "unprepared_ms": summarize(got["unprepared"])["label_p50_ms"]})
        out["typing_label_by_length"] = rows
        self.out.update(out)

    def _seed_messages(self, text: str) -> list[dict[str, str]]:
        return [{"role": "system", "content": self.system.content},
                {"role": "user", "content": text}]

    def _app_turn(self, text: str, n_tok: int) -> tuple[float, float | None, int]:
        t0 = time.perf_counter()
        self.app_mood(text)
        s = self.app_chat([], text, n_tok, fixed=True).stats
        return (time.perf_counter() - t0) * 1000, s.decode_tps or None, s.generated_tokens

    def _naive_turn(self, text: str, n_tok: int) -> tuple[float, float | None, int]:
        t0 = time.perf_counter()
        self.naive_mood(text)
        g = self.naive.generate(self.naive_prompt([], text), n_tok, fixed=True)
        return (time.perf_counter() - t0) * 1000, g.decode_tps, g.generated

    def _seed_turn(self, text: str, n_tok: int) -> tuple[float, float | None, int]:
        assert self.seed is not None
        t0 = time.perf_counter()
        self.seed.mood(text)
        g = self.seed.generate(self._seed_messages(text), n_tok)
        return (time.perf_counter() - t0) * 1000, g.decode_tps, g.generated

    def full_turn(self) -> None:
        """Label + a reply of `full_reply_tokens` tokens; also gives the decode speeds."""
        n_tok = self.plan.full_reply_tokens
        got_all: dict[str, list[tuple[float, float | None, int]]] = {
            "app": [], "naive": [], "seed": []}
        for r in range(self.plan.full_turn_repeats):
            text = LONG_ANSWER[r % len(LONG_ANSWER)]
            calls: dict[str, Callable[[], Any]] = {"app": partial(self._app_turn, text, n_tok),
                                                   "naive": partial(self._naive_turn, text, n_tok)}
            if self._seed_round(r):
                calls["seed"] = partial(self._seed_turn, text, n_tok)
            for name, value in rotate(r, calls).items():
                got_all[name].append(value)
        for name, prefix in (("app", ""), ("naive", "naive_"), ("seed", "seed_")):
            values = got_all[name]
            self.out[f"{prefix}full_turn_p50_ms"] = median([v[0] for v in values])
            self.out[f"{prefix}decode_tps"] = median([v[1] for v in values if v[1]])
            self.out[f"{prefix}full_turn_reply_tokens"] = median([v[2] for v in values])

    def _app_limited(self, text: str, limit: int) -> tuple[float, int]:
        t0 = time.perf_counter()
        s = self.app_chat([], text, limit, fixed=True).stats
        return (time.perf_counter() - t0) * 1000, s.generated_tokens

    def _naive_limited(self, text: str, limit: int) -> tuple[float, int]:
        g = self.naive.generate(self.naive_prompt([], text), limit, fixed=True)
        return g.ms, g.generated

    def _seed_limited(self, text: str, limit: int) -> tuple[float, int]:
        assert self.seed is not None
        g = self.seed.generate(self._seed_messages(text), limit)
        return g.ms, g.generated

    def limited_output(self) -> None:
        """The write-up's experiment: the same request with a 10- and a 100-token limit."""
        for key, limit in zip(("limit_small", "limit_large"), self.plan.limits, strict=True):
            got_all: dict[str, list[tuple[float, int]]] = {"app": [], "naive": [], "seed": []}
            for r in range(self.plan.limit_repeats):
                text = LONG_ANSWER[(r + 2) % len(LONG_ANSWER)]
                calls: dict[str, Callable[[], Any]] = {
                    "app": partial(self._app_limited, text, limit),
                    "naive": partial(self._naive_limited, text, limit)}
                if self._seed_round(r):
                    calls["seed"] = partial(self._seed_limited, text, limit)
                for name, value in rotate(r, calls).items():
                    got_all[name].append(value)
            self.out[f"{key}_tokens"] = limit
            for name, prefix in (("app", ""), ("naive", "naive_"), ("seed", "seed_")):
                self.out[f"{prefix}{key}_ms"] = median([v[0] for v in got_all[name]])
                self.out[f"{prefix}{key}_generated"] = median([v[1] for v in got_all[name]])


TASK_INPUTS: dict[str, tuple[str, ...]] = {
    "summary": ("The library reopened after a year of work. It now has a cafe, a room for "
                "children and longer opening hours. Visitors queued on the first day.",
                "我们周末去了海边，天气很好。孩子们在沙滩上玩了一下午，晚上一起吃了海鲜。"),
    "keywords": ("The city council approved a new budget for schools, parks and bike lanes.",
                 "市政府通过了新的预算，用于学校、公园和自行车道。"),
    "fix": ("She dont like going to school becuase the teacher are strict.",
            "我今天很高心，因为考试考的很好。"),
    "translate": ("我们明天早上八点在学校门口见面。", "The museum is closed on Mondays."),
}


def task_speed(bench: Bench) -> None:
    """Each task twice per input, app (its prefix evaluated once, in its own context) against
    naive (the same prompt in full, every time): first token, tokens/s, tokens evaluated."""
    engine, naive = bench.engine, bench.naive
    rows = []
    for task_id, inputs in TASK_INPUTS.items():
        task = engine.tasks.get(task_id)
        for text in inputs:  # first use of each variant: its context and prefix
            engine.run_task(task_id, text).consume()
        got: dict[str, list[tuple[float, float | None, int]]] = {"app": [], "naive": []}
        for r in range(max(1, bench.plan.repeats)):
            for text in inputs:
                limit = task.limit(len(bench.fmt.plain(text)))
                prompt = render(bench.fmt, engine.task_messages(task, text))

                def app(text: str = text, task_id: str = task_id
                        ) -> tuple[float, float | None, int]:
                    engine.rewind_tasks()  # a new input, not the previous repeat's
                    res = engine.run_task(task_id, text).consume()
                    return res.ttft_ms, res.decode_tps or None, res.evaluated_tokens

                def base(prompt: str = prompt, limit: int = limit
                         ) -> tuple[float, float | None, int]:
                    g = naive.generate(prompt, limit)
                    return g.ttft_ms, g.decode_tps, g.prompt_tokens

                for name, value in rotate(r, {"app": app, "naive": base}).items():
                    got[name].append(value)
        row = {"task": task_id,
               "prefix_tokens": engine.task_prefix_tokens(task_id, task.variant(inputs[0])),
               "app_ttft_ms": median([v[0] for v in got["app"]]),
               "naive_ttft_ms": median([v[0] for v in got["naive"]]),
               "app_decode_tps": median([v[1] for v in got["app"] if v[1]]),
               "naive_decode_tps": median([v[1] for v in got["naive"] if v[1]]),
               "app_evaluated_tokens": median([v[2] for v in got["app"]]),
               "naive_prompt_tokens": median([v[2] for v in got["naive"]])}
        rows.append(row)
        for key in ("ttft_ms", "decode_tps"):
            bench.out[f"task_{task_id}_{key}"] = row[f"app_{key}"]
            bench.out[f"naive_task_{task_id}_{key}"] = row[f"naive_{key}"]
        bench.out[f"task_{task_id}_evaluated_tokens"] = row["app_evaluated_tokens"]
        bench.out[f"naive_task_{task_id}_prompt_tokens"] = row["naive_prompt_tokens"]
        say(f"  {task_id}: first token app {fmt_num(row['app_ttft_ms'])} ms, naive "
            f"{fmt_num(row['naive_ttft_ms'])} ms; evaluated {fmt_num(row['app_evaluated_tokens'])}"
            f" vs {fmt_num(row['naive_prompt_tokens'])} tokens")
    bench.out["tasks"] = rows


def cold_start(model: str, threads: int, reply_tokens: int) -> dict[str, Any]:
    """Spawn a fresh interpreter that loads the app and labels one message; time it from here."""
    t0 = time.time()
    proc = subprocess.run(
        [sys.executable, "-m", "qwen_aio.bench.cold", "--model", model, "--threads",
         str(threads), "--reply-tokens", str(reply_tokens)],
        capture_output=True, text=True, timeout=600, check=False)
    if proc.returncode != 0:
        log.warning("cold start child failed: %s", proc.stderr[-2000:])
        return {"cold_start_ms": None, "peak_rss_mb": None, "cold_load_ms": None}
    child = json.loads(proc.stdout.strip().splitlines()[-1])
    return {
        "cold_start_ms": (child["t_label"] - t0) * 1000,
        "cold_import_ms": (child["t_import"] - t0) * 1000,
        "cold_load_ms": child["load_ms"],
        "peak_rss_mb": child["peak_rss_mb"],
    }


def configure(parser: argparse.ArgumentParser) -> None:
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true",
                      help="fewer repeats and lengths, no seed stack unless asked (~3 min)")
    mode.add_argument("--smoke", action="store_true",
                      help="a minimal run that only checks everything works (tests)")
    mode.add_argument("--startup", action="store_true",
                      help="only start-up: `qwen-aio --help` and launch to the window shown, "
                      "in fresh processes (median of --repeats, default 7)")
    mode.add_argument("--server", action="store_true",
                      help="only labels per second: local one at a time against a loopback "
                      "llama-cpp-python server it starts, at concurrency 1, 4 and 8 (needs the "
                      "remote extra)")
    parser.add_argument("--server-lines", type=int, default=48, metavar="N",
                        help="with --server: labels per measurement (default 48)")
    parser.add_argument("--repeats", type=int, default=0, metavar="N",
                        help="repeats per measurement (default: 5 full, 2 quick)")
    parser.add_argument("--seed-stack", action=argparse.BooleanOptionalAction, default=None,
                        help="also run the write-up's transformers FP32 stack (default: only "
                        "in a full run, when the bench extra is installed)")
    parser.add_argument("--no-cold-start", dest="cold_start", action="store_false",
                        help="skip the cold-start / peak-memory child process")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH",
                        help="write all results as JSON")
    parser.add_argument("--plot", type=Path, default=None, metavar="PATH",
                        help="draw latency against length and depth (PNG; needs matplotlib)")


def run(args: argparse.Namespace) -> int:
    if args.startup:
        from qwen_aio.bench import startup

        return startup.run(args)
    if getattr(args, "server", False):
        from qwen_aio.bench import throughput

        return throughput.run(args)
    plan = make_plan(args)
    t_start = time.perf_counter()
    load_before = os.getloadavg()[0]
    want_seed = args.seed_stack if args.seed_stack is not None else plan.mode == "full"
    seed_note = "not requested"
    if want_seed:
        missing = missing_packages()
        if missing:
            seed_note = f"not installed ({', '.join(missing)} missing): {INSTALL_HINT}"
            say(f"Seed stack skipped: {seed_note}")
            want_seed = False
    # the busy-CPU guard off: app and naive run the same thread count throughout
    engine, model = open_engine(args, adaptive_threads=False)
    naive: NaiveRunner | None = None
    seed: SeedRunner | None = None
    try:
        threads = engine.threads
        say(f"Benchmark ({plan.mode}): {Path(model).name}, {threads} threads, load "
            f"{load_before:.2f}")
        naive = NaiveRunner(Path(model), threads=threads, n_ctx=engine.chat_n_ctx)
        bench = Bench(engine, naive, None, plan)
        bench.warm_up()
        if args.cold_start:
            say("Cold start (a fresh process) ...")
            bench.out.update(cold_start(model, threads, plan.full_reply_tokens))
        if want_seed:
            say("Loading the seed stack (transformers de-quantizes the GGUF to FP32) ...")
            try:
                seed = SeedRunner(Path(model), threads=threads)
                bench.seed = seed
                seed_note = "ran"
                seed.mood("Hello there!")  # its warm-up
            except Exception as exc:  # any failure of the optional stack: report, carry on
                seed_note = f"failed to load: {exc}"
                say(f"Seed stack skipped: {seed_note}")
        steps = [("mood labels", bench.mood_short), ("mood against length", bench.mood_by_length),
                 ("full turn", bench.full_turn), ("limited output", bench.limited_output)]
        for name, step in steps:
            say(f"Measuring {name} ...")
            step()
        say("Measuring a conversation ...")
        history = bench.conversation()
        bench.ttft_by_depth(history)
        say("Measuring engine costs (prompt build, abort callback) ...")
        bench.out.update(prompt_build_curve(engine))
        bench.out.update(abort_callback_decode(
            engine, repeats=2 if plan.mode == "smoke" else max(6, plan.repeats * 2),
            tokens=8 if plan.mode == "smoke" else 48))
        say("Measuring typing (keystroke by keystroke, with and without preparing) ...")
        bench.typing(history)
        say("Measuring tasks (summary, keywords, fix, translate) ...")
        task_speed(bench)
        out = bench.out
        out["mood_reuse_evaluated_total"] = engine.mood_evaluated_total
        out["naive_evaluated_total"] = naive.evaluated_total
        out["bench_process_peak_rss_mb"] = peak_rss_mb()  # app + baselines together
        if seed is not None:
            out["seed_load_ms"] = seed.load_ms
            out["versions_seed"] = seed.versions
    finally:
        engine.close()
        if naive is not None:
            naive.close()
        if seed is not None:
            seed.close()
    info = machine_info(threads)
    out.update({
        "model": model, "threads": threads, "cpu": info["cpu"], "machine": info,
        "mode": plan.mode, "repeats": plan.repeats, "seed_stack": seed_note,
        "app_load_ms": engine.load_ms, "naive_load_ms": naive.load_ms,
        "load_avg_start": round(load_before, 2), "load_avg_end": round(os.getloadavg()[0], 2),
        "elapsed_s": round(time.perf_counter() - t_start, 1),
    })
    out["targets"] = targets(out)
    print(markdown(out))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n",
                             encoding="utf-8")
    if args.plot:
        from qwen_aio.bench.plot import plot

        plot(out, args.plot)
    return 0
