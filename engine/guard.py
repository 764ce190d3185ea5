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

# No phrase starts with a pronoun or a common opener ("I", "我", "很"): text that may still
# become a phrase is held back, and a reply's first words must not wait for that. "sorry,
# but" is there because what a small model says after "I'm sorry, but I" is nearly always a
# refusal in other words; undoing "sorry" lets it say "I'm so sad to hear that" instead.
REFUSAL_PHRASES: tuple[str, ...] = (
    # English: declining, disclaiming, thanking itself for helping
    "sorry, but", "sorry but", "can't assist", "cannot assist", "can not assist",
    "not able to assist", "unable to assist", "can't help with that", "cannot help with that",
    "can't help you with that", "cannot help you with that", "not able to help with",
    "unable to help with", "can't provide", "cannot provide", "can't fulfill", "cannot fulfill",
    "can't comply", "cannot comply", "as an ai", "as a language model", "just an ai",
    "glad i could help", "glad i was able to help", "glad to have helped",
    "glad i could assist", "glad i was able to assist", "assist with that",
    "assist you with that", "that request", "this request", "your request", "help you answer",
    # Chinese
    "不能完成", "不能处理", "无法处理", "不能帮", "不能提供", "不能协助",
    "不能继续", "不能回答", "不能满足", "无法提供", "无法协助", "无法帮",
    "无法完成", "无法回答", "无法满足", "作为一个ai", "作为ai", "作为一个人工智能",
    "作为人工智能", "作为一个语言模型", "作为语言模型", "高兴能帮", "高兴帮到",
    "高兴能够帮", "高兴为您服务", "高兴为你服务", "这个请求", "该请求",
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
    return not _latin(low[i - 1])


def _word_end(low: str, end: int) -> bool:
    """A Latin phrase ends a word ("as an ai" is not "as an airline"); at the very end of the
    text that is not known yet, so the phrase is held, not found."""
    if not _latin(low[end - 1]):
        return True
    return end < len(low) and not _latin(low[end])


def _latin(ch: str) -> bool:
    """A letter or digit of a Latin word ("作为一个AI助手": the AI ends at 助)."""
    return ch.isascii() and ch.isalnum()
