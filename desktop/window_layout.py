"""The main window's widgets and where they sit; no behaviour (main_window.py wires it up).

Sidebar (conversations and their buttons) | timeline, chat, state line, input with the reply
length and Send/Stop; the status bar shows the model, the last mood latency and reply speed.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QMimeData, Qt, Signal
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
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

from qwen_aio.desktop import theme
from qwen_aio.desktop.chat_view import ChatView, plain_label
from qwen_aio.desktop.i18n import Translator
from qwen_aio.desktop.icons import app_icon
from qwen_aio.desktop.long_text import FullTextDialog, size_of
from qwen_aio.desktop.tasks_ui import TaskPicker
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
        self.splitter = splitter = QSplitter()
        splitter.setObjectName("mainSplitter")
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

        self._build_menus()
        self._style_labels()

    def _build_sidebar(self) -> QWidget:
        side = QWidget()
        self.side_layout = side_layout = QVBoxLayout(side)  # the search panel goes in at 1
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
        self.timeline_title.setObjectName("timelineTitle")
        self.timeline = MoodTimeline(self.tr)
        self.chat = ChatView(self.tr)
        self.state_label = plain_label("")
        self.state_label.setObjectName("stateLabel")
        self.input = InputBox()
        self.input.setMaximumHeight(90)
        self.pasted_bar = self._build_pasted_bar()
        self.task_label = QLabel()
        self.task_box = TaskPicker(self.tr)
        self.task_label.setBuddy(self.task_box)
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
        self.draft_mood.setStyleSheet("font-size:18px;")  # colour: _style_labels
        controls = QVBoxLayout()
        task_row = QHBoxLayout()
        task_row.addWidget(self.task_label)
        task_row.addWidget(self.task_box)
        controls.addLayout(task_row)
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
        self.pasted_label.setObjectName("pastedLabel")
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

    def _style_labels(self) -> None:
        """Secondary texts in the palette's muted colour (light or dark theme alike)."""
        muted = theme.css(theme.muted(self.palette()))
        for label in (self.timeline_title, self.state_label, self.pasted_label):
            label.setStyleSheet(f"color:{muted};")
        self.draft_mood.setStyleSheet(f"font-size:18px; color:{muted};")

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._style_labels()
        super().changeEvent(event)

    # --- menus and shortcuts (issue 11) -------------------------------------------------------

    def _action(self, name: str, *keys: QKeySequence | QKeySequence.StandardKey | str) -> QAction:
        """A menu command; the first key sequence that exists on this platform is its shortcut.

        Only one: an action holding the same sequence twice is "ambiguous" and never fires.
        """
        action = QAction(self)
        action.setObjectName(name)
        sequences = [k if isinstance(k, QKeySequence) else QKeySequence(k) for k in keys]
        usable = [k for k in sequences if not k.isEmpty()]
        if usable:
            action.setShortcut(usable[0])
        return action

    def _build_menus(self) -> None:
        """Conversation / Edit / View / Help; standard key sequences where Qt has them."""
        std = QKeySequence.StandardKey
        self.act_new = self._action("actNew", std.New, "Ctrl+N")
        self.act_rename = self._action("actRename", "F2")
        # Delete only acts on the conversation list: in the input it deletes text.
        self.act_delete = self._action("actDelete", std.Delete, "Del")
        self.act_delete.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.sidebar.addAction(self.act_delete)
        self.act_export = self._action("actExport", "Ctrl+Shift+E")
        self.act_settings = self._action("actSettings", std.Preferences, "Ctrl+,")
        self.act_quit = self._action("actQuit", std.Quit, "Ctrl+Q")
        self.act_quit.setMenuRole(QAction.MenuRole.QuitRole)
        self.act_find = self._action("actFind", std.Find, "Ctrl+F")
        self.act_send = self._action("actSend")
        self.act_send.setShortcuts([QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")])
        self.act_stop = self._action("actStop", "Esc")
        self.act_show_list = self._action("actShowList")
        self.act_show_timeline = self._action("actShowTimeline")
        for act in (self.act_show_list, self.act_show_timeline):
            act.setCheckable(True)
            act.setChecked(True)
        self.act_keys = self._action("actKeys", std.HelpContents, "F1")
        self.act_about = self._action("actAbout")
        self.act_about.setMenuRole(QAction.MenuRole.AboutRole)
        bar = self.menuBar()
        self.menu_conversation = bar.addMenu("")
        for act in (self.act_new, self.act_rename, self.act_delete, self.act_export):
            self.menu_conversation.addAction(act)
        self.menu_conversation.addSeparator()
        self.menu_conversation.addAction(self.act_settings)
        self.menu_conversation.addSeparator()
        self.menu_conversation.addAction(self.act_quit)
        self.menu_edit = bar.addMenu("")
        for act in (self.act_find, self.act_send, self.act_stop):
            self.menu_edit.addAction(act)
        self.menu_view = bar.addMenu("")
        self.menu_view.addAction(self.act_show_list)
        self.menu_view.addAction(self.act_show_timeline)
        self.menu_help = bar.addMenu("")
        self.menu_help.addAction(self.act_keys)
        self.menu_help.addAction(self.act_about)
        for act in (self.act_new, self.act_rename, self.act_export, self.act_settings,
                    self.act_quit, self.act_find, self.act_send, self.act_stop, self.act_keys):
            self.addAction(act)  # shortcuts work while the menu bar is hidden (e.g. on macOS)

    def shortcut_text(self, action: QAction) -> str:
        """The action's first shortcut as the platform writes it ("Ctrl+N", "⌘N")."""
        keys = action.shortcuts()
        return keys[0].toString(QKeySequence.SequenceFormat.NativeText) if keys else ""

    def _tip(self, text: str, action: QAction, extra: str = "") -> str:
        keys = " / ".join(k for k in (extra, self.shortcut_text(action)) if k)
        return self.tr("keys.tip", text=text, keys=keys) if keys else text

    def retranslate_menus(self, tr: Translator) -> None:
        self.menu_conversation.setTitle(tr("menu.conversation"))
        self.menu_edit.setTitle(tr("menu.edit"))
        self.menu_view.setTitle(tr("menu.view"))
        self.menu_help.setTitle(tr("menu.help"))
        for act, key in ((self.act_new, "menu.new"), (self.act_rename, "menu.rename"),
                         (self.act_delete, "menu.delete"), (self.act_export, "win.export"),
                         (self.act_settings, "win.settings"), (self.act_quit, "menu.quit"),
                         (self.act_find, "menu.find"), (self.act_send, "win.send"),
                         (self.act_stop, "win.stop"), (self.act_show_list, "menu.show_list"),
                         (self.act_show_timeline, "menu.show_timeline"),
                         (self.act_keys, "menu.keys"), (self.act_about, "menu.about")):
            act.setText(tr(key))
        enter = QKeySequence(Qt.Key.Key_Return).toString(QKeySequence.SequenceFormat.NativeText)
        for widget, text, act, extra in (
                (self.new_button, tr("menu.new"), self.act_new, ""),
                (self.rename_button, tr("menu.rename"), self.act_rename, ""),
                (self.delete_button, tr("menu.delete"), self.act_delete, ""),
                (self.export_button, tr("win.export"), self.act_export, ""),
                (self.settings_button, tr("win.settings"), self.act_settings, ""),
                (self.send_button, tr("win.send"), self.act_send, enter),
                (self.stop_button, tr("win.stop"), self.act_stop, "")):
            widget.setToolTip(self._tip(text.rstrip("…"), act, extra))

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
        self.task_label.setText(tr("task.label"))
        self.task_box.retranslate(tr)
        for i, name in enumerate(LENGTHS):
            self.length_box.setItemText(i, tr("len." + name))
        self.send_button.setText(tr("win.send"))
        self.stop_button.setText(tr("win.stop"))
        self.pasted_show.setText(tr("input.pasted_show"))
        self.pasted_remove.setText(tr("input.pasted_remove"))
        self._show_pasted(self.input.pasted)
        self.chat.retranslate(tr)
        self.timeline.retranslate(tr)
        self.retranslate_menus(tr)
