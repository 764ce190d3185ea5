"""Conversation management: the sidebar list, and new / open / rename / delete / export.

Works on the window's widgets (WindowLayout) and the SQLite store; which conversation is open
(`current_id`) lives here. A store that fails to read or write is shown in the state line
(never a silent failure under "Ready.").
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QInputDialog, QListWidgetItem, QMessageBox

from qwen_aio.desktop import theme
from qwen_aio.desktop.chat_view import MessageBubble, plain_label
from qwen_aio.desktop.file_dialogs import ask_markdown_path
from qwen_aio.desktop.i18n import LANGUAGES, Translator
from qwen_aio.desktop.store import ConversationStore, StoredMessage
from qwen_aio.desktop.tasks_ui import show_task, task_named
from qwen_aio.desktop.window_layout import WindowLayout
from qwen_aio.foundation.errors import ConversationsUnavailable

# a new conversation's title, in any language
DEFAULT_TITLES = {Translator(language)("win.new_title") for language in LANGUAGES}
NOTES = {"interrupted": "chat.interrupted", "failed": "chat.failed"}  # a reply's status -> note

F = TypeVar("F", bound=Callable[..., Any])


def _shows_store_errors(method: F) -> F:
    """For the person's actions: a failing store says so in the state line instead of raising."""

    @functools.wraps(method)
    def wrapper(self: Conversations, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except ConversationsUnavailable as exc:
            self._set_state("state.store_failed", error=exc.reason)
            return None

    return wrapper  # type: ignore[return-value]


class Conversations(QObject):
    """The sidebar and the open conversation; `opened` fires after one is shown in the chat."""

    opened = Signal()

    def __init__(self, view: WindowLayout, store: ConversationStore,
                 set_state: Callable[..., None]) -> None:
        super().__init__(view)
        self.view = view
        self.store = store
        self._set_state = set_state
        self.current_id: int | None = None
        view.sidebar.currentItemChanged.connect(self._on_sidebar_changed)
        view.sidebar.itemDoubleClicked.connect(lambda _i: self.rename())

    @_shows_store_errors
    def reload_sidebar(self) -> None:
        sidebar = self.view.sidebar
        sidebar.blockSignals(True)
        sidebar.clear()
        for conv in self.store.conversations():
            item = QListWidgetItem(conv.title)
            item.setData(Qt.ItemDataRole.UserRole, conv.id)
            item.setToolTip(conv.title)
            sidebar.addItem(item)
            if conv.id == self.current_id:
                sidebar.setCurrentItem(item)
        sidebar.blockSignals(False)

    def _on_sidebar_changed(self, item: QListWidgetItem | None, _prev: object) -> None:
        if item is not None:
            self.open(int(item.data(Qt.ItemDataRole.UserRole)))

    @_shows_store_errors
    def new(self, title: str | None = None) -> int:
        return self._new(title)

    def _new(self, title: str | None = None) -> int:
        conv = self.store.create(title or self.view.tr("win.new_title"))
        self.current_id = conv.id
        self.reload_sidebar()
        self.open(conv.id)
        self.view.input.setFocus()
        return conv.id

    @_shows_store_errors
    def open(self, conversation_id: int) -> None:
        """Show a saved conversation with its chips (a running reply keeps saving in the store)."""
        self.current_id = conversation_id
        chat = self.view.chat
        chat.clear()
        messages = self.store.messages(conversation_id)
        for m in messages:
            bubble = chat.add(m.role, m.content, m.id)
            if m.task is not None:
                show_task(bubble, task_named(m.task, self.view.task_box.tasks), self.view.tr)
            if m.role == "user":
                bubble.set_mood(m.mood_label, m.mood_confidence, m.mood_corrected)
            else:
                bubble.set_stop_reason(m.stop_reason)
                if m.stop_reason == "cancelled":
                    bubble.mark_stopped()
                if m.status in NOTES:
                    _add_note(bubble, self.view.tr(NOTES[m.status]), self.view.palette())
            for notice in m.notices:
                bubble.add_notice(self.view.tr.notice(notice))
        self.refresh_timeline(messages)
        self.opened.emit()
        sidebar = self.view.sidebar
        for i in range(sidebar.count()):
            item = sidebar.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == conversation_id:
                sidebar.blockSignals(True)
                sidebar.setCurrentItem(item)
                sidebar.blockSignals(False)

    def ensure_open(self) -> int:
        """The open conversation, or a new one if none is open (or it was deleted)."""
        if self.current_id is None or self.store.get(self.current_id) is None:
            self._new()
        assert self.current_id is not None
        return self.current_id

    def title_from_first_message(self, conversation_id: int, text: str) -> None:
        """A conversation still named "New conversation" takes its first message as title."""
        conv = self.store.get(conversation_id)
        if conv is not None and conv.title in DEFAULT_TITLES \
                and not any(m.content.strip() for m in self.store.messages(conversation_id)):
            self.store.rename(conv.id, _title_from(text))
            self.reload_sidebar()

    @_shows_store_errors
    def rename(self, title: str | None = None) -> None:
        if self.current_id is None:
            return
        if title is None:
            conv = self.store.get(self.current_id)
            text, ok = QInputDialog.getText(self.view, self.view.tr("win.rename"),
                                            self.view.tr("win.rename_prompt"),
                                            text=conv.title if conv else "")
            if not ok:
                return
            title = text
        title = " ".join(title.split())
        if title:
            self.store.rename(self.current_id, title)
            self.reload_sidebar()

    @_shows_store_errors
    def delete(self, *, confirm: bool = True) -> None:
        if self.current_id is None:
            return
        conv = self.store.get(self.current_id)
        if conv is None:
            return
        if confirm:
            answer = QMessageBox.question(self.view, self.view.tr("win.delete"),
                                          self.view.tr("win.delete_confirm", title=conv.title))
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.store.delete(conv.id)
        self.current_id = None
        self.view.chat.clear()
        self.refresh_timeline()
        rest = self.store.conversations()
        self.reload_sidebar()
        if rest:
            self.open(rest[0].id)

    @_shows_store_errors
    def export(self, path: Path | None = None) -> Path | None:
        """The open conversation, with its moods, as Markdown (`path`, or one the person picks)."""
        if self.current_id is None:
            return None
        if path is None:
            conv = self.store.get(self.current_id)
            path = ask_markdown_path(self.view, self.view.tr, conv.title if conv else "")
            if path is None:
                return None
        try:
            path.write_text(self.store.export_markdown(self.current_id), encoding="utf-8")
        except OSError as exc:
            self._set_state("win.export_failed", error=exc.strerror or str(exc))
            return None
        self.view.statusBar().showMessage(self.view.tr("win.exported", path=str(path)), 5000)
        return path

    def refresh_timeline(self, messages: list[StoredMessage] | None = None) -> None:
        """The open conversation's moods (from `messages` when the caller has just read them)."""
        points: list[tuple[str, float]] = []
        texts: list[str] = []  # issue 11 (look): each point's tooltip quotes its message
        if self.current_id is not None:
            if messages is None:
                messages = self.store.messages(self.current_id)
            moods = [m for m in messages if m.role == "user" and m.mood_label]
            points = [(m.mood_label, m.mood_confidence if m.mood_confidence is not None else 0.5)
                      for m in moods]
            texts = [m.content for m in moods]
        self.view.timeline.set_points(points, texts)


def _add_note(bubble: MessageBubble, text: str, palette: QPalette) -> None:
    """A short warning-coloured line under a reply that did not end normally (e.g. a crash)."""
    note = plain_label(text)
    note.setObjectName("replyNote")
    note.setStyleSheet(f"color:{theme.css(theme.warning(palette))}; font-size:11px;")
    layout = bubble.layout()
    if layout is not None:
        layout.addWidget(note)


def _title_from(text: str) -> str:
    line = " ".join(text.strip()[:200].split())  # a 1 MB message needs only its start
    return line if len(line) <= 40 else line[:39] + "…"
