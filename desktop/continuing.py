"""Which replies can be continued, and whether the person asked for a long answer.

Qt-free: the window (turns.py, chat_view.py) and `qwen-aio chat`'s /continue share it, so both
offer Continue for the same replies and both suggest the longer preset by the same rule.

The chat pass says why a reply ended (`ReplyStats.stop_reason`): "limit" (cut mid-sentence by
the token limit), "sentence" (ended at a sentence end *because* it was near the limit: the
model had not finished by itself), "end" (the model ended its turn) or "cancelled". Both
"limit" and "sentence" stopped for the limit's sake, so both can be continued; the engine's
`continue_reply` extends the saved reply either way (it only needs the history to end with it).
"""

from __future__ import annotations

import re

# Why a reply may be continued: it stopped because of the token limit, not by itself.
CONTINUABLE: frozenset[str] = frozenset({"limit", "sentence"})

# A small, deliberately plain heuristic for "the person wants a list or a long answer": a few
# words that ask for one, in English (whole words, any case) and Chinese. It only decides
# whether a stopped reply also offers the longer reply preset; a miss costs nothing but that
# offer, so it is kept short rather than clever.
LONG_ANSWER_WORDS_EN = ("list", "lists", "idea", "ideas", "step", "steps", "tips",
                        "suggestions", "explain", "tell me more", "in detail", "detailed",
                        "examples")
LONG_ANSWER_WORDS_ZH = ("详细", "列出", "几个", "步骤", "建议", "举例")
_LONG_ANSWER = re.compile(
    r"\b(?:" + "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in LONG_ANSWER_WORDS_EN)
    + r")\b|" + "|".join(LONG_ANSWER_WORDS_ZH), re.IGNORECASE)


def can_continue(stop_reason: str | None) -> bool:
    """True for a reply that stopped for its token limit ("limit" or "sentence")."""
    return stop_reason in CONTINUABLE


def wants_long_answer(message: str) -> bool:
    """True when the person's message asks for a list or a long answer (see the words above)."""
    return _LONG_ANSWER.search(message) is not None


def offer_longer(message: str, stop_reason: str | None, preset: str) -> bool:
    """Whether to suggest the longer preset: the reply stopped for the limit, the person asked
    for a long answer, and the replies are not already the longest."""
    return can_continue(stop_reason) and preset != "long" and wants_long_answer(message)
