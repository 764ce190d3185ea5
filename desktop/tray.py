"""The tray icon (showing the last mood) and its quick mood popup, which stores nothing."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCursor, QGuiApplication
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLineEdit,
    QMenu,
    QPushButton,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from qwen_aio.desktop.backend import MoodResult
from qwen_aio.desktop.chat_view import CHIP_STYLE, plain_label
from qwen_aio.desktop.drafts import LABEL_QUIET_MS
from qwen_aio.desktop.i18n import Translator
from qwen_aio.desktop.icons import app_icon, mood_icon
from qwen_aio.desktop.worker import EngineClient

log = logging.getLogger(__name__)


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
        self.hint = plain_label("")
        self.hint.setStyleSheet("color:#888888;")
        layout.addWidget(self.hint)
        client.worker.quickMoodReady.connect(self._on_ready)
        client.worker.quickFailed.connect(self._on_failed)
        self.retranslate(tr)

    def retranslate(self, tr: Translator) -> None:
        self._tr = tr
        self.setWindowTitle(tr("quick.title"))
        self.input.setPlaceholderText(tr("quick.placeholder"))
        self.button.setText(tr("quick.check"))
        self.hint.setText(tr("quick.nothing_saved"))
        if self.last is not None:
            self._show_result(self.last)

    def popup(self) -> None:
        """Show near the cursor (where the tray icon was clicked), ready for typing."""
        self.adjustSize()
        screen = QGuiApplication.screenAt(QCursor.pos()) or QGuiApplication.primaryScreen()
        if screen is not None:
            area = screen.availableGeometry()
            pos = QCursor.pos()
            x = min(max(area.left(), pos.x() - self.width() // 2), area.right() - self.width())
            y = min(max(area.top(), pos.y() - self.height() - 12), area.bottom() - self.height())
            self.move(x, y)
        self.show()
        self.raise_()
        self.activateWindow()
        self.input.setFocus()
        self.input.selectAll()

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

    def check(self) -> None:
        self._live.stop()
        text = self.input.text().strip()
        if not text:
            return
        busy = self._client.busy or not self._client.model_loaded
        self.result.setStyleSheet("")
        self.result.setText(self._tr("quick.queued" if busy else "quick.waiting"))
        self._request = self._client.quick_mood(text)

    @Slot(int, object)
    def _on_ready(self, rid: int, mood: MoodResult) -> None:
        if rid == self._live_request:
            self._live_request = None
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
        self.result.setText(self._tr.mood_chip(mood.label, mood.confidence, mood.corrected))
        self.result.setStyleSheet(
            "QLabel#quickResult {" + CHIP_STYLE.get(mood.label, CHIP_STYLE[None])
            + " border-radius:12px; font-size:18px; padding:6px; }"
        )

    @Slot(int, str)
    def _on_failed(self, rid: int, message: str) -> None:
        if rid == self._live_request:  # a live check stays quiet; Enter shows the error
            self._live_request = None
            return
        if rid != self._request:
            return
        self._request = None
        self.result.setStyleSheet("")
        self.result.setText(message)


class TrayController(QObject):
    """The tray icon and its menu; the icon carries a dot for the last mood seen anywhere."""

    quickRequested = Signal()
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
        self.quick_action.triggered.connect(self.quickRequested)
        self.open_action.triggered.connect(self.openRequested)
        self.quit_action.triggered.connect(self.quitRequested)
        self.menu.addAction(self.quick_action)
        self.menu.addAction(self.open_action)
        self.menu.addSeparator()
        self.menu.addAction(self.quit_action)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._on_activated)
        self.retranslate(tr)

    def show(self) -> None:
        self.icon.show()

    def hide(self) -> None:
        self.icon.hide()

    def retranslate(self, tr: Translator) -> None:
        self._tr = tr
        self.quick_action.setText(tr("tray.quick"))
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
            self.quickRequested.emit()
        elif reason == QSystemTrayIcon.ActivationReason.DoubleClick:
            self.openRequested.emit()
