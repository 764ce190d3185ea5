"""Running tasks: each task's fixed prefix lives in a small context of its own, evaluated once.

A context is made on a task's first use and kept while the task repeats; at most
``max_contexts`` are kept (the least recently used is freed), so a person who uses every task
does not pay a context per task forever. The mood and chat contexts are never touched.
"""

from __future__ import annotations

import codecs
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import llama_cpp
import numpy as np
from llama_cpp import _internals

from qwen_aio.engine.grammar import LabelSampler
from qwen_aio.engine.native import EvalContext, token_bytes
from qwen_aio.engine.prompts import PromptFormat, cut_middle
from qwen_aio.engine.tasks import (  # TaskStream, parse_list: once here, still importable
    TASK_MAX_INPUT_TOKENS,
    Task,
    TaskGrammarInvalid,
    TaskStream,
    parse_list,
)
from qwen_aio.engine.text import may_stop_after
from qwen_aio.engine.types import CancelToken, Message, TaskResult
from qwen_aio.foundation.errors import Cancelled, GrammarInvalid

log = logging.getLogger(__name__)

__all__ = ["MAX_TASK_CONTEXTS", "TASK_MAX_INPUT_TOKENS", "TaskGrammarInvalid", "TaskPass",
           "TaskStream", "check_grammar", "kv_bytes_per_token", "parse_list"]

MAX_TASK_CONTEXTS = 4  # task contexts kept at once, at most...
# ...and at most this much KV cache in all: Qwen2.5-0.5B (grouped-query attention) takes
# 12 KB a token, four contexts of 1,280 tokens ~60 MB; Qwen1.5-0.5B takes 96 KB a token,
# ~120 MB a context, so two are kept.
TASK_KV_BUDGET_BYTES = 256 * 1024 * 1024


def kv_bytes_per_token(model: _internals.LlamaModel) -> int:
    """What one token of context costs in KV cache (keys and values, f16, every layer)."""
    m = model.model
    layers = llama_cpp.llama_model_n_layer(m)
    heads, kv_heads = llama_cpp.llama_model_n_head(m), llama_cpp.llama_model_n_head_kv(m)
    embd = llama_cpp.llama_model_n_embd(m)
    if heads <= 0 or layers <= 0:
        return 0
    return 2 * 2 * layers * kv_heads * (embd // heads)


def check_grammar(model: _internals.LlamaModel, grammar: str) -> str | None:
    """None when llama.cpp compiles ``grammar`` and it allows a first token; else why not.

    A grammar llama.cpp cannot parse would crash generation later, so every one is tried here.
    """
    try:
        sampler = LabelSampler(model, grammar=grammar)
    except GrammarInvalid:
        return "llama.cpp could not parse it"
    try:
        ids, _ = sampler.allowed(np.zeros(model.n_vocab(), dtype=np.float32))
        if len(ids) == 0:
            return "it allows no output at all"
        return None
    finally:
        sampler.close()


@dataclass
class _Slot:
    """One task variant's context: its fixed prefix and suffix, and what it may hold."""

    prefix: list[int]
    suffix: list[int]
    ctx: EvalContext
    budget: int  # input tokens that fit; longer inputs are cut
    builds: int = 0  # how often the prefix was evaluated (tests count it)


class TaskPass:
    def __init__(self, model: _internals.LlamaModel, fmt: PromptFormat, *, threads: int,
                 max_contexts: int = MAX_TASK_CONTEXTS,
                 max_input_tokens: int = TASK_MAX_INPUT_TOKENS) -> None:
        self._model = model
        self._fmt = fmt
        self.threads = threads
        self.max_contexts = max(1, max_contexts)
        self.max_input_tokens = max_input_tokens
        self._slots: OrderedDict[tuple[str, str, Prompt_key], _Slot] = OrderedDict()
        self.prefix_evaluations = 0  # every prefix evaluation, in any context (tests)
        # the engine's thread governor, told of every evaluation (new contexts get it too)
        self.on_decode: Callable[[int, float], None] | None = None

    # -- contexts ---------------------------------------------------------------------------------

    def _messages(self, task: Task, variant: str) -> list[Message]:
        prompt = task.prompt_for(variant)
        msgs = [Message("system", prompt.system)]
        for given, answer in prompt.examples:
            msgs += [Message("user", given), Message("assistant", answer)]
        msgs.append(Message("user", ""))
        return msgs

    def slot(self, task: Task, variant: str) -> _Slot:
        """The context for this task variant, made and its prefix evaluated on first use."""
        prompt = task.prompt_for(variant)
        key = (task.id, variant, (prompt.system, prompt.examples))
        found = self._slots.get(key)
        if found is not None:
            self._slots.move_to_end(key)
            return found
        messages = self._messages(task, variant)
        prefix, suffix = self._fmt.split_at(messages, slot=len(messages) - 1)
        budget = self.max_input_tokens
        n_ctx = _round_up(len(prefix) + budget + len(suffix) + task.limit(budget) + 8, 256)
        keep = self.max_contexts
        if (per_token := kv_bytes_per_token(self._model)) > 0:
            keep = max(1, min(keep, TASK_KV_BUDGET_BYTES // (per_token * n_ctx)))
        while len(self._slots) >= keep:
            old_key, old = self._slots.popitem(last=False)
            log.debug("Task context %s:%s freed", old_key[0], old_key[1])
            old.ctx.close()
        ctx = EvalContext(self._model, n_ctx=n_ctx, threads=self.threads,
                          name=f"task:{task.id}:{variant}")
        ctx.on_decode = self.on_decode
        slot = _Slot(prefix, suffix, ctx, budget)
        self._slots[key] = slot
        return slot

    def warm(self, task: Task, variant: str, cancel: CancelToken | None = None) -> int:
        """Evaluate the task's fixed prefix now (e.g. when the person picks the task)."""
        slot = self.slot(task, variant)
        return self._feed_prefix(slot, cancel)

    def _feed_prefix(self, slot: _Slot, cancel: CancelToken | None) -> int:
        done = slot.ctx.feed(slot.prefix, cancel)
        if done >= len(slot.prefix) - 1 and done:
            slot.builds += 1
            self.prefix_evaluations += 1
        return done

    def rewind(self) -> None:
        """Every task context keeps only its fixed prefix (benchmarks: each input new)."""
        for slot in self._slots.values():
            slot.ctx.rewind(slot.prefix)

    def set_threads(self, threads: int) -> None:
        self.threads = threads
        for slot in self._slots.values():
            slot.ctx.set_threads(threads)

    def set_on_decode(self, callback: Callable[[int, float], None] | None) -> None:
        self.on_decode = callback
        for slot in self._slots.values():
            slot.ctx.on_decode = callback

    def contexts(self) -> list[tuple[str, str, int]]:
        """(task id, variant, n_ctx) of each live context, oldest first (tests, benchmark)."""
        return [(k[0], k[1], s.ctx.n_ctx) for k, s in self._slots.items()]

    def prefix_builds(self, task: Task, variant: str) -> int:
        prompt = task.prompt_for(variant)
        slot = self._slots.get((task.id, variant, (prompt.system, prompt.examples)))
        return slot.builds if slot is not None else 0

    def prefix_tokens(self, task: Task, variant: str) -> int:
        return len(self.slot(task, variant).prefix)

    def prompt(self, task: Task, variant: str, text: str) -> tuple[list[int], list[str]]:
        """The whole prompt for ``text`` (cut to fit), and notices."""
        slot = self.slot(task, variant)
        tokens, notices = self._input(slot, text)
        return slot.prefix + tokens + slot.suffix, notices

    def _input(self, slot: _Slot, text: str) -> tuple[list[int], list[str]]:
        tokens = self._fmt.plain(text)
        if len(tokens) <= slot.budget:
            return tokens, []
        tokens, head, tail = cut_middle(tokens, slot.budget)
        return tokens, [f"The text is long: only its first {head} and last {tail} tokens "
                        "were used."]

    # -- running ----------------------------------------------------------------------------------

    def run(self, task: Task, variant: str, text: str, cancel: CancelToken | None,
            result: TaskResult) -> TaskStream:
        return TaskStream(self._generate(task, variant, text, cancel, result), result)

    def _generate(self, task: Task, variant: str, text: str, cancel: CancelToken | None,
                  result: TaskResult) -> Iterator[str]:
        t0 = time.perf_counter()
        slot = self.slot(task, variant)
        message, notices = self._input(slot, text)
        result.notices += notices
        limit = task.limit(len(message))
        prompt = slot.prefix + message + slot.suffix
        result.prompt_tokens = len(prompt)
        try:
            if slot.ctx.tokens[:len(slot.prefix)] != slot.prefix:
                done = self._feed_prefix(slot, cancel)
                result.evaluated_tokens += done
            result.evaluated_tokens += slot.ctx.feed(prompt, cancel)
        except Cancelled:
            result.stop_reason = "cancelled"
            return
        grammar = LabelSampler(self._model, grammar=task.grammar) if task.grammar else None
        chain = _sampler(self._model, task.temperature)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        vocab = self._model.vocab
        sentences = 0
        counted = 0  # where the last counted sentence ended in ``shown``
        t_first = 0.0
        n_first = 0  # tokens generated when the first piece showed
        shown = ""
        try:
            while True:
                if cancel is not None and cancel.cancelled:
                    result.stop_reason = "cancelled"
                    break
                token = self._pick(chain, slot.ctx, grammar)
                if token is None or llama_cpp.llama_vocab_is_eog(vocab, token) \
                        or llama_cpp.llama_vocab_is_control(vocab, token):
                    result.stop_reason = "end"  # a special token never reaches the person
                    break
                if grammar is not None:
                    grammar.accept(token)
                piece = decoder.decode(token_bytes(self._model, token))
                if task.max_sentences and piece.strip() and shown[counted:].strip() \
                        and may_stop_after(shown, piece):
                    sentences += 1  # the text so far ends a sentence: the piece starts another
                    counted = len(shown)
                    if sentences >= task.max_sentences:
                        result.stop_reason = "end"
                        break
                result.generated_tokens += 1
                now = time.perf_counter()
                if t_first and result.generated_tokens > n_first:  # tokens after the first
                    result.decode_tps = (result.generated_tokens - n_first) / max(
                        now - t_first, 1e-6)
                if piece:
                    if not t_first:
                        t_first, n_first = now, result.generated_tokens
                        result.ttft_ms = (t_first - t0) * 1000
                    shown += piece
                    result.text = shown
                    yield piece
                if result.generated_tokens >= limit:
                    result.stop_reason = "limit"
                    break
                try:
                    slot.ctx.append([token], cancel)
                except Cancelled:
                    result.stop_reason = "cancelled"
                    break
            tail = decoder.decode(b"", final=True).rstrip("\ufffd")
            if tail:
                shown += tail
                result.text = shown
                yield tail
            if not t_first:
                result.ttft_ms = (time.perf_counter() - t0) * 1000
            if task.structured:
                result.items = parse_list(result.text)
        finally:
            if chain is not None:
                llama_cpp.llama_sampler_free(chain)
            if grammar is not None:
                grammar.close()

    def _pick(self, chain: llama_cpp.llama_sampler_p | None, ctx: EvalContext,
              grammar: LabelSampler | None) -> int | None:
        """The next token: the sampler's choice, kept only if the grammar allows it (checking
        one token is cheap); otherwise the best of what the grammar allows (all 150k tokens,
        ~9 ms)."""
        logits = ctx.logits()
        if grammar is None:
            if chain is None:  # greedy: numpy's argmax is faster than a sampler chain
                return int(np.argmax(logits))
            return int(llama_cpp.llama_sampler_sample(chain, ctx.ptr, -1))
        best = int(np.argmax(logits))
        ids, _ = grammar.allowed(logits, np.array([best], dtype=np.int32))
        if len(ids):
            return best
        ids, allowed = grammar.allowed(logits)
        if len(ids) == 0:
            return None
        return int(ids[int(np.argmax(allowed))])

    def close(self) -> None:
        for slot in self._slots.values():
            slot.ctx.close()
        self._slots.clear()


Prompt_key = tuple[str, tuple[tuple[str, str], ...]]


def _sampler(model: _internals.LlamaModel,
             temperature: float) -> llama_cpp.llama_sampler_p | None:
    """Top-k/top-p sampling at ``temperature``; None for greedy decoding."""
    if temperature <= 0:
        return None
    chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
    add = llama_cpp.llama_sampler_chain_add
    add(chain, llama_cpp.llama_sampler_init_top_k(40))
    add(chain, llama_cpp.llama_sampler_init_top_p(0.9, 1))
    add(chain, llama_cpp.llama_sampler_init_temp(temperature))
    add(chain, llama_cpp.llama_sampler_init_dist(1234))
    return chain



def _round_up(n: int, step: int) -> int:
    return (n + step - 1) // step * step
