"""The busy-CPU guard: one slow evaluation drops to one thread; later the setting returns."""

from __future__ import annotations

from qwen_aio.engine.threads import ThreadGovernor


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_slow_evaluation_drops_to_one_thread_then_retries() -> None:
    applied: list[int] = []
    clock = Clock()
    gov = ThreadGovernor(2, applied.append, backoff_s=30, clock=clock)
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


def test_long_prompts_are_not_mistaken_for_contention() -> None:
    gov = ThreadGovernor(2, lambda n: None)
    gov.observe(512, 2.3)  # 230 tokens/s: a normal long prompt
    assert gov.current == 2


def test_reset_applies_a_new_setting() -> None:
    applied: list[int] = []
    gov = ThreadGovernor(2, applied.append)
    gov.reset(4)
    assert gov.current == gov.wanted == 4 and applied == [4]
