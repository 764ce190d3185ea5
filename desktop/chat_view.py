"""The conversation view: message bubbles with mood chips, all text shown as plain text.

Text from the user and from the model goes into QLabels set to Qt.PlainText with link
interaction off, so nothing in a reply can run script, load an image or open a link.
A mood chip is a flat button: clicking it (or Space when it has focus) asks to correct the
label; a reply cut by the token limit shows a Continue button when it is the last message.
A huge message shows only its beginning, with "Show all" and "Copy" (long_text.py).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt, QTimer, Signal
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

from qwen_aio.desktop.i18n import Translator, human_bytes
from qwen_aio.desktop.long_text import (
    FullTextDialog,
    copy_text,
    preview_of,
    soft_wrapped,
    utf8_size,
)

CHIP_STYLE = {
    "Positive": "background:#dff5e3; color:#1b5e20; border:1px solid #9fd8a8;",
    "Negative": "background:#fde2e1; color:#8e1b16; border:1px solid #f2a7a3;",
    None: "background:#eeeeee; color:#555555; border:1px solid #d0d0d0;",
}


class BodyLabel(QLabel):
    """A message's text: its size hints need one layout at a typical width, not QLabel's three.

    QLabel's own hints also lay the text out at width 0 (one word per line: for 4,000 Chinese
    characters, 4,000 lines), about half a second per bubble; the layout then asks
    heightForWidth at the real width anyway. And the layouts ask heightForWidth for a few
    widths in turn (scroll bar shown or not), which QLabel does not remember: this does.
    """

    def __init__(self) -> None:
        super().__init__()
        self._heights: dict[int, int] = {}

    def setText(self, text: str) -> None:
        self._heights.clear()
        super().setText(text)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._heights.clear()
        super().changeEvent(event)

    def heightForWidth(self, width: int) -> int:
        height = self._heights.get(width)
        if height is None:
            height = self._heights[width] = super().heightForWidth(width)
        return height

    def minimumSizeHint(self) -> QSize:
        fm = self.fontMetrics()
        return QSize(fm.averageCharWidth() * 8, fm.height())

    def sizeHint(self) -> QSize:
        width = self.fontMetrics().averageCharWidth() * 80  # as QLabel guesses a wrapped width
        margins = self.contentsMargins()
        return QSize(width + margins.left() + margins.right(), self.heightForWidth(width))


def plain_label(text: str = "", cls: type[QLabel] = QLabel) -> QLabel:
    """A QLabel that can never interpret markup or follow links."""
    label = cls()
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
        self._parts = [text]  # the whole text, joined when asked: streaming stays linear
        self._joined: str | None = text
        self._bytes = utf8_size(text)
        self._cut = False  # the body shows only the beginning (the preview)
        self._shown: str | None = None  # what the body holds now
        self.viewer: FullTextDialog | None = None
        self.stopped = False
        self.stop_reason: str | None = None  # assistant messages: why the reply ended
        self.setObjectName("bubble_" + role)
        bg = "#e3efff" if role == "user" else "#f4f4f4"
        self.setStyleSheet(f"QFrame#bubble_{role} {{ background:{bg}; border-radius:10px; }}")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(4)
        self.body = plain_label(cls=BodyLabel)
        self.body.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        layout.addWidget(self.body)
        layout.addLayout(self._build_more_row())
        self._render()
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

    def _build_more_row(self) -> QHBoxLayout:
        """"Show all (1.2 MB)" and "Copy", shown only when the body holds a preview."""
        link = ("QPushButton { background:transparent; color:#1565c0; border:none; "
                "padding:0px 4px; text-decoration:underline; }")
        self.show_all_button = QPushButton()
        self.show_all_button.setObjectName("showAllButton")
        self.show_all_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.show_all_button.setStyleSheet(link)
        self.show_all_button.clicked.connect(self.show_all)
        self.copy_button = QPushButton()
        self.copy_button.setObjectName("copyButton")
        self.copy_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.copy_button.setStyleSheet(link)
        self.copy_button.clicked.connect(lambda: copy_text(self.text))
        self._size_shown = ""
        self._label_more_row()
        row = QHBoxLayout()
        row.addWidget(self.show_all_button)
        row.addWidget(self.copy_button)
        row.addStretch(1)
        self.show_all_button.hide()
        self.copy_button.hide()
        return row

    def _label_more_row(self) -> None:
        tr = self._tr
        self.show_all_button.setText(tr("chat.show_all", size=self._size_shown))
        self.show_all_button.setToolTip(tr("chat.show_all_tip"))
        self.copy_button.setText(tr("chat.copy"))
        self.copy_button.setToolTip(tr("chat.copy_tip"))

    # --- text -------------------------------------------------------------------------------

    @property
    def text(self) -> str:
        """The whole message (what is saved, sent and exported), not just what is shown."""
        if self._joined is None:
            self._joined = "".join(self._parts)
            self._parts = [self._joined]
        return self._joined

    @property
    def is_preview(self) -> bool:
        return self._cut

    def append_text(self, piece: str) -> None:
        """A streamed piece: cheap however long the reply is; once the body holds a preview it
        stays as it is and only the size on "Show all" follows."""
        self._parts.append(piece)
        self._joined = None
        self._bytes += utf8_size(piece)
        if self._cut:
            self._show_size()
        else:
            self._render()

    def set_text(self, text: str) -> None:
        self._parts, self._joined = [text], text
        self._bytes = utf8_size(text)
        self._render()

    def mark_stopped(self) -> None:
        self.stopped = True
        self._render()

    def _render(self) -> None:
        text = self.text
        preview, self._cut = preview_of(text)
        shown = soft_wrapped(preview)
        if self._cut:
            shown += " …"
        if self.stopped:
            suffix = self._tr("chat.stopped")
            shown = f"{shown} {suffix}" if shown else suffix
        if shown != self._shown:
            self._shown = shown
            self.body.setText(shown)
        self.show_all_button.setVisible(self._cut)
        self.copy_button.setVisible(self._cut)
        if self._cut:
            self._show_size()

    def _show_size(self) -> None:
        size = human_bytes(self._bytes)
        if size != self._size_shown:
            self._size_shown = size
            self.show_all_button.setText(self._tr("chat.show_all", size=size))

    def show_all(self) -> FullTextDialog:
        """The whole text in a read-only viewer that lays out only what is on screen."""
        if self.viewer is None or self.viewer.full_text != self.text:
            if self.viewer is not None:
                self.viewer.close()
            viewer = FullTextDialog(self.text, self._tr, self.window())
            viewer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            viewer.destroyed.connect(lambda: self._forget_viewer(viewer))
            self.viewer = viewer
        self.viewer.show()
        self.viewer.raise_()
        self.viewer.activateWindow()
        return self.viewer

    def _forget_viewer(self, viewer: FullTextDialog) -> None:
        if self.viewer is viewer:
            self.viewer = None

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
        self._label_more_row()
        self._shown = None
        self._render()

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
