"""The main window: conversation sidebar, chat view with mood chips, timeline, input, status."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from qwen_aio.desktop.backend import Message, MoodResult, ReplyStats
from qwen_aio.desktop.chat_view import ChatView, MessageBubble, plain_label
from qwen_aio.desktop.i18n import STRINGS, Translator
from qwen_aio.desktop.icons import app_icon
from qwen_aio.desktop.store import ConversationStore
from qwen_aio.desktop.timeline import MoodTimeline
from qwen_aio.desktop.worker import EngineClient
from qwen_aio.foundation.settings import Settings

log = logging.getLogger(__name__)

LENGTHS = ("short", "normal", "long")
DEFAULT_TITLES = set(STRINGS["win.new_title"])


class InputBox(QPlainTextEdit):
    """Enter sends, Shift+Enter inserts a newline (an input method's Enter never reaches here)."""

    submitted = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                self.insertPlainText("\n")
            else:
                self.submitted.emit()
            event.accept()
            return
        super().keyPressEvent(event)


@dataclass
class _Turn:
    """The one chat turn in flight: where its results go on screen and in the store.

    A continuation has no user message: it extends the saved reply `continued_id`, whose text
    before this turn is `base_text`.
    """

    request_id: int
    conversation_id: int
    user_message_id: int | None
    user_bubble: MessageBubble | None
    reply_bubble: MessageBubble | None = None
    continued_id: int | None = None
    base_text: str = ""


class MainWindow(QMainWindow):
    """The UI thread's side of a chat turn; it only posts work to the EngineClient."""

    closed = Signal()  # the window really closed (not hidden in the tray)
    hiddenToTray = Signal()
    settingsRequested = Signal()
    moodSeen = Signal(object)  # MoodResult, for the tray icon
    moodCorrected = Signal(object)  # MoodResult with the person's label (corrected=True)
    turnFinished = Signal(int, str, object)  # request id, reply, ReplyStats (None: it failed)

    def __init__(self, settings: Settings, store: ConversationStore, client: EngineClient,
                 tr: Translator, *, tray_available: bool = False) -> None:
        super().__init__()
        self.settings = settings
        self.store = store
        self.client = client
        self.tr = tr
        self.tray_available = tray_available
        self.force_quit = False
        self.current_id: int | None = None
        self._turn: _Turn | None = None
        self.model_name = ""
        self._state_key = "state.loading"
        self._state_args: dict[str, object] = {}
        self._model_state = "none"  # "none", "loading" or "ready"
        self.setWindowIcon(app_icon())
        self.resize(980, 680)
        self._build()
        w = client.worker
        w.loaded.connect(self._on_loaded)
        w.loadFailed.connect(self._on_load_failed)
        w.moodReady.connect(self._on_mood)
        w.token.connect(self._on_token)
        w.replyDone.connect(self._on_reply_done)
        w.failed.connect(self._on_failed)
        self.chat.chipClicked.connect(self.correct_mood)
        self.chat.continueClicked.connect(self.continue_reply)
        self.retranslate(tr)
        self.reload_sidebar()
        convs = store.conversations()
        if convs:
            self.open_conversation(convs[0].id)
        self._update_controls()

    # --- layout -----------------------------------------------------------------------------

    def _build(self) -> None:
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(8, 8, 0, 8)
        self.side_title = QLabel()
        self.side_title.setStyleSheet("font-weight:bold;")
        self.sidebar = QListWidget()
        self.sidebar.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.sidebar.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.sidebar.currentItemChanged.connect(self._on_sidebar_changed)
        self.sidebar.itemDoubleClicked.connect(lambda _i: self.rename_conversation())
        self.new_button = QPushButton()
        self.new_button.clicked.connect(lambda: self.new_conversation())
        self.rename_button = QPushButton()
        self.rename_button.clicked.connect(lambda: self.rename_conversation())
        self.delete_button = QPushButton()
        self.delete_button.clicked.connect(lambda: self.delete_conversation())
        self.export_button = QPushButton()
        self.export_button.clicked.connect(lambda: self.export_conversation())
        self.settings_button = QPushButton()
        self.settings_button.clicked.connect(self.settingsRequested)
        row1 = QHBoxLayout()
        row1.addWidget(self.new_button)
        row1.addWidget(self.rename_button)
        row2 = QHBoxLayout()
        row2.addWidget(self.delete_button)
        row2.addWidget(self.export_button)
        side_layout.addWidget(self.side_title)
        side_layout.addWidget(self.sidebar, 1)
        side_layout.addLayout(row1)
        side_layout.addLayout(row2)
        side_layout.addWidget(self.settings_button)

        main = QWidget()
        main_layout = QVBoxLayout(main)
        main_layout.setContentsMargins(0, 8, 8, 8)
        self.timeline_title = QLabel()
        self.timeline_title.setStyleSheet("color:#666666;")
        self.timeline = MoodTimeline(self.tr)
        self.chat = ChatView(self.tr)
        self.state_label = plain_label("")
        self.state_label.setStyleSheet("color:#555555;")
        self.input = InputBox()
        self.input.setMaximumHeight(90)
        self.input.submitted.connect(self.send)
        self.length_label = QLabel()
        self.length_box = QComboBox()
        for name in LENGTHS:
            self.length_box.addItem(name, name)
        self.length_box.setCurrentIndex(LENGTHS.index(self.settings.reply_length)
                                        if self.settings.reply_length in LENGTHS else 1)
        self.length_box.currentIndexChanged.connect(self._on_length_changed)
        self.send_button = QPushButton()
        self.send_button.setDefault(True)
        self.send_button.clicked.connect(self.send)
        self.stop_button = QPushButton()
        self.stop_button.clicked.connect(self.stop)
        controls = QVBoxLayout()
        length_row = QHBoxLayout()
        length_row.addWidget(self.length_label)
        length_row.addWidget(self.length_box)
        controls.addLayout(length_row)
        buttons = QHBoxLayout()
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.stop_button)
        controls.addLayout(buttons)
        input_row = QHBoxLayout()
        input_row.addWidget(self.input, 1)
        input_row.addLayout(controls)
        main_layout.addWidget(self.timeline_title)
        main_layout.addWidget(self.timeline)
        main_layout.addWidget(self.chat, 1)
        main_layout.addWidget(self.state_label)
        main_layout.addLayout(input_row)

        splitter = QSplitter()
        splitter.addWidget(side)
        splitter.addWidget(main)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([230, 750])
        self.setCentralWidget(splitter)

        self.status_model = QLabel()
        self.status_mood = QLabel()
        self.status_speed = QLabel()
        bar = self.statusBar()
        bar.addWidget(self.status_model, 1)
        bar.addPermanentWidget(self.status_mood)
        bar.addPermanentWidget(self.status_speed)

        esc = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        esc.setContext(Qt.ShortcutContext.WindowShortcut)
        esc.activated.connect(self.stop)
        self.esc_shortcut = esc

    def retranslate(self, tr: Translator) -> None:
        """Set every visible string; called again when the language setting changes."""
        self.tr = tr
        self.setWindowTitle(tr("app.title"))
        self.side_title.setText(tr("win.conversations"))
        self.new_button.setText(tr("win.new"))
        self.rename_button.setText(tr("win.rename"))
        self.delete_button.setText(tr("win.delete"))
        self.export_button.setText(tr("win.export"))
        self.settings_button.setText(tr("win.settings"))
        self.timeline_title.setText(tr("win.timeline"))
        self.input.setPlaceholderText(tr("win.placeholder"))
        self.length_label.setText(tr("win.reply_length"))
        for i, name in enumerate(LENGTHS):
            self.length_box.setItemText(i, tr("len." + name))
        self.send_button.setText(tr("win.send"))
        self.stop_button.setText(tr("win.stop"))
        self.chat.retranslate(tr)
        self.timeline.retranslate(tr)
        self._set_state(self._state_key, **self._state_args)
        self._show_model_status()

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
        self._refresh_continue()

    def _refresh_continue(self) -> None:
        """Continue sits on the conversation's last message only, if that is a cut reply."""
        bubbles = self.chat.bubbles
        last = bubbles[-1] if bubbles else None
        running = self._turn.reply_bubble if self._turn is not None else None
        enabled = self.client.model_loaded and not self.client.busy
        for b in bubbles:
            b.set_can_continue(b is last and b is not running and b.role == "assistant"
                               and b.message_id is not None, enabled)

    # --- conversations ----------------------------------------------------------------------

    def reload_sidebar(self) -> None:
        self.sidebar.blockSignals(True)
        self.sidebar.clear()
        for conv in self.store.conversations():
            item = QListWidgetItem(conv.title)
            item.setData(Qt.ItemDataRole.UserRole, conv.id)
            item.setToolTip(conv.title)
            self.sidebar.addItem(item)
            if conv.id == self.current_id:
                self.sidebar.setCurrentItem(item)
        self.sidebar.blockSignals(False)

    def _on_sidebar_changed(self, item: QListWidgetItem | None, _prev: object) -> None:
        if item is not None:
            self.open_conversation(int(item.data(Qt.ItemDataRole.UserRole)))

    def new_conversation(self, title: str | None = None) -> int:
        conv = self.store.create(title or self.tr("win.new_title"))
        self.current_id = conv.id
        self.reload_sidebar()
        self.open_conversation(conv.id)
        self.input.setFocus()
        return conv.id

    def open_conversation(self, conversation_id: int) -> None:
        """Show a saved conversation with its chips; a running reply keeps saving in the store."""
        self.current_id = conversation_id
        if self._turn is not None:
            self._turn.user_bubble = self._turn.reply_bubble = None
        self.chat.clear()
        for m in self.store.messages(conversation_id):
            bubble = self.chat.add(m.role, m.content, m.id)
            if m.role == "user":
                bubble.set_mood(m.mood_label, m.mood_confidence, m.mood_corrected)
            else:
                bubble.set_stop_reason(m.stop_reason)
                if m.stop_reason == "cancelled":
                    bubble.mark_stopped()
        self._refresh_timeline()
        self._refresh_continue()
        for i in range(self.sidebar.count()):
            item = self.sidebar.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == conversation_id:
                self.sidebar.blockSignals(True)
                self.sidebar.setCurrentItem(item)
                self.sidebar.blockSignals(False)

    def rename_conversation(self, title: str | None = None) -> None:
        if self.current_id is None:
            return
        if title is None:
            conv = self.store.get(self.current_id)
            text, ok = QInputDialog.getText(self, self.tr("win.rename"),
                                            self.tr("win.rename_prompt"),
                                            text=conv.title if conv else "")
            if not ok:
                return
            title = text
        title = " ".join(title.split())
        if title:
            self.store.rename(self.current_id, title)
            self.reload_sidebar()

    def delete_conversation(self, *, confirm: bool = True) -> None:
        if self.current_id is None or self.client.busy:
            return
        conv = self.store.get(self.current_id)
        if conv is None:
            return
        if confirm:
            answer = QMessageBox.question(self, self.tr("win.delete"),
                                          self.tr("win.delete_confirm", title=conv.title))
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.store.delete(conv.id)
        self.current_id = None
        self.chat.clear()
        self._refresh_timeline()
        rest = self.store.conversations()
        self.reload_sidebar()
        if rest:
            self.open_conversation(rest[0].id)

    def export_conversation(self, path: Path | None = None) -> Path | None:
        if self.current_id is None:
            return None
        if path is None:
            conv = self.store.get(self.current_id)
            name = "".join(c if c.isalnum() or c in " -_" else "_" for c in conv.title) if conv \
                else "conversation"
            chosen, _ = QFileDialog.getSaveFileName(self, self.tr("win.export_title"),
                                                    str(Path.home() / f"{name}.md"),
                                                    "Markdown (*.md)")
            if not chosen:
                return None
            path = Path(chosen)
        try:
            path.write_text(self.store.export_markdown(self.current_id), encoding="utf-8")
        except OSError as exc:
            self._set_state("win.export_failed", error=exc.strerror or str(exc))
            return None
        self.statusBar().showMessage(self.tr("win.exported", path=str(path)), 5000)
        return path

    def _refresh_timeline(self) -> None:
        points: list[tuple[str, float]] = []
        if self.current_id is not None:
            points = [(m.mood_label, m.mood_confidence if m.mood_confidence is not None else 0.5)
                      for m in self.store.messages(self.current_id)
                      if m.role == "user" and m.mood_label]
        self.timeline.set_points(points)

    # --- a chat turn ------------------------------------------------------------------------

    def send(self) -> None:
        text = self.input.toPlainText().strip()
        if not text:
            return
        if self.client.busy:
            self._set_state("state.busy_hint")
            return
        if not self.client.model_loaded:
            return
        if self.current_id is None or self.store.get(self.current_id) is None:
            self.new_conversation()
        assert self.current_id is not None
        conv = self.store.get(self.current_id)
        history = [Message(m.role, m.content) for m in self.store.messages(self.current_id)
                   if m.content.strip()]
        if conv is not None and conv.title in DEFAULT_TITLES and not history:
            self.store.rename(conv.id, _title_from(text))
            self.reload_sidebar()
        stored = self.store.add_message(self.current_id, "user", text)
        bubble = self.chat.add("user", text, stored.id)
        self.input.clear()
        rid = self.client.send(history, text, max_tokens=self.settings.reply_limit(),
                               system_prompt=self.settings.system_prompt or None)
        self._turn = _Turn(rid, self.current_id, stored.id, bubble)
        self._set_state("state.mood")
        self._update_controls()

    def continue_reply(self, bubble: MessageBubble | None = None) -> None:
        """Write more of the open conversation's last reply, cut by the token limit."""
        if self.client.busy or not self.client.model_loaded or self.current_id is None:
            return
        messages = self.store.messages(self.current_id)
        if not messages or messages[-1].role != "assistant" \
                or messages[-1].stop_reason != "limit":
            return
        cut = messages[-1]
        target = self.chat.bubbles[-1] if self.chat.bubbles else None
        if target is None or target.message_id != cut.id or (bubble is not None
                                                              and bubble is not target):
            return
        history = [Message(m.role, m.content) for m in messages if m.content.strip()]
        rid = self.client.continue_reply(history, max_tokens=self.settings.reply_limit(),
                                         system_prompt=self.settings.system_prompt or None)
        target.set_text(cut.content)
        target.set_stop_reason(None)
        self._turn = _Turn(rid, self.current_id, None, None, target, cut.id, cut.content)
        self._set_state("state.continuing")
        self._update_controls()

    def stop(self) -> None:
        if self.client.busy:
            self.client.stop()

    # --- mood corrections -------------------------------------------------------------------

    def correct_mood(self, bubble: MessageBubble) -> None:
        """The person says the chip is wrong: flip it, save it, and teach the engine."""
        if bubble.message_id is None or bubble.mood_label not in ("Positive", "Negative"):
            return
        label = "Negative" if bubble.mood_label == "Positive" else "Positive"
        self.store.correct_mood(bubble.message_id, label)
        bubble.set_mood(label, 1.0, corrected=True)
        self._refresh_timeline()
        self.sync_corrections()
        note = "mood.corrected_note" if self.settings.mood_corrections \
            else "mood.corrected_note_off"
        self.statusBar().showMessage(self.tr(note), 8000)
        self.moodCorrected.emit(MoodResult(bubble.text, label, 1.0, 0.0, False, corrected=True))

    def sync_corrections(self) -> None:
        """Send the saved corrections (none when the setting is off) to the loaded engine."""
        if not self.client.model_loaded:
            return  # a load is on its way, and its `loaded` sends them
        pairs = self.store.corrections() if self.settings.mood_corrections else []
        self.client.set_corrections(pairs)

    @Slot(int, object)
    def _on_mood(self, rid: int, mood: MoodResult) -> None:
        turn = self._turn
        if turn is None or turn.request_id != rid:
            return
        if turn.user_message_id is not None:
            self.store.set_mood(turn.user_message_id, mood.label, mood.confidence,
                                corrected=mood.corrected)
        if turn.user_bubble is not None:
            turn.user_bubble.set_mood(mood.label, mood.confidence, mood.corrected)
        if turn.conversation_id == self.current_id:
            self._refresh_timeline()
            turn.reply_bubble = self.chat.add("assistant", "")
        self.status_mood.setText(self.tr("status.mood_cached") if mood.cached
                                 else self.tr("status.mood_latency", ms=mood.latency_ms))
        if mood.notice:
            self.statusBar().showMessage(mood.notice, 15000)
        self._set_state("state.replying")
        self.moodSeen.emit(mood)

    @Slot(int, str)
    def _on_token(self, rid: int, piece: str) -> None:
        turn = self._turn
        if turn is not None and turn.request_id == rid and turn.reply_bubble is not None:
            turn.reply_bubble.append_text(piece)

    @Slot(int, str, object)
    def _on_reply_done(self, rid: int, text: str, stats: ReplyStats) -> None:
        turn = self._turn
        if turn is None or turn.request_id != rid:
            return
        self._turn = None
        reason: str = stats.stop_reason
        if turn.continued_id is not None:
            if text or reason != "cancelled":  # stopped before any new text: nothing changed
                self.store.set_reply(turn.continued_id, turn.base_text + text, reason)
            else:
                reason = "limit"
        elif text.strip() and self.store.get(turn.conversation_id) is not None:
            stored = self.store.add_message(turn.conversation_id, "assistant", text,
                                            stop_reason=reason)
            if turn.reply_bubble is not None:
                turn.reply_bubble.message_id = stored.id
        if turn.reply_bubble is not None:
            turn.reply_bubble.set_stop_reason(reason)
        if stats.stop_reason == "cancelled":
            if turn.reply_bubble is not None and (text or turn.continued_id is None):
                turn.reply_bubble.mark_stopped()
            self._set_state("state.stopped")
        else:
            self._set_state("state.ready")
        if stats.generated_tokens and stats.decode_tps:
            self.status_speed.setText(self.tr("status.speed", tps=stats.decode_tps))
        if stats.notices:  # history trimmed or a long paste cut: say so, it changes the reply
            self.statusBar().showMessage("  ".join(stats.notices), 15000)
        self._update_controls()
        self.input.setFocus()
        self.turnFinished.emit(rid, text, stats)

    @Slot(int, str)
    def _on_failed(self, rid: int, message: str) -> None:
        turn = self._turn
        if turn is None or turn.request_id != rid:
            return
        self._turn = None
        if turn.continued_id is not None and turn.reply_bubble is not None:
            turn.reply_bubble.set_text(turn.base_text)  # nothing was saved: still cut
            turn.reply_bubble.set_stop_reason("limit")
        self._set_state("state.error", error=message)
        self._update_controls()
        self.turnFinished.emit(rid, "", None)

    def _on_length_changed(self, index: int) -> None:
        self.settings.reply_length = LENGTHS[index]
        self.settings.save()

    # --- window -----------------------------------------------------------------------------

    def detach(self) -> None:
        """The app is quitting: late results from the worker must not touch the closed store."""
        self._turn = None
        w = self.client.worker
        for signal, slot in ((w.loaded, self._on_loaded), (w.loadFailed, self._on_load_failed),
                             (w.moodReady, self._on_mood), (w.token, self._on_token),
                             (w.replyDone, self._on_reply_done), (w.failed, self._on_failed)):
            signal.disconnect(slot)

    def show_and_raise(self) -> None:
        self.show()
        self.setWindowState(self.windowState() & ~Qt.WindowState.WindowMinimized)
        self.raise_()
        self.activateWindow()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.tray_available and self.settings.close_to_tray and not self.force_quit:
            event.ignore()
            self.hide()
            self.hiddenToTray.emit()
            return
        self.stop()
        event.accept()
        self.closed.emit()


def _title_from(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= 40 else line[:39] + "…"
