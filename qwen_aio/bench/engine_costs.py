"""Two engine costs `qwen-aio bench` reports on their own: the prompt build of a long
conversation (no model work: tokens, templates, trimming) and decode speed with and without
llama.cpp's abort callback set during single-token steps (side by side, medians)."""

from __future__ import annotations

import ctypes
import time
from typing import Any

import llama_cpp

from qwen_aio.bench.common import median, percentile
from qwen_aio.bench.workload import CONVERSATION, SHORT_MESSAGES, VARIANTS
from qwen_aio.engine import Engine, Message

BUILD_TURNS = 200
_NO_ABORT = ctypes.cast(None, llama_cpp.ggml_abort_callback)


def _reply(i: int) -> str:
    """A made-up reply of about 40 tokens, different every turn (a real one is not needed:
    the build only tokenizes and renders)."""
    if i % 2:
        return (f"第{i}次听你说这些，我很理解你的感受。慢慢来，先照顾好自己，"
                f"有什么想说的随时告诉我。{SHORT_MESSAGES[i % len(SHORT_MESSAGES)]}")
    return (f"That sounds like a lot to carry, and it makes sense that you feel this way "
            f"(turn {i}). Take it one step at a time; I'm here if you want to talk more. "
            f"{VARIANTS[i % len(VARIANTS)]}")


def prompt_build_curve(engine: Engine, turns: int = BUILD_TURNS,
                       max_tokens: int = 128) -> dict[str, Any]:
    """Per-turn prompt build time (ms) over a ``turns``-turn conversation, in order, so the
    trim point and the remembered tokens evolve as in a real chat."""
    texts = (*CONVERSATION, *SHORT_MESSAGES, *VARIANTS)
    history: list[Message] = []
    times: list[float] = []
    prompt_tokens = 0
    for i in range(turns):
        text = f"{texts[i % len(texts)]} ({i})"
        t0 = time.perf_counter()
        prompt = engine.chat_prompt(history, text, max_tokens=max_tokens)
        times.append((time.perf_counter() - t0) * 1000)
        prompt_tokens = len(prompt)
        history += [Message("user", text), Message("assistant", _reply(i))]
    tail = times[-20:]
    return {"prompt_build_turns": turns,
            "prompt_build_p50_ms": median(times),
            "prompt_build_p90_ms": percentile(times, 90),
            "prompt_build_last20_p50_ms": median(tail),
            "prompt_build_max_ms": max(times),
            "prompt_build_turn200_ms": times[-1] if turns >= 200 else None,
            "prompt_build_final_prompt_tokens": prompt_tokens}


def _decode_tps(engine: Engine, tokens: int, with_callback: bool) -> float:
    """Greedy single-token decode steps on the chat context; the callback (as the engine set
    it before issue 9: for every step) is installed for the whole run when asked."""
    ctx = engine._chat.ctx  # noqa: SLF001 - the benchmark measures the context itself
    ctx.feed(engine.format.plain("Tell me a long story about a lighthouse keeper."))
    if with_callback:
        llama_cpp.llama_set_abort_callback(ctx.ptr, ctx._abort_cb, None)  # noqa: SLF001
    try:
        t0 = time.perf_counter()
        for _ in range(tokens):
            ctx.append([int(ctx.logits().argmax())])
        return tokens / (time.perf_counter() - t0)
    finally:
        if with_callback:
            llama_cpp.llama_set_abort_callback(ctx.ptr, _NO_ABORT, None)


def abort_callback_decode(engine: Engine, repeats: int, tokens: int = 48) -> dict[str, Any]:
    """Decode tokens/s with and without the abort callback during single-token steps,
    interleaved (with, without; then without, with, ...) and as medians."""
    runs: dict[bool, list[float]] = {True: [], False: []}
    for r in range(max(2, repeats)):
        for flag in (True, False) if r % 2 == 0 else (False, True):
            runs[flag].append(_decode_tps(engine, tokens, flag))
    return {"decode_tps_abort_cb_every_step": median(runs[True]),
            "decode_tps_abort_cb_prompt_only": median(runs[False]),
            "decode_abort_cb_runs": len(runs[True]), "decode_abort_cb_tokens": tokens}
