"""The busy-CPU guard: a step several times slower than this model's usual drops to one
thread; later the setting returns. Synthetic observations (it is arithmetic), then the wiring
on the real engine."""

from __future__ import annotations

import time

import llama_cpp
import pytest

from qwen_aio.engine import Engine
from qwen_aio.engine.threads import LEARN_STEPS, MIN_SLOW_S, WINDOW, ThreadGovernor


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def learned(step_s: float, threads: int = 2) -> tuple[ThreadGovernor, list[int], Clock]:
    """A governor that has seen LEARN_STEPS single-token steps of ``step_s`` seconds."""
    applied: list[int] = []
    clock = Clock()
    gov = ThreadGovernor(threads, applied.append, backoff_s=30, clock=clock)
    for _ in range(LEARN_STEPS):
        gov.observe(1, step_s)
    return gov, applied, clock


def test_nothing_is_judged_before_the_baseline_is_learned() -> None:
    applied: list[int] = []
    gov = ThreadGovernor(2, applied.append)
    for _ in range(LEARN_STEPS - 1):
        gov.observe(1, 5.0)  # slow, but there is nothing to compare with yet
    assert gov.current == 2 and gov.baseline is None and applied == []
    gov.observe(1, 5.0)
    assert gov.baseline == pytest.approx(1.0)  # 5 s over 1 token + 4 fixed units


def test_slow_step_drops_to_one_thread_then_retries() -> None:
    gov, applied, clock = learned(0.022)  # a 0.5B model on 2 cores
    gov.observe(12, 0.08)  # normal: ~22 ms + 5 ms per token
    assert gov.current == 2 and applied == []
    gov.observe(12, 2.6)  # what a busy core does to two threads
    assert gov.current == 1 and applied == [1] and gov.fallbacks == 1
    clock.now = 10
    gov.observe(12, 0.15)
    assert gov.current == 1
    clock.now = 31
    gov.observe(1, 0.03)
    assert gov.current == 2 and applied == [1, 2]


def test_a_bigger_model_is_not_mistaken_for_a_busy_cpu() -> None:
    gov, applied, _ = learned(0.4)  # a 7B model: every step 20x a 0.5B one's
    gov.observe(1, 0.55)  # the old absolute limit (250 ms + 20 ms/token) fell back here
    gov.observe(512, 0.4 / 5 * 516)  # a long prompt at the same speed per token
    assert gov.current == 2 and applied == []
    gov.observe(1, 0.4 * 8)  # 8x its own usual step: now the CPU is busy
    assert gov.current == 1 and applied == [1]


def test_long_prompts_are_not_mistaken_for_contention() -> None:
    gov, _, _ = learned(0.022)
    gov.observe(512, 2.3)  # 230 tokens/s: a normal long prompt
    assert gov.current == 2


def test_quick_steps_are_never_called_contention() -> None:
    gov, applied, _ = learned(0.002)  # a tiny model: 2 ms per step
    gov.observe(1, MIN_SLOW_S * 0.9)  # 45x the baseline, yet cheaper than any jitter worth a
    assert gov.current == 2 and applied == []  # fallback


def test_the_baseline_follows_the_machine_slowly() -> None:
    gov, _, _ = learned(0.2)  # learned while something else ran
    for _ in range(WINDOW):
        gov.observe(1, 0.02)  # then the machine is free again: ten times faster
    assert gov.baseline == pytest.approx(0.02 / 5)
    gov.observe(1, 0.2)  # what was normal at first is now a busy CPU
    assert gov.current == 1


def test_steps_at_the_fallback_count_do_not_move_the_baseline() -> None:
    gov, _, clock = learned(0.022)
    gov.observe(1, 1.0)
    before = gov.baseline
    for _ in range(WINDOW):
        clock.now += 1
        gov.observe(1, 0.5)  # one thread on a busy machine
    assert gov.current == 1 and gov.baseline == before


def test_reset_applies_a_new_setting_and_learns_again() -> None:
    gov, applied, _ = learned(0.022)
    gov.reset(4)
    assert gov.current == gov.wanted == 4 and applied == [4] and gov.baseline is None


def test_the_engine_feeds_real_steps_to_the_governor(engine: Engine) -> None:
    """Real decodes teach the baseline; a step far slower than it makes both contexts use one
    thread (llama.cpp's own count), and the retry restores two."""
    gov = engine.governor
    clock = Clock()
    gov._clock = clock
    try:
        engine.set_threads(2)
        for i in range(LEARN_STEPS):
            engine.clear_mood_cache()
            engine.mood(f"Message {i}: the day went well.")
            clock.now += 31  # a real busy neighbour may cause a fallback: let it retry
        assert gov.baseline is not None and gov.baseline > 0
        gov.observe(1, 0.0)  # (back at two threads if a real fallback happened)

        def threads() -> set[int]:
            return {llama_cpp.llama_n_threads(c.ptr) for c in (engine._chat.ctx, engine._mood.ctx)}

        assert gov.current == 2 and threads() == {2}
        gov.observe(1, max(MIN_SLOW_S, 1000 * gov.baseline))
        assert gov.current == 1 and threads() == {1}
        clock.now += 31
        gov.observe(1, 0.0)
        assert gov.current == 2 and threads() == {2}
    finally:
        gov._clock = time.monotonic
