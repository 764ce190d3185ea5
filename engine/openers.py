"""What a reply may begin with, and what it says when no sampled reply is safe to send.

A 0.5B model choosing among a few written openers understands far more than it shows when it
writes freely: in the chat context, after the person's words, "I'm so sorry for your loss."
is much likelier than "Congratulations!" after "my grandmother passed away", and a closed set
cannot be wrong in the ways free text is (cheer to a loss, misread idioms, inventions). So the
chat pass lets the model pick its first sentence from all the openers, and the feeling it
shows must agree with the mood pass:

- a toned opener (sorry / happy for you) is kept only when the mood pass is sure of the same
  feeling; otherwise the model picks again among the neutral ones. Two opinions must agree
  before the reply takes a side: the mood pass reads "Great, my flight got cancelled again"
  as Positive, the chat model opens it with "I'm sorry"; a wrong label must never put
  "真替你高兴" before a complaint.

The same gate picks the fallback line: what the reply says after its opener when every
sampled continuation failed the checks in `engine.pick` (kind, plain, never cheerful to a
Negative message, varied by the message so a conversation does not repeat itself).
"""

from __future__ import annotations

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
            "I'm so sorry for your loss.",
            "I'm so sorry to hear that.",
            "Oh no, that sounds really hard.",
            "That sounds so frustrating.",
            "That sounds exhausting.",
            "That must be really scary.",
            "I'm sorry you're going through this.",
            "Ugh, that's really annoying.",
            "That's so disappointing.",
            "That sounds really stressful.",
            "That sounds lonely.",
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
            "That sounds like so much fun!",
            "What a nice thing to happen!",
        ),
        "neutral": (
            "Thanks for telling me.",
            "I hear you.",
            "That's a lot to take in.",
            "That's a big decision.",
            "Tell me more.",
        ),
        "question": (
            "Good question.",
            "Sure, let's think about it together.",
            "Here are a few ideas.",
            "That's a big decision.",
        ),
    },
    "zh": {
        "negative": (
            "听到这个消息真的很难过，请节哀。",
            "听到这个真让人难过。",
            "这也太让人难受了。",
            "辛苦你了。",
            "这确实很让人生气。",
            "真的好累啊。",
            "抱抱你。",
            "这真的挺让人失望的。",
            "听起来压力好大。",
            "这一定很让人害怕吧。",
            "这种感觉真的很孤单。",
            "真是太烦人了。",
        ),
        "positive": (
            "恭喜你！",
            "真替你高兴！",
            "太棒了！",
            "听起来真不错！",
            "这真是个好消息！",
            "真厉害！",
            "听起来好开心啊！",
        ),
        "neutral": (
            "谢谢你跟我说这些。",
            "我在听。",
            "嗯，我明白。",
            "这确实值得好好想想。",
            "跟我多说说吧。",
        ),
        "question": (
            "这是个好问题。",
            "我们一起想想吧。",
            "可以试试这几个办法：",
            "这确实值得好好想想。",
        ),
    },
}

# After the opener, when no sampled continuation passed the checks: plain and kind, nothing
# about what happened (the model could not be trusted to say it), never cheerful to bad news.
FALLBACKS: dict[str, dict[Tone, tuple[str, ...]]] = {
    "en": {
        "negative": (
            "I'm here with you, and you don't have to go through this alone.",
            "Take all the time you need; I'm listening.",
            "If you want to tell me more, I'm right here.",
            "Be gentle with yourself today.",
        ),
        "positive": (
            "Tell me more, I'd love to hear about it.",
            "I hope you take a moment to enjoy it.",
            "You deserve this moment.",
        ),
        "neutral": (
            "Tell me more about it, if you like.",
            "I'm listening, whenever you want to say more.",
            "How are you feeling about it?",
        ),
    },
    "zh": {
        "negative": (
            "我在这儿陪着你，你不是一个人。",
            "想说的话随时跟我说，我一直都在。",
            "慢慢来，先照顾好自己。",
            "今天对自己温柔一点吧。",
        ),
        "positive": (
            "跟我多说说吧，我很想听！",
            "好好享受这一刻吧！",
            "这是你应得的！",
        ),
        "neutral": (
            "愿意的话，跟我多说说吧。",
            "我在听，你慢慢说。",
            "你现在感觉怎么样？",
        ),
    },
}


def tone_for(label: str | None, confidence: float | None) -> Tone:
    """The tone a reply may take: the label's when the mood pass is sure, else neutral.

    A label given without its confidence (an older caller) counts as unsure.
    """
    if label == "Negative" and confidence is not None and confidence >= SURE_NEGATIVE:
        return "negative"
    if label == "Positive" and confidence is not None and confidence >= SURE_POSITIVE:
        return "positive"
    return "neutral"


def reply_language(language: str | None) -> str | None:
    """The opener and fallback language for a message's language; None: no opener at all."""
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


def fallback_line(language: str | None, tone: Tone, message: str) -> str:
    """A kind line that fits any message of this tone, chosen by the message (stable, varied)."""
    lang = reply_language(language) or "en"
    lines = FALLBACKS[lang][tone]
    return lines[zlib.crc32(message.encode("utf-8")) % len(lines)]
