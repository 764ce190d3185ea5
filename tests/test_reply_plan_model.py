"""The reply plan with the real model: openers agreed with the mood pass, written lines the
model chooses, candidates decoded side by side for questions, the pick, the line when none
passes, and the rule that bad news never gets cheer."""

from __future__ import annotations

import pytest

from qwen_aio.engine import Engine
from qwen_aio.engine.candidates import CANDIDATES
from qwen_aio.engine.openers import LINES, OPENERS
from qwen_aio.engine.pick import Verdict, cheers
from qwen_aio.engine.types import Message

ALL_LINES = {line for lang in LINES.values() for lines in lang.values() for line in lines}

# Written for this test (not the development set): plain bad news in both languages.
BAD_NEWS = (
    "My dad lost his job today and we're all worried.",
    "Our cat died this morning.",
    "I got dumped over text after three years.",
    "The biopsy came back and it's cancer.",
    "我最好的朋友出车祸住院了。",
    "我被裁员了，房贷还有二十年。",
    "考试又没过，我真的觉得自己很没用。",
    "爷爷今天早上去世了。",
)


def _opener_of(reply: str) -> tuple[str, str] | None:
    for lang in OPENERS.values():
        for tone, openers in lang.items():
            for o in openers:
                if reply.startswith(o):
                    return o, tone
    return None


def test_a_negative_message_never_gets_congratulations(engine: Engine) -> None:
    """The check the issue asks for: a reply to a message labelled Negative with high
    confidence says no "glad", "congratulations", "恭喜", "太好了" (nor any other cheer)."""
    checked = 0
    for text in BAD_NEWS:
        mood = engine.mood(text)
        if mood.label != "Negative" or mood.confidence < 0.9:
            continue
        for _ in range(2):  # sampled: two draws each
            stream = engine.chat([], text, max_tokens=128, mood=mood.label,
                                 confidence=mood.confidence)
            reply = "".join(stream)
            assert reply.strip()
            assert not cheers(reply), (text, reply)
            opener = _opener_of(reply)
            assert opener is None or opener[1] != "positive", (text, reply)
        checked += 1
    assert checked >= 4  # the check ran on most of them (the mood pass is sure of these)


def test_news_gets_an_opener_and_a_line_of_the_same_tone(engine: Engine) -> None:
    text = "I finally passed my driving test after three tries!"
    stream = engine.chat([], text, max_tokens=128, mood="Positive", confidence=0.97)
    reply = "".join(stream)
    st = stream.stats
    opener = _opener_of(reply)
    assert opener is not None, reply  # an English message opens with a written opener
    line = reply[len(opener[0]):].strip()
    tone = "neutral" if opener[1] in ("neutral", "question") else opener[1]
    assert st.written and line in LINES["en"][tone], reply
    assert st.candidates == [] and st.stop_reason == "end"
    assert st.decode_tps > 0 and st.generated_tokens > 1  # the window shows the speed
    assert engine._chat.ctx.consistent()


def test_lines_vary_across_replies(engine: Engine) -> None:
    text = "我今天把房间彻底收拾了一遍。"
    replies = set()
    for _ in range(6):
        engine.rewind([])
        replies.add("".join(engine.chat([], text, max_tokens=64, mood="Positive",
                                        confidence=0.95)))
    assert len(replies) >= 2, replies


def test_candidates_are_sampled_side_by_side_for_a_question(engine: Engine) -> None:
    text = "What could I cook for a friend who just had surgery?"
    stream = engine.chat([], text, max_tokens=512, mood="Negative", confidence=0.7)
    reply = "".join(stream)
    st = stream.stats
    assert len(st.candidates) == CANDIDATES
    opener = _opener_of(reply)
    assert opener is not None, reply
    rest = reply[len(opener[0]):]
    if st.written:
        assert rest.strip() in ALL_LINES
    else:
        assert any(rest.startswith(c) for c, _, _ in st.candidates), (rest, st.candidates)
    assert engine._chat.ctx.consistent()  # the other branches left the cache


def test_greedy_replies_sample_one_candidate_and_repeat(engine: Engine) -> None:
    text = "今天终于把拖了一个月的报告交上去了，接下来该怎么放松一下？"
    replies = []
    for _ in range(2):
        engine.rewind([])
        stream = engine.chat([], text, max_tokens=300, temperature=0, mood="Positive",
                             confidence=0.95)
        replies.append("".join(stream))
        assert len(stream.stats.candidates) == 1
    assert replies[0] == replies[1]


def test_an_unsure_label_opens_neutrally(engine: Engine) -> None:
    text = "My grandmother passed away last night."
    stream = engine.chat([], text, max_tokens=64, mood="Negative", confidence=0.52)
    reply = "".join(stream)
    opener = _opener_of(reply)
    assert opener is not None and opener[1] in ("neutral", "question"), reply
    assert not cheers(reply)


def test_a_positive_label_the_chat_model_disputes_never_cheers(engine: Engine) -> None:
    """A complaint the mood pass reads as Positive (sarcasm): whatever opener the model
    heads for, the reply must not pity a message labelled Positive nor cheer after a
    neutral or comforting opener."""
    text = "Great, my flight got cancelled again. Just perfect."
    stream = engine.chat([], text, max_tokens=64, mood="Positive", confidence=0.97)
    reply = "".join(stream)
    opener = _opener_of(reply)
    assert opener is not None, reply
    if opener[1] != "positive":
        assert not cheers(reply[len(opener[0]):]), reply


def test_when_no_candidate_passes_a_kind_line_is_said_and_the_cache_stays_right(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    import qwen_aio.engine.chat as chat_module

    text = "I studied all night and still failed the exam. What do I do now?"
    monkeypatch.setattr(chat_module, "check", lambda *a, **k: Verdict(hard=["echo"]))
    stream = engine.chat([], text, max_tokens=512, mood="Negative", confidence=0.99)
    reply = "".join(stream)
    assert stream.stats.written and stream.stats.stop_reason == "end"
    assert len(stream.stats.candidates) == CANDIDATES
    opener = _opener_of(reply)
    assert opener is not None and opener[1] != "positive"
    line = reply[len(opener[0]):].strip()
    assert line in LINES["en"]["negative"] + LINES["en"]["neutral"]
    assert engine._chat.ctx.consistent()
    monkeypatch.undo()
    # the next turn reuses everything: the fallback's tokens are the ones in the cache
    history = [Message("user", text), Message("assistant", reply)]
    nxt = engine.chat(history, "Thanks.", max_tokens=32, mood="Positive", confidence=0.9)
    "".join(nxt)
    assert nxt.stats.evaluated_tokens < 40


def test_the_planned_reply_keeps_the_history_cached(engine: Engine) -> None:
    history: list[Message] = []
    evaluated = []
    for text in ("I just adopted a puppy!", "She chewed my favourite shoes though.",
                 "我还是很爱她。"):
        mood = engine.mood(text)
        stream = engine.chat(history, text, max_tokens=64, mood=mood.label,
                             confidence=mood.confidence)
        reply = "".join(stream)
        evaluated.append(stream.stats.evaluated_tokens)
        assert engine._chat.ctx.consistent()
        history += [Message("user", text), Message("assistant", reply)]
    # each turn evaluates its own words and hint, never the earlier turns again
    assert max(evaluated[1:]) < 60, evaluated


def test_a_system_prompt_of_ones_own_turns_the_plan_off(engine: Engine) -> None:
    stream = engine.chat([], "Hello there", max_tokens=16, mood="Positive", confidence=0.99,
                         system_prompt="Answer like a pirate.")
    "".join(stream)
    assert stream.stats.candidates == []


def test_a_question_gets_a_line_to_think_it_through_or_at_long_length_an_answer(
        engine: Engine) -> None:
    from qwen_aio.engine.openers import QUESTION_LINES

    text = "Can you list five ideas for a rainy weekend?"
    normal = engine.chat([], text, max_tokens=128, mood="Positive", confidence=0.9)
    reply = "".join(normal)
    assert normal.stats.written and not normal.stats.candidates
    assert any(reply.endswith(line) for line in QUESTION_LINES["en"]), reply
    long = engine.chat([], text, max_tokens=512, mood="Positive", confidence=0.9)
    answer = "".join(long)
    assert long.stats.candidates  # sampled side by side, checked
    # not stopped after one sentence: at the long length a question may get a list
    assert long.stats.generated_tokens > 20 or long.stats.written, answer


def test_a_limit_too_small_for_an_opener_and_a_line_samples_freely(engine: Engine) -> None:
    from qwen_aio.engine.chat import PLAN_MIN_TOKENS

    for limit in (2, 4, PLAN_MIN_TOKENS - 1):
        stream = engine.chat([], "I finally finished my thesis!", max_tokens=limit,
                             mood="Positive", confidence=0.95)
        reply = "".join(stream)
        assert reply and stream.stats.ttft_ms > 0, limit  # never an empty reply
        assert not stream.stats.written and 0 < stream.stats.generated_tokens <= limit
    short = engine.chat([], "I finally finished my thesis!", max_tokens=32, mood="Positive",
                        confidence=0.95)
    assert "".join(short) and short.stats.written  # the short preset still gets the plan
