"""tasks.toml: tasks a person adds, or built-in tasks they change, read once at start.

Every problem becomes a message naming the file and line, and only that task is skipped: the
built-in tasks always work. Grammars are checked by the engine (that needs the model's
vocabulary), with the line found here.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, from PyPI
    import tomli as tomllib

from qwen_aio.engine.tasks import (
    BUILTIN_TASKS,
    MOOD_TASK,
    Prompt,
    Task,
    TaskGrammarInvalid,
    TaskRegistry,
)

log = logging.getLogger(__name__)

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
# A JSON array of at most 16 strings: the grammar of a task with output = "list" and none of
# its own.
LIST_GRAMMAR = r'''root ::= "[" item ("," " "? item){0,15} "]"
item ::= "\"" char{1,80} "\""
char ::= [^"\\\x00-\x1F]
'''
MAX_TOKENS_LIMIT = 2048
MAX_TEXT = 8000  # characters of a system prompt or an example
KEYS = {"name", "name_en", "name_zh", "description", "system", "examples", "system_en",
        "examples_en", "system_zh", "examples_zh", "max_tokens", "tokens_per_input",
        "extra_tokens", "grammar", "temperature", "output", "max_sentences"}

_HEADER = re.compile(r"^\s*\[\s*tasks\s*\.\s*(?:\"([^\"]*)\"|'([^']*)'|([A-Za-z0-9_-]+))\s*\]")
_KEY = re.compile(r"^\s*(?:\"([^\"]*)\"|([A-Za-z0-9_-]+))\s*=")


class TaskFileProblem(ValueError):
    """One field of one task is wrong: the message names the file and line."""


@dataclass
class TasksFile:
    """What tasks.toml gave: tasks to add or replace, messages, and where each key is."""

    path: Path | None = None
    tasks: list[Task] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    lines: dict[tuple[str, str], int] = field(default_factory=dict)  # (task, key) -> line

    def where(self, task_id: str, key: str = "") -> str:
        line = self.lines.get((task_id, key)) or self.lines.get((task_id, ""), 0)
        return f"{self.path}:{line}" if line else str(self.path)


def _find_lines(text: str) -> dict[tuple[str, str], int]:
    """The line of each [tasks.ID] header and of each key under it (tomllib gives none)."""
    lines: dict[tuple[str, str], int] = {}
    current: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("["):
            m = _HEADER.match(line)
            current = next((g for g in m.groups() if g is not None), None) if m else None
            if current is not None:
                lines.setdefault((current, ""), number)
            continue
        m = _KEY.match(line)
        if m and current is not None:
            lines.setdefault((current, m.group(1) or m.group(2)), number)
    return lines


def load_tasks_file(path: Path | None) -> TasksFile:
    """Read and check ``path`` (a missing file is no problem: there are no user tasks)."""
    out = TasksFile(path)
    if path is None:
        return out
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return out
    except (OSError, UnicodeDecodeError) as exc:
        out.problems.append(f"{path}: cannot be read ({exc}); only the built-in tasks are "
                            "available.")
        return out
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        where = f"{path}:{m.group(1)}" if m else str(path)
        out.problems.append(f"{where}: not valid TOML ({exc}); only the built-in tasks are "
                            "available.")
        return out
    out.lines = _find_lines(text)
    for key in data:
        if key != "tasks":
            out.problems.append(f"{path}: unknown top-level key {key!r} ignored; tasks go "
                                "in [tasks.ID] tables.")
    tables = data.get("tasks", {})
    if not isinstance(tables, dict):
        out.problems.append(f"{path}: `tasks` must be a table of [tasks.ID] tables.")
        return out
    builtin = {t.id: t for t in BUILTIN_TASKS}
    for task_id, table in tables.items():
        try:
            out.tasks.append(_task(task_id, table, builtin.get(task_id), out))
        except TaskFileProblem as exc:
            out.problems.append(str(exc))
    return out


def load_task_registry(path: Path | None,
                       check_grammar: Callable[[str], str | None] | None = None
                       ) -> TaskRegistry:
    """The built-in tasks, then tasks.toml's (added, or in the built-in's place); every
    problem is in ``problems`` and skips only its task.

    ``check_grammar`` (a grammar -> why it is unusable, or None) checks each grammar of the
    file that is new: the local engine passes llama.cpp's parser (it needs the model's
    vocabulary). Without it grammars are taken as written: the remote engine's server checks
    them when the task runs, and the CLI's listing has no model at all.
    """
    loaded = load_tasks_file(path)
    tasks = {t.id: t for t in BUILTIN_TASKS}
    problems = list(loaded.problems)
    for problem in loaded.problems:  # the caller shows them (registry.problems)
        log.info("%s", problem)
    for task in loaded.tasks:
        base = tasks.get(task.id)
        if check_grammar is not None and task.grammar \
                and (base is None or task.grammar != base.grammar) \
                and (why := check_grammar(task.grammar)):
            problem = str(TaskGrammarInvalid(loaded.where(task.id, "grammar"), task.id, why))
            log.info("%s", problem)
            problems.append(problem)
            continue
        tasks[task.id] = task
    if path is not None and loaded.tasks:
        log.info("Tasks from %s: %s", path, ", ".join(t.id for t in loaded.tasks))
    return TaskRegistry(tasks.values(), problems)


def _task(task_id: str, table: Any, base: Task | None, out: TasksFile) -> Task:
    def bad(key: str, what: str) -> TaskFileProblem:
        return TaskFileProblem(f"{out.where(task_id, key)}: task {task_id!r}: {what}; the task "
                               "is skipped.")

    if not ID_PATTERN.match(task_id):
        raise bad("", "the id must be lowercase letters, digits, - or _, starting with a "
                  "letter (at most 32)")
    if task_id == "list":
        raise bad("", "`list` is taken (`qwen-aio task list`); choose another id")
    if task_id == MOOD_TASK:
        raise bad("", "the mood pass cannot be changed here (its prompt is the app's own)")
    if not isinstance(table, dict):
        raise bad("", "must be a table: [tasks.ID] with keys under it")
    for key in table:
        if key not in KEYS:
            raise bad(key, f"unknown key {key!r} (known: {', '.join(sorted(KEYS))})")

    def text(key: str, *, limit: int = MAX_TEXT) -> str | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise bad(key, f"{key} must be a non-empty string")
        if len(value) > limit:
            raise bad(key, f"{key} is longer than {limit} characters")
        return value.strip()

    def number(key: str, kind: type, lo: float, hi: float) -> Any:
        value = table.get(key)
        if value is None:
            return None
        ok = isinstance(value, (int, float) if kind is float else int)
        if not ok or isinstance(value, bool) or not lo <= value <= hi:
            what = "a whole number" if kind is int else "a number"
            raise bad(key, f"{key} must be {what} from {lo:g} to {hi:g}, not {value!r}")
        return kind(value)

    def examples(key: str) -> tuple[tuple[str, str], ...] | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(
                isinstance(p, list) and len(p) == 2 and all(isinstance(s, str) and s.strip()
                                                            for s in p) for p in value):
            raise bad(key, f'{key} must be a list of ["input", "output"] pairs of strings')
        if sum(len(a) + len(b) for a, b in value) > MAX_TEXT:
            raise bad(key, f"{key} is longer than {MAX_TEXT} characters in all")
        return tuple((a, b) for a, b in value)

    name = text("name", limit=40)
    name_en = text("name_en", limit=40) or name
    name_zh = text("name_zh", limit=40) or name
    system, system_en, system_zh = text("system"), text("system_en"), text("system_zh")
    ex, ex_en, ex_zh = examples("examples"), examples("examples_en"), examples("examples_zh")
    max_tokens = number("max_tokens", int, 1, MAX_TOKENS_LIMIT)
    per_input = number("tokens_per_input", float, 0, 8)
    extra = number("extra_tokens", int, 0, 512)
    temperature = number("temperature", float, 0, 2)
    sentences = number("max_sentences", int, 0, 50)
    grammar = text("grammar", limit=20_000)
    output = table.get("output")
    if output is not None and output not in ("text", "list"):
        raise bad("output", f'output must be "text" or "list", not {output!r}')
    if base is None and system is None and system_en is None and system_zh is None:
        raise bad("", "a new task needs a system prompt (system = \"...\")")

    changes: dict[str, Any] = {"source": out.where(task_id)}
    if name_en or base is None:
        changes["name_en"] = name_en or task_id
    if name_zh or base is None:
        changes["name_zh"] = name_zh or name_en or task_id
    if (desc := text("description", limit=200)) is not None:
        changes["description"] = desc
    for key, value in (("max_tokens", max_tokens), ("tokens_per_input", per_input),
                       ("extra_tokens", extra), ("temperature", temperature),
                       ("max_sentences", sentences)):
        if value is not None:
            changes[key] = value
    if output is not None:
        changes["structured"] = output == "list"
        if output == "list" and grammar is None and (base is None or base.grammar is None):
            grammar = LIST_GRAMMAR
        if output == "text" and grammar is None:
            changes["grammar"] = None
    if grammar is not None:
        changes["grammar"] = grammar + ("\n" if not grammar.endswith("\n") else "")
    variants = dict(base.variants) if base is not None else {}
    if system is not None or ex is not None:
        old = base.prompt if base is not None else Prompt("")
        changes["prompt"] = Prompt(system or old.system, ex if ex is not None else old.examples)
        if base is not None and base.choose_by == "input":
            variants = {}  # one prompt of the person's own replaces the language variants
        elif base is not None:  # translate: its own prompt for both directions
            variants = {}
    for lang, sys_, exs in (("en", system_en, ex_en), ("zh", system_zh, ex_zh)):
        if sys_ is not None or exs is not None:
            old = variants.get(lang) or changes.get("prompt") or (
                base.prompt if base is not None else Prompt(""))
            if not (sys_ or old.system):
                raise bad(f"examples_{lang}", f"examples_{lang} needs system_{lang}")
            variants[lang] = Prompt(sys_ or old.system, exs if exs is not None else old.examples)
    changes["variants"] = variants
    if base is None:
        prompt = changes.get("prompt") or variants.get("en") or variants["zh"]
        changes["prompt"] = prompt
        return Task(id=task_id, **changes)
    return replace(base, **changes)
