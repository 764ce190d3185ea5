"""The window's side of the engine's tasks (summary, keywords, fix, translate, the person's own):
which one the next message goes to, from the picker beside the reply length or a slash command.

`/summary text`, `/keywords text`, `/fix text`, `/translate text` (`/translate en text` or
`/translate zh text` choose the language) run that task on the text (`//` sends a leading
slash as it is); the picker applies to the
next message only and goes back to Chat after it is sent, so a conversation never becomes a
string of summaries by accident. The mood pass labels the person's words either way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from PySide6.QtWidgets import QComboBox

from qwen_aio.desktop.backend import TaskInfo
from qwen_aio.desktop.chat_view import MessageBubble
from qwen_aio.desktop.i18n import Translator

_COMMAND = re.compile(r"^/([A-Za-z][\w-]*)(?=\s|$)\s*")
_TARGET = re.compile(r"^(en|zh)\s+", re.IGNORECASE)
TARGETS = ("en", "zh")


@dataclass(frozen=True)
class Request:
    """What Send does with the input: chat (task None) or one task on ``text``."""

    text: str
    task: TaskInfo | None = None
    target: str | None = None  # translate: "en" / "zh" (None: the other language)
    unknown: str | None = None  # a slash command that names no task: nothing is sent


def parse(text: str, tasks: list[TaskInfo], chosen: TaskInfo | None = None) -> Request:
    """The input as a request; a slash command wins over the picker's ``chosen`` task."""
    if text.startswith("//"):  # "//text": the text as it is, with one slash
        return Request(text[1:], chosen)
    m = _COMMAND.match(text)
    if m is None:
        return Request(text, chosen)
    name = m.group(1).lower()
    task = next((t for t in tasks if t.id.lower() == name), None)
    if task is None:
        return Request(text, unknown=name)
    rest = text[m.end():]
    target = None
    if task.id == "translate":
        t = _TARGET.match(rest)
        if t is not None:
            target, rest = t.group(1).lower(), rest[t.end():]
    return Request(rest.strip(), task, target)


def show_task(bubble: MessageBubble, task: TaskInfo, tr: Translator) -> None:
    """Head a message with its task: the person's text "→ Summary", the result "Summary"
    (a structured result, keywords, as chips)."""
    name = task.name(tr.language)
    if bubble.role == "user":
        bubble.set_task(task.id, tr("task.asked", task=name))
    else:
        bubble.set_task(task.id, name, structured=task.structured)


def task_named(task_id: str, tasks: list[TaskInfo]) -> TaskInfo:
    """The task with this id, or a stand-in named by its id (a task no longer offered: its
    saved messages still say what they were)."""
    known = next((t for t in tasks if t.id == task_id), None)
    return known or TaskInfo(task_id, task_id, task_id, structured=task_id == "keywords")


class TaskPicker(QComboBox):
    """Chat (the default) or one of the engine's tasks, for the next message."""

    def __init__(self, tr: Translator) -> None:
        super().__init__()
        self.setObjectName("taskBox")
        self._tr = tr
        self._tasks: list[TaskInfo] = []
        self.set_tasks([])

    def set_tasks(self, tasks: list[TaskInfo]) -> None:
        keep = self.chosen()
        self._tasks = list(tasks)
        self.blockSignals(True)
        self.clear()
        self.addItem(self._tr("task.chat"), None)
        for t in self._tasks:
            self.addItem(t.name(self._tr.language), t.id)
        self.blockSignals(False)
        self.choose(keep.id if keep is not None else None)
        self.setEnabled(bool(self._tasks))
        self.setToolTip(self._tr("task.picker_tip", commands=self.commands()))

    @property
    def tasks(self) -> list[TaskInfo]:
        return list(self._tasks)

    def chosen(self) -> TaskInfo | None:
        task_id = self.currentData()
        return next((t for t in getattr(self, "_tasks", []) if t.id == task_id), None)

    def choose(self, task_id: str | None) -> None:
        i = self.findData(task_id) if task_id is not None else 0
        self.setCurrentIndex(max(i, 0))

    def commands(self) -> str:
        return ", ".join(f"/{t.id}" for t in self._tasks)

    def retranslate(self, tr: Translator) -> None:
        self._tr = tr
        self.set_tasks(self._tasks)
