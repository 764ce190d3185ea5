"""Cheap checks on a sampled reply, and the pick among several.

A small model's free text fails in a few recognisable ways (measured by reading, see
docs/replies/README.md): it repeats the message back, talks as if it were the person, cheers
at bad news (or pities good news), refuses, leaks its instructions, or drifts into the other
language. Each check here is a few string operations; the chat pass samples several
continuations and keeps the one with the fewest faults, or says a plain kind line instead
when all of them have a fault that must never be sent.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from qwen_aio.engine.text import is_refusal, language_of

# Words of cheer: said to a message labelled Negative they are the `opposite` fault ("I'm
# glad to hear that your grandmother passed away"). Matched on word starts, case-folded.
_CHEER_EN = re.compile(
    r"\b(glad|congrat\w*|happy for|so happy|great news|good news|wonderful|awesome|amazing|"
    r"fantastic|exciting|excited|well done|proud of you|yay|hooray|enjoy|lucky|"
    r"that's great|that is great|sounds great|sounds fun|so fun|have fun|love that)\b",
    re.IGNORECASE)
_CHEER_ZH = re.compile(r"恭喜|祝贺|太好了|真好|真棒|太棒|好消息|高兴|开心|快乐|羡慕|厉害|兴奋|"
                       r"享受|幸运|愉快|喜悦|欣慰|美好")
# Words of pity: said to a message labelled Positive with confidence, the other `opposite`.
_PITY_EN = re.compile(r"\b(sorry to hear|sorry for your|so sorry|condolences|that's hard|"
                      r"sounds hard|that sucks|must be hard|tough time)\b", re.IGNORECASE)
_PITY_ZH = re.compile(r"难过|遗憾|节哀|心疼|别伤心|抱歉听到|太可惜|可怜")

# What the reply hint and the system prompt say (engine.prompts): a reply that repeats them
# shows the person its instructions.
_LEAKS = re.compile(
    r"comfort them|share their joy|be warm|1-2 sentences|a short paragraph|"
    r"few paragraphs|warm, caring friend|language of the user|<\|im_|\|>|"
    r"安慰对方|为对方高兴|温暖回应|一两句|一小段|几段以内|用中文", re.IGNORECASE)

# First-person sentences a friend may say ("I'm sorry", "我理解"): these never count as
# talking as the person.
_KIND_FIRST_PERSON = re.compile(
    r"^\W*(i'm (so |really |very |always |truly )?(sorry|here|glad|happy for|proud|listening|"
    r"thinking of|rooting|with you|curious)|i am (so |really )?(sorry|here|glad|happy for|"
    r"proud)|i (can|could) (only )?imagine|i (really |truly )?(hope|understand|know|hear|think|"
    r"believe|wish|bet|get it|can tell|love that|admire)|i'd|i'll|i would|"
    r"我(很|真的|真|也|能|都)?(理解|明白|懂|能理解|在|相信|希望|觉得|想|为你|替你|陪|会|支持|听|"
    r"知道|能想象|心疼|难过|遗憾|抱歉|高兴|开心)|我们)", re.IGNORECASE)
_FIRST_PERSON = re.compile(r"^\W*(i\b|i'm\b|i've\b|my\b|me\b|我)", re.IGNORECASE)
# "my" anywhere but in a friend's set phrases ("my heart goes out", "my thoughts are with"):
# "I'm sorry to lose my grandmother", "you've been a great asset to my team"
_MY = re.compile(r"\bmy\b(?! (heart|thoughts|condolences|pleasure|friend\b))|我的|我家|我妈|我爸",
                 re.IGNORECASE)
_SENTENCE = re.compile(r"[^.!?。！？\n]+[.!?。！？\n]*")

ECHO_LIMIT = 0.5  # difflib ratio with the message from which a reply mostly repeats it
SPEAKER_OVERLAP = 0.35  # share of a first-person sentence's words that come from the message


@dataclass
class Verdict:
    """What the checks found in one candidate; ``hard`` faults are never sent."""

    hard: list[str] = field(default_factory=list)
    soft: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.hard

    @property
    def cost(self) -> float:
        return 10.0 * len(self.hard) + len(self.soft)


def cheers(text: str) -> bool:
    """Words of joy or congratulation (English or Chinese)."""
    return bool(_CHEER_EN.search(text) or _CHEER_ZH.search(text))


def pities(text: str) -> bool:
    return bool(_PITY_EN.search(text) or _PITY_ZH.search(text))


def leaks(text: str) -> bool:
    return bool(_LEAKS.search(text))


def echo_ratio(message: str, reply: str) -> float:
    """How much of ``reply`` is ``message`` again (difflib's ratio, case-folded)."""
    return difflib.SequenceMatcher(None, message.casefold(), reply.casefold()).ratio()


def _units(text: str) -> list[str]:
    """Words for English, characters for Chinese: the pieces overlap is counted in."""
    low = text.casefold()
    return re.findall(r"[a-z']+|[\u4e00-\u9fff]", low)


_STOP_WORDS = ("i me my a an the to and of in on it is was so too very just that this for with "
               "at be i'm i've you your 我 的 了 是 在 也 就 都 很 太 这 那 你 不 有 吗 呢 吧 啊")
_STOP = frozenset(_STOP_WORDS.split())


def speaks_as_person(message: str, reply: str) -> bool:
    """A first-person sentence of the reply that is not one a friend says to someone ("I'm
    sorry", "我理解"): "I've been working hard to find a new role", "I failed my exam too" —
    the model talking as if it were the person, or about a life it does not have."""
    for sentence in _SENTENCE.findall(reply):
        if _FIRST_PERSON.match(sentence) and not _KIND_FIRST_PERSON.match(sentence):
            return True
        if _MY.search(sentence):
            return True
    return False


def check(message: str, reply: str, *, language: str | None, label: str | None,
          tone: str) -> Verdict:
    """The faults of ``reply`` (the part the model wrote, without the opener) to ``message``.

    ``tone`` is what the reply's opener showed: cheer is a hard fault unless it is
    "positive" (so a message the mood pass leans Negative on never gets it: the failure
    people remember), pity when it is "positive" or when it is "neutral" and ``label`` (the
    mood pass's, sure or not) is Positive.
    """
    v = Verdict()
    text = reply.strip()
    if not text:
        v.hard.append("empty")
        return v
    if is_refusal(text):
        v.hard.append("refusal")
    if leaks(text):
        v.hard.append("leak")
    pity_wrong = tone == "positive" or (tone == "neutral" and label == "Positive")
    if (tone != "positive" and cheers(text)) or (pity_wrong and pities(text)):
        v.hard.append("opposite")
    if echo_ratio(message, text) >= ECHO_LIMIT:
        v.hard.append("echo")
    if speaks_as_person(message, text):
        v.hard.append("speaker")
    got = language_of(text)
    if language in ("zh", "en") and got is not None and got != language:
        v.hard.append("language")
    if not re.search(r"\w", text):
        v.soft.append("no words")
    if len(_units(text)) < 3:
        v.soft.append("short")
    return v


@dataclass
class Candidate:
    """One sampled continuation: its tokens, text, why it stopped and its verdict."""

    seq: int
    tokens: list[int] = field(default_factory=list)
    text: str = ""
    done: bool = False  # the model ended its turn, or the reply reached its limit
    stop_reason: str = ""
    decoded: int = 0  # how many of ``tokens`` its sequence in the cache holds
    logprob: float = 0.0  # the model's log-probability of ``tokens`` (before sampling)
    verdict: Verdict | None = None


def rank(candidate: Candidate, message: str) -> float:
    """Lower is better: the faults, then text the model itself finds unlikely (mean
    log-probability per token). Naming words of the message earns nothing: read blind, the
    candidates that did were more often misreadings or echoes than the ones that did not."""
    cost = candidate.verdict.cost if candidate.verdict else 0.0
    if candidate.tokens:
        cost -= 0.3 * candidate.logprob / len(candidate.tokens)
    return cost


def pick(candidates: list[Candidate], message: str) -> Candidate | None:
    """The best candidate by `rank`, or None when every one has a hard fault."""
    ok = [c for c in candidates if c.verdict is not None and c.verdict.ok]
    if not ok:
        return None
    return min(ok, key=lambda c: (rank(c, message), c.seq))
