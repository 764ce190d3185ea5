"""The start of a reply: an opener the model chooses from a closed set, then several sampled
continuations decoded side by side in one batch, one of which is kept.

Decode on a CPU is bound by reading the weights, not by arithmetic, so evaluating three
sequences in one `llama_decode` costs far less than three replies (measured in
docs/replies/README.md). The branches share the evaluated prompt and opener through llama.cpp's
sequence copy; the kept branch becomes the context's sequence 0 and the reply goes on from it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import llama_cpp
import numpy as np
from llama_cpp import _internals

from qwen_aio.engine.native import EvalContext, token_bytes
from qwen_aio.engine.pick import Candidate
from qwen_aio.engine.text import may_stop_after
from qwen_aio.engine.types import CancelToken
from qwen_aio.foundation.errors import Cancelled

CANDIDATES = 3  # continuations sampled side by side (1 when sampling is greedy)
# Drawing among written lines flattens the model's preferences this much: it prefers one line
# so strongly that a conversation would hear it every turn.
LINE_TEMPERATURE = 2.0
FIRST_SENTENCES = 1  # each candidate runs to the end of this many sentences, then one is kept


def choose_opener(ctx: EvalContext, openers: Sequence[tuple[Sequence[int], str]],
                  cancel: CancelToken | None,
                  rng: np.random.Generator | None = None) -> Iterator[tuple[int, frozenset[str]]]:
    """Walk the openers' token trie by the model's logits: at each step the likeliest token
    that keeps some opener possible (with ``rng``, one drawn by the model's probabilities
    among those tokens, so that replies vary as a person's do). Each chosen token is
    evaluated (the cache holds it) and yielded with the tags (tones) of the openers still
    possible, so the caller can show its text, or give up on the walk once the tone it is
    heading for is known."""
    alive = [(list(o), tag) for o, tag in openers if o]
    n = 0
    while alive:
        nexts = np.array(sorted({o[n] for o, _ in alive if len(o) > n}), dtype=np.int32)
        if not len(nexts):
            return
        scores = ctx.logits()[nexts].astype(np.float64)
        if rng is None or len(nexts) == 1:
            token = int(nexts[int(np.argmax(scores))])
        else:
            p = np.exp((scores - scores.max()) / LINE_TEMPERATURE)
            token = int(rng.choice(nexts, p=p / p.sum()))
        alive = [(o, tag) for o, tag in alive if len(o) > n and o[n] == token]
        n += 1
        if cancel is not None and cancel.cancelled:
            raise Cancelled()
        ctx.append([token], cancel)
        yield token, frozenset(tag for _, tag in alive)
        if any(len(o) == n for o, _ in alive):  # an opener is complete (none is another's prefix)
            return


def sample_branches(ctx: EvalContext, model: _internals.LlamaModel,
                    chains: Sequence[llama_cpp.llama_sampler_p], *, budget: int,
                    head_text: str, cancel: CancelToken | None,
                    stop_at: Callable[[str], bool] | None = None) -> list[Candidate]:
    """One candidate per sampler chain, all from the logits of the last evaluated token.

    A candidate stops when the model ends its turn (``done``, reason "end"), after
    `FIRST_SENTENCES` sentences (not done: the reply may go on from it), or at ``budget``
    tokens (``done``, reason "limit"). ``head_text`` is the reply so far (the opener): a
    sentence end is judged on it plus the candidate. The cache keeps every branch: the caller
    adopts one or drops them all.
    """
    vocab = model.vocab
    base = len(ctx.tokens)
    cands = [Candidate(seq=i) for i in range(len(chains))]
    decoded = [0] * len(chains)
    ctx.fork(len(chains))
    sentences = [0] * len(chains)
    pending: list[tuple[int, int]] = [(i, -1) for i in range(len(chains))]  # (cand, logits idx)
    try:
        while pending:
            if cancel is not None and cancel.cancelled:
                raise Cancelled()
            step: list[tuple[int, int, int]] = []
            for i, idx in pending:
                c = cands[i]
                token = llama_cpp.llama_sampler_sample(chains[i], ctx.ptr, idx)
                logits = ctx.logits_at(idx)
                top = float(logits.max())
                c.logprob += float(logits[token]) - top - float(
                    np.log(np.exp(logits - top).sum()))
                if llama_cpp.llama_vocab_is_eog(vocab, token) or llama_cpp.llama_vocab_is_control(
                        vocab, token):
                    c.done, c.stop_reason = True, "end"
                    continue
                piece = token_bytes(model, token).decode("utf-8", "ignore")
                if c.text.strip() and may_stop_after(head_text + c.text, piece):
                    sentences[i] += 1
                    if sentences[i] >= FIRST_SENTENCES or (stop_at and stop_at(c.text)):
                        c.stop_reason = "sentence"
                        continue
                c.tokens.append(token)
                c.text = _decode(model, c.tokens)
                if len(c.tokens) >= budget:
                    c.done, c.stop_reason = True, "limit"
                    continue
                step.append((i, token, base + len(c.tokens) - 1))
            if not step:
                break
            ctx.step_branches([(cands[i].seq, token, pos) for i, token, pos in step])
            for i, _, _ in step:
                decoded[i] = len(cands[i].tokens)
            pending = [(i, k) for k, (i, _, _) in enumerate(step)]
    except BaseException:
        ctx.drop_branches()
        raise
    for c, n in zip(cands, decoded, strict=True):
        c.decoded = n
    return cands


def _decode(model: _internals.LlamaModel, tokens: Sequence[int]) -> str:
    return b"".join(token_bytes(model, t) for t in tokens).decode("utf-8", "replace").rstrip(
        "\ufffd")
