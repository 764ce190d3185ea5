"""The tray icon (showing the last mood) and its quick mood popup.

The quick check stores nothing in the conversations; its label does become the tray icon's
mood (in memory, until the next message or check), and the popup says so. The menu's
clipboard actions (summarize, translate, fix) run that task on the clipboard's text and show
the result in the same popup, with Copy; nothing is saved.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QPoint, QRect, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCursor, QGuiApplication, QKeyEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLineEdit,
    QMenu,
    QPushButton,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from qwen_aio.desktop import theme
from qwen_aio.desktop.backend import MoodResult, TaskInfo, keywords_of
from qwen_aio.desktop.chat_view import plain_label
from qwen_aio.desktop.drafts import LABEL_QUIET_MS
from qwen_aio.desktop.i18n import Translator
from qwen_aio.desktop.icons import app_icon, mood_icon
from qwen_aio.desktop.long_text import copy_text
from qwen_aio.desktop.worker import EngineClient

log = logging.getLogger(__name__)

GAP = 8  # pixels between the popup and what it sits next to
CLIPBOARD_TASKS = ("summary", "translate", "fix")  # the tray menu's clipboard actions


def place_popup(size: QSize, area: QRect, anchor: QRect | None = None,
                avoid: QRect | None = None) -> QPoint:
    """Where the quick popup goes: by the tray icon, on screen, off the window's status bar.

    ``area`` is the screen's available geometry, ``anchor`` the tray icon's geometry (empty on
    some Linux trays: then the bottom-right corner, where trays usually are), ``avoid`` the
    window's status bar in screen coordinates.
    """
    w, h = size.width(), size.height()
    if anchor is not None and anchor.isValid() and area.intersects(anchor):
        x = anchor.center().x() - w // 2
        below = anchor.center().y() < area.center().y()  # a tray along the top of the screen
        y = anchor.bottom() + GAP if below else anchor.top() - h - GAP
    else:
        x, y = area.right() - w - GAP, area.bottom() - h - GAP

    def clamp(x: int, y: int) -> tuple[int, int]:
        return (max(area.left(), min(x, area.right() - w + 1)),
                max(area.top(), min(y, area.bottom() - h + 1)))

    x, y = clamp(x, y)
    if avoid is not None and avoid.isValid() and QRect(x, y, w, h).intersects(avoid):
        if avoid.top() - h - GAP >= area.top():
            y = avoid.top() - h - GAP  # above the status bar (the usual case: tray at bottom)
        elif avoid.bottom() + GAP + h <= area.bottom():
            y = avoid.bottom() + GAP
        elif avoid.right() + GAP + w <= area.right():
            x = avoid.right() + GAP
        else:
            x = avoid.left() - w - GAP
        x, y = clamp(x, y)
    return QPoint(x, y)


class QuickMoodPopup(QWidget):
    """One line in, one label out: only the mood pass runs, nothing reaches a conversation."""

    moodChecked = Signal(object)  # MoodResult

    def __init__(self, client: EngineClient, tr: Translator) -> None:
        super().__init__(None, Qt.WindowType.Tool | Qt.WindowType.WindowStaysOnTopHint)
        self._client = client
        self._tr = tr
        self._request: int | None = None
        self._live_request: int | None = None
        self.last: MoodResult | None = None
        self._shown: MoodResult | None = None  # what the result label shows now
        # The window's status bar in screen coordinates (None: nothing to keep clear of).
        self.avoid: Callable[[], QRect | None] | None = None
        self.setWindowIcon(app_icon())
        self.setMinimumWidth(380)
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.input = QLineEdit()
        self.input.setMaxLength(2000)
        self.input.returnPressed.connect(self.check)
        # The label follows the typing: checked at each pause, the last result kept meanwhile.
        self._live = QTimer(self)
        self._live.setSingleShot(True)
        self._live.setInterval(LABEL_QUIET_MS)
        self._live.timeout.connect(self._check_live)
        self.input.textChanged.connect(self._on_text_changed)
        self.button = QPushButton()
        self.button.clicked.connect(self.check)
        row.addWidget(self.input, 1)
        row.addWidget(self.button)
        layout.addLayout(row)
        self.result = plain_label("")
        self.result.setObjectName("quickResult")
        self.result.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.result.setMinimumHeight(44)
        layout.addWidget(self.result)
        self.copy_button = QPushButton()
        self.copy_button.setObjectName("quickCopy")
        self.copy_button.clicked.connect(self.copy_result)
        self.copy_button.hide()
        layout.addWidget(self.copy_button, 0, Qt.AlignmentFlag.AlignRight)
        self.hint = plain_label("")
        self.hint.setObjectName("quickHint")
        theme.style_color(self.hint, theme.muted)
        layout.addWidget(self.hint)
        theme.follow_palette(self.result, self._restyle_result)
        client.worker.quickMoodReady.connect(self._on_ready)
        client.worker.quickFailed.connect(self._on_failed)
        client.worker.quickTaskReady.connect(self._on_task_ready)
        self._task: TaskInfo | None = None  # the clipboard action shown (None: a mood check)
        self._task_request: int | None = None
        self.task_text: str | None = None  # its result
        self.retranslate(tr)

    def retranslate(self, tr: Translator) -> None:
        self._tr = tr
        self.setWindowTitle(tr("quick.title"))
        self.input.setPlaceholderText(tr("quick.placeholder"))
        self.button.setText(tr("quick.check"))
        self.copy_button.setText(tr("chat.copy"))
        self._show_hint()
        if self._task is None and self.last is not None:
            self._show_result(self.last)

    def _show_hint(self) -> None:
        if self._task is not None and self.task_text is not None:
            self.hint.setText(self._tr("tray.clipboard_result", task=self._task_name()))
        else:
            self.hint.setText(self._tr("quick.tray_note"))

    def _task_name(self) -> str:
        return self._task.name(self._tr.language) if self._task is not None else ""

    # --- the tray's clipboard actions -------------------------------------------------------

    def run_task(self, task: TaskInfo, text: str, anchor: QRect | None = None) -> None:
        """``task`` on the clipboard's ``text``; the result shows here with Copy."""
        self._task, self.task_text = task, None
        self._shown = None
        self.result.setStyleSheet("")
        self.result.setWordWrap(True)
        self.copy_button.hide()
        if not text.strip():
            self._task = None
            self.result.setText(self._tr("tray.clipboard_empty"))
        else:
            self.result.setText(self._tr("tray.clipboard_working", task=self._task_name()))
            self._task_request = self._client.quick_task(task.id, text)
        self._show_hint()
        self.popup(anchor)

    @Slot(int, str, object)
    def _on_task_ready(self, rid: int, _task_id: str, text: object) -> None:
        if rid != self._task_request:
            return
        self._task_request = None
        self.task_text = str(text).strip()
        shown = self.task_text
        if self._task is not None and self._task.structured:
            items = keywords_of(shown)
            shown = ", ".join(items) if items is not None else shown
            self.task_text = shown
        self.result.setText(shown)
        self.copy_button.show()
        self._show_hint()
        self.adjustSize()

    def copy_result(self) -> None:
        if self.task_text:
            copy_text(self.task_text)
            self.copy_button.setText(self._tr("chat.copied"))
            QTimer.singleShot(1500, lambda: self.copy_button.setText(self._tr("chat.copy")))

    def popup(self, anchor: QRect | None = None) -> None:
        """Show by the tray icon (``anchor``), ready for typing."""
        self.adjustSize()
        self._place(anchor)
        self.show()
        self._place(anchor)  # again with the window frame, known only once shown
        self.raise_()
        self.activateWindow()
        self.input.setFocus()
        self.input.selectAll()

    def _place(self, anchor: QRect | None) -> None:
        point = anchor.center() if anchor is not None and anchor.isValid() else QCursor.pos()
        screen = QGuiApplication.screenAt(point) or QGuiApplication.primaryScreen()
        if screen is None:
            return
        avoid = self.avoid() if self.avoid is not None else None
        frame = self.frameGeometry()
        pos = place_popup(frame.size(), screen.availableGeometry(), anchor, avoid)
        self.move(pos)  # a window's pos() is its frame's corner

    def toggle(self, anchor: QRect | None = None) -> None:
        """A click on the tray icon opens the popup; a second click closes it."""
        if self.isVisible():
            self.hide()
        else:
            self.popup(anchor)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.hide()
            return
        super().keyPressEvent(event)

    @Slot(str)
    def _on_text_changed(self, text: str) -> None:
        if text.strip():
            self._live.start()
        else:
            self._live.stop()

    @Slot()
    def _check_live(self) -> None:
        """A pause in typing: label what is there, quietly (no "waiting" text, no icon)."""
        text = self.input.text().strip()
        if not text or self._client.busy or not self._client.model_loaded:
            return  # Enter or the button still check it, queued behind the reply
        if self.last is not None and self.last.text == text:
            return
        self._live_request = self._client.quick_mood(text)

    def _leave_task(self) -> None:
        if self._task is not None:
            self._task = self.task_text = self._task_request = None
            self.copy_button.hide()
            self._show_hint()

    def check(self) -> None:
        self._live.stop()
        text = self.input.text().strip()
        if not text:
            return
        self._leave_task()
        busy = self._client.busy or not self._client.model_loaded
        self._shown = None
        self.result.setStyleSheet("")
        self.result.setText(self._tr("quick.queued" if busy else "quick.waiting"))
        self._request = self._client.quick_mood(text)

    @Slot(int, object)
    def _on_ready(self, rid: int, mood: MoodResult) -> None:
        if rid == self._live_request:
            self._live_request = None
            if self._task is not None:  # a clipboard result is shown: leave it
                return
            if mood.text == self.input.text().strip():  # still what is in the box
                self.last = mood
                self._show_result(mood)
            return
        if rid != self._request:
            return
        self._request = None
        self.last = mood
        self._show_result(mood)
        self.moodChecked.emit(mood)

    def _show_result(self, mood: MoodResult) -> None:
        self._shown = mood
        self.result.setText(self._tr.mood_chip(mood.label, mood.confidence, mood.corrected))
        self._restyle_result()

    def _restyle_result(self) -> None:
        """The result as a big mood chip, in colours from the current palette."""
        mood = self._shown
        if mood is None:
            self.result.setStyleSheet("")
            return
        bg, fg, border = theme.mood_colors(theme.palette_of(self.result), mood.label)
        self.result.setStyleSheet(
            f"QLabel#quickResult {{ background:{theme.css(bg)}; color:{theme.css(fg)}; "
            f"border:1px solid {theme.css(border)}; border-radius:12px; font-size:18px; "
            "padding:6px; }")

    @Slot(int, str)
    def _on_failed(self, rid: int, message: str) -> None:
        if rid == self._live_request:  # a live check stays quiet; Enter shows the error
            self._live_request = None
            return
        if rid == self._task_request:
            self._task_request = None
            self.result.setText(message)
            return
        if rid != self._request:
            return
        self._request = None
        self._shown = None
        self.result.setStyleSheet("")
        self.result.setText(message)


class TrayController(QObject):
    """The tray icon and its menu; the icon carries a dot for the last mood seen anywhere."""

    quickRequested = Signal()  # the menu's "Quick mood check…": show the popup
    clipboardTaskRequested = Signal(str)  # a task's id: run it on the clipboard's text
    quickClicked = Signal()  # a click on the icon: show the popup, or close it if shown
    openRequested = Signal()
    quitRequested = Signal()

    def __init__(self, tr: Translator, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tr = tr
        self.last_label: str | None = None
        self._last_confidence: float | None = None
        self._last_corrected = False
        self.icon = QSystemTrayIcon(app_icon(), self)
        self.menu = QMenu()
        self.quick_action = QAction(self.menu)
        self.open_action = QAction(self.menu)
        self.quit_action = QAction(self.menu)
        self.clipboard_actions: dict[str, QAction] = {}
        for task_id in CLIPBOARD_TASKS:
            action = QAction(self.menu)
            action.triggered.connect(lambda _=False, t=task_id: self.clipboardTaskRequested.emit(t))
            action.setEnabled(False)  # until the loaded engine says it has the task
            self.clipboard_actions[task_id] = action
        self.quick_action.triggered.connect(self.quickRequested)
        self.open_action.triggered.connect(self.openRequested)
        self.quit_action.triggered.connect(self.quitRequested)
        self.menu.addAction(self.quick_action)
        for action in self.clipboard_actions.values():
            self.menu.addAction(action)
        self.menu.addAction(self.open_action)
        self.menu.addSeparator()
        self.menu.addAction(self.quit_action)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._on_activated)
        self.retranslate(tr)

    def set_tasks(self, tasks: list[TaskInfo]) -> None:
        """The clipboard actions the loaded engine can do are enabled."""
        have = {t.id for t in tasks}
        for task_id, action in self.clipboard_actions.items():
            action.setEnabled(task_id in have)

    def show(self) -> None:
        self.icon.show()

    def anchor(self) -> QRect | None:
        """The icon's place on screen, where the platform tells it (not all Linux trays do)."""
        rect = self.icon.geometry()
        return rect if rect.isValid() and not rect.isEmpty() else None

    def hide(self) -> None:
        self.icon.hide()

    def retranslate(self, tr: Translator) -> None:
        self._tr = tr
        self.quick_action.setText(tr("tray.quick"))
        for task_id, action in self.clipboard_actions.items():
            action.setText(tr("tray." + task_id))
        self.open_action.setText(tr("tray.open"))
        self.quit_action.setText(tr("tray.quit"))
        self._update_tooltip()

    def set_mood(self, label: str | None, confidence: float | None = None,
                 corrected: bool = False) -> None:
        self.last_label = label
        self._last_confidence, self._last_corrected = confidence, corrected
        self.icon.setIcon(mood_icon(label))
        self._update_tooltip()

    def notify(self, text: str) -> None:
        self.icon.showMessage(self._tr("app.title"), text, app_icon(), 4000)

    def _update_tooltip(self) -> None:
        mood = self._tr.mood_chip(self.last_label, self._last_confidence,
                                  self._last_corrected) if self.last_label else "—"
        self.icon.setToolTip(self._tr("tray.tooltip", mood=mood))

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        # A left click is the fast path: most tray users only want the quick check.
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.quickClicked.emit()
        elif reason == QSystemTrayIcon.ActivationReason.DoubleClick:
            self.openRequested.emit()
