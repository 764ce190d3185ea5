"""A reply's text as Markdown, safely: GitHub dialect without HTML, no images, links on request.

The model's text is parsed by QTextDocument's Markdown importer with raw HTML off (so `<b>` or
`<script>` stay visible as text), nothing is ever loaded from a URL or a file (`loadResource`
answers nothing), links are shown but never followed by the view: a click only emits
`linkClicked`, and the chat view asks the person before handing the URL to the browser.
Code (fenced blocks and `inline`) is set in the system's fixed-width font.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QSize, Qt, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QFontDatabase,
    QPalette,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextFormat,
)
from PySide6.QtWidgets import QFrame, QSizePolicy, QTextBrowser, QWidget

log = logging.getLogger(__name__)

MARKDOWN_FEATURES = (QTextDocument.MarkdownFeature.MarkdownDialectGitHub
                     | QTextDocument.MarkdownFeature.MarkdownNoHTML)


def render_markdown(doc: QTextDocument, text: str, code_background: QColor | None = None) -> None:
    """`text` into `doc` as GitHub Markdown without HTML.

    Qt's importer already sets code (blocks and spans) in the system's fixed-width font; only
    the code blocks' background is added here (a cursor edit per code block, not per piece).
    """
    doc.setMarkdown(text, MARKDOWN_FEATURES)
    if code_background is None or "```" not in text and "~~~" not in text and "    " not in text:
        return
    block = doc.begin()
    while block.isValid():
        if block.blockFormat().hasProperty(QTextFormat.Property.BlockCodeFence) \
                or block.blockFormat().nonBreakableLines():
            bf = block.blockFormat()
            bf.setBackground(code_background)
            QTextCursor(block).setBlockFormat(bf)
        block = block.next()


def is_code(fmt: QTextCharFormat) -> bool:
    """Set in the system's fixed-width font, as the importer does for code."""
    mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont).families()
    return fmt.fontFixedPitch() or bool(fmt.fontFamilies()) and fmt.fontFamilies() == mono


class MarkdownView(QTextBrowser):
    """Read-only, selectable Markdown sized to its text (no scroll bars of its own)."""

    linkClicked = Signal(QUrl)
    contextMenuWanted = Signal(object, object)  # QMenu (Qt's own, to extend), global QPoint

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                     | Qt.TextInteractionFlag.TextSelectableByKeyboard
                                     | Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)  # Tab keeps moving between controls
        self.setUndoRedoEnabled(False)
        self.viewport().setAutoFillBackground(False)
        self.setStyleSheet("QTextBrowser { background: transparent; }")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.document().setDocumentMargin(0)
        self.anchorClicked.connect(self.linkClicked)
        self.document().documentLayout().documentSizeChanged.connect(self._fit_height)
        self._markdown = ""
        self._code_background: QColor | None = None

    # --- content ----------------------------------------------------------------------------

    def set_markdown(self, text: str) -> None:
        if text == self._markdown and self.document().characterCount() > 1:
            return
        self._markdown = text
        render_markdown(self.document(), text, self._code_background)
        self._fit_height()

    def markdown(self) -> str:
        return self._markdown

    def text(self) -> str:
        """What the person sees, as plain text (the Markdown's marks are gone)."""
        return self.toPlainText()

    def set_code_background(self, color: QColor) -> None:
        if self._code_background is None or color != self._code_background:
            self._code_background = color
            if self._markdown:
                render_markdown(self.document(), self._markdown, color)

    def loadResource(self, kind: int, url: QUrl) -> object:  # noqa: N802 (Qt's name)
        """Nothing is fetched: no remote image, no local file; an image shows as a placeholder."""
        log.debug("Not loading %s from a reply", url.toString()[:200])
        return None

    # --- size: as tall as the text at the width the layout gives ----------------------------

    def _fit_height(self, *_args: object) -> None:
        height = round(self.document().size().height()) + 2 * self.frameWidth() + 2
        if height != self.minimumHeight() or height != self.maximumHeight():
            self.setFixedHeight(max(height, self.fontMetrics().height()))

    def resizeEvent(self, event: object) -> None:  # noqa: N802
        super().resizeEvent(event)  # type: ignore[arg-type]
        self._fit_height()

    def sizeHint(self) -> QSize:
        return QSize(self.fontMetrics().averageCharWidth() * 60, self.minimumHeight())

    def minimumSizeHint(self) -> QSize:
        return QSize(self.fontMetrics().averageCharWidth() * 8, self.minimumHeight())

    def wheelEvent(self, event: object) -> None:  # noqa: N802
        event.ignore()  # type: ignore[attr-defined]  # the conversation scrolls, not the bubble

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._fit_height()

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802
        menu = self.createStandardContextMenu(event.pos())
        self.contextMenuWanted.emit(menu, event.globalPos())
        menu.deleteLater()


def set_link_color(widget: QWidget, color: QColor) -> None:
    """Links in `widget`'s documents take `color` (QTextDocument reads the palette's Link)."""
    palette = widget.palette()
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        palette.setColor(group, QPalette.ColorRole.Link, color)
        palette.setColor(group, QPalette.ColorRole.LinkVisited, color)
    widget.setPalette(palette)
