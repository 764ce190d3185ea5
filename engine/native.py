"""The thin layer over llama.cpp: load weights once, and contexts that evaluate only what changed.

One `LlamaModel` holds the weights; each pass (mood, chat) owns an `EvalContext` on it, so each
pass keeps its own KV cache and alternating passes never evict each other's prefix.
"""

from __future__ import annotations

import ctypes
import logging
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import llama_cpp
import numpy as np
import numpy.typing as npt
import psutil
from llama_cpp import _internals

from qwen_aio.engine.types import CancelToken
from qwen_aio.foundation.errors import Cancelled, ModelLoadFailed, QwenAioError

log = logging.getLogger(__name__)

_native_log = logging.getLogger("llama.cpp")


@llama_cpp.llama_log_callback
def _route_native_log(level: int, text: bytes, _data: ctypes.c_void_p) -> None:
    """llama.cpp talks a lot on stderr; its words belong in our log, at debug level."""
    if _native_log.isEnabledFor(logging.DEBUG):
        _native_log.debug("%s", text.decode("utf-8", "replace").rstrip())


llama_cpp.llama_log_set(_route_native_log, ctypes.c_void_p(0))

_backend_ready = False
_NO_ABORT = ctypes.cast(None, llama_cpp.ggml_abort_callback)  # a NULL callback: none at all
DECODE_ABORTED = 2


class EngineFailure(QwenAioError):
    """llama.cpp reported an error while evaluating (out of memory, context full)."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"The model failed while working ({detail}). Try a shorter message "
                         "or a smaller context size in the settings.")


def default_threads() -> int:
    """Physical cores: llama-cpp-python's own default halves logical CPUs (1 on a 2-core laptop)."""
    return psutil.cpu_count(logical=False) or os.cpu_count() or 1


def load_model(path: Path) -> _internals.LlamaModel:
    global _backend_ready
    if not _backend_ready:
        llama_cpp.llama_backend_init()
        _backend_ready = True
    params = llama_cpp.llama_model_default_params()
    params.use_mmap = True
    try:
        return _internals.LlamaModel(path_model=str(path), params=params, verbose=False)
    except ValueError as exc:
        raise ModelLoadFailed(str(path), "llama.cpp refused the file") from exc


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class EvalContext:
    """A llama.cpp context that remembers which tokens its KV cache holds."""

    def __init__(self, model: _internals.LlamaModel, *, n_ctx: int, threads: int,
                 n_batch: int = 512, name: str = "ctx", flash_attn: bool | None = None,
                 n_seq_max: int = 1) -> None:
        self.name = name
        self._model = model
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = n_ctx
        params.n_batch = n_batch
        params.n_ubatch = n_batch
        # Extra sequences are branches of sequence 0 (several candidate replies decoded in
        # one batch): with a unified KV cache they share the whole window and copying the
        # prompt to a branch copies no data.
        params.n_seq_max = n_seq_max
        if n_seq_max > 1:
            params.kv_unified = True
        self.n_seq_max = n_seq_max
        params.n_threads = threads
        params.n_threads_batch = threads
        params.flash_attn_type = (llama_cpp.LLAMA_FLASH_ATTN_TYPE_AUTO if flash_attn is None
                                  else llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED if flash_attn
                                  else llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED)
        params.no_perf = True
        try:
            self._ctx = _internals.LlamaContext(model=model, params=params, verbose=False)
        except ValueError as exc:
            raise ModelLoadFailed(model.path_model, f"could not create a context of {n_ctx} "
                                  "tokens (not enough memory?)") from exc
        self._batch = _internals.LlamaBatch(n_tokens=n_batch, embd=0, n_seq_max=1, verbose=False)
        self.n_ctx = llama_cpp.llama_n_ctx(self._ctx.ctx)
        self.n_batch = n_batch
        self.n_vocab = model.n_vocab()
        self.tokens: list[int] = []  # exactly what the KV cache holds, position by position
        self._logits_at = -1  # len(tokens) when the logits buffer holds the last token's logits
        self.evaluated_total = 0  # every token ever decoded here: tests count reuse with it
        self._cancel: CancelToken | None = None
        # told (tokens, seconds) after each evaluation: see engine.threads.ThreadGovernor
        self.on_decode: Callable[[int, float], None] | None = None
        # ggml calls the abort callback after every graph node, each call taking the GIL: it
        # is set only while a prompt (several tokens) is evaluated; single-token steps, which
        # take milliseconds, are checked for cancel between them instead.
        self._abort_cb = llama_cpp.ggml_abort_callback(self._should_abort)  # keep a reference

    @property
    def ptr(self) -> llama_cpp.llama_context_p:
        return self._ctx.ctx

    def _should_abort(self, _data: ctypes.c_void_p) -> bool:
        return self._cancel is not None and self._cancel.cancelled

    def set_threads(self, threads: int) -> None:
        self._ctx.set_n_threads(threads, threads)

    def _truncate(self, n: int) -> None:
        """Keep the first ``n`` positions. The cache is cleared after them even when the list
        is no longer (as llama-cpp-python's `Llama.eval` does): whatever a failure may have
        left there, the next decode lands on free positions."""
        llama_cpp.llama_memory_seq_rm(self._ctx.memory, 0, n, -1)
        if n < len(self.tokens):
            del self.tokens[n:]
            self._logits_at = -1

    def cache_positions(self) -> int:
        """How many positions the KV cache holds (llama.cpp's view; tests compare it with
        ``len(tokens)``, which must always agree)."""
        return int(llama_cpp.llama_memory_seq_pos_max(self._ctx.memory, 0)) + 1

    def consistent(self) -> bool:
        return self.cache_positions() == len(self.tokens)

    def feed(self, tokens: Sequence[int], cancel: CancelToken | None = None,
             step: int | None = None) -> int:
        """Make the cache hold ``tokens``, evaluating only the part after the common prefix.

        Returns how many tokens were evaluated; the last token's logits are then available.
        Raises Cancelled (the cache keeps what was finished) if ``cancel`` is set meanwhile.
        """
        if not tokens:
            raise ValueError("nothing to evaluate")
        if len(tokens) > self.n_ctx:
            raise EngineFailure(f"{len(tokens)} tokens do not fit a context of {self.n_ctx}")
        keep = common_prefix(self.tokens, tokens)
        if keep == len(tokens) == len(self.tokens) == self._logits_at:
            return 0  # the cache and the last token's logits are exactly what is asked for
        if keep == len(tokens):
            keep -= 1  # the logits of the last token are needed, so evaluate it again
        self._truncate(keep)
        return self.append(tokens[keep:], cancel, step)

    def rewind(self, tokens: Sequence[int]) -> None:
        """Keep only the part of the cache that ``tokens`` starts with."""
        self._truncate(common_prefix(self.tokens, tokens))

    def append(self, tokens: Sequence[int], cancel: CancelToken | None = None,
               step: int | None = None) -> int:
        """Evaluate ``tokens`` after what the cache holds; returns how many were evaluated.

        ``step`` evaluates in smaller batches, so a cancel keeps the batches already done
        (preparing while the person types is cancelled often and must still make progress).
        """
        todo = list(tokens)
        step = min(step or self.n_batch, self.n_batch)
        if len(self.tokens) + len(todo) > self.n_ctx:
            raise EngineFailure(f"{len(self.tokens) + len(todo)} tokens do not fit a context "
                                f"of {self.n_ctx}")
        self._cancel = cancel
        try:
            for start in range(0, len(todo), step):
                if cancel is not None and cancel.cancelled:
                    raise Cancelled()
                chunk = todo[start:start + step]
                self._batch.set_batch(chunk, n_past=len(self.tokens), logits_all=False)
                t0 = time.perf_counter()
                rc = self._decode(watch=len(chunk) > 1)
                if rc == DECODE_ABORTED:  # drop any half-finished positions
                    llama_cpp.llama_memory_seq_rm(self._ctx.memory, 0, len(self.tokens), -1)
                    raise Cancelled()
                if rc != 0:
                    llama_cpp.llama_memory_seq_rm(self._ctx.memory, 0, len(self.tokens), -1)
                    raise EngineFailure(f"llama_decode returned {rc}")
                # Record what the cache now holds before anything else can raise.
                self.tokens.extend(chunk)
                self.evaluated_total += len(chunk)
                self._logits_at = len(self.tokens)
                if self.on_decode is not None:
                    self.on_decode(len(chunk), time.perf_counter() - t0)
        finally:
            self._cancel = None
        return len(todo)

    def _decode(self, *, watch: bool) -> int:
        """llama_decode of the batch; with ``watch`` the cancel flag can stop it midway."""
        if not watch:
            return int(llama_cpp.llama_decode(self._ctx.ctx, self._batch.batch))
        llama_cpp.llama_set_abort_callback(self._ctx.ctx, self._abort_cb, None)
        try:
            return int(llama_cpp.llama_decode(self._ctx.ctx, self._batch.batch))
        finally:
            llama_cpp.llama_set_abort_callback(self._ctx.ctx, _NO_ABORT, None)

    # -- branches: several continuations of sequence 0, decoded together --------------------------

    def fork(self, branches: int) -> None:
        """Sequences 1..branches-1 become copies of sequence 0 (what ``tokens`` holds)."""
        if branches > self.n_seq_max:
            raise ValueError(f"{branches} branches need a context made with n_seq_max >= "
                             f"{branches}")
        mem = self._ctx.memory
        for seq in range(1, branches):
            llama_cpp.llama_memory_seq_rm(mem, seq, -1, -1)
            llama_cpp.llama_memory_seq_cp(mem, 0, seq, -1, -1)

    def step_branches(self, items: Sequence[tuple[int, int, int]]) -> None:
        """Evaluate one token per branch, ``(seq, token, position)`` each, in one decode; the
        logits of ``items[i]`` are then at output index ``i`` (`llama_sampler_sample`'s idx)."""
        batch = self._batch.batch
        for i, (seq, token, pos) in enumerate(items):
            batch.token[i] = token
            batch.pos[i] = pos
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = seq
            batch.logits[i] = True
        batch.n_tokens = len(items)
        t0 = time.perf_counter()
        rc = int(llama_cpp.llama_decode(self._ctx.ctx, batch))
        self._logits_at = -1  # the buffer now holds the branches' logits
        if rc != 0:
            self.drop_branches()
            raise EngineFailure(f"llama_decode returned {rc}")
        self.evaluated_total += len(items)
        if self.on_decode is not None:
            self.on_decode(len(items), time.perf_counter() - t0)

    def adopt(self, seq: int, tokens: Sequence[int]) -> None:
        """Branch ``seq``'s evaluated ``tokens`` (after ``self.tokens``) become sequence 0's;
        every branch is dropped."""
        if seq != 0 and tokens:
            mem = self._ctx.memory
            base = len(self.tokens)
            llama_cpp.llama_memory_seq_rm(mem, 0, base, -1)
            llama_cpp.llama_memory_seq_cp(mem, seq, 0, base, base + len(tokens))
        self.tokens.extend(tokens)
        self.drop_branches()

    def drop_branches(self) -> None:
        """Sequence 0 alone again, holding exactly ``tokens``."""
        mem = self._ctx.memory
        for seq in range(1, self.n_seq_max):
            llama_cpp.llama_memory_seq_rm(mem, seq, -1, -1)
        llama_cpp.llama_memory_seq_rm(mem, 0, len(self.tokens), -1)
        self._logits_at = -1

    def logits(self) -> npt.NDArray[np.float32]:
        """The logits after the last evaluated token (a view: copy before the next feed)."""
        return self.logits_at(-1)

    def logits_at(self, idx: int) -> npt.NDArray[np.float32]:
        """The logits of the last decode's output ``idx`` (-1: its last one), as a view."""
        ptr = llama_cpp.llama_get_logits_ith(self._ctx.ctx, idx)
        return np.ctypeslib.as_array(ptr, shape=(self.n_vocab,))

    def bias_logits(self, ids: npt.NDArray[np.int32], amount: float) -> None:
        """Add ``amount`` to the last token's logits for ``ids`` before the next sample.

        The buffer then no longer holds the model's own logits, so `feed` will not reuse it.
        """
        self.logits()[ids] += amount
        self._logits_at = -1

    def close(self) -> None:
        self._batch.close()
        self._ctx.close()


def token_bytes(model: _internals.LlamaModel, token: int) -> bytes:
    """The exact bytes of one token (llama-cpp-python's helper pads to 32 bytes with NULs)."""
    size = 64
    while True:
        buf = ctypes.create_string_buffer(size)
        n = llama_cpp.llama_token_to_piece(model.vocab, token, buf, size, 0, False)
        if n >= 0:
            return buf.raw[:n]
        size = -n
