"""Search across conversations (Ctrl+F): a field and its results above the sidebar's list.

Results come as the person types, after a short pause (`DEBOUNCE_MS`); the query runs on the
UI thread, which is fine because the store answers in a few ms for 10,000 messages (FTS5
trigram index, see store.py). Choosing a result opens its conversation and `reveal` scrolls
to the message and outlines it for a moment.
"""

from __future__ import annotations

import html
import logging
import re

from PySide6.QtCore import (
    QElapsedTimer,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPalette,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QScrollArea,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from qwen_aio.desktop import theme
from qwen_aio.desktop.i18n import Translator
from qwen_aio.desktop.store import ConversationStore, SearchHit, search_terms
from qwen_aio.foundation.errors import ConversationsUnavailable

log = logging.getLogger(__name__)

DEBOUNCE_MS = 200  # typing pause before the results change
RESULT_LIMIT = 100
HIGHLIGHT_MS = 2500  # how long a revealed message stays outlined
_SETTLE_MS = 1000  # a freshly opened conversation is still laying out: keep the message in view

HIT_ROLE = Qt.ItemDataRole.UserRole  # (conversation id, message id) of a result row
HTML_ROLE = Qt.ItemDataRole.UserRole + 1  # the row as drawn: title, who, snippet with the terms


def marked(text: str, terms: list[str], color: str) -> str:
    """`text` as HTML with every occurrence of a term in bold (any case), the rest escaped."""
    if not terms:
        return html.escape(text)
    pattern = re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)),
                         re.IGNORECASE)
    out, last = [], 0
    for m in pattern.finditer(text):
        out.append(html.escape(text[last:m.start()]))
        out.append(f'<b style="color:{color}">{html.escape(m.group())}</b>')
        last = m.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


_COLORED = re.compile(r' style="color:#[0-9a-fA-F]{6}"')


class HitDelegate(QStyledItemDelegate):
    """Draws a result row's HTML (the title in bold, the terms marked) in the palette's colours."""

    MARGIN = 4

    def _document(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex,
                  width: int, selected: bool = False) -> QTextDocument:
        doc = QTextDocument()
        doc.setDefaultFont(option.font)
        doc.setDocumentMargin(self.MARGIN)
        text = str(index.data(HTML_ROLE) or html.escape(str(index.data())))
        if selected:  # the highlighted text colour throughout, readable on the selection
            text = _COLORED.sub("", text)
        doc.setHtml(text)
        doc.setTextWidth(max(width, 40))
        return doc

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        doc = self._document(option, index, option.rect.width(), selected)
        ctx = QAbstractTextDocumentLayout.PaintContext()
        ctx.palette.setColor(QPalette.ColorRole.Text, option.palette.color(
            QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text))
        painter.save()
        painter.translate(option.rect.topLeft())
        doc.documentLayout().draw(painter, ctx)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem,
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        width = option.rect.width()
        if width <= 0 and option.widget is not None:
            width = option.widget.width() - 24  # before the view laid the row out
        doc = self._document(option, index, width)
        return QSize(width, int(doc.size().height()) + 2)


class SearchField(QLineEdit):
    """Down moves into the results, Esc closes the search (it does not stop a reply here)."""

    down = Signal()
    escape = Signal()

    def event(self, event: QEvent) -> bool:
        # The window's Esc (stop) is a shortcut: claim the key while the field has focus.
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent) \
                and event.key() == Qt.Key.Key_Escape:
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.escape.emit()
            return
        if event.key() == Qt.Key.Key_Down:
            self.down.emit()
            return
        super().keyPressEvent(event)


class SearchPanel(QWidget):
    """The search field, a one-line status and the results; hidden until Ctrl+F."""

    chosen = Signal(int, int)  # conversation id, message id
    closed = Signal()

    def __init__(self, store: ConversationStore, tr: Translator,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("searchPanel")
        self.store = store
        self.tr = tr
        self.hits: list[SearchHit] = []
        self.field = SearchField()
        self.field.setObjectName("searchField")
        self.field.setClearButtonEnabled(True)
        self.status = QLabel()
        self.status.setObjectName("searchStatus")
        self.status.setWordWrap(True)
        self.results = QListWidget()
        self.results.setObjectName("searchResults")
        self.results.setWordWrap(True)
        self.results.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.results.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.results.setAlternatingRowColors(True)
        self.results.setItemDelegate(HitDelegate(self.results))
        self.results.setResizeMode(QListView.ResizeMode.Adjust)  # rows re-wrap with the width
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.field)
        layout.addWidget(self.status)
        layout.addWidget(self.results, 1)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(DEBOUNCE_MS)
        self.timer.timeout.connect(self.run)
        self.field.textChanged.connect(lambda _t: self.timer.start())
        self.field.returnPressed.connect(self._choose_first)
        self.field.down.connect(self._into_results)
        self.field.escape.connect(self.close_search)
        self.results.itemActivated.connect(self._choose)
        self.results.itemClicked.connect(self._choose)
        self._style()
        self.retranslate(tr)
        self.hide()

    def _style(self) -> None:
        self.status.setStyleSheet(f"color:{theme.css(theme.muted(self.palette()))};")

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._style()
        super().changeEvent(event)

    def retranslate(self, tr: Translator) -> None:
        self.tr = tr
        find = QKeySequence(QKeySequence.StandardKey.Find).toString(
            QKeySequence.SequenceFormat.NativeText)
        self.field.setPlaceholderText(tr("search.placeholder"))
        self.field.setToolTip(tr("search.tip", keys=find))
        self.field.setAccessibleName(tr("search.placeholder"))
        self.results.setAccessibleName(tr("search.results"))
        if self.isVisible() and self.field.text().strip():
            self.run()

    def open_search(self) -> None:
        """Ctrl+F: show the field with its text selected, so typing replaces the last query."""
        self.show()
        self.field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.field.selectAll()
        if self.field.text().strip():
            self.run()

    def close_search(self) -> None:
        self.timer.stop()
        self.hide()
        self.closed.emit()

    def run(self) -> None:
        """The results for the field's text now (the debounce timer calls this)."""
        self.timer.stop()
        query = self.field.text()
        self.results.clear()
        self.hits = []
        if not query.strip():
            self.status.setText("")
            return
        try:
            self.hits = self.store.search(query, RESULT_LIMIT)
        except ConversationsUnavailable as exc:
            self.status.setText(self.tr("state.store_failed", error=exc.reason))
            return
        terms = search_terms(query)
        palette = self.results.palette()
        accent, quiet = theme.css(theme.link(palette)), theme.css(theme.muted(palette))
        for hit in self.hits:
            who = self.tr("chat.you" if hit.role == "user" else "chat.assistant")
            item = QListWidgetItem(f"{hit.title} · {who}\n{hit.snippet}")
            item.setData(HIT_ROLE, (hit.conversation_id, hit.message_id))
            item.setData(HTML_ROLE, f"<b>{html.escape(hit.title)}</b> "
                                    f'<span style="color:{quiet}">· {html.escape(who)}</span>'
                                    f"<br>{marked(hit.snippet, terms, accent)}")
            item.setToolTip(hit.snippet)
            self.results.addItem(item)
        if not self.hits:
            self.status.setText(self.tr("search.none"))
        elif len(self.hits) >= RESULT_LIMIT:
            self.status.setText(self.tr("search.many", n=len(self.hits)))
        else:
            self.status.setText(self.tr("search.count", n=len(self.hits)))

    def _into_results(self) -> None:
        if self.results.count():
            self.results.setFocus()
            self.results.setCurrentRow(0)

    def _choose_first(self) -> None:
        if self.timer.isActive():  # Enter before the pause ended: search now
            self.run()
        if self.results.count():
            self._choose(self.results.item(0))

    def _choose(self, item: QListWidgetItem | None) -> None:
        if item is None:
            return
        conversation_id, message_id = item.data(HIT_ROLE)
        self.chosen.emit(int(conversation_id), int(message_id))


class Outline(QFrame):
    """A frame drawn over a widget (mouse goes through), following its size: the highlight."""

    def __init__(self, target: QWidget, palette: QPalette) -> None:
        super().__init__(target)
        self.setObjectName("searchOutline")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        color = theme.css(theme.link(palette))
        self.setStyleSheet(f"QFrame#searchOutline {{ border:3px solid {color}; "
                           "border-radius:10px; background:transparent; }")
        self.setGeometry(target.rect())
        target.installEventFilter(self)
        self.show()
        self.raise_()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and isinstance(watched, QWidget):
            self.setGeometry(watched.rect())
        return False


class Revealer(QObject):
    """Scrolls a chat view to one of its bubbles and outlines the bubble for a moment.

    A conversation just opened is still laying out, and the view follows the bottom as it
    grows; for a second after `reveal`, every change of the scroll range brings the message
    back into view (this runs after the view's own follow, being connected later).
    """

    def __init__(self, chat: QScrollArea) -> None:
        super().__init__(chat)
        self.chat = chat
        self.target: QWidget | None = None
        self.outline: Outline | None = None
        self._since = QElapsedTimer()
        self._hide = QTimer(self)
        self._hide.setSingleShot(True)
        self._hide.timeout.connect(self.clear)
        chat.verticalScrollBar().rangeChanged.connect(self._keep)

    def reveal(self, bubble: QWidget) -> None:
        self.clear()
        self.target = bubble
        bubble.destroyed.connect(self._forget)
        self.outline = Outline(bubble, self.chat.palette())  # a styled bubble's own is not
        self._since.start()
        self._scroll()
        QTimer.singleShot(0, self._scroll)  # after the view's own queued scroll to the end
        self._hide.start(HIGHLIGHT_MS)

    def clear(self) -> None:
        if self.outline is not None:
            self.outline.hide()
            self.outline.deleteLater()
        self.outline = None
        self.target = None

    def _forget(self) -> None:
        self.target = None
        self.outline = None

    def _keep(self, _min: int, _max: int) -> None:
        if self.target is not None and self._since.isValid() \
                and self._since.elapsed() < _SETTLE_MS:
            self._scroll()

    def _scroll(self) -> None:
        if self.target is None:
            return
        bubble, inner = self.target, self.chat.widget()
        view_h = self.chat.viewport().height()
        # A short message centred; a long one with its start near the top, where reading starts.
        margin = (view_h - bubble.height()) // 2 if bubble.height() < view_h - 40 else 20
        top = bubble.mapTo(inner, bubble.rect().topLeft()).y()
        self.chat.verticalScrollBar().setValue(top - margin)
