"""The reply plan's parts without a model: openers and their gating, the fallback lines, the
checks on sampled text and the pick among candidates."""

from __future__ import annotations

import pytest

from qwen_aio.engine.openers import (
    LINES,
    OPENERS,
    SURE_NEGATIVE,
    SURE_POSITIVE,
    opener_pool,
    tone_for,
    written_line,
)
from qwen_aio.engine.pick import (
    Candidate,
    Verdict,
    check,
    cheers,
    echo_ratio,
    pick,
    pities,
    speaks_as_person,
)
from qwen_aio.engine.text import is_question


@pytest.mark.parametrize(("label", "confidence", "tone"), [
    ("Negative", 0.99, "negative"),
    ("Negative", SURE_NEGATIVE, "negative"),
    ("Negative", SURE_NEGATIVE - 0.01, "neutral"),
    ("Positive", 0.99, "positive"),
    ("Positive", SURE_POSITIVE - 0.01, "neutral"),
    ("Positive", None, "neutral"),  # a label without its confidence is not trusted
    (None, 0.99, "neutral"),
])
def test_the_label_sets_the_tone_only_when_the_mood_pass_is_sure(
        label: str | None, confidence: float | None, tone: str) -> None:
    assert tone_for(label, confidence) == tone


def test_positive_needs_more_confidence_than_negative() -> None:
    # cheer to bad news is worse than comfort to good news: the mistakes seen were complaints
    # and sarcasm read as Positive
    assert SURE_POSITIVE > SURE_NEGATIVE


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_neutral_pool_has_no_toned_opener(lang: str) -> None:
    pool = opener_pool(lang, neutral_only=True)
    assert pool and {tone for _, tone in pool} == {"neutral"}
    texts = {o for o, _ in pool}
    assert not texts & set(OPENERS[lang]["positive"]) and not texts & set(
        OPENERS[lang]["negative"])
    assert not any(cheers(o) for o in texts)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_openers_are_tagged_with_their_tone_and_none_is_anothers_prefix(lang: str) -> None:
    pool = opener_pool(lang, question=True)
    tags = dict(pool)
    for o in OPENERS[lang]["positive"]:
        assert tags[o] == "positive"
    for o in OPENERS[lang]["negative"]:
        assert tags[o] == "negative"
        assert not cheers(o), o  # a comforting opener never cheers
    texts = [o for o, _ in pool]
    assert len(texts) == len(set(texts))
    for a in texts:
        for b in texts:
            assert a == b or not b.startswith(a), (a, b)  # the trie walk ends at a whole one


def test_question_openers_only_for_a_question() -> None:
    plain = {o for o, _ in opener_pool("en")}
    asked = {o for o, _ in opener_pool("en", question=True)}
    assert "Good question." in asked and "Good question." not in plain


def test_recent_openers_are_left_out_but_never_all() -> None:
    first = opener_pool("en", neutral_only=True)
    recent = [f"{o} And more." for o, _ in first[:2]]
    kept = opener_pool("en", neutral_only=True, avoid=recent)
    assert len(kept) == len(first) - 2
    everything = [o for o, _ in first]
    assert opener_pool("en", neutral_only=True, avoid=everything) == first


def test_no_opener_for_another_language() -> None:
    assert opener_pool("other") == () and opener_pool(None) == ()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_written_lines_never_take_the_wrong_side(lang: str) -> None:
    for line in LINES[lang]["negative"] + LINES[lang]["neutral"]:
        assert not cheers(line), line
    for line in LINES[lang]["positive"] + LINES[lang]["neutral"]:
        assert not pities(line), line


def test_written_lines_vary_with_the_message_and_are_stable() -> None:
    messages = [f"message number {i}" for i in range(40)]
    lines = {written_line("en", "negative", m) for m in messages}
    assert len(lines) == len(LINES["en"]["negative"])  # all of them get used
    once = written_line("zh", "negative", "外婆走了")
    assert written_line("zh", "negative", "外婆走了") == once
    assert written_line("zh", "neutral", "嗯") in LINES["zh"]["neutral"]


@pytest.mark.parametrize(("text", "cheer"), [
    ("I'm glad to hear that your grandmother passed away.", True),
    ("Congratulations on the news!", True),
    ("恭喜你！", True),
    ("太好了，这下可以休息了。", True),
    ("I'm so sorry. Take care of yourself.", False),
    ("辛苦了，早点休息。", False),
    ("The gladiolus in her garden", False),  # a word start, not any substring
])
def test_cheers(text: str, cheer: bool) -> None:
    assert cheers(text) is cheer


@pytest.mark.parametrize(("reply", "speaker"), [
    ("I failed my exam too and I studied all night.", True),
    ("I've been working hard to find a new role.", True),
    ("I'm sorry to lose my grandmother.", True),
    ("You've been a great asset to my team.", True),
    ("我的狗也走了。", True),
    ("I'm so sorry. I hope you can rest tonight.", False),
    ("I can only imagine how hard that is.", False),
    ("我理解你的感受。", False),
    ("You worked so hard for this.", False),
])
def test_speaks_as_person(reply: str, speaker: bool) -> None:
    assert speaks_as_person("I studied all night and still failed the exam.", reply) is speaker


def test_check_finds_each_hard_fault() -> None:
    msg = "My grandmother passed away last night."

    def hard(reply: str, tone: str = "negative", label: str = "Negative",
             language: str = "en") -> list[str]:
        return check(msg, reply, language=language, label=label, tone=tone).hard

    assert hard("I'm glad you had a great time with her!") == ["opposite"]
    assert hard("Your grandmother passed away last night.") == ["echo"]
    assert "refusal" in hard("As an AI, I cannot feel sadness.")
    assert "leak" in hard("I will comfort them in 1-2 sentences.")
    assert "language" in hard("我很难过。")
    assert hard("") == ["empty"]
    assert hard("She must have meant so much to you.") == []
    # cheer is wrong after a neutral opener too (an unsure or disputed label) ...
    assert hard("That's wonderful!", tone="neutral", label="Positive") == ["opposite"]
    # ... and pity after a positive one, or a neutral one to a message labelled Positive
    assert hard("I'm so sorry to hear that.", tone="positive", label="Positive") == ["opposite"]
    assert hard("I'm so sorry to hear that.", tone="neutral", label="Positive") == ["opposite"]
    assert hard("I'm so sorry to hear that.", tone="neutral", label="Negative") == []


def test_echo_ratio_is_case_blind() -> None:
    assert echo_ratio("I GOT THE JOB", "i got the job") == 1.0
    assert echo_ratio("I got the job.", "Well done, you earned it.") < 0.5


def _cand(seq: int, text: str, hard: list[str] | None = None, logprob: float = -5.0,
          tokens: int = 5) -> Candidate:
    c = Candidate(seq=seq, tokens=list(range(tokens)), text=text, logprob=logprob)
    c.verdict = Verdict(hard=list(hard or []))
    return c


def test_pick_skips_hard_faults_and_prefers_what_the_model_finds_likely() -> None:
    msg = "My grandmother passed away last night."
    cands = [_cand(0, "It happens.", ["echo"], logprob=-1.0),
             _cand(1, "Thank you for sharing.", logprob=-15.0),
             _cand(2, "Your grandmother must have loved you.", logprob=-4.0)]
    assert pick(cands, msg) is cands[2]
    # mean per token: a long likely text is not beaten by a short unlikely one
    a, b = _cand(0, "Take care.", logprob=-20.0), _cand(1, "Be well.", logprob=-2.0)
    assert pick([a, b], msg) is b
    long_likely = _cand(0, "x", logprob=-10.0, tokens=20)
    short_unlikely = _cand(1, "y", logprob=-4.0, tokens=2)
    assert pick([short_unlikely, long_likely], msg) is long_likely


def test_pick_is_none_when_every_candidate_has_a_hard_fault() -> None:
    cands = [_cand(0, "x", ["opposite"]), _cand(1, "y", ["speaker", "echo"])]
    assert pick(cands, "anything") is None


@pytest.mark.parametrize(("text", "asks"), [
    ("can you give me a few ideas for my mom's birthday?", True),
    ("List three ways to relax", True),
    ("我该不该辞职", True),
    ("周末去哪玩比较好？", True),
    ("My grandmother passed away last night.", False),
    ("考上研了！", False),
    ("怎么跟爸妈说我挂科了？", True),
    ("帮我列个成都三天的行程呗", True),
    ("奶奶走了一个月了，今天收拾她房间，翻出来她给我织了一半的毛衣", False),
    ("相亲对象一上来就问我月薪多少、有没有房", False),
    ("今天什么都没做成", False),
])
def test_is_question(text: str, asks: bool) -> None:
    assert is_question(text) is asks


class _TemplateOnly:
    """Just enough of a model for PromptFormat.segments: its chat template."""

    def __init__(self, template: str) -> None:
        self._template = template

    def metadata(self) -> dict[str, str]:
        return {"tokenizer.chat_template": self._template}

    def add_bos_token(self) -> bool:
        return False


def test_a_thinking_model_starts_its_turn_with_an_empty_thought() -> None:
    from qwen_aio.engine.prompts import PromptFormat
    from qwen_aio.engine.types import Message

    qwen3 = "{%- if enable_thinking %}<|im_start|>assistant\n<think>\n{%- endif %}"
    fmt = PromptFormat(_TemplateOnly(qwen3))  # type: ignore[arg-type]
    segs = fmt.segments([Message("user", "hi")], add_generation_prompt=True)
    assert segs[-1].endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    plain = PromptFormat(_TemplateOnly("<|im_start|>{{ messages }}"))  # type: ignore[arg-type]
    assert plain.segments([Message("user", "hi")], True)[-1].endswith("assistant\n")


@pytest.mark.parametrize(("message", "label", "tone"), [
    ("Great, my flight got cancelled again. Just perfect.", "Positive", "neutral"),
    ("真棒，周末又被叫去公司“自愿”加班", "Positive", "neutral"),
    ("Wow, thanks so much to whoever took my lunch", "Positive", "neutral"),
    ("I got the job!", "Positive", "positive"),
    ("I'm dead 😂 my cat just fell off the couch", "Negative", "neutral"),
    ("笑死，我家狗把自己卡在沙发底下了", "Negative", "neutral"),
    ("My grandmother passed away last night.", "Negative", "negative"),
])
def test_sarcasm_and_laughter_make_a_sure_label_unsure(message: str, label: str,
                                                        tone: str) -> None:
    assert tone_for(label, 0.99, message) == tone


def test_a_line_never_repeats_its_opener() -> None:
    from qwen_aio.engine.openers import line_pool

    lines = [line for line, _ in line_pool("zh", "neutral", opener="我在听。")]
    assert lines and not any("我在听" in line for line in lines)
    assert len(line_pool("en", "negative", opener="I hear you.")) == len(LINES["en"]["negative"])


def test_a_list_number_is_not_a_sentence_end() -> None:
    from qwen_aio.engine.text import may_stop_after

    assert not may_stop_after("Here are some ideas:\n\n1.", " ")
    assert not may_stop_after("可以这样：\n2)", None)
    assert may_stop_after("I finished at 1.", " ") and may_stop_after("好的。", None)


def test_question_lines_are_kind_and_neutral() -> None:
    from qwen_aio.engine.openers import QUESTION_LINES, line_pool

    for lang, lines in QUESTION_LINES.items():
        assert {line for line, _ in line_pool(lang, "negative", question=True)} == set(lines)
        assert not any(cheers(line) or pities(line) for line in lines)
