"""The seed stack: the write-up's approach, Hugging Face transformers in FP32 on the CPU.

transformers de-quantizes the same GGUF into FP32 weights; decoding is greedy `generate`, the
mood prompt is the write-up's plain one with `max_new_tokens=10`, stopping at a newline or a
full stop. Needs the optional `bench` extra (torch, transformers, accelerate, gguf).
"""

from __future__ import annotations

import importlib.util
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qwen_aio.bench.common import WRITEUP_MOOD_PROMPT

log = logging.getLogger(__name__)

REQUIRED = ("torch", "transformers", "accelerate", "gguf")
INSTALL_HINT = "pip install 'qwen-all-in-one[bench]' (torch==2.13.0, transformers, gguf)"


def missing_packages() -> list[str]:
    return [name for name in REQUIRED if importlib.util.find_spec(name) is None]


@dataclass
class SeedResult:
    text: str
    ms: float
    ttft_ms: float
    generated: int
    decode_tps: float | None


class _Clock:
    """A generate() streamer that only notes when each step's tokens arrive."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def put(self, value: Any) -> None:
        self.times.append(time.perf_counter())

    def end(self) -> None:
        pass


class SeedRunner:
    def __init__(self, path: Path, *, threads: int) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        t0 = time.perf_counter()
        torch.set_num_threads(threads)
        self._torch = torch
        self.tok = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
        self.model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name,
                                                          dtype=torch.float32)
        self.model.eval()
        self.load_ms = (time.perf_counter() - t0) * 1000
        self.versions = {"torch": torch.__version__,
                         "transformers": __import__("transformers").__version__}

    def _ids(self, messages: list[dict[str, str]]) -> Any:
        out = self.tok.apply_chat_template(messages, add_generation_prompt=True,
                                           return_tensors="pt", return_dict=True)
        return out["input_ids"]

    def mood(self, text: str) -> SeedResult:
        t0 = time.perf_counter()
        ids = self._ids([{"role": "system", "content": WRITEUP_MOOD_PROMPT},
                         {"role": "user", "content": text}])
        with self._torch.inference_mode():
            out = self.model.generate(ids, max_new_tokens=10, do_sample=False,
                                      stop_strings=["\n", "."], tokenizer=self.tok,
                                      pad_token_id=self.tok.eos_token_id)
        new = out[0, ids.shape[1]:]
        label = self.tok.decode(new, skip_special_tokens=True).strip()
        ms = (time.perf_counter() - t0) * 1000
        return SeedResult(label, ms, ms, int(new.shape[0]), None)

    def generate(self, messages: list[dict[str, str]], max_tokens: int) -> SeedResult:
        """Greedy, exactly ``max_tokens`` new tokens (the write-up's limited-output experiment)."""
        t0 = time.perf_counter()
        ids = self._ids(messages)
        clock = _Clock()
        with self._torch.inference_mode():
            out = self.model.generate(ids, max_new_tokens=max_tokens, min_new_tokens=max_tokens,
                                      do_sample=False, streamer=clock,
                                      pad_token_id=self.tok.eos_token_id)
        ms = (time.perf_counter() - t0) * 1000
        n = int(out.shape[1] - ids.shape[1])
        steps = clock.times[1:]  # the first put() is the prompt itself
        ttft = (steps[0] - t0) * 1000 if steps else ms
        tps = (len(steps) - 1) / (steps[-1] - steps[0]) if len(steps) > 1 else None
        return SeedResult(self.tok.decode(out[0, ids.shape[1]:], skip_special_tokens=True), ms,
                          ttft, n, tps)

    def close(self) -> None:
        del self.model
