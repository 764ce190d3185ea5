"""Soak: many turns (mood + a short reply) in one engine; resident memory, open files and
threads do not grow. QWEN_AIO_SOAK_TURNS sets the turns (CI: 100; the issue's figure: 500);
the baseline is taken after a tenth of them, once caches and allocators have settled."""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from qwen_aio.engine import Engine, Message
from qwen_aio.engine.types import LABELS

TURNS = int(os.environ.get("QWEN_AIO_SOAK_TURNS", "100"))
CONVERSATION_TURNS = 10  # then a new conversation, as a person starts one

WORDS = ("I got the job", "my train was late again", "今天终于放假了", "老板又让我加班",
         "the concert was amazing", "I lost my wallet", "谢谢你一直陪着我", "考试没考好")


@pytest.fixture(scope="module")
def soak_engine(model_path: Path) -> Iterator[Engine]:
    eng = Engine.load(model_path, threads=2, n_ctx=2048, name="soak")
    yield eng
    eng.close()


def usage() -> dict[str, float]:
    gc.collect()
    proc = psutil.Process()
    return {"rss_mb": proc.memory_info().rss / 1e6, "fds": proc.num_fds(),
            "threads": proc.num_threads()}


def test_many_turns_do_not_grow_memory_files_or_threads(
        soak_engine: Engine, report: Callable[[dict[str, Any]], None]) -> None:
    t0 = time.perf_counter()  # reported only, never asserted on
    base_turn = max(10, TURNS // 10)
    history: list[Message] = []
    base: dict[str, float] = {}
    for turn in range(1, TURNS + 1):
        text = f"{WORDS[turn % len(WORDS)]} ({turn})"
        mood = soak_engine.mood(text)
        assert mood.label in LABELS
        stream = soak_engine.chat(history, text, max_tokens=4, mood=mood.label)
        reply = "".join(stream)
        assert stream.stats.stop_reason in ("end", "sentence", "limit")
        history += [Message("user", text), Message("assistant", reply)]
        if turn % CONVERSATION_TURNS == 0:
            history = []
        if turn == base_turn:
            base = usage()
    end = usage()
    assert soak_engine._chat.ctx.consistent() and soak_engine._mood.ctx.consistent()
    report({"turns": TURNS, "baseline_turn": base_turn, "baseline": base, "end": end,
            "rss_growth_pct": round(100 * (end["rss_mb"] / base["rss_mb"] - 1), 2),
            "seconds": round(time.perf_counter() - t0, 1)})
    assert end["rss_mb"] <= base["rss_mb"] * 1.05, (base, end)
    assert end["fds"] <= base["fds"], (base, end)
    assert end["threads"] <= base["threads"], (base, end)
