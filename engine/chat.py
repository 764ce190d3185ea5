"""The chat pass: history stays evaluated in its own context; replies stream token by token."""

from __future__ import annotations

import codecs
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence

import llama_cpp
from llama_cpp import _internals

from engine.native import EngineFailure, EvalContext, token_bytes
from engine.prompts import PromptFormat, cut_middle
from engine.types import CancelToken, Message, ReplyStats
from qwen_aio.errors import Cancelled

log = logging.getLogger(__name__)

TRIM_MARGIN = 0.25  # when history must be trimmed, free this share of the window at once


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
        # Reply text -> the exact tokens generated, so the next turn's prompt matches the cache.
        self._reply_tokens: OrderedDict[str, list[int]] = OrderedDict()
        # How many oldest messages the last trim dropped, and which: kept stable across turns.
        self._dropped: tuple[int, tuple[Message, ...]] = (0, ())

    # -- prompt -----------------------------------------------------------------------------------

    def _content(self, message: Message) -> list[int]:
        if message.role == "assistant":
            cached = self._reply_tokens.get(message.content.strip())
            if cached is not None:
                return cached
        return self._fmt.plain(message.content)

    def _prompt(self, system: Message, history: Sequence[Message], text: str,
                user_tokens: list[int]) -> list[int]:
        msgs = [system, *history, Message("user", text)]
        segs = self._fmt.segments(msgs, add_generation_prompt=True)
        contents = [self._content(m) for m in msgs[:-1]] + [user_tokens]
        return self._fmt.tokens(segs, contents)

    def build(self, history: Sequence[Message], text: str, system_prompt: str,
              max_tokens: int, stats: ReplyStats) -> list[int]:
        """The prompt for this turn, trimmed oldest-first (and the message cut) to fit."""
        budget = self.ctx.n_ctx - max_tokens
        system = Message("system", system_prompt)
        user_tokens = self._fmt.plain(text)
        hist = [m for m in history if m.role in ("user", "assistant") and m.content.strip()]
        bare = self._prompt(system, [], text, user_tokens)
        if len(bare) > budget:
            keep = len(user_tokens) - (len(bare) - budget)
            user_tokens, head, tail = cut_middle(user_tokens, keep)
            stats.notices.append(
                f"Your message was too long for the context window: only its first {head} and "
                f"last {tail} tokens were read.")
            return self._note_trim(len(hist), hist, self._prompt(system, [], text, user_tokens),
                                   stats)

        def prompt_with(drop: int) -> list[int]:
            return self._prompt(system, hist[drop:], text, user_tokens)

        drop, dropped_msgs = self._dropped
        if drop and drop <= len(hist) and tuple(hist[:drop]) == dropped_msgs:
            tokens = prompt_with(drop)  # same cut as last turn: the cached prefix stays valid
            if len(tokens) <= budget:
                return self._note_trim(drop, hist, tokens, stats)
        tokens = prompt_with(0)
        if len(tokens) <= budget:
            self._dropped = (0, ())
            return tokens
        target = int(budget * (1 - TRIM_MARGIN))
        drop = 0
        while drop < len(hist):
            drop += 1
            while drop < len(hist) and hist[drop].role != "user":
                drop += 1  # the kept history starts with a user message
            tokens = prompt_with(drop)
            if len(tokens) <= target:
                break
        return self._note_trim(drop, hist, tokens, stats)

    def _note_trim(self, drop: int, hist: list[Message], tokens: list[int],
                   stats: ReplyStats) -> list[int]:
        self._dropped = (drop, tuple(hist[:drop]))
        stats.trimmed_messages = drop
        if drop:
            stats.notices.append(f"The {drop} oldest messages were left out to fit the context "
                                 "window.")
        return tokens

    # -- generation -------------------------------------------------------------------------------

    def _sampler(self, temperature: float) -> llama_cpp.llama_sampler_p:
        chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
        add = llama_cpp.llama_sampler_chain_add
        if temperature <= 0:
            add(chain, llama_cpp.llama_sampler_init_greedy())
            return chain
        add(chain, llama_cpp.llama_sampler_init_penalties(self._model.n_vocab(), 64, 1.1, 0.0, 0.0))
        add(chain, llama_cpp.llama_sampler_init_top_k(40))
        add(chain, llama_cpp.llama_sampler_init_top_p(0.9, 1))
        add(chain, llama_cpp.llama_sampler_init_temp(temperature))
        add(chain, llama_cpp.llama_sampler_init_dist(self._seed))
        return chain

    def stream(self, history: Sequence[Message], text: str, *, max_tokens: int,
               system_prompt: str, temperature: float,
               cancel: CancelToken | None, stop_at_end: bool = True) -> ReplyStream:
        stats = ReplyStats()
        t0 = time.perf_counter()
        if max_tokens > self.ctx.n_ctx // 2:  # leave the prompt at least half of the window
            max_tokens = self.ctx.n_ctx // 2
            stats.notices.append(f"The reply is limited to {max_tokens} tokens by the context "
                                 "size; raise the context size in the settings for longer ones.")
        prompt = self.build(history, text, system_prompt, max_tokens, stats)
        stats.prompt_tokens = len(prompt)
        return ReplyStream(self._generate(prompt, max_tokens, temperature, cancel, stats, t0,
                                          stop_at_end), stats)

    def _generate(self, prompt: list[int], max_tokens: int, temperature: float,
                  cancel: CancelToken | None, stats: ReplyStats, t0: float,
                  stop_at_end: bool = True) -> Iterator[str]:
        try:
            stats.evaluated_tokens = self.ctx.feed(prompt, cancel)
        except Cancelled:
            stats.stop_reason = "cancelled"
            return
        chain = self._sampler(temperature)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        generated: list[int] = []
        text = ""
        t_first = 0.0
        try:
            while True:
                if cancel is not None and cancel.cancelled:
                    stats.stop_reason = "cancelled"
                    break
                token = llama_cpp.llama_sampler_sample(chain, self.ctx.ptr, -1)
                if stop_at_end and llama_cpp.llama_vocab_is_eog(self._model.vocab, token):
                    stats.stop_reason = "end"
                    break
                generated.append(token)
                stats.generated_tokens = len(generated)
                piece = decoder.decode(token_bytes(self._model, token))
                if piece:
                    if not t_first:
                        t_first = time.perf_counter()
                        stats.ttft_ms = (t_first - t0) * 1000
                    text += piece
                    yield piece
                if len(generated) >= max_tokens:
                    stats.stop_reason = "limit"
                    break
                try:
                    self.ctx.append([token], cancel)
                except Cancelled:
                    stats.stop_reason = "cancelled"
                    break
                if len(generated) > 1 and t_first:
                    stats.decode_tps = (len(generated) - 1) / max(
                        time.perf_counter() - t_first, 1e-6)
            tail = decoder.decode(b"", final=True).rstrip("\ufffd")
            if tail:
                text += tail
                yield tail
            self._prefill_next_turn(stats.stop_reason, generated, cancel)
        finally:
            llama_cpp.llama_sampler_free(chain)
            if generated:
                self._remember(text, generated)

    def _prefill_next_turn(self, stop_reason: str, generated: list[int],
                           cancel: CancelToken | None) -> None:
        """Evaluate the end of this reply and the next user header now, while the user reads:
        the next turn then only evaluates its own words."""
        if stop_reason not in ("end", "limit") or not generated or not self._fmt.chatml:
            return
        pending = [generated[-1]] if stop_reason == "limit" else []
        pending += self._fmt.special("<|im_end|>\n<|im_start|>user\n")
        if len(self.ctx.tokens) + len(pending) < self.ctx.n_ctx:
            with contextlib.suppress(Cancelled, EngineFailure):
                self.ctx.append(pending, cancel)

    def _remember(self, text: str, tokens: list[int]) -> None:
        self._reply_tokens[text.strip()] = tokens
        self._reply_tokens.move_to_end(text.strip())
        while len(self._reply_tokens) > 256:
            self._reply_tokens.popitem(last=False)

    def close(self) -> None:
        self.ctx.close()
