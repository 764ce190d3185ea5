"""Refusal guard: phrases a reply must not contain, found as they are written and undone.

A small chat model sometimes answers a feeling as if it were a forbidden request ("I'm sorry,
but I can't assist with that.", "抱歉，我不能完成这个请求。"). Prompting lowers the rate; it does
not reach zero. So the chat pass holds back the few characters that could still become one of
these phrases, and when one appears it backtracks to where the phrase began, forbids the token
it began with at that position, and samples again (the "antislop" idea: ban phrases by
backtracking, not by hoping). The phrases are the model's reflexes, not anything a user wrote.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

REFUSAL_PHRASES: tuple[str, ...] = (
    # English: declining, disclaiming, thanking itself for helping
    "sorry, but i", "sorry but i", "i can't assist", "i cannot assist", "i can not assist",
    "i can't help with that", "i cannot help with that", "i can't help you with that",
    "i'm unable to assist", "i am unable to assist", "i'm unable to help", "i am unable to help",
    "i can't provide", "i cannot provide", "i can't fulfill", "i cannot fulfill",
    "i can't comply", "i cannot comply", "as an ai", "as a language model", "i'm just an ai",
    "i am just an ai", "glad i could help", "glad i was able to help", "glad to have helped",
    "glad i could assist", "glad i was able to assist", "not able to assist",
    "unable to assist", "not able to help with", "unable to help with", "assist with that",
    "assist you with that", "help with that request", "with that request", "with this request",
    # Chinese
    "我不能完成", "我不能帮", "我不能提供", "我不能协助", "我不能继续", "我不能回答", "我不能满足",
    "我无法提供", "我无法协助", "我无法帮", "我无法完成", "我无法回答", "我无法满足", "无法协助",
    "作为一个ai", "作为ai", "作为一个人工智能", "作为人工智能", "作为一个语言模型", "作为语言模型",
    "很高兴能帮", "很高兴帮到", "很高兴能够帮", "很高兴为您服务", "很高兴为你服务",
    "这个请求", "该请求",
)


def fold(text: str) -> str:
    """Lower case and straight apostrophes, one character for one (offsets stay valid)."""
    out = []
    for ch in text:
        low = ch.lower()
        out.append("'" if ch in "’‘`" else low if len(low) == 1 else ch)
    return "".join(out)


@dataclass(frozen=True)
class Scan:
    found: int | None  # where a whole banned phrase starts, or None
    hold: int  # text from here on may still become a banned phrase: do not show it yet


class PhraseGuard:
    def __init__(self, phrases: Iterable[str] = REFUSAL_PHRASES) -> None:
        self.phrases = tuple(fold(p) for p in phrases)
        self._longest = max((len(p) for p in self.phrases), default=0)

    def scan(self, text: str, start: int = 0) -> Scan:
        """Look at ``text`` from ``start`` (what is already shown cannot be undone)."""
        low = fold(text)
        found = None
        for phrase in self.phrases:
            i = low.find(phrase, start)
            while i != -1 and not (_word_start(low, i) and _word_end(low, i + len(phrase))):
                i = low.find(phrase, i + 1)
            if i != -1 and (found is None or i < found):
                found = i
        if found is not None:
            return Scan(found, found)
        for i in range(max(start, len(low) - self._longest), len(low)):
            tail = low[i:]
            if _word_start(low, i) and any(p.startswith(tail) for p in self.phrases):
                return Scan(None, i)
        return Scan(None, len(low))


def _word_start(low: str, i: int) -> bool:
    """Latin phrases match at word starts only ("glass" does not start "as an ai")."""
    if i == 0 or not low[i].isascii():
        return True
    return not low[i - 1].isalnum()


def _word_end(low: str, end: int) -> bool:
    """A Latin phrase ends a word ("as an ai" is not "as an airline"); at the very end of the
    text that is not known yet, so the phrase is held, not found."""
    if not low[end - 1].isascii() or not low[end - 1].isalnum():
        return True
    return end < len(low) and not low[end].isalnum()
