"""What a piece of text is: its language (Chinese, English, other), whether it ends a sentence,
and its key for the mood cache and the person's corrections (`normalize`).

The chat pass uses these to ask for a reply in the writer's language and to stop at a sentence
end near its token limit; `qwen-aio eval --replies` uses the same functions to judge replies,
so what is measured is exactly what the engine aims at.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

Language = Literal["zh", "en", "other"]

# Characters after which a reply may end: full stops, question and exclamation marks (both
# widths), ellipses, and a line break (checked separately).
SENTENCE_ENDS = "。！？.!?…"
# Characters that may follow a sentence end and still close it: quotes, brackets, tildes.
_CLOSERS = "\"'”’」』）)】]》~～*"


def normalize(text: str) -> str:
    """The mood cache key: same words, same mood, whatever the spacing or width of characters.
    Invisible format characters (zero-width, bidi marks) are dropped: a line of only those is
    empty."""
    visible = "".join(ch for ch in unicodedata.normalize("NFKC", text)
                      if unicodedata.category(ch) != "Cf")
    return " ".join(visible.split()).casefold()


def _is_han(ch: str) -> bool:
    cp = ord(ch)
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0xF900 <= cp <= 0xFAFF
            or 0x20000 <= cp <= 0x2A6DF)


def _is_other_script(ch: str) -> bool:
    """Kana, Hangul, Cyrillic, Greek, Arabic, Hebrew, Thai, Devanagari: neither zh nor en."""
    cp = ord(ch)
    return (0x3040 <= cp <= 0x30FF or 0xAC00 <= cp <= 0xD7AF or 0x0400 <= cp <= 0x04FF
            or 0x0370 <= cp <= 0x03FF or 0x0590 <= cp <= 0x06FF or 0x0E00 <= cp <= 0x0E7F
            or 0x0900 <= cp <= 0x097F)


def language_of(text: str) -> Language | None:
    """The language a message is written in, by its letters; None when it has none (emoji).

    A Han character carries about as much as a short English word, so it weighs three Latin
    letters: "今天收到了offer" is Chinese, "I love 火锅 so much" is English.
    """
    han = latin = other = 0
    for ch in text:
        if _is_han(ch):
            han += 1
        elif ch.isascii():
            latin += ch.isalpha()
        elif _is_other_script(ch):
            other += 1
        elif ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN"):
            latin += 1
    if other and other * 3 >= han * 3 + latin:
        return "other"
    if han == 0 and latin == 0:
        return None
    return "zh" if han * 3 >= latin else "en"


def _strip_tail(text: str) -> str:
    """The text without trailing spaces, closing quotes/brackets, emoji and symbols."""
    end = len(text)
    while end:
        ch = text[end - 1]
        if ch.isspace() or ch in _CLOSERS or unicodedata.category(ch) in ("So", "Sk", "Mn", "Cf"):
            end -= 1
            continue
        break
    return text[:end]


def ends_sentence(text: str) -> bool:
    """True when a reply ends where a sentence may end (after closing quotes or emoji).

    A reply that ends in an emoji after words ("真为你高兴😊") counts as ended: that is how
    people close a chat message.
    """
    stripped = text.rstrip()
    if not stripped:
        return False
    core = _strip_tail(stripped)
    if not core:
        return True  # only emoji: a whole (if short) message
    if core[-1] in SENTENCE_ENDS:
        return True
    return len(core) < len(stripped) and any(
        unicodedata.category(ch) == "So" for ch in stripped[len(core):])


_LIST_MARK = re.compile(r"(?:^|\n)\s*(?:\d{1,2}|[a-zA-Z])[.)]$")


def may_stop_after(text: str, next_piece: str | None) -> bool:
    """True when the chat pass may end a reply after ``text``, given the next piece it sampled.

    After 。！？!? (and closing quotes or emoji) or a line break it may; after an ASCII full
    stop only when the next piece starts with a space or a line break (or there is none), so
    "3.5" and "e.g." do not end a reply.
    """
    if not text.strip():
        return False
    if text.endswith("\n"):
        return True
    core = _strip_tail(text)
    if not core or core[-1] not in SENTENCE_ENDS:
        return False
    if _LIST_MARK.search(core):  # "1." starts a list item, it ends nothing
        return False
    if core[-1] == "." and len(core) == len(text):
        return next_piece is None or next_piece[:1] in ("", " ", "\n")
    return True


_REFUSALS = re.compile(
    r"(\b(?:I|I'm|I am)\b[^.!?\n]{0,24}\b(?:can't|cannot|can not|unable to|not able to)\b"
    r"[^.!?\n]{0,24}\b(?:assist|help with|provide|comply|fulfil|fulfill|support|answer)\b"
    r"|\bas an ai\b|\bas a language model\b|\bI'm glad I could help\b"
    r"|\bglad (?:I was|to have been) (?:able to )?help"
    r"|我(?:不能|无法|没办法)(?:完成|帮助|帮你|协助|提供|回答|满足|处理|继续)|无法(?:提供|协助)"
    r"|作为(?:一个)?(?:AI|人工智能|语言模型)|很高兴(?:能|可以)?(?:帮到|帮助到?|帮上)(?:你|您))",
    re.IGNORECASE,
)


def is_refusal(reply: str) -> bool:
    """A reply that declines, disclaims itself as an AI, or thanks the user for being helped.

    These are what a small chat model says when it mistakes feelings for a request; an
    empathetic companion never answers a feeling with them.
    """
    return bool(_REFUSALS.search(reply))


_QUESTION = re.compile(
    r"[?？]|^\W*(how|what|why|should|can you|could you|would you|any (ideas|tips|advice)|"
    r"do you|is it|help me|give me|tell me|recommend|suggest|list|explain|describe|write|"
    r"name|show me|please)\b|"
    r"吗\s*[。！…~～]*\s*$|怎么办|怎么[说做选弄开写跟]|如何|该不该|要不要|能不能|可不可以|为什么|"
    r"有什么[办建推好]|建议|推荐|帮我|给我[想推列讲出说]|列出|解释一下|介绍一下|讲一个|写一",
    re.IGNORECASE)


def is_question(text: str) -> bool:
    """A message that asks something — a question, or a request for a list, an explanation,
    ideas (a question mark, how/what/should/list/explain, 怎么/该不该/列出/吗…)."""
    return bool(_QUESTION.search(text))
