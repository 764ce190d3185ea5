"""The main window's widgets and where they sit; no behaviour (main_window.py wires it up).

Sidebar (conversations and their buttons) | timeline, chat, state line, input with the reply
length and Send/Stop; the status bar shows the model, the last mood latency and reply speed.
"""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from qwen_aio.desktop.chat_view import ChatView, plain_label
from qwen_aio.desktop.i18n import Translator
from qwen_aio.desktop.icons import app_icon
from qwen_aio.desktop.long_text import FullTextDialog, size_of
from qwen_aio.desktop.timeline import MoodTimeline

LENGTHS = ("short", "normal", "long")
# A longer paste is held beside the box instead of in it: QPlainTextEdit wraps a long line in
# time that grows with the square of its length (1 MB without spaces: over a minute).
PASTE_HELD_CHARS = 20_000


class InputBox(QPlainTextEdit):
    """Enter sends, Shift+Enter inserts a newline (an input method's Enter never reaches here).

    A huge paste (or drop) is held as `pasted` and sent after what is typed, as chat apps
    attach a long paste instead of laying it out in the input.
    """

    submitted = Signal()
    pastedChanged = Signal(str)  # the held text ("" when there is none)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pasted = ""

    def insertFromMimeData(self, source: QMimeData) -> None:
        text = source.text() if source.hasText() else ""
        if len(text) <= PASTE_HELD_CHARS:
            super().insertFromMimeData(source)
            return
        self.set_pasted(f"{self.pasted}\n\n{text}" if self.pasted else text)

    def set_pasted(self, text: str) -> None:
        self.pasted = text
        self.pastedChanged.emit(text)

    def message(self) -> str:
        """What Send sends: the typed text, then the held paste."""
        typed = self.toPlainText().strip()
        held = self.pasted.strip()
        return f"{typed}\n\n{held}" if typed and held else typed or held

    def clear_message(self) -> None:
        self.clear()
        self.set_pasted("")

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                self.insertPlainText("\n")
            else:
                self.submitted.emit()
            event.accept()
            return
        super().keyPressEvent(event)


class WindowLayout(QMainWindow):
    """Builds every widget of the main window as an attribute, and sets their fixed texts."""

    def __init__(self, tr: Translator, reply_length: str) -> None:
        super().__init__()
        self.tr = tr
        self.setWindowIcon(app_icon())
        self.resize(980, 680)
        splitter = QSplitter()
        splitter.addWidget(self._build_sidebar())
        splitter.addWidget(self._build_main(reply_length))
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

        self.esc_shortcut = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        self.esc_shortcut.setContext(Qt.ShortcutContext.WindowShortcut)

    def _build_sidebar(self) -> QWidget:
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(8, 8, 0, 8)
        self.side_title = QLabel()
        self.side_title.setStyleSheet("font-weight:bold;")
        self.sidebar = QListWidget()
        self.sidebar.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.sidebar.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.new_button = QPushButton()
        self.rename_button = QPushButton()
        self.delete_button = QPushButton()
        self.export_button = QPushButton()
        self.settings_button = QPushButton()
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
        return side

    def _build_main(self, reply_length: str) -> QWidget:
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
        self.pasted_bar = self._build_pasted_bar()
        self.length_label = QLabel()
        self.length_box = QComboBox()
        for name in LENGTHS:
            self.length_box.addItem(name, name)
        self.length_box.setCurrentIndex(LENGTHS.index(reply_length)
                                        if reply_length in LENGTHS else 1)
        self.send_button = QPushButton()
        self.send_button.setDefault(True)
        self.stop_button = QPushButton()
        # The mood of the text being typed (see typing_ahead.py): a quiet emoji that changes
        # only when a new label arrives, in a fixed place, so typing never makes it jump.
        self.draft_mood = QLabel()
        self.draft_mood.setObjectName("draftMood")
        self.draft_mood.setFixedWidth(28)
        self.draft_mood.setStyleSheet("font-size:18px; color:#888888;")
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
        input_row.addWidget(self.draft_mood)
        input_row.addWidget(self.input, 1)
        input_row.addLayout(controls)
        main_layout.addWidget(self.timeline_title)
        main_layout.addWidget(self.timeline)
        main_layout.addWidget(self.chat, 1)
        main_layout.addWidget(self.state_label)
        main_layout.addWidget(self.pasted_bar)
        main_layout.addLayout(input_row)
        return main

    def _build_pasted_bar(self) -> QWidget:
        """"Pasted text, 1.0 MB: sent with your message" with Show and Remove; hidden if none."""
        bar = QWidget()
        bar.setObjectName("pastedBar")
        row = QHBoxLayout(bar)
        row.setContentsMargins(0, 0, 0, 0)
        self.pasted_label = plain_label("")
        self.pasted_label.setStyleSheet("color:#555555;")
        self.pasted_show = QPushButton()
        self.pasted_show.setObjectName("pastedShow")
        self.pasted_remove = QPushButton()
        self.pasted_remove.setObjectName("pastedRemove")
        self.pasted_remove.clicked.connect(lambda: self.input.set_pasted(""))
        self.pasted_show.clicked.connect(self.show_pasted)
        self.pasted_viewer: FullTextDialog | None = None
        row.addWidget(self.pasted_label, 1)
        row.addWidget(self.pasted_show)
        row.addWidget(self.pasted_remove)
        bar.hide()
        self.input.pastedChanged.connect(self._show_pasted)
        return bar

    def show_pasted(self) -> FullTextDialog:
        """The held paste, whole, in the read-only viewer."""
        if self.pasted_viewer is not None:
            self.pasted_viewer.close()
        self.pasted_viewer = FullTextDialog(self.input.pasted, self.tr, self)
        self.pasted_viewer.show()
        return self.pasted_viewer

    def _show_pasted(self, text: str) -> None:
        self.pasted_bar.setVisible(bool(text))
        if text:
            self.pasted_label.setText(self.tr("input.pasted", size=size_of(text)))

    def retranslate_layout(self, tr: Translator) -> None:
        """The fixed texts of the window and its child views, in the language of `tr`."""
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
        self.pasted_show.setText(tr("input.pasted_show"))
        self.pasted_remove.setText(tr("input.pasted_remove"))
        self._show_pasted(self.input.pasted)
        self.chat.retranslate(tr)
        self.timeline.retranslate(tr)
