"""The main window: wires the layout to its jobs, shows the model's state, and closes.

The jobs live beside it: window_layout.py (the widgets), conversations.py (sidebar, open,
rename, delete, export), turns.py (a chat turn, from Send to the saved reply), corrections.py
(mood chip corrections). The window only posts work to the EngineClient; it never waits.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent, QKeySequence
from PySide6.QtWidgets import QMessageBox

from qwen_aio.desktop import window_state
from qwen_aio.desktop.backend import Message, MoodResult
from qwen_aio.desktop.chat_view import MessageBubble
from qwen_aio.desktop.conversations import Conversations
from qwen_aio.desktop.corrections import Corrections
from qwen_aio.desktop.i18n import Translator
from qwen_aio.desktop.search import Revealer, SearchPanel
from qwen_aio.desktop.store import ConversationStore
from qwen_aio.desktop.turns import Turns
from qwen_aio.desktop.typing_ahead import TypingAhead
from qwen_aio.desktop.window_layout import LENGTHS, WindowLayout
from qwen_aio.desktop.worker import EngineClient
from qwen_aio.engine.types import EMOJI
from qwen_aio.foundation import __version__
from qwen_aio.foundation.settings import Settings

log = logging.getLogger(__name__)


class MainWindow(WindowLayout):
    """The UI thread's window: model state, controls, and the hand-off to its jobs."""

    closed = Signal()  # the window really closed (not hidden in the tray)
    hiddenToTray = Signal()
    settingsRequested = Signal()
    moodSeen = Signal(object)  # MoodResult, for the tray icon
    moodCorrected = Signal(object)  # MoodResult with the person's label (corrected=True)
    turnFinished = Signal(int, str, object)  # request id, reply, ReplyStats (None: it failed)

    def __init__(self, settings: Settings, store: ConversationStore, client: EngineClient,
                 tr: Translator, *, tray_available: bool = False) -> None:
        super().__init__(tr, settings.reply_length)
        self.settings = settings
        self.store = store
        self.client = client
        self.tray_available = tray_available
        self.force_quit = False
        self.model_name = ""
        self._state_key = "state.loading"
        self._state_args: dict[str, object] = {}
        self._model_state = "none"  # "none", "loading" or "ready"
        self.conversations = Conversations(self, store, self._set_state)
        self.turns = Turns(self, store, client, settings, self.conversations,
                           set_state=self._set_state, update_controls=self._update_controls)
        self.corrections = Corrections(self, store, client, settings, self.conversations)
        self.typing = TypingAhead(self.input.toPlainText, self.input.textChanged, client,
                                  settings, self._draft_history, self)
        self._build_search()
        self._connect()
        self._connect_menus()
        self.retranslate(tr)
        self.conversations.reload_sidebar()
        self._restore_window_state()
        self._update_controls()

    def _connect(self) -> None:
        self.new_button.clicked.connect(lambda: self.new_conversation())
        self.rename_button.clicked.connect(lambda: self.rename_conversation())
        self.delete_button.clicked.connect(lambda: self.delete_conversation())
        self.export_button.clicked.connect(lambda: self.export_conversation())
        self.settings_button.clicked.connect(self.settingsRequested)
        self.input.submitted.connect(self.send)
        self.send_button.clicked.connect(self.send)
        self.stop_button.clicked.connect(self.stop)
        self.length_box.currentIndexChanged.connect(self._on_length_changed)
        self.chat.chipClicked.connect(self.correct_mood)
        self.chat.continueClicked.connect(self.continue_reply)
        self.turns.moodSeen.connect(self.moodSeen)
        self.turns.turnFinished.connect(self.turnFinished)
        self.corrections.moodCorrected.connect(self.moodCorrected)
        self.typing.draftMood.connect(self._show_draft_mood)
        w = self.client.worker
        w.loaded.connect(self._on_loaded)
        w.loadFailed.connect(self._on_load_failed)

    def retranslate(self, tr: Translator) -> None:
        """Set every visible string; called again when the language setting changes."""
        self.retranslate_layout(tr)
        self.search.retranslate(tr)
        self._set_state(self._state_key, **self._state_args)
        self._show_model_status()

    # --- what the person can do (buttons, keys, the app and the tests call these) -----------

    @property
    def current_id(self) -> int | None:
        return self.conversations.current_id

    def send(self) -> None:
        self.turns.send()

    def continue_reply(self, bubble: MessageBubble | None = None) -> None:
        self.turns.continue_reply(bubble)

    def stop(self) -> None:
        self.turns.stop()

    def new_conversation(self, title: str | None = None) -> int:
        return self.conversations.new(title)

    def open_conversation(self, conversation_id: int) -> None:
        self.conversations.open(conversation_id)

    def rename_conversation(self, title: str | None = None) -> None:
        self.conversations.rename(title)

    def delete_conversation(self, *, confirm: bool = True) -> None:
        if not self.client.busy:  # its reply is still being saved
            self.conversations.delete(confirm=confirm)

    def export_conversation(self, path: Path | None = None) -> Path | None:
        return self.conversations.export(path)

    def correct_mood(self, bubble: MessageBubble) -> None:
        self.corrections.correct(bubble)

    def sync_corrections(self) -> None:
        self.corrections.sync()

    def _draft_history(self) -> list[Message]:
        """The open conversation as the next turn will send it."""
        return self.turns.history(self.current_id)

    @Slot(object)
    def _show_draft_mood(self, mood: MoodResult | None) -> None:
        if mood is None:
            self.draft_mood.clear()
            self.draft_mood.setToolTip("")
            return
        self.draft_mood.setText(EMOJI.get(mood.label, ""))
        self.draft_mood.setToolTip(self.tr("draft.tip", label=self.tr.mood_chip(
            mood.label, mood.confidence, mood.corrected)))

    def _on_length_changed(self, index: int) -> None:
        self.settings.reply_length = LENGTHS[index]
        self.settings.save()

    # --- model status -----------------------------------------------------------------------

    def set_model_loading(self, title: str) -> None:
        self.model_name = title
        self._model_state = "loading"
        self._show_model_status()
        self._set_state("state.loading")
        self._update_controls()

    def set_no_model(self) -> None:
        self.model_name = ""
        self._model_state = "none"
        self._show_model_status()
        self._set_state("state.no_model")
        self._update_controls()

    def _show_model_status(self) -> None:
        state = self._model_state
        if state == "loading":
            self.status_model.setText(self.tr("status.model_loading", name=self.model_name))
        elif state == "ready":
            self.status_model.setText(self.tr("status.model", name=self.model_name))
        else:
            self.status_model.setText(self.tr("status.model_none"))

    @Slot(str)
    def _on_loaded(self, name: str) -> None:
        self.model_name = name
        self._model_state = "ready"
        self._show_model_status()
        self._set_state("state.ready")
        self._update_controls()
        self.sync_corrections()

    @Slot(str)
    def _on_load_failed(self, message: str) -> None:
        self.show_load_failed(message)

    def show_load_failed(self, message: str) -> None:
        self._model_state = "none"
        self._show_model_status()
        self._set_state("state.load_failed", error=message)
        self._update_controls()

    def _set_state(self, key: str, **kwargs: object) -> None:
        self._state_key, self._state_args = key, kwargs
        self.state_label.setText(self.tr(key, **kwargs))

    def _update_controls(self) -> None:
        busy = self.client.busy
        self.send_button.setEnabled(self.client.model_loaded and not busy)
        self.stop_button.setEnabled(busy)
        self.delete_button.setEnabled(not busy)
        self.act_delete.setEnabled(not busy)
        self.turns.refresh_continue()

    # --- window -----------------------------------------------------------------------------

    def detach(self) -> None:
        """The app is quitting: late results from the worker must not touch the closed store."""
        self.save_window_state()
        self.typing.detach()  # a pending keystroke timer would read the closed store
        self.turns.detach()
        w = self.client.worker
        w.loaded.disconnect(self._on_loaded)
        w.loadFailed.disconnect(self._on_load_failed)

    def show_and_raise(self) -> None:
        self.show()
        self.setWindowState(self.windowState() & ~Qt.WindowState.WindowMinimized)
        self.raise_()
        self.activateWindow()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_window_state()
        if self.tray_available and self.settings.close_to_tray and not self.force_quit:
            event.ignore()
            self.hide()
            self.hiddenToTray.emit()
            return
        self.stop()
        event.accept()
        self.closed.emit()

    # --- search, menus, window state (issue 11) -----------------------------------------------

    def _build_search(self) -> None:
        """The Ctrl+F panel above the conversation list, and the chat's reveal-and-outline."""
        self.search = SearchPanel(self.store, self.tr, self)
        self.side_layout.insertWidget(1, self.search, 2)  # results get more room than the list
        self.revealer = Revealer(self.chat)
        self.search.chosen.connect(self.open_search_hit)
        self.search.closed.connect(lambda: self.sidebar.setFocus())

    def _connect_menus(self) -> None:
        self.act_new.triggered.connect(lambda: self.new_conversation())
        self.act_rename.triggered.connect(lambda: self.rename_conversation())
        self.act_delete.triggered.connect(lambda: self.delete_conversation())
        self.act_export.triggered.connect(lambda: self.export_conversation())
        self.act_settings.triggered.connect(self.settingsRequested)
        self.act_quit.triggered.connect(self.quit_app)
        self.act_find.triggered.connect(self.find)
        self.act_send.triggered.connect(self.send)
        self.act_stop.triggered.connect(self.stop)
        self.act_show_list.toggled.connect(self.sidebar.parentWidget().setVisible)
        self.act_show_timeline.toggled.connect(self._show_timeline)
        self.act_keys.triggered.connect(lambda: self.show_shortcuts())
        self.act_about.triggered.connect(lambda: self.show_about())

    def find(self) -> None:
        """Ctrl+F: the search sits above the conversation list, so the list is shown too."""
        self.act_show_list.setChecked(True)
        self.search.open_search()

    def _show_timeline(self, shown: bool) -> None:
        self.timeline.setVisible(shown)
        self.timeline_title.setVisible(shown)

    def open_search_hit(self, conversation_id: int, message_id: int) -> None:
        """A search result: open its conversation, scroll to the message and outline it."""
        if self.store.get(conversation_id) is None:  # deleted since the search ran
            self.search.run()
            return
        if conversation_id != self.current_id or not any(
                b.message_id == message_id for b in self.chat.bubbles):
            self.open_conversation(conversation_id)
        bubble = next((b for b in self.chat.bubbles if b.message_id == message_id), None)
        if bubble is not None:
            self.revealer.reveal(bubble)

    def quit_app(self) -> None:
        """Ctrl+Q: quit even when closing the window would only hide it in the tray."""
        self.force_quit = True
        self.close()

    def shortcut_rows(self) -> list[tuple[str, str]]:
        """(what, keys) for the Keyboard shortcuts window: the menus' keys and the input's."""
        native = QKeySequence.SequenceFormat.NativeText
        rows = [(a.text().replace("&", "").rstrip("…"), self.shortcut_text(a))
                for a in (self.act_new, self.act_find, self.act_rename, self.act_export,
                          self.act_settings, self.act_quit, self.act_send, self.act_stop,
                          self.act_keys)]
        rows.insert(3, (self.tr("keys.delete"), self.shortcut_text(self.act_delete)))
        enter = QKeySequence(Qt.Key.Key_Return).toString(native)
        rows[7] = (rows[7][0], f"{enter} / {rows[7][1]}")  # Send: Enter in the input, or this
        rows += [(self.tr("keys.newline"), QKeySequence("Shift+Return").toString(native)),
                 (self.tr("keys.search_esc"), QKeySequence("Esc").toString(native))]
        return [(what, keys) for what, keys in rows if keys]

    def show_shortcuts(self) -> QMessageBox:
        rows = "".join(f"<tr><td>{_html(what)}</td><td>&nbsp;&nbsp;<b>{_html(keys)}</b></td></tr>"
                       for what, keys in self.shortcut_rows())
        box = QMessageBox(QMessageBox.Icon.NoIcon, self.tr("menu.keys"),
                          f"<table>{rows}</table>", QMessageBox.StandardButton.Close, self)
        box.setObjectName("shortcutsBox")
        box.setTextFormat(Qt.TextFormat.RichText)
        box.open()
        return box

    def show_about(self) -> QMessageBox:
        box = QMessageBox(QMessageBox.Icon.NoIcon, self.tr("menu.about"),
                          self.tr("about.text", version=__version__),
                          QMessageBox.StandardButton.Close, self)
        box.setObjectName("aboutBox")
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setIconPixmap(self.windowIcon().pixmap(64, 64))
        box.open()
        return box

    def save_window_state(self) -> None:
        window_state.save_layout(self, self.splitter, conversation=self.current_id, shown={
            "list": self.act_show_list.isChecked(),
            "timeline": self.act_show_timeline.isChecked()})

    def _restore_window_state(self) -> None:
        """Size, splitter and panels as they were; the conversation that was open, if it still
        exists, else the most recent one."""
        window_state.restore_layout(self, self.splitter)
        self.act_show_list.setChecked(window_state.saved_shown("list"))
        self.act_show_timeline.setChecked(window_state.saved_shown("timeline"))
        convs = self.store.conversations()
        remembered = window_state.saved_conversation()
        ids = [c.id for c in convs]
        if remembered in ids:
            self.open_conversation(remembered)
            # The sidebar scrolls to it once it has its size.
            QTimer.singleShot(0, lambda: self.sidebar.scrollToItem(self.sidebar.currentItem()))
        elif convs:
            self.open_conversation(convs[0].id)


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
