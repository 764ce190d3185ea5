"""The conversation view: message bubbles with mood chips; replies as safe Markdown.

A person's message is plain text in a QLabel (Qt.PlainText, links off). A reply is Markdown in
a MarkdownView (markdown_view.py): no HTML, nothing loaded, a link opens only when clicked and
confirmed. While a reply streams its pieces are buffered and laid out at most every
RENDER_EVERY_MS, so a fast model never floods the UI thread. Each message has Copy (button and
context menu); the last reply has Regenerate, the last message of the person Edit. Hovering a
message shows when it was written; a reply shows its model and why it ended, and the engine's
notices about a message sit under it. A reply that stopped for the token limit (cut, or ended
at a sentence near it: continuing.py) shows Continue when it is the last message, and also
"Longer replies" when the person asked for a list or a long answer. While a reply has no text
yet, its bubble shows "Thinking…" (reply_waiting.py), which is never part of its text.
A huge message shows only its beginning, with "Show more" (in place, bounded) and "Show all"
(long_text.py).
Colours come from the palette (theme.py), so a dark desktop theme reads well.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QPoint, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QContextMenuEvent, QDesktopServices, QGuiApplication, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from qwen_aio.desktop import theme
from qwen_aio.desktop.backend import keywords_of
from qwen_aio.desktop.continuing import can_continue
from qwen_aio.desktop.i18n import Translator, human_bytes
from qwen_aio.desktop.long_text import (
    IN_PLACE_STEPS,
    FullTextDialog,
    copy_text,
    preview_of,
    soft_wrapped,
    utf8_size,
)
from qwen_aio.desktop.markdown_view import MarkdownView, set_link_color
from qwen_aio.desktop.reply_waiting import ReplyWaiting

log = logging.getLogger(__name__)

CHIPS_PER_ROW = 4  # keyword chips per row (at most eight keywords: two rows)
RENDER_EVERY_MS = 100  # a streaming reply is laid out again at most this often
COPIED_MS = 1500  # how long Copy reads "Copied"
FOLLOW_SLACK_PX = 24  # this close to the bottom counts as "at the bottom": the view follows
LINK_SCHEMES = ("http", "https", "mailto")  # the only links handed to the system, when asked

def chip_css(palette: QPalette, label: str | None) -> str:
    """A mood chip's colours from the palette: readable in light and dark themes."""
    bg, fg, border = theme.mood_colors(palette, label)
    if label is None:  # "mood…": quieter than a label, but still to be read
        fg = theme.mix(palette.color(QPalette.ColorRole.Text), bg, 0.2)
    return (f"background:{theme.css(bg)}; color:{theme.css(fg)}; "
            f"border:1px solid {theme.css(border)};")


def view_style_sheet(palette: QPalette) -> str:
    """One style sheet for the whole column, from `palette`: parsed once, not per bubble
    (a style sheet per bubble doubled the time to open a long conversation)."""
    c = theme.css
    text = palette.color(QPalette.ColorRole.Text)
    muted = c(theme.muted(palette))
    link = theme.link(palette)
    sheet = [f"QLabel#emptyHint {{ color:{muted}; }}",
             f"#messageBody {{ color:{c(text)}; background:transparent; }}",
             f"QLabel#cutHint, QLabel#replyMeta, QLabel#engineNotice {{ color:{muted}; "
             "font-size:11px; }",
             f"QLabel#replyWaiting {{ color:{muted}; font-style:italic; }}",
             f"QPushButton[linkButton=\"true\"] {{ background:transparent; color:{muted}; "
             "border:none; padding:0px 4px; font-size:11px; }",
             f"QPushButton[linkButton=\"true\"]:hover {{ color:{c(link)}; "
             "text-decoration:underline; }",
             f"QPushButton#showAllButton {{ color:{c(link)}; text-decoration:underline; }}",
             f"QToolButton#moodChip:focus {{ border:2px solid {c(link)}; padding:0px 7px; }}",
             f"QLabel#taskName {{ color:{c(link)}; font-size:11px; font-weight:bold; }}"]
    for role in ("user", "assistant"):
        bg = theme.bubble(palette, role)
        sheet += [
            f"QFrame#bubble_{role} {{ background:{c(bg)}; border-radius:10px; }}",
            f"QFrame#bubble_{role} QPushButton#continueButton, "
            f"QFrame#bubble_{role} QPushButton#longerButton {{ "
            f"background:{c(theme.mix(bg, link, 0.06))}; color:{c(link)}; "
            f"border:1px solid {c(theme.mix(bg, link, 0.5))}; border-radius:9px; "
            "padding:1px 10px; }",
            f"QFrame#bubble_{role} QPushButton#continueButton:hover, "
            f"QFrame#bubble_{role} QPushButton#longerButton:hover {{ "
            f"background:{c(theme.mix(bg, link, 0.15))}; }}",
            f"QFrame#bubble_{role} QPushButton#continueButton:disabled, "
            f"QFrame#bubble_{role} QPushButton#longerButton:disabled {{ color:{muted}; "
            f"border-color:{muted}; }}",
            f"QFrame#bubble_{role} QLabel#keywordChip {{ "
            f"background:{c(theme.mix(bg, link, 0.10))}; color:{c(text)}; "
            f"border:1px solid {c(theme.mix(bg, link, 0.45))}; border-radius:9px; "
            "padding:2px 9px; }"]
    for label, value in ((None, ""), ("Positive", "Positive"), ("Negative", "Negative")):
        look = chip_css(palette, label)
        chip = f"QToolButton#moodChip[mood=\"{value}\"]"
        sheet += [f"{chip}, {chip}:disabled {{ {look} border-radius:9px; padding:1px 8px; }}",
                  f"{chip}:hover {{ border-width:2px; padding:0px 7px; }}"]
    return "\n".join(sheet)


class BodyLabel(QLabel):
    """A message's text: its size hints need one layout at a typical width, not QLabel's three.

    QLabel's own hints also lay the text out at width 0 (one word per line: for 4,000 Chinese
    characters, 4,000 lines), about half a second per bubble; the layout then asks
    heightForWidth at the real width anyway. And the layouts ask heightForWidth for a few
    widths in turn (scroll bar shown or not), which QLabel does not remember: this does.
    """

    contextMenuWanted = Signal(object, object)  # QMenu to fill, global QPoint

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

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802
        menu = QMenu(self)
        self.contextMenuWanted.emit(menu, event.globalPos())
        menu.deleteLater()


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
    longerClicked = Signal(object)  # this bubble: longer replies from now on, and more of this
    regenerateClicked = Signal(object)  # this bubble: write this (last) reply again
    editClicked = Signal(object)  # this bubble: put this (last) message back in the input
    linkClicked = Signal(QUrl)  # a link in a reply was clicked (nothing is opened yet)

    def __init__(self, role: str, text: str, tr: Translator, message_id: int | None = None,
                 palette: QPalette | None = None) -> None:
        super().__init__()
        self.role = role
        self.message_id = message_id  # the row in the store, once it is saved
        self._tr = tr
        self._parts = [text]  # the whole text, joined when asked: streaming stays linear
        self._joined: str | None = text
        self._bytes = utf8_size(text)
        self._cut = False  # the body shows only the beginning (the preview)
        self._level = 0  # clicks on "Show more": the preview grows in place
        self._shown: str | None = None  # what the body holds now
        self.viewer: FullTextDialog | None = None
        self.stopped = False
        self.stop_reason: str | None = None  # assistant messages: why the reply ended
        self.created: float | None = None  # when it was written (time.time())
        self.model: str | None = None  # assistant messages: the model that wrote it
        self.notices: list[str] = []  # the engine's notes about this message
        self.task: str | None = None  # a task's id: this is the task's text or result
        self._structured = False  # its result is a JSON list (keywords): shown as chips
        self.task_label: QLabel | None = None
        self.keywords: list[str] | None = None  # the chips shown (a keywords result)
        self._chips: QWidget | None = None
        self.renders = 0  # how often the body was laid out (streaming is coalesced)
        self._render_timer = QTimer(self)
        self._render_timer.setSingleShot(True)
        self._render_timer.setInterval(RENDER_EVERY_MS)
        self._render_timer.timeout.connect(self._render)
        self.setObjectName("bubble_" + role)
        self.setAccessibleName(tr("chat.you" if role == "user" else "chat.assistant"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(4)
        self.body: BodyLabel | MarkdownView
        if role == "user":
            self.body = plain_label(cls=BodyLabel)  # type: ignore[assignment]
        else:
            self.body = MarkdownView()
            self.body.linkClicked.connect(self.linkClicked)
        self.body.setObjectName("messageBody")
        self.body.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.body.contextMenuWanted.connect(self._fill_context_menu)
        layout.addWidget(self.body)
        self._notice_box = QVBoxLayout()
        self._notice_box.setSpacing(0)
        layout.addLayout(self._notice_box)
        self.chip: QToolButton | None = None
        self.mood_label: str | None = None
        self.mood_confidence: float | None = None
        self.mood_corrected = False
        self.cut_hint: QLabel | None = None
        self.continue_button: QPushButton | None = None
        self.longer_button: QPushButton | None = None
        self.waiting: ReplyWaiting | None = None  # made when first needed: most never wait
        self.meta_label: QLabel | None = None
        self.regenerate_button: QPushButton | None = None
        self.edit_button: QPushButton | None = None
        self._build_actions()
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
            self.chip.setProperty("mood", "")
            self.edit_button = self._link_button("editButton")
            self.edit_button.clicked.connect(lambda: self.editClicked.emit(self))
            self.edit_button.hide()
            row = QHBoxLayout()
            row.addWidget(self.show_more_button)
            row.addWidget(self.show_less_button)
            row.addWidget(self.show_all_button)
            row.addWidget(self.copy_button)
            row.addWidget(self.edit_button)
            row.addStretch(1)
            row.addWidget(self.chip)
            layout.addLayout(row)
        else:
            self.cut_hint = plain_label(tr("chat.cut"))
            self.cut_hint.setObjectName("cutHint")
            self.cut_hint.setWordWrap(False)
            self.continue_button = QPushButton(tr("chat.continue"))
            self.continue_button.setObjectName("continueButton")
            self.continue_button.setToolTip(tr("chat.continue_tip"))
            self.continue_button.setCursor(Qt.CursorShape.PointingHandCursor)
            self.continue_button.clicked.connect(self._on_continue_clicked)
            self.longer_button = QPushButton(tr("chat.longer"))
            self.longer_button.setObjectName("longerButton")
            self.longer_button.setToolTip(tr("chat.longer_tip"))
            self.longer_button.setCursor(Qt.CursorShape.PointingHandCursor)
            self.longer_button.clicked.connect(lambda: self.longerClicked.emit(self))
            row = QHBoxLayout()
            row.addWidget(self.cut_hint)
            row.addWidget(self.continue_button)
            row.addWidget(self.longer_button)
            row.addStretch(1)
            layout.addLayout(row)
            self.cut_hint.hide()
            self.continue_button.hide()
            self.longer_button.hide()
            self.meta_label = plain_label("")
            self.meta_label.setObjectName("replyMeta")
            self.meta_label.setWordWrap(False)
            self.meta_label.hide()
            self.regenerate_button = self._link_button("regenerateButton")
            self.regenerate_button.clicked.connect(lambda: self.regenerateClicked.emit(self))
            self.regenerate_button.hide()
            actions = QHBoxLayout()
            actions.addWidget(self.meta_label)
            actions.addStretch(1)
            actions.addWidget(self.show_more_button)
            actions.addWidget(self.show_less_button)
            actions.addWidget(self.show_all_button)
            actions.addWidget(self.copy_button)
            actions.addWidget(self.regenerate_button)
            layout.addLayout(actions)
        self._label_actions()
        self._render()
        self.apply_theme(palette if palette is not None else QGuiApplication.palette())
        self.last_menu: list[str] = []  # the context menu's actions, last time it was asked

    # --- the row of small actions -----------------------------------------------------------

    def _link_button(self, name: str) -> QPushButton:
        button = QPushButton()
        button.setObjectName(name)
        button.setProperty("linkButton", True)
        button.setCursor(Qt.CursorShape.PointingHandCursor)
        button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        return button

    def _build_actions(self) -> None:
        """"Show more"/"Show less" and "Show all (1.2 MB)" (only when the body holds a
        preview) and "Copy"."""
        self.show_more_button = self._link_button("showMoreButton")
        self.show_more_button.clicked.connect(self.show_more)
        self.show_more_button.hide()
        self.show_less_button = self._link_button("showLessButton")
        self.show_less_button.clicked.connect(self.show_less)
        self.show_less_button.hide()
        self.show_all_button = self._link_button("showAllButton")
        self.show_all_button.clicked.connect(self.show_all)
        self.copy_button = self._link_button("copyButton")
        self.copy_button.clicked.connect(self.copy)
        self._size_shown = ""
        self.show_all_button.hide()

    def _label_actions(self) -> None:
        tr = self._tr
        self.show_all_button.setText(tr("chat.show_all", size=self._size_shown))
        self.show_all_button.setToolTip(tr("chat.show_all_tip"))
        self.show_more_button.setText(tr("chat.show_more"))
        self.show_more_button.setToolTip(tr("chat.show_more_tip"))
        self.show_less_button.setText(tr("chat.show_less"))
        self.copy_button.setText(tr("chat.copy"))
        self.copy_button.setToolTip(tr("chat.copy_tip"))
        if self.regenerate_button is not None:
            self.regenerate_button.setText(tr("chat.regenerate"))
            self.regenerate_button.setToolTip(tr("chat.regenerate_tip"))
        if self.edit_button is not None:
            self.edit_button.setText(tr("chat.edit"))
            self.edit_button.setToolTip(tr("chat.edit_tip"))

    def copy(self) -> None:
        """The whole message to the clipboard (a reply as its Markdown source, keywords as a
        comma-separated line); the button says "Copied" for a moment."""
        copy_text(", ".join(self.keywords) if self.keywords is not None else self.text)
        self.copy_button.setText(self._tr("chat.copied"))
        QTimer.singleShot(COPIED_MS, self, self._label_actions)

    def set_can_regenerate(self, shown: bool, enabled: bool = True) -> None:
        if self.regenerate_button is not None:
            self.regenerate_button.setVisible(shown)
            self.regenerate_button.setEnabled(enabled)

    def set_can_edit(self, shown: bool, enabled: bool = True) -> None:
        if self.edit_button is not None:
            self.edit_button.setVisible(shown)
            self.edit_button.setEnabled(enabled)

    @property
    def can_regenerate(self) -> bool:
        b = self.regenerate_button
        return b is not None and not b.isHidden() and b.isEnabled()

    @property
    def can_edit(self) -> bool:
        b = self.edit_button
        return b is not None and not b.isHidden() and b.isEnabled()

    def _fill_context_menu(self, menu: QMenu, where: QPoint) -> None:
        """The body's menu (Qt's own for a reply: Copy, Select All) with the message's actions."""
        tr = self._tr
        body = self.body
        if isinstance(body, BodyLabel) and body.hasSelectedText():
            selected = body.selectedText().replace("\u200b", "")
            menu.addAction(tr("chat.copy_selection")).triggered.connect(
                lambda: copy_text(selected))
        if not menu.isEmpty():
            menu.addSeparator()
        menu.addAction(tr("chat.copy_message")).triggered.connect(self.copy)
        if self.can_regenerate:
            menu.addAction(tr("chat.regenerate")).triggered.connect(
                lambda: self.regenerateClicked.emit(self))
        if self.can_edit:
            menu.addAction(tr("chat.edit")).triggered.connect(
                lambda: self.editClicked.emit(self))
        if self.can_continue:
            menu.addAction(tr("chat.continue")).triggered.connect(self._on_continue_clicked)
        if self.can_offer_longer:
            menu.addAction(tr("chat.longer")).triggered.connect(
                lambda: self.longerClicked.emit(self))
        self.last_menu = [a.text() for a in menu.actions() if not a.isSeparator()]
        if QGuiApplication.platformName() != "offscreen":
            menu.exec(where)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802
        """A right-click on the bubble's margin: the same menu as on its text."""
        menu = QMenu(self)
        self._fill_context_menu(menu, event.globalPos())
        menu.deleteLater()

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

    @property
    def markdown(self) -> bool:
        return isinstance(self.body, MarkdownView)

    def append_text(self, piece: str) -> None:
        """A streamed piece: cheap however long the reply is and however fast pieces come; the
        body is laid out again at most every RENDER_EVERY_MS (see `flush`)."""
        if self.waiting is not None and self.waiting.active:
            self.stop_waiting()  # the text has begun
        self._parts.append(piece)
        self._joined = None
        self._bytes += utf8_size(piece)
        if self._cut:
            self._show_size()
        elif not self._render_timer.isActive():
            self._render_timer.start()

    def flush(self) -> None:
        """Lay out what has arrived now (the reply ended, or a test looks)."""
        if self._render_timer.isActive():
            self._render_timer.stop()
            self._render()

    def set_text(self, text: str) -> None:
        if text and self.waiting is not None and self.waiting.active:
            self.stop_waiting()
        self._render_timer.stop()
        self._parts, self._joined = [text], text
        self._bytes = utf8_size(text)
        self._render()

    def mark_stopped(self) -> None:
        self.stopped = True
        self.flush()
        self._show_meta()

    def _render(self) -> None:
        text = self.text
        preview, self._cut = preview_of(text, self._level)
        if isinstance(self.body, MarkdownView):
            shown = preview + "\n\n…" if self._cut else preview
            if shown != self._shown:
                self._shown = shown
                self.body.set_markdown(shown)
                self.renders += 1
        else:
            shown = soft_wrapped(preview)
            if self._cut:
                shown += " …"
            if shown != self._shown:
                self._shown = shown
                self.body.setText(shown)
                self.renders += 1
        if self._structured:
            self._show_keywords(None if self._render_timer.isActive() else keywords_of(text))
        self.show_all_button.setVisible(self._cut)
        self.show_more_button.setVisible(self._cut and self._level < IN_PLACE_STEPS)
        self.show_less_button.setVisible(self._level > 0)
        if self._cut:
            self._show_size()

    def show_more(self) -> None:
        """More of the message in the bubble itself (bounded: see long_text.IN_PLACE_STEPS)."""
        if self._cut and self._level < IN_PLACE_STEPS:
            self._level += 1
            self._render()

    def show_less(self) -> None:
        """Back to the short preview."""
        if self._level:
            self._level = 0
            self._render()

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

    # --- what is known about the message: time, model, why it ended, notices ----------------

    def set_details(self, *, created: float | None = None, model: str | None = None) -> None:
        """When it was written (shown on hover) and, for a reply, the model that wrote it."""
        if created is not None:
            self.created = created
        if model:
            self.model = model
        self._show_meta()

    def _show_meta(self) -> None:
        tr = self._tr
        lines: list[str] = []
        if self.created is not None:
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.created))
            lines.append(tr("chat.sent_at" if self.role == "user" else "chat.written_at",
                            time=stamp))
        reason = self._reason_text()
        if self.role != "user":
            if self.model:
                lines.append(tr("chat.tip_model", model=self.model))
            if reason:
                lines.append(tr("chat.tip_reason", reason=reason))
        tip = "\n".join(lines)
        self.setToolTip(tip)
        self.body.setToolTip(tip)
        if self.meta_label is not None:
            meta = " · ".join(p for p in (self.model, reason) if p)
            self.meta_label.setText(meta)
            self.meta_label.setVisible(bool(meta))

    def _reason_text(self) -> str:
        if self.role == "user":
            return ""
        reason = "cancelled" if self.stopped else self.stop_reason
        if reason in ("end", "sentence", "limit", "cancelled"):
            return self._tr("chat.reason." + reason)
        return ""

    # --- tasks ------------------------------------------------------------------------------

    def set_task(self, task_id: str, name: str, *, structured: bool = False) -> None:
        """Mark this as a task's text ("→ Summary") or result ("Summary"); a structured
        result (keywords) is shown as chips once it parses."""
        self.task, self._structured = task_id, structured
        if self.task_label is None:
            self.task_label = plain_label("")
            self.task_label.setObjectName("taskName")
            self.task_label.setWordWrap(False)
            layout = self.layout()
            assert isinstance(layout, QVBoxLayout)
            layout.insertWidget(0, self.task_label)
        self.task_label.setText(name)
        self._shown = None
        self._render()

    def _show_keywords(self, items: list[str] | None) -> None:
        """Chips for a keywords result (None: the text as it came, e.g. while it streams)."""
        if items == self.keywords:
            return
        self.keywords = items
        if self._chips is not None:
            self._chips.deleteLater()
            self._chips = None
        self.body.setVisible(items is None)
        if items is None:
            return
        self._chips = QWidget()
        self._chips.setObjectName("keywordChips")
        grid = QGridLayout(self._chips)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(4)
        for i, word in enumerate(items):
            chip = plain_label(word)
            chip.setObjectName("keywordChip")
            chip.setWordWrap(False)
            grid.addWidget(chip, i // CHIPS_PER_ROW, i % CHIPS_PER_ROW)
        grid.setColumnStretch(CHIPS_PER_ROW, 1)
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(layout.indexOf(self.body) + 1, self._chips)

    def add_notice(self, text: str) -> QLabel:
        """An engine notice about this message (history trimmed, message cut), under its text."""
        self.notices.append(text)
        note = plain_label(text)
        note.setObjectName("engineNotice")
        self._notice_box.addWidget(note)
        return note

    def notice_texts(self) -> list[str]:
        return [w.text() for w in self.findChildren(QLabel, "engineNotice")]

    def set_stop_reason(self, reason: str | None) -> None:
        """Why the reply ended; a cut one ("limit") shows the hint under its text (one ended at
        a sentence near the limit says so only where Continue is offered)."""
        self.flush()
        self.stop_reason = reason
        if self.cut_hint is not None:
            self.cut_hint.setText(self._tr("chat.trimmed" if reason == "sentence"
                                           else "chat.cut"))
            self.cut_hint.setVisible(reason == "limit")
        if not can_continue(reason):
            self.set_can_continue(False)
        if reason is None:
            self.stopped = False
        self._show_meta()

    def set_can_continue(self, shown: bool, enabled: bool = True, *,
                         longer: bool = False) -> None:
        """Continue: the window shows it on the last message only, if it stopped for the
        limit ("limit" or "sentence"); with ``longer``, "Longer replies" beside it."""
        if self.continue_button is None or self.cut_hint is None or self.longer_button is None:
            return
        shown = shown and can_continue(self.stop_reason)
        self.continue_button.setVisible(shown)
        self.continue_button.setEnabled(enabled)
        self.longer_button.setVisible(shown and longer)
        self.longer_button.setEnabled(enabled)
        trimmed = self.stop_reason == "sentence"
        self.cut_hint.setText(self._tr("chat.trimmed" if trimmed else "chat.cut"))
        self.cut_hint.setVisible(self.stop_reason == "limit" or (trimmed and shown))

    @property
    def can_offer_longer(self) -> bool:
        return self.longer_button is not None and not self.longer_button.isHidden()

    # --- waiting for the first text ---------------------------------------------------------

    def start_waiting(self, tick_ms: int | None = None, busy_after_ms: int | None = None) -> None:
        """"Thinking…" under the (empty) text until the first piece arrives or `stop_waiting`."""
        if self.waiting is None:
            self.waiting = ReplyWaiting(self._tr)
            self.waiting.announced.connect(self.setAccessibleDescription)
            layout = self.layout()
            assert isinstance(layout, QVBoxLayout)
            layout.insertWidget(layout.indexOf(self.body) + 1, self.waiting)
        if not self.text:
            self.body.hide()  # an empty body is a blank line above the indicator
            self.copy_button.hide()  # nothing to copy yet
        self.waiting.start(tick_ms, busy_after_ms)

    def stop_waiting(self) -> None:
        if self.waiting is None:
            return
        self.waiting.stop()
        self.body.setVisible(self.keywords is None)  # keyword chips stand in for the body
        self.copy_button.show()

    @property
    def is_waiting(self) -> bool:
        return self.waiting is not None and self.waiting.active

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
        self._style_chip()

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
            self.cut_hint.setText(tr("chat.trimmed" if self.stop_reason == "sentence"
                                     else "chat.cut"))
            self.continue_button.setText(tr("chat.continue"))
            self.continue_button.setToolTip(tr("chat.continue_tip"))
        if self.longer_button is not None:
            self.longer_button.setText(tr("chat.longer"))
            self.longer_button.setToolTip(tr("chat.longer_tip"))
        if self.waiting is not None:
            self.waiting.retranslate(tr)
        self._label_actions()
        self._show_meta()
        self._shown = None
        self._render()

    # --- colours ----------------------------------------------------------------------------

    def apply_theme(self, palette: QPalette) -> None:
        """What the column's style sheet cannot set: link colour and code shade in a reply."""
        if isinstance(self.body, MarkdownView):
            set_link_color(self.body, theme.link(palette))
            self.body.set_code_background(theme.mix(theme.bubble(palette, self.role),
                                                    palette.color(QPalette.ColorRole.Text),
                                                    0.08))

    def _style_chip(self) -> None:
        """The chip's colours follow its label (a property the style sheet matches)."""
        assert self.chip is not None
        self.chip.setProperty("mood", self.mood_label or "")
        style = self.chip.style()
        style.unpolish(self.chip)
        style.polish(self.chip)


class ChatView(QScrollArea):
    """A scrolling column of bubbles; it follows new text only while the person is at the end.

    Scrolling up to read stops the following; scrolling back to the bottom (or sending a
    message, or opening a conversation) starts it again.
    """

    chipClicked = Signal(object)  # MessageBubble
    continueClicked = Signal(object)  # MessageBubble
    longerClicked = Signal(object)  # MessageBubble
    regenerateClicked = Signal(object)  # MessageBubble
    editClicked = Signal(object)  # MessageBubble

    def __init__(self, tr: Translator, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tr = tr
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._inner = QWidget()
        self._inner.setObjectName("chatColumn")
        self._column = QVBoxLayout(self._inner)
        self._column.setContentsMargins(12, 12, 12, 12)
        self._column.setSpacing(10)
        self._empty = plain_label(tr("win.empty"))
        self._empty.setObjectName("emptyHint")
        self._empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # The stretch sits above the messages, as in chat apps: wrapped labels can overestimate
        # their height, and any slack then lands above the oldest message, not below the newest.
        self._column.addStretch(1)
        self._column.addWidget(self._empty)
        self.setWidget(self._inner)
        self.bubbles: list[MessageBubble] = []
        self._holders: list[QWidget] = []
        self.following = True  # the person is at the bottom: new text keeps it in view
        bar = self.verticalScrollBar()
        bar.rangeChanged.connect(self._on_range_changed)
        bar.valueChanged.connect(self._on_scrolled)
        # Asked before a clicked link is handed to the browser (tests replace it).
        self.confirm_link: Callable[[QUrl], bool] = self._ask_to_open
        self._styled_for: str | None = None
        self._apply_theme()

    def clear(self) -> None:
        for holder in self._holders:
            self._column.removeWidget(holder)
            holder.hide()
            holder.deleteLater()
        self._holders.clear()
        self.bubbles.clear()
        self._empty.show()
        self.following = True

    def add(self, role: str, text: str = "", message_id: int | None = None,
            created: float | None = None) -> MessageBubble:
        """A message at the end; the person's own message brings the view to the bottom."""
        self._empty.hide()
        bubble = MessageBubble(role, text, self._tr, message_id, self.palette())
        if created is not None:
            bubble.set_details(created=created)
        bubble.chipClicked.connect(self.chipClicked)
        bubble.continueClicked.connect(self.continueClicked)
        bubble.longerClicked.connect(self.longerClicked)
        bubble.regenerateClicked.connect(self.regenerateClicked)
        bubble.editClicked.connect(self.editClicked)
        bubble.linkClicked.connect(self.open_link)
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
        if role == "user":
            self.following = True
        if self.following:
            QTimer.singleShot(0, self._scroll_to_end)
        return bubble

    def remove_from(self, index: int) -> None:
        """Take the messages from `index` on off the view (Regenerate, Edit)."""
        for holder in self._holders[index:]:
            self._column.removeWidget(holder)
            holder.hide()
            holder.deleteLater()
        del self._holders[index:]
        del self.bubbles[index:]
        self._empty.setVisible(not self.bubbles)

    def index_of(self, message_id: int) -> int | None:
        for i, b in enumerate(self.bubbles):
            if b.message_id == message_id:
                return i
        return None

    def chips(self) -> list[str]:
        return [b.chip_text() for b in self.bubbles if b.role == "user"]

    def retranslate(self, tr: Translator) -> None:
        self._tr = tr
        self._empty.setText(tr("win.empty"))
        for bubble in self.bubbles:
            bubble.retranslate(tr)

    # --- links ------------------------------------------------------------------------------

    def open_link(self, url: QUrl) -> bool:
        """A clicked link: web and mail links only, and only once the person says yes."""
        if url.scheme().lower() not in LINK_SCHEMES:
            log.info("Not opening a %r link from a reply", url.scheme())
            return False
        if not self.confirm_link(url):
            return False
        return QDesktopServices.openUrl(url)

    def _ask_to_open(self, url: QUrl) -> bool:
        answer = QMessageBox.question(
            self, self._tr("chat.open_link_title"),
            self._tr("chat.open_link", url=url.toDisplayString()[:500]))
        return answer == QMessageBox.StandardButton.Yes

    # --- following the newest text ----------------------------------------------------------

    def at_bottom(self) -> bool:
        bar = self.verticalScrollBar()
        return bar.value() >= bar.maximum() - FOLLOW_SLACK_PX

    def _on_scrolled(self, _value: int) -> None:
        self.following = self.at_bottom()

    def _on_range_changed(self, _min: int, _max: int) -> None:
        if self.following:
            self._scroll_to_end()

    def _scroll_to_end(self) -> None:
        if self.following:
            bar = self.verticalScrollBar()
            bar.setValue(bar.maximum())

    # --- colours ----------------------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self._apply_theme()

    def _apply_theme(self) -> None:
        palette = self.palette()
        sheet = view_style_sheet(palette)
        if sheet == self._styled_for:
            return
        self._styled_for = sheet
        self._inner.setStyleSheet(sheet)
        for bubble in self.bubbles:
            bubble.apply_theme(palette)
