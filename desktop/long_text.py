"""Huge messages: the bounded part a bubble lays out, and a lazy viewer for the whole text.

Laying out a QLabel of 1 MB with word wrap keeps the UI thread busy for seconds (and again at
every resize), so a bubble shows at most a preview; the full text stays what is saved, sent to
the engine and exported, and opens on demand in a read-only QPlainTextEdit, which lays out only
the lines on screen.
"""

from __future__ import annotations

import re

from PySide6.QtGui import QGuiApplication, QTextOption
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from qwen_aio.desktop.i18n import Translator, human_bytes

PREVIEW_CHARS = 3000  # a bubble lays out at most this many characters...
PREVIEW_LINES = 40  # ...and this many lines
# "Show more" grows the preview in place by this factor per click, up to IN_PLACE_STEPS clicks
# (3,000 -> 12,000 -> 48,000 characters: a 48 KB label still lays out in tens of ms); beyond
# that, "Show all" opens the viewer, which lays out only the lines on screen.
MORE_FACTOR = 4
IN_PLACE_STEPS = 2
TIDY_CUT = 300  # a cut by characters moves back to a line end or space within this many
LONG_RUN = 60  # a run of characters with no break point longer than this gets soft breaks
VIEWER_LINE = 10_000  # the viewer shows longer lines in pieces of this size

_RUN = re.compile(rf"[^\s\u200b]{{{LONG_RUN}}}(?=[^\s\u200b])")


def preview_of(text: str, level: int = 0) -> tuple[str, bool]:
    """The start of `text` a bubble shows after ``level`` clicks on "Show more", and whether
    that is less than all of it."""
    chars = PREVIEW_CHARS * MORE_FACTOR ** level
    head = text[:chars]
    end = -1
    for _ in range(PREVIEW_LINES * MORE_FACTOR ** level):
        end = head.find("\n", end + 1)
        if end < 0:
            break
    else:
        head = head[:end]
    if len(head) == chars < len(text):  # cut by characters: end at a line or word
        tidy = max(head.rfind("\n"), head.rfind(" "))
        if tidy >= chars - TIDY_CUT:
            head = head[:tidy].rstrip()
    return head, len(head) < len(text)


def soft_wrapped(text: str) -> str:
    """`text` with a zero-width space inside every long run without spaces, so a word-wrapped
    label can break it instead of growing wider than the window (display only)."""
    return _RUN.sub(lambda m: m.group(0) + "\u200b", text)


def utf8_size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def size_of(text: str) -> str:
    """The size a person recognises: UTF-8 bytes, as the file would be."""
    return human_bytes(utf8_size(text))


def copy_text(text: str) -> None:
    QGuiApplication.clipboard().setText(text)


def viewer_text(text: str) -> str:
    """What the viewer shows: a line longer than VIEWER_LINE characters is split into several,
    because QPlainTextEdit lays out a whole line (block) at once; Copy gives the exact text."""
    if len(text) <= VIEWER_LINE or all(len(line) <= VIEWER_LINE for line in text.split("\n")):
        return text
    out: list[str] = []
    for line in text.split("\n"):
        out.extend(line[i:i + VIEWER_LINE] for i in range(0, max(len(line), 1), VIEWER_LINE))
    return "\n".join(out)


class FullTextDialog(QDialog):
    """The whole of one message, read-only, with Copy (of the exact text) and Close."""

    def __init__(self, text: str, tr: Translator, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("fullTextDialog")
        self.full_text = text
        self.setWindowTitle(tr("chat.full_title", size=size_of(text)))
        self.resize(760, 560)
        self.view = QPlainTextEdit()
        self.view.setReadOnly(True)
        self.view.setUndoRedoEnabled(False)
        self.view.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self.view.setPlainText(viewer_text(text))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText(tr("chat.close"))
        self.copy_button = QPushButton(tr("chat.copy"))
        self.copy_button.setObjectName("copyFullText")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(lambda: copy_text(self.full_text))
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addWidget(buttons)
