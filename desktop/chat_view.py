"""The conversation view: message bubbles with mood chips, all text shown as plain text.

Text from the user and from the model goes into QLabels set to Qt.PlainText with link
interaction off, so nothing in a reply can run script, load an image or open a link.
A mood chip is a flat button: clicking it (or Space when it has focus) asks to correct the
label; a reply cut by the token limit shows a Continue button when it is the last message.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from qwen_aio.desktop.i18n import Translator

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

    chipClicked = Signal(object)  # this bubble: the person says its mood label is wrong
    continueClicked = Signal(object)  # this bubble: write more of this cut reply

    def __init__(self, role: str, text: str, tr: Translator,
                 message_id: int | None = None) -> None:
        super().__init__()
        self.role = role
        self.message_id = message_id  # the row in the store, once it is saved
        self._tr = tr
        self._text = text
        self.stopped = False
        self.stop_reason: str | None = None  # assistant messages: why the reply ended
        self.setObjectName("bubble_" + role)
        bg = "#e3efff" if role == "user" else "#f4f4f4"
        self.setStyleSheet(f"QFrame#bubble_{role} {{ background:{bg}; border-radius:10px; }}")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(4)
        self.body = plain_label(text)
        self.body.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        layout.addWidget(self.body)
        self.chip: QToolButton | None = None
        self.mood_label: str | None = None
        self.mood_confidence: float | None = None
        self.mood_corrected = False
        self.cut_hint: QLabel | None = None
        self.continue_button: QPushButton | None = None
        if role == "user":
            self.chip = QToolButton()
            self.chip.setObjectName("moodChip")
            self.chip.setText(tr("mood.pending"))
            self.chip.setToolTip(tr("mood.correct_tip"))
            self.chip.setAccessibleDescription(tr("mood.correct_tip"))
            self.chip.setCursor(Qt.CursorShape.PointingHandCursor)
            self.chip.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # a click keeps focus in the input
            self.chip.setEnabled(False)  # nothing to correct until the label arrives
            self.chip.clicked.connect(self._on_chip_clicked)
            self._style_chip(None)
            row = QHBoxLayout()
            row.addStretch(1)
            row.addWidget(self.chip)
            layout.addLayout(row)
        else:
            self.cut_hint = plain_label(tr("chat.cut"))
            self.cut_hint.setObjectName("cutHint")
            self.cut_hint.setWordWrap(False)
            self.cut_hint.setStyleSheet("color:#888888; font-size:11px;")
            self.continue_button = QPushButton(tr("chat.continue"))
            self.continue_button.setObjectName("continueButton")
            self.continue_button.setToolTip(tr("chat.continue_tip"))
            self.continue_button.setCursor(Qt.CursorShape.PointingHandCursor)
            self.continue_button.setStyleSheet(
                "QPushButton#continueButton { background:#ffffff; color:#1565c0; "
                "border:1px solid #90caf9; border-radius:9px; padding:1px 10px; }"
                "QPushButton#continueButton:hover { background:#e3f2fd; }"
                "QPushButton#continueButton:disabled { color:#9e9e9e; border-color:#d0d0d0; }")
            self.continue_button.clicked.connect(self._on_continue_clicked)
            row = QHBoxLayout()
            row.addWidget(self.cut_hint)
            row.addWidget(self.continue_button)
            row.addStretch(1)
            layout.addLayout(row)
            self.cut_hint.hide()
            self.continue_button.hide()

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

    def set_stop_reason(self, reason: str | None) -> None:
        """Why the reply ended; a cut one ("limit") shows the hint under its text."""
        self.stop_reason = reason
        if self.cut_hint is not None:
            self.cut_hint.setVisible(reason == "limit")
        if reason != "limit":
            self.set_can_continue(False)

    def set_can_continue(self, shown: bool, enabled: bool = True) -> None:
        """The Continue button: the window shows it on the last message only, if it was cut."""
        if self.continue_button is None:
            return
        self.continue_button.setVisible(shown and self.stop_reason == "limit")
        self.continue_button.setEnabled(enabled)

    @property
    def can_continue(self) -> bool:
        return self.continue_button is not None and not self.continue_button.isHidden()

    def _on_continue_clicked(self) -> None:
        self.continueClicked.emit(self)

    # --- mood chip --------------------------------------------------------------------------

    def set_mood(self, label: str | None, confidence: float | None,
                 corrected: bool = False) -> None:
        if self.chip is None:
            return
        self.mood_label, self.mood_confidence = label, confidence
        self.mood_corrected = corrected and label is not None
        self.chip.setText(self._tr.mood_chip(label, confidence, self.mood_corrected))
        self.chip.setEnabled(label is not None)
        self._style_chip(label)

    def chip_text(self) -> str:
        return self.chip.text() if self.chip is not None else ""

    def _on_chip_clicked(self) -> None:
        if self.mood_label is not None:
            self.chipClicked.emit(self)

    def retranslate(self, tr: Translator) -> None:
        self._tr = tr
        if self.chip is not None:
            self.chip.setText(tr.mood_chip(self.mood_label, self.mood_confidence,
                                           self.mood_corrected)
                              if self.mood_label else tr("mood.pending"))
            self.chip.setToolTip(tr("mood.correct_tip"))
            self.chip.setAccessibleDescription(tr("mood.correct_tip"))
        if self.cut_hint is not None and self.continue_button is not None:
            self.cut_hint.setText(tr("chat.cut"))
            self.continue_button.setText(tr("chat.continue"))
            self.continue_button.setToolTip(tr("chat.continue_tip"))
        if self.stopped:
            self.mark_stopped()

    def _style_chip(self, label: str | None) -> None:
        assert self.chip is not None
        look = CHIP_STYLE.get(label, CHIP_STYLE[None])
        self.chip.setStyleSheet(
            "QToolButton#moodChip {" + look + " border-radius:9px; padding:1px 8px; }"
            "QToolButton#moodChip:hover { border-width:2px; padding:0px 7px; }"
            "QToolButton#moodChip:focus { border:2px solid #1565c0; padding:0px 7px; }"
            "QToolButton#moodChip:disabled {" + look + " }"
        )


class ChatView(QScrollArea):
    """A scrolling column of bubbles that follows the newest text."""

    chipClicked = Signal(object)  # MessageBubble
    continueClicked = Signal(object)  # MessageBubble

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

    def add(self, role: str, text: str = "", message_id: int | None = None) -> MessageBubble:
        self._empty.hide()
        bubble = MessageBubble(role, text, self._tr, message_id)
        bubble.chipClicked.connect(self.chipClicked)
        bubble.continueClicked.connect(self.continueClicked)
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
