"""The naive baseline: plain llama-cpp-python `Llama`, the whole prompt evaluated on every call.

Kept honest: the same GGUF, threads, batch size, flash attention, grammar, prompt text and token
limits as the app; only the reuse of evaluated prefixes is missing (`reset()` before each call,
which is what alternating mood and chat prompts on one `Llama` amounts to).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from qwen_aio.engine.grammar import LABEL_GRAMMAR
from qwen_aio.engine.prompts import PromptFormat
from qwen_aio.engine.types import Message

log = logging.getLogger(__name__)


@dataclass
class GenResult:
    text: str
    ms: float  # the whole call
    ttft_ms: float  # to the first generated token
    prompt_tokens: int
    generated: int
    decode_tps: float | None  # generated tokens per second after the first


def render(fmt: PromptFormat, messages: Sequence[Message]) -> str:
    """The prompt as one text, rendered with the app's own template (so the tokens match)."""
    segs = fmt.segments(messages, add_generation_prompt=True)
    return "".join(s if isinstance(s, str) else messages[s].content for s in segs)


class NaiveRunner:
    def __init__(self, path: Path, *, threads: int, n_ctx: int = 2048) -> None:
        from llama_cpp import Llama, LlamaGrammar

        t0 = time.perf_counter()
        self.llm = Llama(model_path=str(path), n_threads=threads, n_threads_batch=threads,
                         n_ctx=n_ctx, n_batch=512, n_ubatch=512, flash_attn=True,
                         verbose=False)
        self.grammar = LlamaGrammar.from_string(LABEL_GRAMMAR, verbose=False)
        self.load_ms = (time.perf_counter() - t0) * 1000
        self.evaluated_total = 0

    def _tokens(self, prompt: str) -> list[int]:
        return self.llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)

    def mood(self, prompt: str, max_tokens: int) -> GenResult:
        """One grammar-bound label from the full prompt, as a first attempt would do it."""
        t0 = time.perf_counter()
        self.llm.reset()
        out = self.llm.create_completion(prompt, max_tokens=max_tokens, temperature=0.0,
                                         grammar=self.grammar)
        ms = (time.perf_counter() - t0) * 1000
        usage = out["usage"]
        self.evaluated_total += usage["prompt_tokens"] + max(0, usage["completion_tokens"] - 1)
        return GenResult(out["choices"][0]["text"], ms, ms, usage["prompt_tokens"],
                         usage["completion_tokens"], None)

    def generate(self, prompt: str, max_tokens: int, *, first_only: bool = False,
                 fixed: bool = False) -> GenResult:
        """Greedy generation from the full prompt, stopping at end-of-generation or the limit."""
        t0 = time.perf_counter()
        tokens = self._tokens(prompt)
        self.llm.reset()
        out: list[int] = []
        t_first = t_last = 0.0
        for tok in self.llm.generate(tokens, top_k=1, top_p=1.0, temp=0.0, reset=True):
            now = time.perf_counter()
            if not fixed and (self.llm.token_eos() == tok or _is_eog(self.llm, tok)):
                break
            out.append(tok)
            if not t_first:
                t_first = now
            t_last = now
            if first_only or len(out) >= max_tokens:
                break
        ms = (time.perf_counter() - t0) * 1000
        self.evaluated_total += len(tokens) + max(0, len(out) - 1)
        tps = (len(out) - 1) / (t_last - t_first) if len(out) > 1 and t_last > t_first else None
        text = self.llm.detokenize(out).decode("utf-8", "replace")
        return GenResult(text, ms, (t_first - t0) * 1000 if t_first else ms, len(tokens),
                         len(out), tps)

    def close(self) -> None:
        self.llm.close()


def _is_eog(llm: object, tok: int) -> bool:
    import llama_cpp

    return bool(llama_cpp.llama_vocab_is_eog(llm._model.vocab, tok))  # type: ignore[attr-defined]
