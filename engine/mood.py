"""The mood pass: a fixed analyst prefix evaluated once, the message, then a grammar-bound label."""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from collections.abc import Sequence

import llama_cpp
import numpy as np
from llama_cpp import _internals

from qwen_aio.engine.grammar import LabelSampler, check_label_grammar
from qwen_aio.engine.native import EvalContext, token_bytes
from qwen_aio.engine.prompts import MOOD_EXAMPLES as MOOD_EXAMPLES_DEFAULT
from qwen_aio.engine.prompts import PromptFormat, cut_middle, mood_messages
from qwen_aio.engine.text import language_of, normalize
from qwen_aio.engine.types import LABELS, CancelToken, Label, MoodResult
from qwen_aio.foundation.errors import EmptyInput, QwenAioError

log = logging.getLogger(__name__)

MOOD_MAX_MESSAGE_TOKENS = 480  # longer messages are cut (head and tail kept) with a notice
# The person's most recent label corrections join the fixed prefix as examples: at most this
# many (half of each language when both are there), each cut to a few dozen tokens, so the
# prefix, evaluated once per change, stays small.
MAX_CORRECTION_EXAMPLES = 8
CORRECTION_EXAMPLE_TOKENS = 64
MAX_BIAS = 8.0  # the same bound as the setting's
# Preparing evaluates in batches this small, so a keystroke that cancels it keeps what was done.
# Small enough that one batch (~60 ms on 2 cores) fits between two keystrokes of a fast typist:
# with 32 (~200 ms) a backlog of a few dozen tokens was never caught up, every batch was
# abandoned by the next keystroke (`qwen-aio bench`, the 160-token typing row).
PREPARE_STEP = 8


class MoodFailed(QwenAioError):
    """The model gave no label for this message (a fault, not a judgement)."""

    def __init__(self) -> None:
        super().__init__("The mood of this message could not be read. Try again or rephrase "
                         "it; if it keeps happening, please report it with the log.")


class MoodCache:
    """A bounded LRU of results keyed by normalized text."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._items: OrderedDict[str, tuple[Label, float]] = OrderedDict()

    def get(self, key: str) -> tuple[Label, float] | None:
        hit = self._items.get(key)
        if hit is not None:
            self._items.move_to_end(key)
        return hit

    def put(self, key: str, label: Label, confidence: float) -> None:
        self._items[key] = (label, confidence)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


class MoodPass:
    """Owns its own context, so the chat pass never evicts the evaluated analyst prefix."""

    def __init__(self, model: _internals.LlamaModel, fmt: PromptFormat, *, threads: int,
                 bias: float = 0.0, cache_size: int = 1024, system: str | None = None,
                 examples: Sequence[tuple[str, str]] | None = None) -> None:
        self._model = model
        self._fmt = fmt
        self._system = system
        self._examples = examples
        # Corrections: normalized text -> the person's label, and the examples in the prefix.
        self.overrides: dict[str, Label] = {}
        self.correction_examples: tuple[tuple[str, Label], ...] = ()
        self.prefix_builds = 0  # how often corrections changed the prefix (tests count it)
        self._build_prefix()
        base = len(self.prefix)
        label_tokens = [fmt.plain(label) for label in LABELS]
        self.max_tokens = max(len(t) for t in label_tokens) + 1  # +1: the grammar's end
        room = MAX_CORRECTION_EXAMPLES * (CORRECTION_EXAMPLE_TOKENS + 16)  # + template tokens
        n_ctx = base + room + MOOD_MAX_MESSAGE_TOKENS + len(self.suffix) + self.max_tokens
        self.ctx = EvalContext(model, n_ctx=_round_up(n_ctx, 256), threads=threads, name="mood")
        self.budget = self.ctx.n_ctx - base - room - len(self.suffix) - self.max_tokens
        self._first = {label: toks[0] for label, toks in zip(LABELS, label_tokens, strict=True)}
        self.bias = bias = safe_bias(bias)
        self.sampler = self._make_sampler(bias)
        self._first_step = check_label_grammar(self.sampler, self._piece)
        self.cache = MoodCache(cache_size)

    def _build_prefix(self) -> None:
        examples = list(MOOD_EXAMPLES_DEFAULT if self._examples is None else self._examples)
        examples += self.correction_examples
        messages = mood_messages(self._system, examples)
        self.prefix, self.suffix = self._fmt.split_at(messages, slot=len(messages) - 1)

    def set_corrections(self, pairs: Sequence[tuple[str, str]]) -> bool:
        """Use the person's corrections (text, label), oldest first: the same text gets their
        label from now on, and the most recent ones become examples in the prefix, which is
        evaluated again now, once. Returns whether the prefix changed."""
        overrides: dict[str, Label] = {}
        for text, label in pairs:
            key = normalize(text)
            if key and label in LABELS:
                overrides[key] = label  # type: ignore[assignment]
        self.overrides = overrides
        examples = self._pick_examples(pairs)
        if examples == self.correction_examples:
            return False
        self.correction_examples = examples
        self._build_prefix()
        self.cache.clear()  # labels decided under the old prefix
        self.prefix_builds += 1
        self.ctx.feed(self.prefix)
        log.info("Mood prefix rebuilt with %d corrections: %d tokens", len(examples),
                 len(self.prefix))
        return True

    def _pick_examples(self, pairs: Sequence[tuple[str, str]]) -> tuple[tuple[str, Label], ...]:
        """The most recent corrections, both languages represented, each cut short."""
        seen: set[str] = set()
        recent: list[tuple[int, str, Label]] = []
        for i in range(len(pairs) - 1, -1, -1):
            text, label = pairs[i]
            key = normalize(text)
            if key and label in LABELS and key not in seen:
                seen.add(key)
                recent.append((i, text, label))  # type: ignore[arg-type]
        half = MAX_CORRECTION_EXAMPLES // 2
        chosen: list[tuple[int, str, Label]] = []
        per_lang: dict[str, int] = {}
        for item in recent:  # up to half per language first...
            lang = language_of(item[1]) or ""
            if per_lang.get(lang, 0) < half:
                per_lang[lang] = per_lang.get(lang, 0) + 1
                chosen.append(item)
            if len(chosen) == MAX_CORRECTION_EXAMPLES:
                break
        for item in recent:  # ...then the most recent of any language
            if len(chosen) == MAX_CORRECTION_EXAMPLES:
                break
            if item not in chosen:
                chosen.append(item)
        chosen.sort()  # oldest first: the newest sits next to the message
        return tuple((self._short(text), label) for _, text, label in chosen)

    def _short(self, text: str) -> str:
        tokens = self._fmt.plain(" ".join(text.split()))
        if len(tokens) <= CORRECTION_EXAMPLE_TOKENS:
            return " ".join(text.split())
        kept, head, _ = cut_middle(tokens, CORRECTION_EXAMPLE_TOKENS)

        def words(toks: list[int]) -> str:
            return b"".join(token_bytes(self._model, t) for t in toks).decode("utf-8", "ignore")

        return f"{words(kept[:head]).rstrip()} … {words(kept[head:]).lstrip()}"

    def warm(self) -> None:
        """Evaluate the fixed prefix once, at start: every message reuses it."""
        self.ctx.feed(self.prefix)
        log.info("Mood prefix evaluated once: %d tokens", len(self.prefix))

    def _make_sampler(self, bias: float) -> LabelSampler:
        table = {}
        if bias:
            table = {self._first["Positive"]: bias / 2, self._first["Negative"]: -bias / 2}
        return LabelSampler(self._model, bias=table)

    def set_bias(self, bias: float) -> None:
        """Calibrate the decision: positive values favour Positive. Clears the cache."""
        bias = safe_bias(bias)
        if bias != self.bias:
            self.sampler.close()
            self.sampler = self._make_sampler(bias)
            self.bias = bias
            self.cache.clear()

    def _piece(self, token: int) -> str:
        return token_bytes(self._model, token).decode("utf-8", "replace")

    def label(self, text: str, cancel: CancelToken | None = None) -> MoodResult:
        t0 = time.perf_counter()
        key = normalize(text)
        if not key:
            raise EmptyInput()
        corrected = self.overrides.get(key)
        if corrected is not None:
            return MoodResult(text, corrected, 1.0, (time.perf_counter() - t0) * 1000, True,
                              corrected=True)
        hit = self.cache.get(key)
        if hit is not None:
            return MoodResult(text, hit[0], hit[1], (time.perf_counter() - t0) * 1000, True)
        message, notice = self._message(text)
        before = self.ctx.evaluated_total
        self.ctx.feed(self.prefix + message + self.suffix, cancel)
        label, confidence = self._decode(cancel)
        evaluated = self.ctx.evaluated_total - before
        self.cache.put(key, label, confidence)
        latency = (time.perf_counter() - t0) * 1000
        return MoodResult(text, label, confidence, latency, False, evaluated, notice)

    def _message(self, text: str) -> tuple[list[int], str | None]:
        """The message's tokens as the pass reads them (a long one cut), and a notice if cut."""
        message = self._fmt.plain(text)
        if len(message) <= self.budget:
            return message, None
        message, head, tail = cut_middle(message, self.budget)
        return message, (f"The message is long: its mood was judged from its first {head} "
                         f"and last {tail} tokens.")

    def prepare(self, text: str, cancel: CancelToken | None = None) -> int:
        """Evaluate the prefix and ``text`` without the closing tokens, so that labelling it
        (or a longer text that starts the same) later evaluates only what follows. Returns the
        tokens evaluated; nothing is needed for a text already labelled or corrected."""
        key = normalize(text)
        if not key or key in self.overrides or self.cache.get(key) is not None:
            return 0
        message, _ = self._message(text)
        return self.ctx.feed(self.prefix + message, cancel, step=PREPARE_STEP)

    def rewind(self) -> None:
        """Forget every label and the last message: the context keeps only the prefix."""
        self.cache.clear()
        self.ctx.rewind(self.prefix)

    def _decode(self, cancel: CancelToken | None) -> tuple[Label, float]:
        """Greedy decoding under the grammar; confidence comes from the first (deciding) step."""
        self.sampler.reset()
        out = ""
        confidence = 1.0
        for step in range(self.max_tokens):
            ids, logits = self.sampler.allowed(
                self.ctx.logits(), self._first_step if step == 0 else None)
            if len(ids) == 0:
                break
            best = int(ids[int(np.argmax(logits))])
            if llama_cpp.llama_vocab_is_eog(self._model.vocab, best):
                break
            piece = self._piece(best)
            if step == 0:
                confidence = self._confidence(ids, logits, piece)
            out += piece
            self.sampler.accept(best)
            if out in LABELS:
                break
            self.ctx.append([best], cancel)
        if out not in LABELS:
            # The step limit can end a label spelled in pieces ("Posit" + "ive", found by the
            # fuzz tests on prompt injections): the grammar allows only the two labels, so
            # the pieces so far decide which one it is.
            matches = [lab for lab in LABELS if out and lab.startswith(out)]
            if len(matches) != 1:  # cannot happen with a valid grammar: never guess a label
                log.error("The mood grammar produced %r", out)
                raise MoodFailed()
            log.debug("Mood label completed from %r", out)
            out = matches[0]
        return out, confidence  # type: ignore[return-value]

    def _confidence(self, ids: np.ndarray, logits: np.ndarray, chosen_piece: str) -> float:
        """Probability mass of the chosen label among the tokens the grammar allows."""
        m = float(np.max(logits))
        weights = np.exp(logits - m)
        chosen = next(lab for lab in LABELS if lab.startswith(chosen_piece))
        mass = sum(float(w) for t, w in zip(ids, weights, strict=True)
                   if chosen.startswith(self._piece(int(t))))
        total = float(np.sum(weights))
        value = mass / total if total > 0 else 1.0
        return 0.5 if math.isnan(value) else min(1.0, max(0.0, value))

    def close(self) -> None:
        self.sampler.close()
        self.ctx.close()


def safe_bias(bias: float) -> float:
    """A bias the grammar survives: finite and within a few logits (a NaN or huge bias makes
    every allowed token -inf, and the label could not be completed)."""
    if not math.isfinite(bias):
        log.warning("Ignoring a mood bias of %r", bias)
        return 0.0
    return max(-MAX_BIAS, min(bias, MAX_BIAS))


def _round_up(n: int, step: int) -> int:
    return (n + step - 1) // step * step
