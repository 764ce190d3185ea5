"""The GBNF grammar that lets the mood pass say exactly one of the two labels, and its check.

`LlamaGrammar.from_string` accepts a broken grammar and llama.cpp crashes later, in generation;
so the grammar is compiled through llama.cpp and tried against the vocabulary at start-up.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable

import llama_cpp
import numpy as np
from llama_cpp import _internals

from qwen_aio.engine.types import LABELS
from qwen_aio.foundation.errors import GrammarInvalid

LABEL_GRAMMAR = 'root ::= "Positive" | "Negative"\n'


class LabelSampler:
    """A llama.cpp sampler chain (optional logit bias, then the grammar) over the label grammar."""

    def __init__(self, model: _internals.LlamaModel, grammar: str = LABEL_GRAMMAR,
                 bias: dict[int, float] | None = None) -> None:
        self._model = model
        self.chain = llama_cpp.llama_sampler_chain_init(
            llama_cpp.llama_sampler_chain_default_params())
        if bias:
            arr = (llama_cpp.llama_logit_bias * len(bias))()
            for i, (tok, b) in enumerate(bias.items()):
                arr[i].token, arr[i].bias = tok, b
            llama_cpp.llama_sampler_chain_add(
                self.chain,
                llama_cpp.llama_sampler_init_logit_bias(model.n_vocab(), len(bias), arr))
        smpl = llama_cpp.llama_sampler_init_grammar(model.vocab, grammar.encode(), b"root")
        if not smpl:
            llama_cpp.llama_sampler_free(self.chain)
            self.chain = None
            raise GrammarInvalid("llama.cpp could not parse it")
        llama_cpp.llama_sampler_chain_add(self.chain, smpl)
        n_vocab = model.n_vocab()
        self._data = np.zeros(n_vocab, dtype=[("id", np.int32), ("logit", np.float32),
                                              ("p", np.float32)])
        self._array = llama_cpp.llama_token_data_array(
            data=self._data.ctypes.data_as(llama_cpp.llama_token_data_p),
            size=n_vocab, selected=-1, sorted=False)

    def reset(self) -> None:
        llama_cpp.llama_sampler_reset(self.chain)

    def allowed(self, logits: np.ndarray,
                candidates: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The tokens the grammar allows next and their (biased) logits.

        ``candidates`` narrows the tokens offered to the grammar (a superset of what it can
        allow at this step); matching all 150k tokens of a Qwen vocabulary costs ~9 ms.
        """
        ids = np.arange(len(logits), dtype=np.int32) if candidates is None else candidates
        n = len(ids)
        self._data["id"][:n] = ids
        self._data["logit"][:n] = logits[ids]
        self._data["p"][:n] = 0.0
        self._array.size = n
        self._array.selected = -1
        self._array.sorted = False
        llama_cpp.llama_sampler_apply(self.chain, ctypes.byref(self._array))
        view = self._data[: self._array.size]
        ok = np.isfinite(view["logit"])
        return view["id"][ok].copy(), view["logit"][ok].copy()

    def accept(self, token: int) -> None:
        llama_cpp.llama_sampler_accept(self.chain, token)

    def close(self) -> None:
        if self.chain is not None:
            llama_cpp.llama_sampler_free(self.chain)
            self.chain = None


def check_label_grammar(sampler: LabelSampler, piece: Callable[[int], str]) -> np.ndarray:
    """Fail fast unless the grammar allows a first token toward each label, and nothing else.

    Returns the tokens allowed first, so the hot path can offer the grammar only those.
    """
    sampler.reset()
    n_vocab = len(sampler._data)
    ids, _ = sampler.allowed(np.zeros(n_vocab, dtype=np.float32))
    if len(ids) == 0:
        raise GrammarInvalid("it allows no token at all")
    pieces = [piece(int(t)) for t in ids]
    for label in LABELS:
        if not any(p and label.startswith(p) for p in pieces):
            raise GrammarInvalid(f"it cannot start the label {label}")
    stray = [p for p in pieces if not any(label.startswith(p) for label in LABELS)]
    if stray:
        raise GrammarInvalid(f"it allows other text, e.g. {stray[0]!r}")
    sampler.reset()
    return ids
