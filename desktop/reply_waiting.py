"""The sign of life in a reply bubble while the reply is prepared (before its first text).

On a busy computer the prompt can take many seconds to read before the first token; a blank
bubble then looks like a hang. `ReplyWaiting` is a small label under the reply's text that
reads "Thinking" with dots cycling (a QTimer on the UI thread, TICK_MS apart: no busy loop) and,
after BUSY_AFTER_MS without text, adds that the computer is busy. It is a widget of its own,
never part of the message's text, so it is not saved, copied or exported.

Screen readers get a steady name ("Thinking…", then with the busy hint) rather than one that
changes with every dot, which would be read out again and again.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QWidget

from qwen_aio.desktop.i18n import Translator

TICK_MS = 400  # the dots move this often
BUSY_AFTER_MS = 5000  # after this long without text the busy hint is added
DOTS = (".", "..", "...")  # one frame each tick: always some dots, so it reads as waiting


class ReplyWaiting(QLabel):
    """"Thinking…" while a reply has no text yet; `start` shows it, `stop` hides it."""

    announced = Signal(str)  # the steady text for screen readers ("" once stopped)

    def __init__(self, tr: Translator, parent: QWidget | None = None, *,
                 tick_ms: int = TICK_MS, busy_after_ms: int = BUSY_AFTER_MS) -> None:
        super().__init__(parent)
        self._tr = tr
        self.tick_ms = tick_ms
        self.busy_after_ms = busy_after_ms
        self.setObjectName("replyWaiting")
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(True)
        self._frame = 0
        self._started = 0.0
        self.busy = False  # the busy hint is shown
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self.hide()

    @property
    def active(self) -> bool:
        """Shown and animating."""
        return self._timer.isActive()

    def start(self, tick_ms: int | None = None, busy_after_ms: int | None = None) -> None:
        if tick_ms is not None:
            self.tick_ms = tick_ms
        if busy_after_ms is not None:
            self.busy_after_ms = busy_after_ms
        self._frame, self.busy = 0, False
        self._started = time.monotonic()
        self._timer.start(self.tick_ms)
        self._show()
        self.show()

    def stop(self) -> None:
        self._timer.stop()
        self.busy = False
        self.hide()
        self._announce("")

    def retranslate(self, tr: Translator) -> None:
        self._tr = tr
        if self.active:
            self._show()

    def accessible_text(self) -> str:
        """What a screen reader is told: steady while the dots move."""
        text = self._tr("chat.waiting") + "…"
        return f"{text} {self._tr('chat.waiting_busy')}" if self.busy else text

    def _tick(self) -> None:
        self._frame = (self._frame + 1) % len(DOTS)
        if not self.busy and (time.monotonic() - self._started) * 1000 >= self.busy_after_ms:
            self.busy = True
        self._show()

    def _show(self) -> None:
        text = self._tr("chat.waiting") + DOTS[self._frame]
        if self.busy:
            text += "\n" + self._tr("chat.waiting_busy")
        self.setText(text)
        self._announce(self.accessible_text())

    def _announce(self, name: str) -> None:
        if self.accessibleName() != name:
            self.setAccessibleName(name)
            self.announced.emit(name)
