"""The chat pass: history stays evaluated in its own context; replies stream token by token."""

from __future__ import annotations

import codecs
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence

import llama_cpp
import numpy as np
import numpy.typing as npt
from llama_cpp import _internals

from qwen_aio.engine.guard import PhraseGuard
from qwen_aio.engine.memo import TokenMemo
from qwen_aio.engine.mood import PREPARE_STEP
from qwen_aio.engine.native import EngineFailure, EvalContext, common_prefix, token_bytes
from qwen_aio.engine.prompts import PromptFormat, cut_middle, reply_hint
from qwen_aio.engine.text import language_of, may_stop_after
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
PENALTY_REPEAT = 1.3  # measured: 1.1 left a reply in 10 echoing the message
_SENTENCE_END_TEXTS = (".", "!", "?", "。", "！", "？", "…", "...", "!!", "！！", ".\n", "!\n",
                       "?\n", "。\n", "！\n", "？\n", ".\n\n", "!\n\n", "?\n\n", "。\n\n",
                       "！\n\n", "？\n\n", "~", "～", "。”", ".\"")


def grace_tokens(max_tokens: int) -> int:
    """How many tokens before the limit a reply may end early at a sentence end (none for
    limits under 16 tokens: whoever sets those wants every token)."""
    return 0 if max_tokens < 16 else max(6, min(max_tokens // 4, 48))


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
                               flash_attn=False)
        self._seed = seed
        self._replies = 0  # replies sampled so far: each gets its own seed
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
                                                          PENALTY_REPEAT, 0.0, 0.0))
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
               system_prompt: str, mood: str | None = None, hint: bool = True) -> list[int]:
        """The tokens `stream` would evaluate for this turn, without evaluating them (tests,
        benchmark)."""
        stats = ReplyStats()
        max_tokens = self._cap(max_tokens, stats)
        hint_tokens = self._hint_tokens(text, mood, max_tokens) if hint else []
        return self.build(history, text, system_prompt, max_tokens, stats, hint_tokens)

    def stream(self, history: Sequence[Message], text: str, *, max_tokens: int,
               system_prompt: str, temperature: float,
               cancel: CancelToken | None, stop_at_end: bool = True,
               mood: str | None = None, hint: bool = True) -> ReplyStream:
        """A reply to ``text``; the person's turn ends with a hint (their language, the mood
        ``mood`` and the size ``max_tokens`` allows) unless ``hint`` is False."""
        stats = ReplyStats()
        t0 = time.perf_counter()
        max_tokens = self._cap(max_tokens, stats)
        hint_tokens = self._hint_tokens(text, mood, max_tokens) if hint else []
        prompt = self.build(history, text, system_prompt, max_tokens, stats, hint_tokens)
        stats.prompt_tokens = len(prompt)
        last = next((m for m in reversed(history)
                     if m.role == "assistant" and m.content.strip()), None)
        seen = (self._content(last) if last is not None else []) + self._fmt.plain(text)
        return ReplyStream(self._generate(prompt, max_tokens, temperature, cancel, stats, t0,
                                          stop_at_end, seen=seen), stats)

    def prepare(self, history: Sequence[Message], draft: str, *, max_tokens: int,
                system_prompt: str, mood: str | None = None, hint: bool = True,
                cancel: CancelToken | None = None) -> int:
        """Evaluate the prompt of a turn that would send ``draft`` now, up to the end of the
        person's words (and the hint, once ``mood`` is known) but without the template's
        closing tokens: sending the same or a longer draft then evaluates only what differs.
        Returns the tokens evaluated."""
        stats = ReplyStats()
        max_tokens = self._cap(max_tokens, stats)
        hint_tokens = self._hint_tokens(draft, mood, max_tokens) if hint and mood else []
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
                  seen: Sequence[int] = ()) -> Iterator[str]:
        try:
            stats.evaluated_tokens = self.ctx.feed(prompt, cancel)
        except Cancelled:
            stats.stop_reason = "cancelled"
            return
        chain = self._sampler(temperature, seen)
        prior_text, prior_tokens = prior if prior is not None else ("", [])
        decoder = self._decoder(prior_tokens)
        generated: list[int] = []
        starts: list[int] = []  # where each generated token's text starts in ``text``
        text = ""
        shown = 0  # characters of ``text`` already yielded (always at a token's start)
        bans: dict[int, set[int]] = {}  # position -> tokens the guard forbids there
        backtracks = 0
        t_first = 0.0
        window = max_tokens - grace_tokens(max_tokens) if stop_at_end else max_tokens + 1
        vocab = self._model.vocab
        try:
            while True:
                if cancel is not None and cancel.cancelled:
                    stats.stop_reason = "cancelled"
                    break
                n = len(generated)
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
                if window <= n < max_tokens and may_stop_after(prior_text + text,
                                                  raw.decode("utf-8", "ignore")):
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
            if len(text) > shown:
                if not t_first:
                    stats.ttft_ms = (time.perf_counter() - t0) * 1000
                yield text[shown:]
                shown = len(text)
            self._after_reply(stats.stop_reason, generated, cancel)
        finally:
            llama_cpp.llama_sampler_free(chain)
            if generated:
                self._remember(self._reply_tokens, prior_text + text[:shown],
                               prior_tokens + generated)

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
