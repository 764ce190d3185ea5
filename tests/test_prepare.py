"""Preparing while the person types (the real model): both contexts evaluate the draft as it
grows, so sending it evaluates almost nothing, and the prompt is exactly an unprepared turn's."""

from __future__ import annotations

from pathlib import Path

import pytest

from qwen_aio.engine import CancelToken, Engine, Message
from qwen_aio.engine.native import common_prefix
from qwen_aio.foundation.errors import Cancelled

HISTORY = [Message("user", "Hi there"), Message("assistant", "Hello! How are you today?")]
DRAFT = "I finally passed my driving test after three tries, I am so happy!"


class CancelAfterChecks(CancelToken):
    """Cancelled once asked more than ``n`` times: deterministic, no timers."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n
        self.checks = 0

    @property
    def cancelled(self) -> bool:
        self.checks += 1
        return self.checks > self.n


@pytest.fixture
def fresh(model_path: Path) -> Engine:
    eng = Engine.load(model_path, threads=2, n_ctx=2048, name="prepare-test")
    yield eng
    eng.close()


def _type(engine: Engine, text: str, step: int = 1) -> list[int]:
    """Prepare after every ``step`` characters, as keystrokes would; the chat tokens spent."""
    spent = []
    for i in range(step, len(text) + 1, step):
        before = engine.chat_evaluated_total
        engine.prepare(HISTORY, text[:i], max_tokens=48)
        spent.append(engine.chat_evaluated_total - before)
    return spent


def test_typing_then_sending_evaluates_only_the_closing_tokens(fresh: Engine,
                                                              model_path: Path) -> None:
    spent = _type(fresh, DRAFT)
    assert max(spent[1:]) <= 3  # each keystroke: the token it changed and the one it added
    label = fresh.prepare(HISTORY, DRAFT, max_tokens=48, label=True)
    assert label is not None and label.label in ("Positive", "Negative")
    mood = fresh.mood(DRAFT)
    assert mood.cached and mood.label == label.label  # Enter on unchanged text: a cache hit
    stream = fresh.chat(HISTORY, DRAFT, max_tokens=48, mood=mood.label, temperature=0)
    assert "".join(stream).strip()
    closing = fresh._chat._closing
    assert 0 < stream.stats.evaluated_tokens <= closing  # the template's end, nothing else
    prepared_prompt = list(fresh._chat.ctx.tokens[:stream.stats.prompt_tokens])
    assert fresh._chat.ctx.consistent() and fresh._mood.ctx.consistent()

    # The same turn in an engine that never prepared builds exactly the same prompt.
    with Engine.load(model_path, threads=2, n_ctx=2048, name="unprepared") as plain:
        plain_mood = plain.mood(DRAFT)
        plain_stream = plain.chat(HISTORY, DRAFT, max_tokens=48, mood=plain_mood.label,
                                  temperature=0)
        "".join(plain_stream)
        assert plain_stream.stats.prompt_tokens == stream.stats.prompt_tokens
        assert list(plain._chat.ctx.tokens[:plain_stream.stats.prompt_tokens]) == prepared_prompt
        assert plain_stream.stats.evaluated_tokens > 10 * stream.stats.evaluated_tokens


def test_an_edit_in_the_middle_re_evaluates_from_there(fresh: Engine) -> None:
    fresh.prepare(HISTORY, "I love this little movie so much", max_tokens=48)
    before_tokens = list(fresh._chat.ctx.tokens)
    before = fresh.chat_evaluated_total
    fresh.prepare(HISTORY, "I really love this little movie so much", max_tokens=48)
    after_tokens = list(fresh._chat.ctx.tokens)
    kept = common_prefix(before_tokens, after_tokens)
    assert kept < len(before_tokens) - 3  # the edit is in the middle of the draft...
    assert fresh.chat_evaluated_total - before == len(after_tokens) - kept  # ...from there on
    assert fresh._chat.ctx.consistent()


def test_a_prepared_draft_the_person_abandons_costs_the_next_turn_nothing_wrong(
        fresh: Engine) -> None:
    fresh.prepare(HISTORY, "This is a draft I will delete entirely", max_tokens=48, label=True)
    mood = fresh.mood("Something else, sad: my cat is ill.")
    stream = fresh.chat(HISTORY, "Something else, sad: my cat is ill.", max_tokens=24,
                        mood=mood.label, temperature=0)
    assert "".join(stream).strip()
    assert fresh._chat.ctx.consistent() and fresh._mood.ctx.consistent()


@pytest.mark.parametrize("n", [1, 3])
def test_enter_during_a_preparation_abandons_it(fresh: Engine, n: int) -> None:
    long_draft = "Let me tell you about my week, it was long and strange. " * 12
    cancel = CancelAfterChecks(n)
    with pytest.raises(Cancelled):
        fresh.prepare(HISTORY, long_draft, max_tokens=48, label=True, cancel=cancel)
    assert cancel.checks > n  # llama.cpp's abort callback stopped it inside an evaluation
    assert fresh._chat.ctx.consistent() and fresh._mood.ctx.consistent()
    # The real turn runs normally on whatever part was evaluated.
    mood = fresh.mood(long_draft)
    assert not mood.cached
    stream = fresh.chat(HISTORY, long_draft, max_tokens=16, mood=mood.label, temperature=0)
    assert "".join(stream).strip()
    assert fresh._chat.ctx.consistent()


def test_a_mood_check_during_typing_is_answered_and_typing_resumes(fresh: Engine) -> None:
    fresh.prepare(HISTORY, "My sister is coming to visit", max_tokens=48)
    quick = fresh.mood("What a wonderful surprise party, thank you all!")  # the tray's check
    assert quick.label == "Positive"
    before = fresh.mood_evaluated_total
    fresh.prepare(HISTORY, "My sister is coming to visit next week", max_tokens=48)
    assert fresh.mood_evaluated_total - before < 40  # the prefix survived; only the draft
    assert fresh._mood.ctx.consistent()


def test_preparing_nothing_does_nothing(fresh: Engine) -> None:
    before = (fresh.mood_evaluated_total, fresh.chat_evaluated_total)
    assert fresh.prepare(HISTORY, "  \u200b ", max_tokens=48, label=True) is None
    assert (fresh.mood_evaluated_total, fresh.chat_evaluated_total) == before


def test_the_label_is_heard_before_the_chat_context_takes_the_hint(fresh: Engine) -> None:
    """`on_label` fires between the mood pass and the chat part, so the window can show the
    chip while the reply hint is still being evaluated (Enter may have come already)."""
    fresh.prepare(HISTORY, DRAFT, max_tokens=48)  # the draft is in both contexts
    heard: list[tuple[str, int]] = []
    before = fresh.chat_evaluated_total
    label = fresh.prepare(HISTORY, DRAFT, max_tokens=48, label=True,
                          on_label=lambda m: heard.append((m.label, fresh.chat_evaluated_total)))
    assert label is not None and heard == [(label.label, before)]  # nothing of the hint yet
    assert fresh.chat_evaluated_total > before  # then the hint was evaluated
