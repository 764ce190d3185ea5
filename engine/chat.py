"""The chat pass: history stays evaluated in its own context; replies stream token by token."""

from __future__ import annotations

import codecs
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import llama_cpp
import numpy as np
import numpy.typing as npt
from llama_cpp import _internals

from qwen_aio.engine.candidates import CANDIDATES, choose_opener, sample_branches
from qwen_aio.engine.guard import PhraseGuard
from qwen_aio.engine.memo import TokenMemo
from qwen_aio.engine.mood import PREPARE_STEP
from qwen_aio.engine.native import EngineFailure, EvalContext, common_prefix, token_bytes
from qwen_aio.engine.openers import (
    Tone,
    line_pool,
    opener_pool,
    reply_language,
    tone_for,
    written_line,
)
from qwen_aio.engine.pick import Verdict, check, pick
from qwen_aio.engine.prompts import PromptFormat, cut_middle, reply_hint
from qwen_aio.engine.text import SENTENCE_ENDS, is_question, language_of, may_stop_after
from qwen_aio.engine.types import CancelToken, Message, ReplyStats
from qwen_aio.foundation.errors import Cancelled, QwenAioError

log = logging.getLogger(__name__)

TRIM_MARGIN = 0.25  # when history must be trimmed, free this share of the window at once
# Near the token limit the reply may end at the first sentence end: within the last quarter
# of the limit (at least 6, at most 48 tokens; see grace_tokens), while a logit bias on
# sentence-ending tokens grows from 0 to SENTENCE_NUDGE, so the model wraps up its sentence
# instead of being cut.
SENTENCE_NUDGE = 8.0
MAX_BACKTRACKS = 8  # the refusal guard's undo steps per reply; then the reply goes on
# The repetition penalty looks this many tokens back, counting the person's message and the
# previous reply first (see ChatPass._sampler).
PENALTY_LAST_N = 64
# An opener and a line take up to about 30 tokens: a smaller limit (a benchmark's 4 tokens, a
# setting of the person's) gets the free loop, which fits any limit.
PLAN_MIN_TOKENS = 24
LONG_REPLY = 256  # token limits above this ("long") let a planned reply say a little more
PENALTY_REPEAT = 1.3  # measured: 1.1 left a reply in 10 echoing the message
_SENTENCE_END_TEXTS = (".", "!", "?", "。", "！", "？", "…", "...", "!!", "！！", ".\n", "!\n",
                       "?\n", "。\n", "！\n", "？\n", ".\n\n", "!\n\n", "?\n\n", "。\n\n",
                       "！\n\n", "？\n\n", "~", "～", "。”", ".\"")


def grace_tokens(max_tokens: int) -> int:
    """How many tokens before the limit a reply may end early at a sentence end (none for
    limits under 16 tokens: whoever sets those wants every token)."""
    return 0 if max_tokens < 16 else max(6, min(max_tokens // 4, 48))


@dataclass
class ReplyPlan:
    """How one reply is made safe: the openers the model may choose from, the tone the mood
    pass allows, and what the sampled text is checked against."""

    message: str
    language: str | None
    label: str | None
    allowed: Tone  # the label's tone when the mood pass is sure of it, else "neutral"
    openers: tuple[tuple[str, Tone], ...]  # every opener, with its tone
    neutral: tuple[tuple[str, Tone], ...]  # the neutral ones (and those for a question)
    question: bool = False  # a question: lines to think it through, or (long) sampled text
    sampled: bool = False  # the body is sampled (checked candidates), not a written line
    recent: tuple[str, ...] = ()  # the conversation's last replies: lines not to repeat
    # sentences the reply may say after the kept candidate's (None: up to the token limit,
    # for a question at the long length). A small model's later sentences are where it
    # invents; Continue is offered when a reply stopped early.
    more_sentences: int | None = 0
    tone: Tone = "neutral"  # the tone the chosen opener shows: the checks follow it

    def faults(self, text: str) -> list[str]:
        """The hard faults of a piece of the reply the model wrote (never sent)."""
        return self.verdict(text).hard

    def verdict(self, text: str) -> Verdict:
        return check(self.message, text, language=self.language, label=self.label,
                     tone=self.tone)


class NothingToContinue(QwenAioError):
    """Continue was asked for without a reply to continue."""

    def __init__(self) -> None:
        super().__init__("There is no reply to continue: the last message must be the "
                         "assistant's.")


class ReplyStream(Iterator[str]):
    """Text pieces of one reply; ``stats`` fills in as it streams, ``text`` is the reply so far."""

    def __init__(self, gen: Iterator[str], stats: ReplyStats) -> None:
        self._gen = gen
        self.stats = stats
        self.text = ""

    def __iter__(self) -> ReplyStream:
        return self

    def __next__(self) -> str:
        piece = next(self._gen)
        self.text += piece
        return piece

    def close(self) -> None:
        self._gen.close()  # type: ignore[attr-defined]


class ChatPass:
    def __init__(self, model: _internals.LlamaModel, fmt: PromptFormat, *, threads: int,
                 n_ctx: int, seed: int = 1234) -> None:
        self._model = model
        self._fmt = fmt
        # Flash attention costs more than it saves on the CPU once the history is long
        # (measured: 218 vs 177 ms to the first token with 1,500 tokens of history).
        self.ctx = EvalContext(model, n_ctx=n_ctx, threads=threads, name="chat",
                               flash_attn=False, n_seq_max=CANDIDATES)
        self._seed = seed
        self._replies = 0  # replies sampled so far: each gets its own seed
        self.penalty = PENALTY_REPEAT  # the repetition penalty (docs/replies compares others)
        self.candidates = CANDIDATES  # continuations sampled side by side
        # Message text -> the exact tokens evaluated for it (a reply's generated tokens, a
        # person's words with the reply hint), so the next turn's prompt matches the cache.
        self._reply_tokens: OrderedDict[str, list[int]] = OrderedDict()
        self._user_tokens: OrderedDict[str, list[int]] = OrderedDict()
        # How many oldest messages the last trim dropped, and which: kept stable across turns.
        self._dropped: tuple[int, tuple[Message, ...]] = (0, ())
        # The template's tokens after the person's words (end of turn, assistant header).
        segs = fmt.segments([Message("user", "x")], add_generation_prompt=True)
        self._closing = sum(len(fmt.special(s)) for s in segs[segs.index(0) + 1:]
                            if isinstance(s, str))
        # Every other message's plain tokens, so a turn never tokenizes the history again.
        self._plain = TokenMemo(fmt.plain)
        # The system prompt as fitted to the window, and the notice if it was cut.
        self._system_fit: tuple[str, list[int], str | None] = ("", [], None)
        self._sentence_ends = self._single_tokens(_SENTENCE_END_TEXTS)
        self._guard = PhraseGuard()
        self._opener_tokens = TokenMemo(fmt.plain)
        self._punctuation = frozenset(int(t) for t in self._single_tokens(
            (*_SENTENCE_END_TEXTS, ",", "，", "、", ":", "：", ";", "；", " ", "\n", "'", '"')))

    def _single_tokens(self, texts: Sequence[str]) -> npt.NDArray[np.int32]:
        ids = {toks[0] for t in texts if len(toks := self._fmt.plain(t)) == 1}
        return np.array(sorted(ids), dtype=np.int32)

    # -- prompt -----------------------------------------------------------------------------------

    def _hint_tokens(self, text: str, mood: str | None, max_tokens: int) -> list[int]:
        """The hint's tokens, to follow the person's words: with ChatML a system message of
        its own (its end is the template's, after the person's content); else plain text."""
        words = reply_hint(language_of(text), mood, max_tokens)
        if self._fmt.chatml:
            return self._fmt.special("<|im_end|>\n<|im_start|>system\n") + self._fmt.plain(words)
        return self._fmt.plain("\n\n" + words)

    def _content(self, message: Message) -> list[int]:
        memory = self._reply_tokens if message.role == "assistant" else self._user_tokens
        cached = memory.get(message.content.strip())
        if cached is not None:
            return cached
        return self._plain(message.content)

    def _prompt(self, system: Message, history: Sequence[Message],
                turn: tuple[str, list[int]] | None) -> list[int]:
        """The prompt for ``history`` plus a new user ``turn`` (text and its tokens); without
        a turn, the prompt ends inside the last message (an assistant reply to continue)."""
        msgs = [system, *history]
        if turn is not None:
            msgs.append(Message("user", turn[0]))
        segs = self._fmt.segments(msgs, add_generation_prompt=turn is not None)
        contents = [self._content(m) for m in msgs]
        if turn is not None:
            contents[-1] = turn[1]
        else:
            segs = segs[:segs.index(len(msgs) - 1) + 1]
        return self._fmt.tokens(segs, contents)

    def build(self, history: Sequence[Message], text: str | None, system_prompt: str,
              max_tokens: int, stats: ReplyStats,
              hint_tokens: Sequence[int] = ()) -> list[int]:
        """The prompt for this turn, trimmed oldest-first (and the message cut) to fit.

        ``text`` None continues the last message of ``history`` instead of a new turn.
        """
        budget = self.ctx.n_ctx - max_tokens
        system = Message("system", system_prompt)
        self._fit_system(system_prompt, stats)
        hist = [m for m in history if m.role in ("user", "assistant") and m.content.strip()]
        turn: tuple[str, list[int]] | None = None
        if text is not None:
            user_tokens = self._fmt.plain(text)
            turn = (text, user_tokens + list(hint_tokens))
            bare = self._prompt(system, [], turn)
            if len(bare) > budget:
                keep = len(user_tokens) - (len(bare) - budget)
                user_tokens, head, tail = cut_middle(user_tokens, keep)
                stats.notices.append(
                    f"Your message was too long for the context window: only its first {head} "
                    f"and last {tail} tokens were read.")
                turn = (text, user_tokens + list(hint_tokens))
                self._remember(self._user_tokens, text, turn[1])
                return self._note_trim(len(hist), hist, self._prompt(system, [], turn), stats)
            self._remember(self._user_tokens, text, turn[1])
        min_kept = 0 if turn is not None else 2  # a continuation keeps its reply and question

        def prompt_with(drop: int) -> list[int]:
            return self._prompt(system, hist[drop:], turn)

        drop, dropped_msgs = self._dropped
        if drop and drop <= len(hist) - min_kept and tuple(hist[:drop]) == dropped_msgs:
            tokens = prompt_with(drop)  # same cut as last turn: the cached prefix stays valid
            if len(tokens) <= budget:
                return self._note_trim(drop, hist, tokens, stats)
        tokens = prompt_with(0)
        if len(tokens) <= budget:
            self._dropped = (0, ())
            return tokens
        target = int(budget * (1 - TRIM_MARGIN))
        # Where the kept history may start: at a user message (or as far as it may go). The
        # prompt shrinks as more is dropped, so the first that fits is found by bisection,
        # building O(log n) prompts instead of one per dropped message.
        last = len(hist) - min_kept
        starts = [d for d in range(1, last + 1) if d == last or hist[d].role == "user"]
        if not starts:  # nothing may be dropped (a continuation of the only exchange)
            starts = [0]
        lo, hi = 0, len(starts) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if len(prompt_with(starts[mid])) <= target:
                hi = mid
            else:
                lo = mid + 1
        drop = starts[lo]
        tokens = prompt_with(drop)
        if len(tokens) > budget:
            raise EngineFailure(f"the reply to continue does not fit a context of "
                                f"{self.ctx.n_ctx} tokens")
        return self._note_trim(drop, hist, tokens, stats)

    def _fit_system(self, system_prompt: str, stats: ReplyStats) -> None:
        """A system prompt may take at most a quarter of the window: a longer one is cut
        (both ends kept) with a notice, so the conversation still fits."""
        if self._system_fit[0] != system_prompt:
            limit = self.ctx.n_ctx // 4
            kept = self._fmt.plain(system_prompt)
            notice = None
            if len(kept) > limit:
                kept, head, tail = cut_middle(kept, limit)
                notice = (f"The system prompt is too long for the context window: only its "
                          f"first {head} and last {tail} tokens are used. Shorten it in the "
                          "settings (or raise the context size).")
            self._system_fit = (system_prompt, kept, notice)
        _, kept, notice = self._system_fit
        self._remember(self._user_tokens, system_prompt, kept)  # what _content will use
        if notice is not None:
            stats.notices.append(notice)

    def _note_trim(self, drop: int, hist: list[Message], tokens: list[int],
                   stats: ReplyStats) -> list[int]:
        self._dropped = (drop, tuple(hist[:drop]))
        stats.trimmed_messages = drop
        if drop:
            stats.notices.append(f"The {drop} oldest messages were left out to fit the context "
                                 "window.")
        return tokens

    # -- generation -------------------------------------------------------------------------------

    def _sampler(self, temperature: float,
                 seen: Sequence[int] = ()) -> llama_cpp.llama_sampler_p:
        """Top-k/top-p sampling with a repetition penalty that already counts ``seen`` (the
        person's message and the previous reply), so a small model neither parrots the message
        nor repeats its last answer. Each reply draws from its own seed: the seed setting
        plus the number of replies so far, so a run is reproducible and replies still vary."""
        chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
        add = llama_cpp.llama_sampler_chain_add
        if temperature <= 0:
            add(chain, llama_cpp.llama_sampler_init_greedy())
            return chain
        add(chain, llama_cpp.llama_sampler_init_penalties(self._model.n_vocab(), PENALTY_LAST_N,
                                                          self.penalty, 0.0, 0.0))
        add(chain, llama_cpp.llama_sampler_init_top_k(40))
        add(chain, llama_cpp.llama_sampler_init_top_p(0.9, 1))
        add(chain, llama_cpp.llama_sampler_init_temp(temperature))
        add(chain, llama_cpp.llama_sampler_init_dist((self._seed + self._replies) & 0xFFFFFFFF))
        self._replies += 1
        # words only: a full stop said before must stay easy to say again
        words = [t for t in seen if t not in self._punctuation]
        for token in words[-PENALTY_LAST_N:]:
            llama_cpp.llama_sampler_accept(chain, token)
        return chain

    def _cap(self, max_tokens: int, stats: ReplyStats) -> int:
        if max_tokens > self.ctx.n_ctx // 2:  # leave the prompt at least half of the window
            max_tokens = self.ctx.n_ctx // 2
            stats.notices.append(f"The reply is limited to {max_tokens} tokens by the context "
                                 "size; raise the context size in the settings for longer ones.")
        return max_tokens

    def prompt(self, history: Sequence[Message], text: str, *, max_tokens: int,
               system_prompt: str, mood: str | None = None, hint: bool = True,
               plan: bool = True) -> list[int]:
        """The tokens `stream` would evaluate for this turn, without evaluating them (tests,
        benchmark)."""
        stats = ReplyStats()
        max_tokens = self._cap(max_tokens, stats)
        hint_tokens = self._hint_tokens(text, self._hint_mood(text, mood, plan),
                                        max_tokens) if hint else []
        return self.build(history, text, system_prompt, max_tokens, stats, hint_tokens)

    def stream(self, history: Sequence[Message], text: str, *, max_tokens: int,
               system_prompt: str, temperature: float,
               cancel: CancelToken | None, stop_at_end: bool = True,
               mood: str | None = None, hint: bool = True, confidence: float | None = None,
               plan: bool = True) -> ReplyStream:
        """A reply to ``text``; the person's turn ends with a hint (their language, the mood
        ``mood`` and the size ``max_tokens`` allows) unless ``hint`` is False.

        With ``plan`` (and ``stop_at_end``) the reply opens with a sentence the model picks
        from those the label allows (``confidence`` decides whether it sets the tone), then
        several continuations are sampled side by side and the one that passes the checks
        of `engine.pick` is kept; later sentences are checked as they end.
        """
        stats = ReplyStats()
        t0 = time.perf_counter()
        max_tokens = self._cap(max_tokens, stats)
        # the hint follows the companion's rule even when every token is wanted (benchmarks),
        # so that it matches what `prepare` evaluated while the person typed
        planned = plan and stop_at_end and max_tokens >= PLAN_MIN_TOKENS
        hint_tokens = self._hint_tokens(text, self._hint_mood(text, mood, plan),
                                        max_tokens) if hint else []
        prompt = self.build(history, text, system_prompt, max_tokens, stats, hint_tokens)
        stats.prompt_tokens = len(prompt)
        last = next((m for m in reversed(history)
                     if m.role == "assistant" and m.content.strip()), None)
        seen = (self._content(last) if last is not None else []) + self._fmt.plain(text)
        reply_plan = self._plan(history, text, mood, confidence, max_tokens) if planned else None
        return ReplyStream(self._generate(prompt, max_tokens, temperature, cancel, stats, t0,
                                          stop_at_end, seen=seen, plan=reply_plan), stats)

    @staticmethod
    def _plan(history: Sequence[Message], text: str, mood: str | None,
              confidence: float | None, max_tokens: int) -> ReplyPlan | None:
        """The plan for a reply to ``text``: none for a language without openers."""
        lang = language_of(text)
        if reply_language(lang) is None:
            return None
        recent = tuple(m.content for m in history[-6:] if m.role == "assistant")
        question = is_question(text)
        return ReplyPlan(
            text, lang, mood if mood in ("Positive", "Negative") else None,
            tone_for(mood, confidence, text),
            opener_pool(lang, question=question, avoid=recent),
            opener_pool(lang, question=question, neutral_only=True, avoid=recent),
            question=question, recent=recent, sampled=question and max_tokens > LONG_REPLY,
            more_sentences=(None if max_tokens > LONG_REPLY else 1) if question else
            0 if max_tokens <= LONG_REPLY else 2)

    @staticmethod
    def _hint_mood(text: str, mood: str | None, plan: bool) -> str | None:
        """The mood the reply hint speaks of: none when the reply is planned (its opener
        carries the tone, and the chat model's choice of opener must be its own opinion)."""
        return None if plan and reply_language(language_of(text)) else mood

    def prepare(self, history: Sequence[Message], draft: str, *, max_tokens: int,
                system_prompt: str, mood: str | None = None, hint: bool = True,
                cancel: CancelToken | None = None, plan: bool = True) -> int:
        """Evaluate the prompt of a turn that would send ``draft`` now, up to the end of the
        person's words (and the hint, once ``mood`` is known) but without the template's
        closing tokens: sending the same or a longer draft then evaluates only what differs.
        Returns the tokens evaluated."""
        stats = ReplyStats()
        max_tokens = self._cap(max_tokens, stats)
        hint_tokens = self._hint_tokens(draft, self._hint_mood(draft, mood, plan),
                                        max_tokens) if hint and mood else []
        prompt = self.build(history, draft, system_prompt, max_tokens, stats, hint_tokens)
        end = len(prompt) - self._closing
        split = end - len(hint_tokens)
        done = 0
        if hint_tokens and common_prefix(self.ctx.tokens, prompt[:end]) < split:
            # the person's words in small batches (a keystroke keeps what was done), the hint
            # (about 15 tokens) in one: in two batches it cost ~40 ms more before the reply
            done = self.ctx.feed(prompt[:split], cancel, step=PREPARE_STEP)
        return done + self.ctx.feed(prompt[:end], cancel,
                                    step=None if hint_tokens else PREPARE_STEP)

    def rewind(self, history: Sequence[Message], system_prompt: str) -> None:
        """Keep only the conversation ``history`` and the next user header in the cache, as
        right after the last turn (benchmarks start each measured turn from there)."""
        prompt = self.build(history, "", system_prompt, 1, ReplyStats())
        self.ctx.rewind(prompt[:len(prompt) - self._closing])

    def continue_reply(self, history: Sequence[Message], *, max_tokens: int,
                       system_prompt: str, temperature: float,
                       cancel: CancelToken | None) -> ReplyStream:
        """More of the last reply in ``history`` (cut by its limit), from the same cache.

        Right after the cut the cache holds exactly that prompt and the last token's logits,
        so nothing is evaluated before the first new token.
        """
        if not history or history[-1].role != "assistant" or not history[-1].content.strip():
            raise NothingToContinue()
        stats = ReplyStats()
        t0 = time.perf_counter()
        max_tokens = self._cap(max_tokens, stats)
        prior_text = history[-1].content
        prior = self._content(history[-1])
        prompt = self.build(history, None, system_prompt, max_tokens, stats)
        stats.prompt_tokens = len(prompt)
        return ReplyStream(self._generate(prompt, max_tokens, temperature, cancel, stats, t0,
                                          True, prior=(prior_text, prior), seen=prior), stats)

    def _generate(self, prompt: list[int], max_tokens: int, temperature: float,
                  cancel: CancelToken | None, stats: ReplyStats, t0: float,
                  stop_at_end: bool = True,
                  prior: tuple[str, list[int]] | None = None,
                  seen: Sequence[int] = (), plan: ReplyPlan | None = None) -> Iterator[str]:
        try:
            stats.evaluated_tokens = self.ctx.feed(prompt, cancel)
        except Cancelled:
            stats.stop_reason = "cancelled"
            return
        chain = self._sampler(temperature, seen)
        prior_text, prior_tokens = prior if prior is not None else ("", [])
        generated: list[int] = []
        starts: list[int] = []  # where each generated token's text starts in ``text``
        text = ""
        shown = 0  # characters of ``text`` already yielded (always at a token's start)
        t_first = 0.0
        try:
            if plan is not None:
                head = self._opening(prompt, plan, max_tokens, temperature, seen, cancel, stats)
                for piece_tokens, piece in head:
                    # the head is never undone by the guard or the checks: its tokens' starts
                    # only need to lie before what is shown
                    for tok in piece_tokens:
                        starts.append(len(text))
                        generated.append(tok)
                    text += piece
                    stats.generated_tokens = len(generated)
                    if piece:
                        if not t_first:
                            t_first = time.perf_counter()
                            stats.ttft_ms = (t_first - t0) * 1000
                        yield piece
                        shown = len(text)
                    if t_first and len(generated) > 1:  # the window shows the reply's speed
                        stats.decode_tps = (len(generated) - 1) / max(
                            time.perf_counter() - t_first, 1e-6)
                if stats.stop_reason:  # ended (the model's end, the limit, a written line)
                    if stats.stop_reason != "cancelled":
                        self._after_reply(stats.stop_reason, generated, cancel)
                    return
                self.ctx.feed(prompt + generated, cancel)  # the kept branch's last logits
                for tok in generated:  # the penalty counts what the reply has said so far
                    llama_cpp.llama_sampler_accept(chain, tok)
            yield from self._sample_rest(prompt, max_tokens, cancel, stats, t0, stop_at_end,
                                         chain, prior_text, prior_tokens, generated, starts,
                                         text, shown, t_first, plan)
        except Cancelled:
            stats.stop_reason = "cancelled"
        finally:
            llama_cpp.llama_sampler_free(chain)

    def _opening(self, prompt: list[int], plan: ReplyPlan, max_tokens: int, temperature: float,
                 seen: Sequence[int], cancel: CancelToken | None,
                 stats: ReplyStats) -> Iterator[tuple[list[int], str]]:
        """The opener, token by token, then the kept candidate (or the fallback line) in one
        piece: ``(tokens, text)`` pairs, all evaluated in sequence 0 when yielded except the
        candidate's last token. Sets ``stats.stop_reason`` when the reply ends here."""
        opener: list[int] = []
        decoder = self._decoder([])
        fits = max_tokens // 2  # an opener longer than this would leave no room to say more
        if plan.openers:
            # The first walk may take any opener; once the tone it heads for is known (before
            # anything is shown) it must agree with the mood pass, else the model picks again
            # among the neutral ones.
            held: list[int] = []  # chosen while the tone is not known yet: not shown
            deciding = True
            walk = [(self._opener_tokens(o), tone) for o, tone in plan.openers
                    if len(self._opener_tokens(o)) <= fits]
            for tok, tones in choose_opener(self.ctx, walk, cancel):
                opener.append(tok)
                if deciding and len(tones) == 1:
                    plan.tone = next(iter(tones))  # type: ignore[assignment]
                    if plan.tone not in ("neutral", plan.allowed):
                        break
                    deciding = False
                    for t in [*held, tok]:
                        yield [t], decoder.decode(token_bytes(self._model, t))
                elif deciding:
                    held.append(tok)
                else:
                    yield [tok], decoder.decode(token_bytes(self._model, tok))
            if deciding and opener:  # the walk disagreed with the mood pass: neutral ones
                plan.tone = "neutral"
                opener = []
                self.ctx.feed(prompt, cancel)
                walk = [(self._opener_tokens(o), tone) for o, tone in plan.neutral
                        if len(self._opener_tokens(o)) <= fits]
                for tok, _ in choose_opener(self.ctx, walk, cancel):
                    opener.append(tok)
                    yield [tok], decoder.decode(token_bytes(self._model, tok))
        head_text = self._fmt_text(opener)
        budget = max_tokens - len(opener)
        if budget <= 0:
            stats.stop_reason = "limit"
            return
        if not plan.sampled:
            yield from self._written(plan, head_text, budget, temperature, cancel, stats)
            return
        # each branch may take ``budget`` cells of the cache (all share the window): fewer
        # branches when the conversation leaves less room
        room = (self.ctx.n_ctx - len(self.ctx.tokens)) // budget
        branches = max(1, min(self.candidates if temperature > 0 else 1, room))
        chains = [self._sampler(temperature, [*seen, *opener]) for _ in range(branches)]
        try:
            cands = sample_branches(self.ctx, self._model, chains, budget=budget,
                                    head_text=head_text, cancel=cancel)
        finally:
            for c in chains:
                llama_cpp.llama_sampler_free(c)
        for c in cands:
            c.verdict = plan.verdict(c.text)
        best = pick(cands, plan.message)
        stats.candidates = [(c.text, c.verdict.hard if c.verdict else [],
                             round(c.logprob / max(1, len(c.tokens)), 3)) for c in cands]
        if best is None:  # a line of the opener's tone instead
            self.ctx.drop_branches()
            sep = "" if plan.language == "zh" or not head_text else " "
            line = sep + written_line(plan.language, plan.tone, plan.message)
            tokens = self._fmt.plain(line)
            self.ctx.append(tokens, cancel)
            stats.written = True
            stats.stop_reason = "end"
            yield tokens, line
            return
        self.ctx.adopt(best.seq, best.tokens[:best.decoded])
        if not best.done and plan.more_sentences == 0:
            stats.stop_reason = "end"
        elif best.done:
            stats.stop_reason = ("limit" if best.stop_reason == "limit" and not may_stop_after(
                head_text + best.text, None) else "sentence" if best.stop_reason == "limit"
                else "end")
            if best.decoded < len(best.tokens):  # the cache holds every shown token
                self.ctx.append(best.tokens[best.decoded:], cancel)
        yield best.tokens, best.text

    def _written(self, plan: ReplyPlan, head_text: str, budget: int, temperature: float,
                 cancel: CancelToken | None, stats: ReplyStats
                 ) -> Iterator[tuple[list[int], str]]:
        """The line after the opener, drawn by the model's probabilities among those of its
        tone (the likeliest when sampling is greedy)."""
        sep = " " if head_text and plan.language != "zh" else ""
        walk = [(self._opener_tokens(sep + line), tone)
                for line, tone in line_pool(plan.language, plan.tone, plan.recent,
                                            opener=head_text, question=plan.question)]
        walk = [(toks, tone) for toks, tone in walk if len(toks) <= budget]
        decoder = self._decoder([])
        rng = np.random.default_rng(self._seed + self._replies) if temperature > 0 else None
        self._replies += 1
        for tok, _ in choose_opener(self.ctx, walk, cancel, rng):
            yield [tok], decoder.decode(token_bytes(self._model, tok))
        stats.written = True
        stats.stop_reason = "end"

    def _fmt_text(self, tokens: Sequence[int]) -> str:
        return b"".join(token_bytes(self._model, t) for t in tokens).decode("utf-8", "replace")

    def _sample_rest(self, prompt: list[int], max_tokens: int, cancel: CancelToken | None,
                     stats: ReplyStats, t0: float, stop_at_end: bool,
                     chain: llama_cpp.llama_sampler_p, prior_text: str, prior_tokens: list[int],
                     generated: list[int], starts: list[int], text: str, shown: int,
                     t_first: float, plan: ReplyPlan | None) -> Iterator[str]:
        """Sample the reply token by token after ``generated`` (the planned start, if any).

        With a plan, each sentence is shown only once whole and checked: a sentence with a
        hard fault (cheer at bad news, talking as the person, an echo, a leak) ends the reply
        before it.
        """
        decoder = self._decoder(prior_tokens + generated)
        bans: dict[int, set[int]] = {}  # position -> tokens the guard forbids there
        backtracks = 0
        window = max_tokens - grace_tokens(max_tokens) if stop_at_end else max_tokens + 1
        vocab = self._model.vocab
        checked = shown  # with a plan: text up to here passed the checks
        sentences = 0  # with a plan: whole sentences said after the planned start
        try:
            while True:
                if cancel is not None and cancel.cancelled:
                    stats.stop_reason = "cancelled"
                    break
                n = len(generated)
                if n >= max_tokens:
                    stats.stop_reason = "limit"
                    break
                if window <= n < max_tokens and len(self._sentence_ends):
                    self.ctx.bias_logits(self._sentence_ends,
                                         SENTENCE_NUDGE * (n - window + 1) / (max_tokens - window))
                if n in bans:
                    self.ctx.bias_logits(np.fromiter(bans[n], dtype=np.int32), -1e9)
                token = llama_cpp.llama_sampler_sample(chain, self.ctx.ptr, -1)
                if stop_at_end and (llama_cpp.llama_vocab_is_eog(vocab, token)
                                    or llama_cpp.llama_vocab_is_control(vocab, token)):
                    stats.stop_reason = "end"  # a control token never renders: the turn is over
                    break
                raw = token_bytes(self._model, token)
                piece = raw.decode("utf-8", "ignore")
                boundary = plan is not None and len(text) > checked and may_stop_after(
                    prior_text + text, piece)
                if boundary and plan is not None and plan.faults(text[checked:]):
                    log.debug("Reply check: a sentence with %s left out",
                              plan.faults(text[checked:]))
                    text, generated, starts = self._cut(text, generated, starts, checked)
                    stats.stop_reason = "end"
                    break
                if boundary and plan is not None:
                    checked = len(text)
                    # a list item ends a line, not a sentence: a list runs to the limit
                    sentences += text.rstrip()[-1:] in SENTENCE_ENDS
                    if plan.more_sentences is not None and sentences >= plan.more_sentences:
                        stats.stop_reason = "sentence"  # it could go on: Continue is offered
                        break
                if window <= n < max_tokens and may_stop_after(prior_text + text, piece):
                    stats.stop_reason = "sentence"
                    break
                generated.append(token)
                starts.append(len(text))
                text += decoder.decode(raw)
                scan = self._guard.scan(text, shown) if stop_at_end else None
                if scan is not None and scan.found is not None and backtracks < MAX_BACKTRACKS:
                    # Undo the phrase: back to the token it began with, which is forbidden there.
                    k = max(i for i in range(len(generated)) if starts[i] <= scan.found)
                    bans.setdefault(k, set()).add(generated[k])
                    backtracks += 1
                    log.debug("Refusal guard: backtracking %d tokens", len(generated) - k)
                    del generated[k:]
                    text = text[:starts[k]]
                    del starts[k:]
                    checked = min(checked, len(text))
                    decoder = self._decoder(prior_tokens + generated)
                    try:
                        self.ctx.feed(prompt + generated, cancel)
                    except Cancelled:
                        stats.stop_reason = "cancelled"
                        break
                    stats.generated_tokens = len(generated)
                    continue
                stats.generated_tokens = len(generated)
                upto = len(text) if scan is None else max(
                    [shown] + [b for b in (*starts[1:], len(text)) if b <= scan.hold])
                if plan is not None:
                    upto = min(upto, checked)
                if upto > shown:
                    if not t_first:
                        t_first = time.perf_counter()
                        stats.ttft_ms = (t_first - t0) * 1000
                    yield text[shown:upto]
                    shown = upto
                if len(generated) >= max_tokens:
                    stats.stop_reason = ("sentence" if stop_at_end
                                         and may_stop_after(prior_text + text, None) else "limit")
                    break
                try:
                    self.ctx.append([token], cancel)
                except Cancelled:
                    stats.stop_reason = "cancelled"
                    break
                if len(generated) > 1 and t_first:
                    stats.decode_tps = (len(generated) - 1) / max(
                        time.perf_counter() - t_first, 1e-6)
            text += decoder.decode(b"", final=True).rstrip("\ufffd")
            if (plan is not None and stats.stop_reason != "cancelled" and len(text) > checked
                    and plan.faults(text[checked:])):
                text, generated, starts = self._cut(text, generated, starts, checked)
                if stats.stop_reason == "limit":
                    stats.stop_reason = "sentence"
            if plan is not None and stats.stop_reason == "cancelled":
                text, generated, starts = self._cut(text, generated, starts, shown)
            if len(text) > shown:
                if not t_first:
                    stats.ttft_ms = (time.perf_counter() - t0) * 1000
                yield text[shown:]
                shown = len(text)
            if plan is not None:
                self.ctx.rewind(prompt + generated)
            self._after_reply(stats.stop_reason, generated, cancel)
        finally:
            stats.generated_tokens = len(generated)
            if generated:
                self._remember(self._reply_tokens, prior_text + text[:shown],
                               prior_tokens + generated)

    @staticmethod
    def _cut(text: str, generated: list[int], starts: list[int],
             at: int) -> tuple[str, list[int], list[int]]:
        """The reply up to ``at`` (a token's start): the tokens after it are dropped."""
        k = next((i for i, s in enumerate(starts) if s >= at), len(generated))
        return text[:starts[k] if k < len(starts) else at], generated[:k], starts[:k]

    def _decoder(self, tokens: Sequence[int]) -> codecs.IncrementalDecoder:
        """A UTF-8 decoder that has seen ``tokens``: a character split across them completes
        with the next token."""
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        if tokens:
            decoder.decode(b"".join(token_bytes(self._model, t) for t in tokens))
        return decoder

    def _after_reply(self, stop_reason: str, generated: list[int],
                     cancel: CancelToken | None) -> None:
        """Evaluate what the next request needs now, while the person reads.

        After a cut (``limit``) that is the reply's last token, so Continue starts at once;
        otherwise the end of this turn and the next user header, so the next turn evaluates
        only its own words.
        """
        if not generated or stop_reason not in ("end", "sentence", "limit"):
            return
        if stop_reason == "limit":
            pending = [generated[-1]]
        elif self._fmt.chatml:
            pending = self._fmt.special("<|im_end|>\n<|im_start|>user\n")
        else:
            return
        if len(self.ctx.tokens) + len(pending) < self.ctx.n_ctx:
            with contextlib.suppress(Cancelled, EngineFailure):
                self.ctx.append(pending, cancel)

    @staticmethod
    def _remember(memory: OrderedDict[str, list[int]], text: str, tokens: list[int]) -> None:
        key = text.strip()
        memory[key] = tokens
        memory.move_to_end(key)
        while len(memory) > 256:
            memory.popitem(last=False)

    def close(self) -> None:
        self.ctx.close()
