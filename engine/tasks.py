"""Jobs done by prompt with the same model: what a task is, the built-in ones, the registry.

A task is a fixed prompt (system prompt and few-shot turns, evaluated once in its own context),
an output limit, an optional grammar and a temperature. Small models follow the language of
their instructions more than an instruction about language, so a built-in task may hold one
prompt per language ("variants"): chosen by the input's language, or (translate) by the
language to translate into.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

from qwen_aio.engine.text import language_of
from qwen_aio.engine.types import TaskResult
from qwen_aio.foundation.errors import QwenAioError

TARGETS = ("en", "zh")
MOOD_TASK = "mood"
TASK_MAX_INPUT_TOKENS = 512  # longer inputs are cut (head and tail kept) with a notice

# A JSON array of at most eight non-empty strings (no escapes: a key phrase needs none).
KEYWORDS_GRAMMAR = r'''root ::= "[" item ("," " "? item){0,7} "]"
item ::= "\"" char{1,48} "\""
char ::= [^"\\\x00-\x1F]
'''


class UnknownTask(QwenAioError):
    """A task id that is neither built in nor defined in tasks.toml."""

    def __init__(self, task_id: str, known: Iterable[str]) -> None:
        super().__init__(f"Unknown task {task_id!r}. Use one of: {', '.join(known)} "
                         "(`qwen-aio task list`), or define it in tasks.toml.")
        self.task_id = task_id


class TaskGrammarInvalid(QwenAioError):
    """A task's grammar that llama.cpp rejects, or that allows no output at all."""

    def __init__(self, where: str, task_id: str, detail: str) -> None:
        super().__init__(f"{where}: the grammar of task {task_id!r} is invalid ({detail}); "
                         "the task is skipped.")


class UnknownTarget(QwenAioError):
    """A translation target other than English or Chinese."""

    def __init__(self, target: str) -> None:
        super().__init__(f"Cannot translate into {target!r}: choose en (English) or zh "
                         "(Chinese), or leave it out to translate into the other language.")


@dataclass(frozen=True)
class Prompt:
    """The fixed part of a task's prompt: evaluated once, reused for every input."""

    system: str
    examples: tuple[tuple[str, str], ...] = ()  # (input, output) turns before the input


@dataclass(frozen=True)
class Task:
    """One job by prompt. The output limit is ``max_tokens``, or with ``tokens_per_input``
    a function of the input's length (``ceil(n * tokens_per_input) + extra_tokens``, at most
    ``max_tokens``)."""

    id: str
    name_en: str
    name_zh: str
    prompt: Prompt
    max_tokens: int = 128
    tokens_per_input: float = 0.0
    extra_tokens: int = 16
    grammar: str | None = None
    temperature: float = 0.0
    structured: bool = False  # the output is a JSON array of strings (``TaskResult.items``)
    max_sentences: int = 0  # stop after this many sentences (0: no such stop)
    # one prompt per language ("en", "zh"): chosen by the input's language ("input") or by
    # the language asked for ("target", translate)
    variants: Mapping[str, Prompt] = field(default_factory=dict)
    choose_by: Literal["input", "target"] = "input"
    source: str = "built-in"  # or "tasks.toml:LINE"
    description: str = ""

    @property
    def builtin(self) -> bool:
        return self.source == "built-in"

    @property
    def uses_target(self) -> bool:
        return self.choose_by == "target"

    def limit(self, input_tokens: int) -> int:
        """The output limit for an input of ``input_tokens`` tokens."""
        if self.tokens_per_input <= 0:
            return self.max_tokens
        want = math.ceil(input_tokens * self.tokens_per_input) + self.extra_tokens
        return max(1, min(self.max_tokens, want))

    def variant(self, text: str, target: str | None = None) -> str:
        """Which prompt serves this input: "" (the only one), or a language key."""
        if self.choose_by == "target":
            return resolve_target(text, target)
        if not self.variants:
            return ""
        return "zh" if language_of(text) == "zh" else "en"

    def prompt_for(self, variant: str) -> Prompt:
        return self.variants.get(variant, self.prompt) if variant else self.prompt


def resolve_target(text: str, target: str | None) -> str:
    """The language to translate into: the one asked for, else the other of the input's."""
    if target is not None:
        key = target.strip().lower()
        aliases = {"english": "en", "chinese": "zh", "中文": "zh", "英文": "en", "zh-cn": "zh"}
        key = aliases.get(key, key)
        if key not in TARGETS:
            raise UnknownTarget(target)
        return key
    return "en" if language_of(text) == "zh" else "zh"


# -- the built-in tasks ---------------------------------------------------------------------------

SUMMARY = Task(
    id="summary", name_en="Summary", name_zh="摘要",
    description="a summary in the text's own language, at most three sentences",
    prompt=Prompt("Summarize the user's text in at most three short sentences, in the "
                  "language of the text. Output only the summary."),
    variants={
        "en": Prompt("Summarize the user's text in English, in at most three short sentences. "
                     "Output only the summary."),
        "zh": Prompt("用中文概括用户的文字，最多三句话，简短。只输出摘要。"),
    },
    max_tokens=160, tokens_per_input=0.6, extra_tokens=32, max_sentences=3,
)

KEYWORDS = Task(
    id="keywords", name_en="Keywords", name_zh="关键词",
    description="at most eight key phrases, as a JSON array of strings",
    prompt=Prompt("List the key phrases of the user's text: at most eight, as a JSON array "
                  "of strings, in the text's language."),
    variants={
        "en": Prompt(
            "List the key phrases of the user's text: at most eight, each a few words taken "
            "from the text, as a JSON array of strings.",
            (("The city council approved a new budget for public libraries and bike lanes "
              "after a long debate on Tuesday.",
              '["city council", "new budget", "public libraries", "bike lanes", "debate"]'),)),
        "zh": Prompt(
            "列出用户文字的关键词：最多八个，取自原文，用 JSON 字符串数组回答。",
            (("市政府周二通过了新的预算，用于建设公共图书馆和自行车道。",
              '["市政府", "新的预算", "公共图书馆", "自行车道"]'),)),
    },
    max_tokens=96, grammar=KEYWORDS_GRAMMAR, structured=True,
)

FIX = Task(
    id="fix", name_en="Fix spelling and grammar", name_zh="纠错",
    description="the text with spelling and grammar corrected, nothing else",
    prompt=Prompt("Correct the spelling and grammar of the user's text. Output only the "
                  "corrected text; if it is already correct, repeat it unchanged."),
    variants={
        "en": Prompt(
            "Correct the spelling and grammar of the user's text. Output only the corrected "
            "text; if it is already correct, repeat it unchanged.",
            (("I has went to the libary yesterday and borrow three book.",
              "I went to the library yesterday and borrowed three books."),)),
        "zh": Prompt(
            "改正用户文字中的错别字和语法错误。只输出改正后的文字；没有错误就原样输出。",
            (("我今天很高心，因为我考试考的很好。", "我今天很高兴，因为我考试考得很好。"),)),
    },
    max_tokens=640, tokens_per_input=1.3, extra_tokens=16,
)

TRANSLATE = Task(
    id="translate", name_en="Translate", name_zh="翻译",
    description="Chinese to English or English to Chinese (--to en|zh to choose)",
    prompt=Prompt("Translate the user's text. Output only the translation."),
    variants={
        "en": Prompt(
            "Translate the user's Chinese text into English. Output only the English "
            "translation.",
            (("今天天气很好，我们去公园散步吧。",
              "The weather is nice today, let's take a walk in the park."),
             ("你明天有空吗？", "Are you free tomorrow?"))),
        "zh": Prompt(
            "把用户的英文翻译成中文。只输出中文译文。",
            (("I missed the bus this morning, so I was late for work.",
              "我今天早上错过了公交车，所以上班迟到了。"),
             ("Can you tell me where the station is?", "你能告诉我车站在哪里吗？"))),
    },
    max_tokens=640, tokens_per_input=2.0, extra_tokens=16, choose_by="target",
)

# The mood pass as a task: run_task("mood", text) runs the existing pass (its prompt,
# grammar and cache); the prompt here only describes it.
MOOD = Task(
    id=MOOD_TASK, name_en="Mood", name_zh="情绪",
    description="Positive or Negative (the mood pass)",
    prompt=Prompt("(the mood pass's analyst prompt)"), max_tokens=2,
)

BUILTIN_TASKS: tuple[Task, ...] = (MOOD, SUMMARY, KEYWORDS, FIX, TRANSLATE)


class TaskRegistry:
    """The built-in tasks, with those of tasks.toml added or put in their place."""

    def __init__(self, tasks: Iterable[Task] = BUILTIN_TASKS,
                 problems: Iterable[str] = ()) -> None:
        self._tasks: dict[str, Task] = {}
        for task in tasks:
            self._tasks[task.id] = task
        self.problems: list[str] = list(problems)  # tasks.toml messages (skipped tasks)

    def list(self) -> list[Task]:
        return list(self._tasks.values())

    def get(self, task_id: str) -> Task:
        task = self._tasks.get(task_id.strip().lower())
        if task is None:
            raise UnknownTask(task_id, self._tasks)
        return task

    def ids(self) -> list[str]:
        return list(self._tasks)

    def __contains__(self, task_id: object) -> bool:
        return isinstance(task_id, str) and task_id.strip().lower() in self._tasks

    def __len__(self) -> int:
        return len(self._tasks)


class TaskStream(Iterator[str]):
    """Text pieces of one task's output; ``result`` fills in as it streams. Both engines
    return it (the local one from its task contexts, the remote one from the server's
    stream); ``close()`` stops the generation."""

    def __init__(self, gen: Iterator[str], result: TaskResult) -> None:
        self._gen = gen
        self.result = result

    def __iter__(self) -> TaskStream:
        return self

    def __next__(self) -> str:
        return next(self._gen)

    @property
    def text(self) -> str:
        return self.result.text

    def consume(self) -> TaskResult:
        """Run to the end; the result."""
        for _ in self:
            pass
        return self.result

    def close(self) -> None:
        self._gen.close()  # type: ignore[attr-defined]


def parse_list(text: str) -> list[str]:
    """The strings of a JSON array; an array cut by the token limit keeps its whole items."""
    raw = text.strip()
    for candidate in (raw, raw + '"]', raw + "]", raw.rsplit(",", 1)[0] + "]"):
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, list):
            return [str(v).strip() for v in value if str(v).strip()]
    return []
