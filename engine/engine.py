"""The engine: one GGUF model in memory, a mood pass and a chat pass, each with its own context.

Not thread-safe (neither is llama.cpp's context): call it from one thread. Another thread may
only set a CancelToken.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from qwen_aio.engine.chat import ChatPass, ReplyStream
from qwen_aio.engine.mood import MoodPass
from qwen_aio.engine.native import default_threads, load_model
from qwen_aio.engine.prompts import PromptFormat
from qwen_aio.engine.task_pass import MAX_TASK_CONTEXTS, TaskPass, check_grammar
from qwen_aio.engine.tasks import BUILTIN_TASKS, MOOD_TASK, Task, TaskRegistry, TaskStream
from qwen_aio.engine.tasks_file import load_task_registry
from qwen_aio.engine.text import normalize
from qwen_aio.engine.threads import ThreadGovernor
from qwen_aio.engine.types import CancelToken, Message, MoodResult, TaskResult
from qwen_aio.foundation.errors import Cancelled, EmptyInput, GrammarInvalid
from qwen_aio.foundation.settings import DEFAULT_CHAT_SYSTEM_PROMPT
from qwen_aio.models.store import check_header

log = logging.getLogger(__name__)


class Engine:
    """Load once with `Engine.load`; then `mood()` and `chat()` as often as needed; `close()`."""

    def __init__(self, model_path: Path, *, threads: int, n_ctx: int, mood_bias: float,
                 name: str, adaptive_threads: bool = True, mood_prompt: str | None = None,
                 mood_examples: Sequence[tuple[str, str]] | None = None,
                 temperature: float = 0.7, tasks_file: Path | None = None,
                 max_task_contexts: int = MAX_TASK_CONTEXTS) -> None:
        t0 = time.perf_counter()
        self.temperature = temperature  # for replies that do not ask for their own
        self.path = model_path
        self.name = name
        self.threads = threads
        self._model = load_model(model_path)
        try:
            self.format = PromptFormat(self._model)
            self._mood = MoodPass(self._model, self.format, threads=threads, bias=mood_bias,
                                  system=mood_prompt, examples=mood_examples)
            self._chat = ChatPass(self._model, self.format, threads=threads, n_ctx=n_ctx)
            self._tasks = TaskPass(self._model, self.format, threads=threads,
                                   max_contexts=max_task_contexts)
            self.tasks = self._load_tasks(tasks_file)
            self.governor = ThreadGovernor(threads, self._apply_threads)
            if adaptive_threads and threads > 1:
                self._mood.ctx.on_decode = self._chat.ctx.on_decode = self.governor.observe
                self._tasks.set_on_decode(self.governor.observe)
            self._mood.warm()
        except BaseException:  # free what was made (contexts, samplers), then the weights
            for part in ("_tasks", "_chat", "_mood"):
                if hasattr(self, part):
                    getattr(self, part).close()
            self._model.close()
            raise
        self.load_ms = (time.perf_counter() - t0) * 1000
        log.info("Loaded %s (%s template, %d threads) in %.0f ms", name, self.format.name,
                 threads, self.load_ms)

    @classmethod
    def load(cls, model_path: str | Path, *, threads: int | None = None, n_ctx: int = 2048,
             mood_bias: float = 0.0, name: str | None = None,
             adaptive_threads: bool = True, mood_prompt: str | None = None,
             mood_examples: Sequence[tuple[str, str]] | None = None,
             temperature: float = 0.7, tasks_file: Path | None = None,
             max_task_contexts: int = MAX_TASK_CONTEXTS) -> Engine:
        """Check the file is a GGUF (checksums are the caller's: see models.store.verify).

        ``adaptive_threads`` drops to one thread while another program keeps the CPU busy;
        ``mood_prompt``/``mood_examples`` replace the analyst prompt (evaluation, benchmarks);
        ``tasks_file`` (tasks.toml) adds or changes tasks: its problems are in ``tasks.problems``
        and never stop the load.
        """
        path = Path(model_path)
        check_header(path)
        return cls(path, threads=threads or default_threads(), n_ctx=n_ctx,
                   mood_bias=mood_bias, name=name or path.name,
                   adaptive_threads=adaptive_threads, mood_prompt=mood_prompt,
                   mood_examples=mood_examples, temperature=temperature,
                   tasks_file=tasks_file, max_task_contexts=max_task_contexts)

    # -- the two passes ---------------------------------------------------------------------------

    def mood(self, text: str, *, cancel: CancelToken | None = None) -> MoodResult:
        return self._mood.label(text, cancel)

    def chat(self, history: Sequence[Message], text: str, *, max_tokens: int = 128,
             system_prompt: str | None = None, temperature: float | None = None,
             cancel: CancelToken | None = None, stop_at_end: bool = True,
             mood: str | None = None, hint: bool = True, confidence: float | None = None,
             plan: bool = True) -> ReplyStream:
        """Stream a reply in the writer's language, its tone told by ``mood`` (the label the
        mood pass gave ``text``) when ``confidence`` says the mood pass is sure of it.
        ``stop_at_end=False`` always produces ``max_tokens`` and ``hint=False`` leaves the
        person's words alone (benchmarks); ``plan=False`` samples the reply freely, without
        the opener, the candidates and the checks (the comparison in docs/replies)."""
        if not text.strip():
            raise EmptyInput()
        plan = plan and hint and _companion(system_prompt)  # and stop_at_end: see ChatPass
        return self._chat.stream(history, text, max_tokens=max(1, max_tokens),
                                 system_prompt=system_prompt or DEFAULT_CHAT_SYSTEM_PROMPT,
                                 temperature=self._temperature(temperature), cancel=cancel,
                                 stop_at_end=stop_at_end, mood=mood, hint=hint,
                                 confidence=confidence, plan=plan)

    def prepare(self, history: Sequence[Message], draft: str, *, max_tokens: int = 128,
                system_prompt: str | None = None, label: bool = False,
                cancel: CancelToken | None = None,
                on_label: Callable[[MoodResult], None] | None = None) -> MoodResult | None:
        """Work done while the person types ``draft``: both contexts evaluate it (only what
        changed since the last call), so sending it evaluates almost nothing. With ``label``
        the mood pass also finishes (the result is cached: sending hits it) and the chat
        context takes the reply hint for that label. Cancelling stops within one decode step
        and leaves both contexts consistent. Returns the label when ``label`` was asked;
        ``on_label`` hears it as soon as it is known, before the chat context's part (the
        window shows it then: the person may have pressed Enter already)."""
        if not normalize(draft):
            return None
        self._mood.prepare(draft, cancel)
        mood = self._mood.label(draft, cancel) if label else None
        if mood is not None and on_label is not None:
            on_label(mood)
        self._chat.prepare(history, draft, max_tokens=max(1, max_tokens),
                           system_prompt=system_prompt or DEFAULT_CHAT_SYSTEM_PROMPT,
                           mood=mood.label if mood is not None else None, cancel=cancel,
                           plan=_companion(system_prompt))
        return mood

    def continue_reply(self, history: Sequence[Message], *, max_tokens: int = 128,
                       system_prompt: str | None = None, temperature: float | None = None,
                       cancel: CancelToken | None = None) -> ReplyStream:
        """Stream more of the reply that ends ``history`` (one cut by its limit): the pieces
        extend it. Right after the cut nothing is evaluated again."""
        return self._chat.continue_reply(history, max_tokens=max(1, max_tokens),
                                         system_prompt=system_prompt
                                         or DEFAULT_CHAT_SYSTEM_PROMPT,
                                         temperature=self._temperature(temperature),
                                         cancel=cancel)

    # -- tasks (summary, keywords, fix, translate, the person's own) -----------------------------

    def _load_tasks(self, path: Path | None) -> TaskRegistry:
        """The built-in tasks, then tasks.toml's; a grammar llama.cpp rejects skips its task."""
        for task in BUILTIN_TASKS:  # a broken built-in grammar is a bug: fail at start
            if task.grammar and (why := check_grammar(self._model, task.grammar)):
                raise GrammarInvalid(f"task {task.id}: {why}")
        return load_task_registry(path, lambda grammar: check_grammar(self._model, grammar))

    def run_task(self, task_id: str, text: str, *, target: str | None = None,
                 cancel: CancelToken | None = None) -> TaskStream:
        """Stream one task's output for ``text``; ``result`` fills in as it streams.

        ``target`` ("en" or "zh") is translate's language to translate into; without it, the
        other language of the text's. The task's fixed prefix is evaluated once, in a context
        of its own: the mood prefix and the chat history stay evaluated.
        """
        task = self.tasks.get(task_id)
        if not normalize(text):
            raise EmptyInput()
        result = TaskResult(task=task.id)
        if task.id == MOOD_TASK:
            return TaskStream(self._mood_task(text, cancel, result), result)
        variant = task.variant(text, target)
        if task.uses_target:
            result.target = variant
        return self._tasks.run(task, variant, text, cancel, result)

    def _mood_task(self, text: str, cancel: CancelToken | None,
                   result: TaskResult) -> Iterator[str]:
        try:
            mood = self._mood.label(text, cancel)
        except Cancelled:
            result.stop_reason = "cancelled"
            return
        result.text = mood.label
        result.prompt_tokens = (len(self._mood.prefix) + len(self._mood._message(text)[0])
                                + len(self._mood.suffix))
        result.ttft_ms = mood.latency_ms
        result.evaluated_tokens = mood.evaluated_tokens
        result.generated_tokens = 0 if mood.cached else 1
        result.stop_reason = "end"
        if mood.notice:
            result.notices.append(mood.notice)
        yield mood.label

    def prepare_task(self, task_id: str, *, target: str | None = "en",
                     cancel: CancelToken | None = None) -> int:
        """Evaluate a task's fixed prefix ahead of its first use (the desktop may call this when
        the person picks a task). Returns the tokens evaluated (0 when already there)."""
        task = self.tasks.get(task_id)
        if task.id == MOOD_TASK:
            return 0
        variant = task.variant("", target) if task.uses_target else (
            "en" if task.variants else "")
        return self._tasks.warm(task, variant, cancel)

    def task_prefix_builds(self, task_id: str, variant: str = "") -> int:
        """How often a task variant's fixed prefix was evaluated (tests)."""
        return self._tasks.prefix_builds(self.tasks.get(task_id), variant)

    def task_prefix_tokens(self, task_id: str, variant: str = "") -> int:
        return self._tasks.prefix_tokens(self.tasks.get(task_id), variant)

    def task_prompt(self, task_id: str, text: str, *, target: str | None = None) -> list[int]:
        """The prompt tokens `run_task` would evaluate for ``text`` (tests, benchmark)."""
        task = self.tasks.get(task_id)
        return self._tasks.prompt(task, task.variant(text, target), text)[0]

    def task_messages(self, task: Task, text: str, *, target: str | None = None
                      ) -> list[Message]:
        """The task's prompt for ``text`` as messages (the benchmark's naive baseline)."""
        msgs = self._tasks._messages(task, task.variant(text, target))
        msgs[-1] = Message("user", text)
        return msgs

    def rewind_tasks(self) -> None:
        """Each task context keeps only its fixed prefix: the next input is evaluated as a
        new one would be (benchmarks)."""
        self._tasks.rewind()

    @property
    def task_contexts(self) -> list[tuple[str, str, int]]:
        return self._tasks.contexts()

    def _temperature(self, asked: float | None) -> float:
        return self.temperature if asked is None else asked

    # -- settings that change without a reload ----------------------------------------------------

    def set_threads(self, threads: int) -> None:
        self.threads = threads
        self.governor.reset(threads)

    def _apply_threads(self, threads: int) -> None:
        self._mood.ctx.set_threads(threads)
        self._chat.ctx.set_threads(threads)
        self._tasks.set_threads(threads)

    def set_mood_bias(self, bias: float) -> None:
        self._mood.set_bias(bias)

    @property
    def mood_bias(self) -> float:
        return self._mood.bias

    def set_corrections(self, pairs: Sequence[tuple[str, str]]) -> bool:
        """The person's label corrections (text, label), oldest first: the same text gets
        their label, the most recent become examples in the mood prefix (evaluated once, now).
        Returns whether the prefix changed."""
        return self._mood.set_corrections(pairs)

    @property
    def mood_prefix_builds(self) -> int:
        return self._mood.prefix_builds

    def clear_mood_cache(self) -> None:
        self._mood.cache.clear()

    def rewind(self, history: Sequence[Message], system_prompt: str | None = None) -> None:
        """Forget the work done for anything after ``history``: mood labels and the last
        message in the mood context, the last turn in the chat context (benchmarks)."""
        self._mood.rewind()
        self._chat.rewind(history, system_prompt or DEFAULT_CHAT_SYSTEM_PROMPT)

    # -- introspection (tests, benchmark) ---------------------------------------------------------

    def chat_prompt(self, history: Sequence[Message], text: str, *, max_tokens: int = 128,
                    system_prompt: str | None = None, mood: str | None = None) -> list[int]:
        """The prompt tokens `chat` would use for this turn (trimmed as it would), unevaluated."""
        return self._chat.prompt(history, text, max_tokens=max(1, max_tokens),
                                 system_prompt=system_prompt or DEFAULT_CHAT_SYSTEM_PROMPT,
                                 mood=mood, plan=_companion(system_prompt))

    @property
    def mood_prefix_tokens(self) -> int:
        return len(self._mood.prefix)

    @property
    def mood_evaluated_total(self) -> int:
        return self._mood.ctx.evaluated_total

    @property
    def chat_evaluated_total(self) -> int:
        return self._chat.ctx.evaluated_total

    @property
    def chat_n_ctx(self) -> int:
        return self._chat.ctx.n_ctx

    def close(self) -> None:
        self._tasks.close()
        self._mood.close()
        self._chat.close()
        self._model.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _companion(system_prompt: str | None) -> bool:
    """Whether replies follow the companion's plan (engine.chat.ReplyPlan): with the default
    system prompt only. A prompt of the person's own asks for something else."""
    return not system_prompt or system_prompt == DEFAULT_CHAT_SYSTEM_PROMPT
