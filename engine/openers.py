"""What a reply says when the model's own words cannot be trusted: openers and lines, written
in both languages, among which the model chooses.

A 0.5B model choosing among written sentences understands far more than it shows when it
writes freely. Read blind (docs/replies/README.md), its free sentences after a good opener
were wrong two times in three (misread idioms, inventions, talking as the person), while a
plain written line was never wrong. So a reply to news is an opener and a line, each chosen
by the model by walking their tokens greedily in the chat context:

- a toned opener (sorry / happy for you) is kept only when the mood pass is sure of the same
  feeling; otherwise the model picks again among the neutral ones. Two opinions must agree
  before the reply takes a side (the reply hint carries no tone then, so the chat model's
  opinion is its own): a wrong label must never put "真替你高兴" before a complaint;
- the line follows the opener's tone, and a conversation does not hear the same one twice
  in a row.

A question gets a line that helps the person think it through (read blind, the model's own
answers were wrong four times in five at the normal length). At the long length, where the
person asked for more, its answer is sampled: several candidates side by side, checked by
`engine.pick`, with a line when every one fails.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from typing import Literal

Tone = Literal["negative", "positive", "neutral"]
Pool = Literal["negative", "positive", "neutral", "question"]

# The mood pass's confidence (the chosen label's share of the two labels' probability) from
# which its label may set the tone (the chat model's opener must still agree). Positive needs
# more: on the development set nearly every confident mistake was a complaint or sarcasm
# read as Positive, and cheer to bad news is the worst reply there is.
SURE_NEGATIVE = 0.6
SURE_POSITIVE = 0.8

OPENERS: dict[str, dict[Pool, tuple[str, ...]]] = {
    "en": {
        "negative": (
            "I'm so sorry to hear that.",
            "Oh no, that sounds really hard.",
            "That sounds so frustrating.",
            "That sounds exhausting.",
            "I'm sorry you're going through this.",
            "Ugh, that's really annoying.",
            "That's so disappointing.",
            "That sounds really stressful.",
            "That's a tough spot to be in.",
        ),
        "positive": (
            "Congratulations!",
            "That's wonderful news!",
            "I'm so happy for you!",
            "That sounds lovely!",
            "That's great to hear!",
            "Well done!",
            "How exciting!",
        ),
        "neutral": (
            "Thanks for telling me.",
            "I hear you.",
            "That's a lot to take in.",
        ),
        "question": (
            "Good question.",
            "Sure, let's think about it together.",
            "That's a big decision.",
        ),
    },
    "zh": {
        "negative": (
            "听到这个真让人难过。",
            "这也太让人难受了。",
            "辛苦你了。",
            "抱抱你。",
            "这真的挺让人失望的。",
            "听起来压力好大。",
            "这也太过分了。",
        ),
        "positive": (
            "恭喜你！",
            "真替你高兴！",
            "太棒了！",
            "听起来真不错！",
            "这真是个好消息！",
            "真厉害！",
        ),
        "neutral": (
            "谢谢你跟我说这些。",
            "我在听。",
            "嗯，我明白。",
        ),
        "question": (
            "这是个好问题。",
            "我们一起想想吧。",
            "这确实值得好好想想。",
        ),
    },
}

# After the opener of a reply to a question (at the normal length): a kind way to think it
# through together, which a wrong answer never is.
QUESTION_LINES: dict[str, tuple[str, ...]] = {
    "en": (
        "What matters most to you in this?",
        "What have you thought about so far?",
        "What's your gut feeling telling you?",
        "Tell me a bit more, and we can work through it step by step.",
    ),
    "zh": (
        "你自己心里更倾向哪一种？",
        "你最担心的是哪一点？",
        "跟我多说一点，我们一步一步来理一理。",
        "你自己是怎么想的？",
    ),
}

# What a reply to news says after its opener (and a reply to a question when every sampled
# candidate failed): kind, about the feeling rather than the facts, never cheerful after a
# comforting or neutral opener. The model chooses among those of the opener's tone.
LINES: dict[str, dict[Tone, tuple[str, ...]]] = {
    "en": {
        "negative": (
            "That's a lot to carry, and it makes sense that you feel this way.",
            "Be gentle with yourself today; you're doing the best you can.",
            "If you want to tell me more about what happened, I'm listening.",
            "Anyone would feel the same in your place.",
            "Take all the time you need; I'm right here.",
        ),
        "positive": (
            "You must be so pleased, and you deserve it.",
            "I hope you take a moment to enjoy it.",
            "Tell me more, I'd love to hear all about it!",
            "That's really something to celebrate.",
            "Moments like this are worth holding on to.",
        ),
        "neutral": (
            "How are you feeling about it?",
            "Tell me more about it, if you like.",
            "I'm listening, whenever you want to say more.",
            "Whatever you're feeling about it is okay.",
        ),
    },
    "zh": {
        "negative": (
            "换作是谁都会难受的，你的感受很正常。",
            "想说的话随时跟我说，我一直都在。",
            "今天对自己温柔一点吧。",
            "这些事压在心里一定很累。",
            "慢慢来，先照顾好自己。",
        ),
        "positive": (
            "这是你应得的！",
            "好好享受这一刻吧！",
            "跟我多说说吧，我很想听！",
            "值得好好庆祝一下！",
            "这样的时刻真值得记住。",
        ),
        "neutral": (
            "愿意的话，跟我多说说吧。",
            "我在听，你慢慢说。",
            "你现在感觉怎么样？",
            "不管你现在是什么感受，都没关系。",
        ),
    },
}


# Words that say the feeling is not what the other words say. Cheerful words with "again",
# "又" or a thank-you to "whoever" are how a complaint is told sarcastically; laughter under bad
# words ("I'm dead 😂", "笑死") is how something funny is told. Either makes the label unsure:
# read blind, the mood pass was confidently wrong on exactly these, and so was the chat model.
_SARCASM = re.compile(
    r"\b(again|another|whoever|love how|just perfect|so done|thanks a lot|of course)\b|"
    r"又|居然|竟然|还让|真是.{0,12}[呢啊]|好家伙|可以可以|呵呵|服了|受够|“[^”]{1,6}”",
    re.IGNORECASE)
_LAUGHTER = re.compile(r"😂|🤣|😆|\b(lol|lmao|haha\w*)\b|哈哈|笑死", re.IGNORECASE)


def tone_for(label: str | None, confidence: float | None, message: str = "") -> Tone:
    """The tone a reply may take: the label's when the mood pass is sure and ``message`` has
    no sign of sarcasm (for Positive) or laughter (for Negative); else neutral.

    A label given without its confidence (an older caller) counts as unsure.
    """
    if (label == "Negative" and confidence is not None and confidence >= SURE_NEGATIVE
            and not _LAUGHTER.search(message)):
        return "negative"
    if (label == "Positive" and confidence is not None and confidence >= SURE_POSITIVE
            and not _SARCASM.search(message)):
        return "positive"
    return "neutral"


def reply_language(language: str | None) -> str | None:
    """The language of openers and lines for a message's language; None: none at all."""
    return language if language in ("zh", "en") else None


def opener_pool(language: str | None, *, question: bool = False, neutral_only: bool = False,
                avoid: Sequence[str] = ()) -> tuple[tuple[str, Tone], ...]:
    """The openers the model may choose from, each with its tone: all of them, or only the
    neutral ones; with ``question`` those that answer a question too. Openers the
    conversation's recent replies began with are left out (a friend does not open every
    reply alike)."""
    lang = reply_language(language)
    if lang is None:
        return ()
    sets = OPENERS[lang]
    pool: list[tuple[str, Tone]] = []
    if not neutral_only:
        pool += [(o, "negative") for o in sets["negative"]]
        pool += [(o, "positive") for o in sets["positive"]]
    pool += [(o, "neutral") for o in sets["neutral"]]
    if question:
        pool += [(o, "neutral") for o in sets["question"] if o not in sets["neutral"]]
    kept = tuple(p for p in pool if not any(a.startswith(p[0]) for a in avoid))
    return kept or tuple(pool)


def written_line(language: str | None, tone: Tone, message: str) -> str:
    """A kind line that fits any message of this tone, chosen by the message (stable, varied):
    for a question whose sampled answers all failed."""
    lang = reply_language(language) or "en"
    lines = LINES[lang][tone]
    return lines[zlib.crc32(message.encode("utf-8")) % len(lines)]


def line_pool(language: str | None, tone: Tone, avoid: Sequence[str] = (),
              opener: str = "", question: bool = False) -> tuple[tuple[str, Tone], ...]:
    """The lines of ``tone`` (or those for a ``question``) the model may choose from after
    ``opener``, less those the conversation's recent replies said and those that would say
    the opener again ("我在听。我在听，你慢慢说。")."""
    lang = reply_language(language) or "en"
    lines = QUESTION_LINES[lang] if question else LINES[lang][tone]
    pool = tuple((line, tone) for line in lines if not opener or not _overlaps(opener, line))
    kept = tuple(p for p in pool if not any(p[0] in a for a in avoid))
    return kept or pool


def _overlaps(opener: str, line: str) -> bool:
    core = opener.rstrip("。！？.!?，, ")
    return len(core) >= 2 and (core in line or line.startswith(core[:4]))
