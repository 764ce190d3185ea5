"""The conversation view: message bubbles with mood chips, all text shown as plain text.

Text from the user and from the model goes into QLabels set to Qt.PlainText with link
interaction off, so nothing in a reply can run script, load an image or open a link.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop.i18n import Translator

CHIP_STYLE = {
    "Positive": "background:#dff5e3; color:#1b5e20; border:1px solid #9fd8a8;",
    "Negative": "background:#fde2e1; color:#8e1b16; border:1px solid #f2a7a3;",
    None: "background:#eeeeee; color:#555555; border:1px solid #d0d0d0;",
}


def plain_label(text: str = "") -> QLabel:
    """A QLabel that can never interpret markup or follow links."""
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setOpenExternalLinks(False)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setWordWrap(True)
    label.setText(text)
    return label


class MessageBubble(QFrame):
    """One message; a user's message carries a mood chip that fills in when the mood arrives."""

    def __init__(self, role: str, text: str, tr: Translator) -> None:
        super().__init__()
        self.role = role
        self._tr = tr
        self._text = text
        self.stopped = False
        self.setObjectName("bubble_" + role)
        bg = "#e3efff" if role == "user" else "#f4f4f4"
        self.setStyleSheet(f"QFrame#bubble_{role} {{ background:{bg}; border-radius:10px; }}")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(4)
        self.body = plain_label(text)
        self.body.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        layout.addWidget(self.body)
        self.chip: QLabel | None = None
        self.mood_label: str | None = None
        self.mood_confidence: float | None = None
        if role == "user":
            self.chip = plain_label(tr("mood.pending"))
            self.chip.setObjectName("moodChip")
            self.chip.setWordWrap(False)
            self._style_chip(None)
            row = QHBoxLayout()
            row.addStretch(1)
            row.addWidget(self.chip)
            layout.addLayout(row)

    # --- text -------------------------------------------------------------------------------

    @property
    def text(self) -> str:
        return self._text

    def append_text(self, piece: str) -> None:
        self._text += piece
        self.body.setText(self._text)

    def set_text(self, text: str) -> None:
        self._text = text
        self.body.setText(text)

    def mark_stopped(self) -> None:
        self.stopped = True
        suffix = self._tr("chat.stopped")
        self.body.setText(f"{self._text} {suffix}" if self._text else suffix)

    # --- mood chip --------------------------------------------------------------------------

    def set_mood(self, label: str | None, confidence: float | None) -> None:
        if self.chip is None:
            return
        self.mood_label, self.mood_confidence = label, confidence
        self.chip.setText(self._tr.mood_chip(label, confidence))
        self._style_chip(label)

    def chip_text(self) -> str:
        return self.chip.text() if self.chip is not None else ""

    def retranslate(self, tr: Translator) -> None:
        self._tr = tr
        if self.chip is not None:
            self.chip.setText(tr.mood_chip(self.mood_label, self.mood_confidence)
                              if self.mood_label else tr("mood.pending"))

    def _style_chip(self, label: str | None) -> None:
        assert self.chip is not None
        self.chip.setStyleSheet(
            "QLabel#moodChip {" + CHIP_STYLE.get(label, CHIP_STYLE[None])
            + " border-radius:9px; padding:1px 8px; }"
        )


class ChatView(QScrollArea):
    """A scrolling column of bubbles that follows the newest text."""

    def __init__(self, tr: Translator, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tr = tr
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._inner = QWidget()
        self._column = QVBoxLayout(self._inner)
        self._column.setContentsMargins(12, 12, 12, 12)
        self._column.setSpacing(10)
        self._empty = plain_label(tr("win.empty"))
        self._empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._empty.setStyleSheet("color:#888888;")
        # The stretch sits above the messages, as in chat apps: wrapped labels can overestimate
        # their height, and any slack then lands above the oldest message, not below the newest.
        self._column.addStretch(1)
        self._column.addWidget(self._empty)
        self.setWidget(self._inner)
        self.bubbles: list[MessageBubble] = []
        self._holders: list[QWidget] = []
        self.verticalScrollBar().rangeChanged.connect(self._follow)
        self._stick = True

    def clear(self) -> None:
        for holder in self._holders:
            self._column.removeWidget(holder)
            holder.hide()
            holder.deleteLater()
        self._holders.clear()
        self.bubbles.clear()
        self._empty.show()

    def add(self, role: str, text: str = "") -> MessageBubble:
        self._empty.hide()
        bubble = MessageBubble(role, text, self._tr)
        row = QHBoxLayout()
        holder = QWidget()
        holder.setLayout(row)
        row.setContentsMargins(0, 0, 0, 0)
        if role == "user":
            row.addStretch(1)
            row.addWidget(bubble, 6)
        else:
            row.addWidget(bubble, 6)
            row.addStretch(1)
        self._column.addWidget(holder)
        self._holders.append(holder)
        self.bubbles.append(bubble)
        self._stick = True
        QTimer.singleShot(0, self._scroll_to_end)
        return bubble

    def chips(self) -> list[str]:
        return [b.chip_text() for b in self.bubbles if b.role == "user"]

    def retranslate(self, tr: Translator) -> None:
        self._tr = tr
        self._empty.setText(tr("win.empty"))
        for bubble in self.bubbles:
            bubble.retranslate(tr)

    def _follow(self, _min: int, _max: int) -> None:
        if self._stick:
            self._scroll_to_end()

    def _scroll_to_end(self) -> None:
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())
