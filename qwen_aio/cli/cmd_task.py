"""`qwen-aio task`: run one task (summary, keywords, fix, translate, mood or the person's own)
on texts, or `task list`.

Exit codes: 0 when every input got its output, 1 when some input failed (empty, stopped; the
others still ran), 2 for bad usage, an unknown task or no model.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qwen_aio.cli.common import (
    EXIT_OK,
    EXIT_UNAVAILABLE,
    err,
    input_lines,
    json_line,
    open_any_engine,
    terminal_text,
)
from qwen_aio.engine.tasks import Task, TaskRegistry, resolve_target
from qwen_aio.engine.tasks_file import load_task_registry
from qwen_aio.foundation import paths
from qwen_aio.foundation.errors import QwenAioError

if TYPE_CHECKING:
    from qwen_aio.engine.api import EngineAPI

EXIT_SOME_FAILED = 1


class _Intermixed(argparse.ArgumentParser):
    """Options after the texts too (`task translate "..." --to en`): argparse's own parser
    stops at the first option after the positionals."""

    _inside = False

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        if self._inside:
            return super().parse_known_args(args, namespace)
        self._inside = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._inside = False


def configure(p: argparse.ArgumentParser) -> None:
    p.__class__ = _Intermixed
    p.add_argument("name", metavar="NAME", help="the task's id (see `qwen-aio task list`), "
                   "or `list`")
    p.add_argument("text", nargs="*", help="texts to work on (one output each)")
    p.add_argument("--file", metavar="PATH", help="one input a line (or the whole file with "
                   "--whole); - for standard input")
    p.add_argument("--whole", action="store_true", help="with --file: the whole file is one "
                   "input")
    p.add_argument("--json", action="store_true", help="one JSON object per input, a line each")
    p.add_argument("--to", metavar="en|zh", default=None,
                   help="translate: the language to translate into (default: the other one)")


def _registry() -> TaskRegistry:
    """The tasks without loading the model (grammars are checked when the model loads, or
    by the server when a task runs there)."""
    return load_task_registry(paths.tasks_file())


def _list(registry: TaskRegistry, as_json: bool) -> int:
    for task in registry.list():
        if as_json:
            print(json_line(_task_row(task)))
        else:
            mark = "" if task.builtin else f"  [{task.source}]"
            desc = f": {task.description}" if task.description else ""
            print(f"{task.id:<12} {task.name_en} / {task.name_zh}{desc}{mark}")
    return EXIT_OK


def _task_row(task: Task) -> dict[str, Any]:
    return {"id": task.id, "name_en": task.name_en, "name_zh": task.name_zh,
            "description": task.description, "structured": task.structured,
            "builtin": task.builtin, "source": task.source}


def _inputs(args: argparse.Namespace) -> Iterable[str]:
    if args.file is not None and args.whole:
        if args.file == "-":
            yield io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace").read()
        else:
            yield Path(args.file).read_text(encoding="utf-8", errors="replace")
        return
    yield from input_lines(args)


def run(args: argparse.Namespace) -> int:
    registry = _registry()  # the engine reads the file again: its grammars need the model
    for problem in registry.problems:
        err(f"Note: {problem}")
    if args.name == "list":
        return _list(registry, args.json)
    task = registry.get(args.name)  # unknown: a QwenAioError, exit 2 with its message
    if args.file is None and not args.text:
        err(f"Give the text, e.g. `qwen-aio task {task.id} \"...\"`, or --file PATH "
            "(- for standard input).")
        return EXIT_UNAVAILABLE
    if args.whole and args.file is None:
        err("--whole goes with --file PATH.")
        return EXIT_UNAVAILABLE
    if args.file not in (None, "-") and not Path(args.file).is_file():
        err(f"No such file: {args.file}")
        return EXIT_UNAVAILABLE
    if args.to is not None:
        if not task.uses_target:
            err(f"--to is for translate; the task {task.id} has no target language.")
            return EXIT_UNAVAILABLE
        resolve_target("", args.to)  # a bad target: its message, exit 2, before the load
    engine, _ = open_any_engine(args, tasks_file=paths.tasks_file())  # --backend: a server
    failed = 0
    try:
        for problem in engine.tasks.problems:
            if problem not in registry.problems:  # found with the model: a grammar
                err(f"Note: {problem}")
        engine.tasks.get(task.id)  # skipped for a bad grammar: exit 2 with its message
        stream_out = sys.stdout.isatty() and not args.json
        for text in _inputs(args):
            failed += not _one(engine, task.id, text, args, stream_out)
    finally:
        engine.close()
    return EXIT_SOME_FAILED if failed else EXIT_OK


def _one(engine: EngineAPI, task_id: str, text: str, args: argparse.Namespace,
         stream_out: bool) -> bool:
    """Run the task on one input and print its output; False when it failed."""
    try:
        stream = engine.run_task(task_id, text, target=args.to)
        for piece in stream:
            if stream_out:
                print(terminal_text(piece), end="", flush=True)
        r = stream.result
    except QwenAioError as exc:  # one bad input must not stop a file run
        if args.json:
            print(json_line({"task": task_id, "input": text, "output": None, "error": str(exc)}),
                  flush=True)
        else:
            err(f"⚠️  {exc}  ({text[:60]!r})")
        return False
    if args.json:
        row: dict[str, Any] = {
            "task": r.task, "input": text, "output": r.text.strip(), "items": r.items,
            "stop_reason": r.stop_reason, "notices": r.notices,
            "prompt_tokens": r.prompt_tokens, "evaluated_tokens": r.evaluated_tokens,
            "generated_tokens": r.generated_tokens, "ttft_ms": round(r.ttft_ms, 1),
            "decode_tps": round(r.decode_tps, 1)}
        if r.target is not None:
            row["target"] = r.target
        print(json_line(row), flush=True)
    else:
        if stream_out:
            print(flush=True)
        else:
            print(terminal_text(r.text.strip()), flush=True)
        for notice in r.notices:
            err(f"Note: {notice}")
    return r.stop_reason != "cancelled"
