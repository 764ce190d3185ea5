"""The engine against an OpenAI-compatible inference server instead of llama.cpp in-process.

Same passes, same guarantees: the mood label is exactly Positive or Negative (the server's
constrained decoding, checked at connect: see `backend_probe`), greedy, a few tokens, its
confidence from the first token's logprobs; the fixed analyst prefix is sent as the same
messages every time, so the server's prompt cache (llama.cpp's prefix reuse, vLLM's prefix
caching) keeps it evaluated. Replies stream through the openai client; closing the stream
(cancel) makes the server stop generating. Thread-safe for `mood` (batch labelling keeps
several requests in flight); a reply stream belongs to one thread.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from qwen_aio.engine.backend_probe import (
    Constraint,
    ServerInfo,
    constraint_body,
    detect,
    grammar_body,
    normalize_url,
)
from qwen_aio.engine.prompts import MOOD_EXAMPLES, mood_messages, reply_hint
from qwen_aio.engine.remote_errors import (
    ConstrainedDecodingUnavailable,
    LabelUnreadable,
    RemoteFailed,
    RemoteUnavailable,
    ServerBusy,
    ServerRejected,
    ServerTimeout,
    ServerUnreachable,
    TaskGrammarRejected,
)
from qwen_aio.engine.tasks import (
    BUILTIN_TASKS,
    MOOD_TASK,
    TASK_MAX_INPUT_TOKENS,
    Task,
    TaskRegistry,
    TaskStream,
    parse_list,
)
from qwen_aio.engine.tasks_file import load_task_registry
from qwen_aio.engine.text import language_of, may_stop_after, normalize
from qwen_aio.engine.types import (
    LABELS,
    CancelToken,
    Label,
    Message,
    MoodResult,
    ReplyStats,
    TaskResult,
)
from qwen_aio.foundation.errors import EmptyInput
from qwen_aio.foundation.settings import DEFAULT_CHAT_SYSTEM_PROMPT

try:
    import httpx
    import openai
except ImportError as _exc:  # the `remote` extra is not installed: said when it is asked for
    httpx = openai = None  # type: ignore[assignment]
    _IMPORT_ERROR: ImportError | None = _exc
else:
    _IMPORT_ERROR = None

log = logging.getLogger(__name__)

API_KEY_VARIABLES = ("QWEN_AIO_API_KEY", "OPENAI_API_KEY")
# The labels differ in their first character, so under the constraint the first token decides
# (a label spelled in pieces, "Posit", is completed as the local pass does); and
# llama-cpp-python's server spends ~1 s of Python per generated token on logprobs (it sorts the
# whole vocabulary): one token it is.
MOOD_MAX_TOKENS = 1
TOP_LOGPROBS = 10  # the first token's alternatives: both labels' first pieces are in there
MOOD_MAX_CHARS = 1500  # ~ the local pass's 480 tokens: longer messages are cut, head and tail
MAX_CORRECTION_EXAMPLES = 8  # as the local pass
CORRECTION_EXAMPLE_CHARS = 160
PROBE_TEXT = "I love it, what a wonderful day!"  # the probe forces "Negative" on this
# Same sampling as the local chat pass where the server has the knob (llama.cpp: all of them).
TOP_K, TOP_P, REPEAT_PENALTY = 40, 0.9, 1.3
CHARS_PER_TOKEN = 1.5  # a cautious guess (Chinese is ~1.4 characters a token, English ~4)
# A task's input is cut (head and tail kept) past the local engine's token budget, counted in
# characters: the server's tokenizer is not ours to call.
TASK_MAX_INPUT_CHARS = int(TASK_MAX_INPUT_TOKENS * CHARS_PER_TOKEN)


def api_key_from_env() -> str | None:
    """The server's API key, from the environment only (never stored in the settings)."""
    for name in API_KEY_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


class RemoteEngine:
    """`EngineAPI` against a server; `RemoteEngine.connect(url)` probes it first."""

    thread_safe_mood = True  # `mood` may run in several threads at once (batch labelling)

    def __init__(self, base_url: str, *, api_key: str | None = None, model: str | None = None,
                 timeout: float = 60.0, max_retries: int = 2, mood_bias: float = 0.0,
                 temperature: float = 0.7, n_ctx: int = 2048, mood_prompt: str | None = None,
                 mood_examples: Sequence[tuple[str, str]] | None = None,
                 http_client: httpx.Client | None = None, seed: int = 1234,
                 confidence: bool = True, tasks_file: Path | None = None) -> None:
        if _IMPORT_ERROR is not None:
            raise RemoteUnavailable(str(_IMPORT_ERROR))
        t0 = time.perf_counter()
        self.url = normalize_url(base_url)
        self.timeout = timeout
        self.temperature = temperature
        self.threads = 0  # the server's own
        self.n_ctx = n_ctx
        self._http = http_client or httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)))
        self._client = openai.OpenAI(base_url=self.url, api_key=api_key or "no-key",
                                     http_client=self._http, max_retries=max_retries,
                                     timeout=timeout)
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, tuple[Label, float]] = OrderedDict()
        self._overrides: dict[str, Label] = {}
        self._corrections: tuple[tuple[str, str], ...] = ()
        self._mood_prompt = mood_prompt
        self._examples = tuple(MOOD_EXAMPLES if mood_examples is None else mood_examples)
        self._bias = _safe_bias(mood_bias)
        self._seed = seed
        self._replies = 0
        # False: no logprobs asked, confidence NaN (llama-cpp-python's server computes them
        # in Python, ~40x the cost of the label itself; llama-server and vLLM do not)
        self.confidence = confidence
        self.server_stats = {"mood_requests": 0, "prompt_tokens": 0, "cached_tokens": 0,
                             "cache_reported": 0}
        # the same tasks as locally; a grammar of tasks.toml is checked by the server when
        # its task runs (llama.cpp's parser needs the model's vocabulary, which is not here)
        self.tasks: TaskRegistry = load_task_registry(tasks_file)
        try:
            self.info: ServerInfo = detect(self._http, self.url)
            if not self.info.models and not model:
                raise ServerRejected(self.url, 404, "the server lists no model")
            self.model = model or self.info.models[0]
            self.constraint: Constraint = self._choose_constraint()
        except BaseException:
            self.close()
            raise
        host = urlsplit(self.url).netloc
        self.name = f"{os.path.basename(self.model) or self.model} @ {host}"
        self.load_ms = (time.perf_counter() - t0) * 1000
        log.info("Using %s (%s, constraint %s) in %.0f ms", self.name, self.info.title,
                 self.constraint, self.load_ms)

    @classmethod
    def connect(cls, url: str, *, api_key: str | None = None, **options: Any) -> RemoteEngine:
        """Connect to ``url`` with the key from the environment unless one is given;
        ``tasks_file`` (tasks.toml) adds or changes tasks, as for the local engine."""
        return cls(url, api_key=api_key if api_key is not None else api_key_from_env(),
                   **options)

    # -- requests ---------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        """The openai client's exceptions as errors that say what to do."""
        try:
            yield
        except RemoteFailed:
            raise
        except openai.APITimeoutError as exc:
            raise ServerTimeout(self.url, self.timeout) from exc
        except openai.APIConnectionError as exc:
            raise ServerUnreachable(self.url, _reason(exc.__cause__ or exc)) from exc
        except openai.APIStatusError as exc:
            detail = _detail(exc)
            if exc.status_code == 429 or exc.status_code >= 500:
                raise ServerBusy(self.url, exc.status_code, detail) from exc
            raise ServerRejected(self.url, exc.status_code, detail) from exc
        except httpx.TimeoutException as exc:  # while a stream is read
            raise ServerTimeout(self.url, self.timeout) from exc
        except httpx.HTTPError as exc:  # the connection broke while a stream was read
            raise ServerUnreachable(self.url, _reason(exc)) from exc

    def _extra(self) -> dict[str, Any]:
        """Fields every request of this server gets: keep the prompt cached on llama-server."""
        return {"cache_prompt": True} if self.info.kind == "llama-server" else {}

    def mood_request(self, text: str, *, choices: Sequence[str] = LABELS,
                     constraint: Constraint | None = None) -> dict[str, Any]:
        """The keyword arguments of one mood request: the fixed prefix messages (identical
        every time, so the server reuses their evaluation), then ``text``."""
        examples = list(self._examples) + list(self._correction_examples())
        messages = [{"role": m.role, "content": m.content}
                    for m in mood_messages(self._mood_prompt, examples)]
        messages[-1]["content"] = text
        request: dict[str, Any] = {
            "model": self.model, "messages": messages, "max_tokens": MOOD_MAX_TOKENS,
            "temperature": 0.0}
        if self.confidence:
            request.update(logprobs=True, top_logprobs=TOP_LOGPROBS)
        request["extra_body"] = {**constraint_body(constraint or self.constraint, choices),
                                 **self._extra()}
        return request

    def _choose_constraint(self) -> Constraint:
        """The first way to constrain output that really works: a probe may only say
        "Negative" about a glowing sentence (a server that ignores the field says Positive).
        It also puts the mood prefix in the server's cache, as the local engine's warm-up."""
        tried: list[str] = []
        for constraint in self.info.constraints:
            request = self.mood_request(PROBE_TEXT, choices=("Negative",), constraint=constraint)
            request.pop("logprobs", None)
            request.pop("top_logprobs", None)
            try:
                with self._errors():
                    answer = self._client.chat.completions.create(**request)
            except ServerRejected as exc:  # e.g. 400: an unknown field on a strict server
                tried.append(f"{constraint}: {exc.status}")
                continue
            content = (answer.choices[0].message.content or "").strip()
            if content == "Negative":
                return constraint
            tried.append(f"{constraint}: answered {content[:20]!r}")
        log.warning("No constrained decoding at %s: %s", self.url, "; ".join(tried))
        raise ConstrainedDecodingUnavailable(self.url, self.info.title)

    # -- the mood pass ----------------------------------------------------------------------------

    def mood(self, text: str, *, cancel: CancelToken | None = None) -> MoodResult:
        t0 = time.perf_counter()
        key = normalize(text)
        if not key:
            raise EmptyInput()
        with self._lock:
            corrected = self._overrides.get(key)
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
        if corrected is not None:
            return MoodResult(text, corrected, 1.0, _ms(t0), True, corrected=True)
        if hit is not None:
            return MoodResult(text, hit[0], hit[1], _ms(t0), True)
        message, notice = _cut(text)
        with self._errors():
            answer = self._client.chat.completions.create(**self.mood_request(message))
        label, confidence = self._read_label(answer)
        evaluated = self._count_cache(answer)
        with self._lock:
            self._cache[key] = (label, confidence)
            while len(self._cache) > 4096:
                self._cache.popitem(last=False)
        return MoodResult(text, label, confidence, _ms(t0), False, evaluated, notice)

    def _read_label(self, answer: Any) -> tuple[Label, float]:
        choice = answer.choices[0]
        content = (choice.message.content or "").strip()
        label = next((lab for lab in LABELS if lab == content), None)
        if label is None:  # cut by max_tokens mid-label: the grammar allows only one reading
            matches = [lab for lab in LABELS if content and lab.startswith(content)]
            if len(matches) != 1:
                raise LabelUnreadable(self.url, content)
            label = matches[0]
        mass = {lab: 0.0 for lab in LABELS}
        content_lp = getattr(choice.logprobs, "content", None) or []
        if content_lp:
            for alt in content_lp[0].top_logprobs or []:
                for lab in LABELS:
                    if alt.token and lab.startswith(alt.token):
                        mass[lab] += math.exp(alt.logprob)
        pos, neg = mass["Positive"], mass["Negative"]
        if not self.confidence:
            return label, math.nan
        if pos <= 0 or neg <= 0:  # one label is not even among the top alternatives
            return label, 1.0
        gap = math.log(pos) - math.log(neg) + self._bias  # the bias, as the local logit bias
        p_pos = 1.0 / (1.0 + math.exp(-gap))
        label = "Positive" if gap > 0 else "Negative" if gap < 0 else label
        return label, p_pos if label == "Positive" else 1.0 - p_pos

    def _count_cache(self, answer: Any) -> int:
        """The prompt tokens the server evaluated: all of them minus its reported cache hits
        (vLLM's usage.prompt_tokens_details, llama-server's timings); all when not reported."""
        usage = answer.usage
        prompt = int(getattr(usage, "prompt_tokens", 0) or 0)
        cached: int | None = None
        details = getattr(usage, "prompt_tokens_details", None)
        if details is not None and getattr(details, "cached_tokens", None) is not None:
            cached = int(details.cached_tokens)
        timings = (answer.model_extra or {}).get("timings")
        if cached is None and isinstance(timings, dict) and "cache_n" in timings:
            cached = int(timings["cache_n"])
        with self._lock:
            stats = self.server_stats
            stats["mood_requests"] += 1
            stats["prompt_tokens"] += prompt
            if cached is not None:
                stats["cached_tokens"] += cached
                stats["cache_reported"] += 1
        return prompt - (cached or 0)

    def set_mood_bias(self, bias: float) -> None:
        bias = _safe_bias(bias)
        if bias != self._bias:
            self._bias = bias
            self.clear_mood_cache()

    @property
    def mood_bias(self) -> float:
        return self._bias

    def set_corrections(self, pairs: Sequence[tuple[str, str]]) -> bool:
        """As the local engine: the same text gets the person's label, the most recent
        corrections become examples in the prefix (a changed prefix is evaluated once on the
        server, by the next request). Returns whether the prefix changed."""
        overrides = {normalize(t): lab for t, lab in pairs if normalize(t) and lab in LABELS}
        recent: list[tuple[str, str]] = []
        seen: set[str] = set()
        for text, lab in reversed(pairs):
            key = normalize(text)
            if key and lab in LABELS and key not in seen:
                seen.add(key)
                recent.append((" ".join(text.split())[:CORRECTION_EXAMPLE_CHARS], lab))
            if len(recent) == MAX_CORRECTION_EXAMPLES:
                break
        examples = tuple(reversed(recent))
        with self._lock:
            self._overrides = overrides  # type: ignore[assignment]
            changed = examples != self._corrections
            if changed:
                self._corrections = examples
                self._cache.clear()
        return changed

    def _correction_examples(self) -> tuple[tuple[str, str], ...]:
        return self._corrections

    def clear_mood_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    def prepare(self, history: Sequence[Message], draft: str, *, max_tokens: int = 128,
                system_prompt: str | None = None, label: bool = False,
                cancel: CancelToken | None = None,
                on_label: Callable[[MoodResult], None] | None = None) -> MoodResult | None:
        """Only the label (cached: sending hits it); the server keeps no half-typed prompt."""
        if not label or not normalize(draft):
            return None
        result = self.mood(draft, cancel=cancel)
        if on_label is not None:
            on_label(result)
        return result

    def set_threads(self, threads: int) -> None:
        """The server's threads are its own: nothing to change here."""

    # -- the chat pass ----------------------------------------------------------------------------

    def _sampling(self, temperature: float, stop_at_end: bool) -> dict[str, Any]:
        args: dict[str, Any] = {"temperature": temperature, "seed": self._seed + self._replies}
        self._replies += 1
        extra = self._extra()
        if temperature > 0:
            args["top_p"] = TOP_P
            extra["top_k"] = TOP_K
            if self.info.kind in ("llama-server", "llama-cpp-python"):
                extra["repeat_penalty"] = REPEAT_PENALTY
        if not stop_at_end:
            extra["ignore_eos"] = True  # llama-server and vLLM; llama-cpp-python ignores it
        args["extra_body"] = extra
        return args

    def _fit(self, history: Sequence[Message], keep_from_end: int, budget_tokens: int,
             stats: ReplyStats) -> list[Message]:
        """Oldest messages left out (with a notice) until the history fits a guess of the
        server's window; the server's own limit is the final word (a 400 then)."""
        hist = [m for m in history if m.role in ("user", "assistant") and m.content.strip()]
        budget = int(budget_tokens * CHARS_PER_TOKEN)
        drop = 0
        while (drop < len(hist) - keep_from_end
               and sum(len(m.content) for m in hist[drop:]) > budget):
            drop += 1
        while drop < len(hist) - keep_from_end and hist[drop].role != "user":
            drop += 1
        if drop:
            stats.trimmed_messages = drop
            stats.notices.append(f"The {drop} oldest messages were left out to fit the context "
                                 "window.")
        return hist[drop:]

    def chat(self, history: Sequence[Message], text: str, *, max_tokens: int = 128,
             system_prompt: str | None = None, temperature: float | None = None,
             cancel: CancelToken | None = None, stop_at_end: bool = True,
             mood: str | None = None, hint: bool = True, confidence: float | None = None,
             plan: bool = True) -> RemoteReplyStream:
        """Stream a reply; the person's turn is followed by the same hint as locally (their
        language, the size ``max_tokens`` allows, the tone for ``mood``). The local reply
        plan (opener, candidates, checks) needs the model's logits and sequences: a server
        samples the reply freely, so ``confidence`` and ``plan`` are accepted and unused."""
        if not text.strip():
            raise EmptyInput()
        max_tokens = max(1, max_tokens)
        stats = ReplyStats()
        system = system_prompt or DEFAULT_CHAT_SYSTEM_PROMPT
        budget = self.n_ctx - max_tokens - len(system) - len(text)
        msgs = [Message("system", system), *self._fit(history, 0, budget, stats),
                Message("user", text)]
        if hint:
            msgs.append(Message("system", reply_hint(language_of(text), mood, max_tokens)))
        request = {"model": self.model, "messages": [_wire(m) for m in msgs],
                   "max_tokens": max_tokens, "stream": True,
                   **self._sampling(self._temperature(temperature), stop_at_end)}
        return RemoteReplyStream(self, lambda: self._client.chat.completions.create(**request),
                                 stats, max_tokens, stop_at_end, cancel)

    def continue_reply(self, history: Sequence[Message], *, max_tokens: int = 128,
                       system_prompt: str | None = None, temperature: float | None = None,
                       cancel: CancelToken | None = None) -> RemoteReplyStream:
        """More of the reply that ends ``history``. vLLM continues the final message of a chat
        request; llama.cpp's servers get the ChatML prompt ending inside the reply on
        /v1/completions (the Qwen family's template)."""
        if not history or history[-1].role != "assistant" or not history[-1].content.strip():
            from qwen_aio.foundation.errors import QwenAioError

            raise QwenAioError("There is no reply to continue: the last message must be the "
                               "assistant's.")
        max_tokens = max(1, max_tokens)
        stats = ReplyStats()
        system = system_prompt or DEFAULT_CHAT_SYSTEM_PROMPT
        budget = self.n_ctx - max_tokens - len(system)
        msgs = [Message("system", system), *self._fit(history, 2, budget, stats)]
        sampling = self._sampling(self._temperature(temperature), True)
        prior = history[-1].content
        if self.info.kind == "vllm":
            sampling["extra_body"].update(continue_final_message=True,
                                          add_generation_prompt=False)
            request = {"model": self.model, "messages": [_wire(m) for m in msgs],
                       "max_tokens": max_tokens, "stream": True, **sampling}
            return RemoteReplyStream(
                self, lambda: self._client.chat.completions.create(**request), stats,
                max_tokens, True, cancel, prior)
        prompt = "".join(f"<|im_start|>{m.role}\n{m.content}<|im_end|>\n" for m in msgs[:-1])
        prompt += f"<|im_start|>assistant\n{msgs[-1].content}"
        sampling["extra_body"]["stop"] = ["<|im_end|>", "<|endoftext|>"]
        request = {"model": self.model, "prompt": prompt, "max_tokens": max_tokens,
                   "stream": True, **sampling}
        return RemoteReplyStream(self, lambda: self._client.completions.create(**request),
                                 stats, max_tokens, True, cancel, prior)

    # -- tasks (summary, keywords, fix, translate, the person's own) -----------------------------

    def run_task(self, task_id: str, text: str, *, target: str | None = None,
                 cancel: CancelToken | None = None) -> TaskStream:
        """Stream one task's output for ``text``, as `Engine.run_task`: the same prompt (its
        fixed part identical every time, so the server's prompt cache keeps it), the same
        variant, input cut and output limit; a task with a grammar is greedy and its output
        constrained by the server (see `backend_probe.grammar_body`). ``close()`` or
        ``cancel`` closes the HTTP stream: the server stops generating."""
        task = self.tasks.get(task_id)
        if not normalize(text):
            raise EmptyInput()
        result = TaskResult(task=task.id)
        if task.id == MOOD_TASK:
            return TaskStream(self._mood_task(text, cancel, result), result)
        variant = task.variant(text, target)
        if task.uses_target:
            result.target = variant
        request, limit, notices = self.task_request(task, text, variant)
        result.notices += notices
        return TaskStream(self._task_pieces(task, request, limit, cancel, result), result)

    def task_messages(self, task: Task, text: str, variant: str) -> list[Message]:
        """The task's prompt: its system prompt, its few-shot turns, then ``text``."""
        prompt = task.prompt_for(variant)
        msgs = [Message("system", prompt.system)]
        for given, answer in prompt.examples:
            msgs += [Message("user", given), Message("assistant", answer)]
        msgs.append(Message("user", text))
        return msgs

    def task_request(self, task: Task, text: str, variant: str
                     ) -> tuple[dict[str, Any], int, list[str]]:
        """The keyword arguments of one streamed task request, its output limit and notices
        (the input was cut)."""
        message, head, tail = _cut_middle(text, TASK_MAX_INPUT_CHARS)
        notices = [f"The text is long: only its first {head} and last {tail} characters "
                   "were used."] if tail else []
        # The server's tokenizer is not ours: the input's tokens are estimated from its
        # characters (as the chat's trimming does, cautiously: more tokens than English
        # has), so the limit errs on the generous side; the task still ends at its own end.
        limit = task.limit(math.ceil(len(message) / CHARS_PER_TOKEN))
        temperature = 0.0 if task.grammar else task.temperature  # greedy under a grammar
        sampling = self._sampling(temperature, True)
        if task.grammar:
            sampling["extra_body"].update(grammar_body(self.constraint, task.grammar))
        request: dict[str, Any] = {
            "model": self.model, "messages": [_wire(m) for m in
                                              self.task_messages(task, message, variant)],
            "max_tokens": limit, "stream": True, **sampling}
        if self.info.kind == "vllm":  # token counts in the last chunk
            request["stream_options"] = {"include_usage": True}
        return request, limit, notices

    def _mood_task(self, text: str, cancel: CancelToken | None,
                   result: TaskResult) -> Iterator[str]:
        """The mood pass as a task, as locally (one constrained request, its cache)."""
        if cancel is not None and cancel.cancelled:
            result.stop_reason = "cancelled"
            return
        mood = self.mood(text, cancel=cancel)
        result.text = mood.label
        result.ttft_ms = mood.latency_ms
        result.evaluated_tokens = mood.evaluated_tokens
        result.generated_tokens = 0 if mood.cached else 1
        result.stop_reason = "end"
        if mood.notice:
            result.notices.append(mood.notice)
        yield mood.label

    @contextlib.contextmanager
    def _task_errors(self, task: Task) -> Iterator[None]:
        """`_errors`, and a failure of a task with a grammar of tasks.toml said to be about
        that grammar (the likely cause: nothing checked it before the server)."""
        builtin = next((t for t in BUILTIN_TASKS if t.id == task.id), None)
        own_grammar = bool(task.grammar) and (builtin is None or builtin.grammar != task.grammar)
        try:
            with self._errors():
                yield
        except (ServerRejected, ServerBusy, ServerUnreachable) as exc:
            if not own_grammar:
                raise
            log.warning("Task %s failed on the server: %s", task.id, exc)
            raise TaskGrammarRejected(self.url, task.id, task.source, exc.detail) from exc

    def _task_pieces(self, task: Task, request: dict[str, Any], limit: int,
                     cancel: CancelToken | None, result: TaskResult) -> Iterator[str]:
        t0 = time.perf_counter()
        t_first = 0.0
        n = 0  # pieces: one token each as llama.cpp's servers and vLLM stream them
        counted_by_server = 0
        sentences = 0
        counted = 0  # where the last counted sentence ended in the text
        stream: Any = None
        try:
            with self._task_errors(task):
                if cancel is not None and cancel.cancelled:
                    result.stop_reason = "cancelled"
                    return
                stream = self._client.chat.completions.create(**request)
                for chunk in stream:
                    if cancel is not None and cancel.cancelled:
                        result.stop_reason = "cancelled"
                        break
                    usage = getattr(chunk, "usage", None)
                    if usage is not None:  # vLLM, asked for it: the last chunk
                        result.prompt_tokens = int(usage.prompt_tokens or 0)
                        details = getattr(usage, "prompt_tokens_details", None)
                        cached = int(getattr(details, "cached_tokens", 0) or 0)
                        result.evaluated_tokens = result.prompt_tokens - cached
                        counted_by_server = int(usage.completion_tokens or 0)
                    if not chunk.choices:
                        continue
                    choice = chunk.choices[0]
                    delta = getattr(choice, "delta", None)
                    piece = (delta.content if delta is not None else "") or ""
                    if piece:
                        shown = result.text
                        if task.max_sentences and piece.strip() and shown[counted:].strip() \
                                and may_stop_after(shown, piece):
                            sentences += 1  # as locally: the piece starts another sentence
                            counted = len(shown)
                            if sentences >= task.max_sentences:
                                result.stop_reason = "end"
                                break
                        n += 1
                        result.generated_tokens = n
                        now = time.perf_counter()
                        if not t_first:
                            t_first = now
                            result.ttft_ms = (now - t0) * 1000
                        else:
                            result.decode_tps = (n - 1) / max(now - t_first, 1e-6)
                        result.text = shown + piece
                        yield piece
                    if choice.finish_reason:
                        result.stop_reason = "limit" if choice.finish_reason == "length" \
                            else "end"
                if not result.stop_reason:
                    result.stop_reason = "limit" if n >= limit else "end"
        except GeneratorExit:  # closed by the caller before the output ended
            if not result.stop_reason:
                result.stop_reason = "cancelled"
            raise
        finally:
            if stream is not None:
                stream.close()  # the server stops generating when it notices
            if counted_by_server:
                result.generated_tokens = counted_by_server
            if not t_first:
                result.ttft_ms = (time.perf_counter() - t0) * 1000
            if task.structured:
                result.items = parse_list(result.text)

    def _temperature(self, asked: float | None) -> float:
        return self.temperature if asked is None else asked

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing twice, or after a failed connect
            self._client.close()
        with contextlib.suppress(Exception):
            self._http.close()

    def __enter__(self) -> RemoteEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RemoteReplyStream(Iterator[str]):
    """Text pieces of a streamed reply; ``close()`` (or a cancel seen between pieces) closes
    the HTTP stream, and the server stops generating when it notices (llama-cpp-python: after
    its next token)."""

    def __init__(self, engine: RemoteEngine, open_stream: Callable[[], Any], stats: ReplyStats,
                 max_tokens: int, stop_at_end: bool, cancel: CancelToken | None,
                 prior: str = "") -> None:
        self.stats = stats
        self.text = ""
        self._engine = engine
        self._open = open_stream
        self._max_tokens = max_tokens
        self._stop_at_end = stop_at_end
        self._cancel = cancel
        self._prior = prior
        self._stream: Any = None
        self._gen = self._pieces()

    def __iter__(self) -> RemoteReplyStream:
        return self

    def __next__(self) -> str:
        piece = next(self._gen)
        self.text += piece
        return piece

    def close(self) -> None:
        if not self.stats.stop_reason:  # stopped by the caller before the reply ended
            self.stats.stop_reason = "cancelled"
        self._gen.close()
        if self._stream is not None:  # a generator never started holds no stream
            self._stream.close()

    def _pieces(self) -> Iterator[str]:
        from qwen_aio.engine.chat import grace_tokens  # (imports llama_cpp: a dependency)

        stats = self.stats
        t0 = time.perf_counter()
        t_first = 0.0
        window = (self._max_tokens - grace_tokens(self._max_tokens) if self._stop_at_end
                  else self._max_tokens + 1)
        n = 0
        with self._engine._errors():
            if self._cancel is not None and self._cancel.cancelled:
                stats.stop_reason = "cancelled"
                return
            self._stream = self._open()
            try:
                for chunk in self._stream:
                    if self._cancel is not None and self._cancel.cancelled:
                        stats.stop_reason = "cancelled"
                        break
                    usage = getattr(chunk, "usage", None)
                    if usage is not None:
                        stats.prompt_tokens = int(usage.prompt_tokens or 0)
                    if not chunk.choices:
                        continue
                    choice = chunk.choices[0]
                    delta = getattr(choice, "delta", None)
                    piece = (delta.content if delta is not None else choice.text) or ""
                    if piece:
                        if window <= n < self._max_tokens and may_stop_after(
                                self._prior + self.text, piece):
                            stats.stop_reason = "sentence"
                            break
                        n += 1
                        stats.generated_tokens = n
                        if not t_first:
                            t_first = time.perf_counter()
                            stats.ttft_ms = (t_first - t0) * 1000
                        elif n > 1:
                            stats.decode_tps = (n - 1) / max(time.perf_counter() - t_first,
                                                             1e-6)
                        yield piece
                    if choice.finish_reason:
                        stats.stop_reason = _stop_reason(
                            choice.finish_reason, self._prior + self.text, self._stop_at_end)
            finally:
                self._stream.close()
        if not stats.stop_reason:
            stats.stop_reason = "limit" if n >= self._max_tokens else "end"


def _stop_reason(finish: str, text: str, stop_at_end: bool) -> Any:
    if finish == "length":
        return "sentence" if stop_at_end and may_stop_after(text, None) else "limit"
    return "end"


def _wire(m: Message) -> dict[str, str]:
    return {"role": m.role, "content": m.content}


def _cut_middle(text: str, limit: int) -> tuple[str, int, int]:
    """``text`` cut in the middle past ``limit`` characters (two thirds of them from the
    head, one from the tail: the end often carries the point); and how many were kept at each
    end (``tail`` 0: not cut)."""
    if len(text) <= limit:
        return text, len(text), 0
    head = limit * 2 // 3
    tail = limit - head
    return text[:head] + " … " + text[-tail:], head, tail


def _cut(text: str) -> tuple[str, str | None]:
    """A long mood message cut in the middle, and the notice saying so."""
    message, head, tail = _cut_middle(text, MOOD_MAX_CHARS)
    if not tail:
        return text, None
    return (message, f"The message is long: its mood was judged from its first {head} and "
            f"last {tail} characters.")


def _safe_bias(bias: float) -> float:
    if not math.isfinite(bias):
        log.warning("Ignoring a mood bias of %r", bias)
        return 0.0
    return max(-8.0, min(bias, 8.0))


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]


def _detail(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        message = inner.get("message") or inner.get("detail") if isinstance(inner, dict) \
            else inner
        if message:
            return str(message)[:200]
    return (getattr(exc, "message", "") or str(exc))[:200]
