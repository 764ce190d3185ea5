"""Huge messages (1 MB) in the real window: bounded bubbles, the whole text kept, Show all.

A bubble lays out only a preview; what is saved, sent to the engine and exported is the whole
text. The longest UI-thread stall during send and reload is measured with a 16 ms heartbeat,
printed and kept as a test property (`max_ui_stall_ms_*`), never asserted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from desktop_fakes import FakeEngine
from PySide6.QtCore import QMimeData, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QPushButton

from qwen_aio.desktop.app import DesktopApp
from qwen_aio.desktop.backend import ResolvedModel
from qwen_aio.desktop.long_text import (
    PREVIEW_CHARS,
    PREVIEW_LINES,
    preview_of,
    size_of,
    soft_wrapped,
    viewer_text,
)
from qwen_aio.desktop.window_layout import PASTE_HELD_CHARS
from qwen_aio.foundation.settings import Settings

MB = 1_000_000
HUGE = {  # no white space at either end: Send strips it
    "words": ("lorem ipsum dolor sit amet, " * 40_000)[:MB].strip(),
    "one_line": "x" * MB,  # no break point anywhere
    "chinese": ("今天的实验终于成功了，太棒了！" * 25_000)[: MB // 3],  # 1 MB in UTF-8
    "lines": ("a line of text that ends here\n" * 40_000)[:MB].strip(),
}
SHOWN_MAX = PREVIEW_CHARS + PREVIEW_CHARS // 60 + 20  # the preview, soft breaks and "…"


def ready(qtbot: Any, make_app: Any, engine: FakeEngine) -> DesktopApp:
    app = make_app(engine)
    qtbot.waitUntil(lambda: app.client.model_loaded)
    return app


def paste(app: DesktopApp, text: str) -> None:
    """Ctrl+V's path: the text arrives as mime data in the input box."""
    data = QMimeData()
    data.setText(text)
    app.window.input.insertFromMimeData(data)


def send(qtbot: Any, app: DesktopApp) -> tuple[Any, ...]:
    with qtbot.waitSignal(app.window.turnFinished, timeout=60_000) as done:
        qtbot.keyClick(app.window.input, Qt.Key.Key_Return)
    return tuple(done.args)


@pytest.fixture
def stalls(request: pytest.FixtureRequest) -> Callable[[str], Any]:
    """`with stalls("send"):` measures the UI thread's longest stall; the summary lists it."""

    def report(name: str, value: object) -> None:
        request.node.user_properties.append((f"max_ui_stall_ms_{name}", value))

    return lambda name: heartbeat(report, name)


@contextmanager
def heartbeat(record: Callable[[str, object], None], name: str) -> Iterator[None]:
    """Record the longest gap between 16 ms timer ticks: how long the UI thread was busy."""
    ticks: list[float] = [time.perf_counter()]
    timer = QTimer()
    timer.setInterval(16)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    try:
        yield
    finally:
        ticks.append(time.perf_counter())
        timer.stop()
        gap = max(b - a for a, b in zip(ticks, ticks[1:], strict=False))
        record(name, round(gap * 1000))


def laid_out(bubble: Any) -> str:
    return bubble.body.text()


@pytest.mark.parametrize("kind", list(HUGE))
def test_a_huge_message_shows_a_preview_and_keeps_the_whole_text(
        qtbot: Any, make_app: Any, tmp_path: Path, stalls: Any, kind: str) -> None:
    text = HUGE[kind]
    engine = FakeEngine()
    app = ready(qtbot, make_app, engine)
    win = app.window
    with stalls("send"):
        paste(app, text)
        send(qtbot, app)
    user = win.chat.bubbles[0]
    # What is laid out is bounded; the rest is one click away.
    assert user.is_preview and len(laid_out(user)) <= SHOWN_MAX
    assert laid_out(user).replace("\u200b", "").startswith(text[:200])
    assert user.show_all_button.isVisibleTo(win) and user.copy_button.isVisibleTo(win)
    assert size_of(text) in user.show_all_button.text()
    # A line without break points wraps inside the window instead of widening the bubble.
    assert user.body.sizeHint().width() <= win.chat.viewport().width()
    # The whole text is what is kept, sent and exported.
    assert user.text == text
    assert app.store.messages(win.current_id)[0].content == text  # type: ignore[arg-type]
    assert ("mood", text) in engine.calls and engine.calls[-1][2] == text
    out = win.export_conversation(tmp_path / "huge.md")
    assert out is not None and text.splitlines()[0][:1000] in out.read_text(encoding="utf-8")
    assert len(out.read_text(encoding="utf-8")) > len(text)
    # A short reply beside it is shown whole, with nothing to expand.
    reply = win.chat.bubbles[1]
    assert not reply.is_preview and laid_out(reply) == "I hear you."
    assert not reply.show_all_button.isVisibleTo(win)


def test_show_all_opens_the_whole_text_and_copy_copies_it(qtbot: Any, make_app: Any) -> None:
    text = HUGE["one_line"][:300_000] + "\nthe end"
    app = ready(qtbot, make_app, FakeEngine())
    paste(app, text)
    send(qtbot, app)
    user = app.window.chat.bubbles[0]
    qtbot.mouseClick(user.show_all_button, Qt.MouseButton.LeftButton)
    viewer = user.viewer
    assert viewer is not None and viewer.isVisible()
    assert viewer.view.isReadOnly()
    shown = viewer.view.toPlainText()
    assert shown.replace("\n", "") == text.replace("\n", "")  # long lines shown in pieces
    assert shown.endswith("\nthe end") and viewer.view.blockCount() > 2
    QGuiApplication.clipboard().clear()
    qtbot.mouseClick(viewer.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == text  # the exact text, not the pieces
    QGuiApplication.clipboard().clear()
    qtbot.mouseClick(user.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == text
    viewer.close()
    qtbot.waitUntil(lambda: user.viewer is None)


def test_a_huge_reply_streams_into_a_preview(qtbot: Any, make_app: Any) -> None:
    text = HUGE["words"]
    engine = FakeEngine()
    engine.pieces = [text[i:i + 8000] for i in range(0, len(text), 8000)]  # within 128 tokens
    app = ready(qtbot, make_app, engine)
    app.window.input.setPlainText("Tell me everything")
    _, reply_text, stats = send(qtbot, app)
    reply = app.window.chat.bubbles[-1]
    assert reply_text == text and stats.stop_reason == "end"
    assert reply.text == text and reply.is_preview
    assert len(laid_out(reply)) <= SHOWN_MAX
    assert size_of(text) in reply.show_all_button.text()
    assert app.store.messages(app.window.current_id)[-1].content == text  # type: ignore[arg-type]


def test_a_stopped_huge_reply_keeps_its_preview_and_says_stopped(qtbot: Any,
                                                                 make_app: Any) -> None:
    engine = FakeEngine()
    engine.pieces = ["y" * 5000, " more"]
    engine.block_after = 1
    app = ready(qtbot, make_app, engine)
    app.window.input.setPlainText("go on")
    qtbot.keyClick(app.window.input, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(app.window.chat.bubbles) == 2
                    and app.window.chat.bubbles[1].text == "y" * 5000)
    with qtbot.waitSignal(app.window.turnFinished):
        app.window.stop()
    reply = app.window.chat.bubbles[1]
    assert reply.is_preview and laid_out(reply).endswith("…") and reply.stopped
    assert reply.meta_label is not None and reply.meta_label.text().endswith("stopped")
    assert len(laid_out(reply)) <= SHOWN_MAX + 12


def test_reopening_a_conversation_with_huge_messages(qtbot: Any, make_app: Any,
                                                     stalls: Any) -> None:
    engine = FakeEngine()
    engine.pieces = [HUGE["chinese"]]
    app = ready(qtbot, make_app, engine)
    paste(app, HUGE["one_line"])
    send(qtbot, app)
    app.window.close()  # no tray: closing quits
    with stalls("reopen"):
        again = ready(qtbot, make_app, FakeEngine())
        qtbot.waitUntil(lambda: len(again.window.chat.bubbles) == 2)
    user, reply = again.window.chat.bubbles
    assert user.text == HUGE["one_line"] and reply.text == HUGE["chinese"]
    for bubble in (user, reply):
        assert bubble.is_preview and len(laid_out(bubble)) <= SHOWN_MAX
        assert bubble.show_all_button.isVisibleTo(again.window)
    assert again.window.sidebar.item(0).text() == "x" * 39 + "…"
    # Switching away and back is as cheap as a small conversation.
    again.window.new_conversation()
    again.window.open_conversation(again.store.conversations()[-1].id)
    assert len(laid_out(again.window.chat.bubbles[0])) <= SHOWN_MAX


def test_a_huge_paste_is_held_beside_the_input_and_sent_after_the_typed_text(
        qtbot: Any, make_app: Any) -> None:
    text = HUGE["one_line"]
    engine = FakeEngine()
    app = ready(qtbot, make_app, engine)
    win = app.window
    paste(app, "small paste")  # a normal paste goes into the box
    assert win.input.toPlainText() == "small paste" and win.pasted_bar.isHidden()
    win.input.clear()
    paste(app, text)
    assert win.input.toPlainText() == "" and win.input.pasted == text
    assert not win.pasted_bar.isHidden() and size_of(text) in win.pasted_label.text()
    viewer = win.show_pasted()
    assert viewer.full_text == text
    viewer.close()
    win.pasted_remove.click()
    assert win.input.pasted == "" and win.pasted_bar.isHidden()
    paste(app, text)
    qtbot.keyClicks(win.input, "Summarise this:")
    send(qtbot, app)
    assert engine.calls[-1][2] == "Summarise this:\n\n" + text
    assert win.chat.bubbles[0].text == "Summarise this:\n\n" + text
    assert win.input.toPlainText() == "" and win.input.pasted == ""
    assert win.pasted_bar.isHidden()


def test_the_paste_bar_speaks_chinese(qtbot: Any, make_app: Any) -> None:
    app = make_app(FakeEngine(), locale_name="zh_CN")
    paste(app, "好" * (PASTE_HELD_CHARS + 1))
    assert "已粘贴的文本" in app.window.pasted_label.text()
    assert app.window.pasted_remove.text() == "移除"
    viewer = app.window.show_pasted()
    assert viewer.copy_button.text() == "复制" and "整条消息" in viewer.windowTitle()
    assert "关闭" in [b.text() for b in viewer.findChildren(QPushButton)]
    viewer.close()


def test_preview_bounds_characters_and_lines() -> None:
    short = "hello\nworld"
    assert preview_of(short) == (short, False)
    many_lines = "\n".join(f"line {i}" for i in range(1000))
    head, cut = preview_of(many_lines)
    assert cut and head.count("\n") == PREVIEW_LINES - 1 and many_lines.startswith(head)
    head, cut = preview_of("z" * (PREVIEW_CHARS + 1))
    assert cut and len(head) == PREVIEW_CHARS
    assert preview_of("z" * (PREVIEW_CHARS + 1), level=1) == ("z" * (PREVIEW_CHARS + 1), False)
    head, cut = preview_of(many_lines, level=1)
    assert cut and head.count("\n") == PREVIEW_LINES * 4 - 1
    words = "word " * PREVIEW_CHARS
    head, cut = preview_of(words)
    assert cut and head.endswith("word") and PREVIEW_CHARS - 300 <= len(head) < PREVIEW_CHARS
    wrapped = soft_wrapped("a" * 200 + " b " + "c" * 10)
    assert wrapped.replace("\u200b", "") == "a" * 200 + " b " + "c" * 10
    assert all(len(run) <= 60 for run in wrapped.replace("\u200b", " ").split())
    assert viewer_text("q" * 25_000).split("\n") == ["q" * 10_000] * 2 + ["q" * 5_000]
    assert viewer_text(short) == short


def test_a_huge_paste_through_the_real_model(qtbot: Any, make_app: Any, model_path: Path,
                                             stalls: Any) -> None:
    """The engine reads the start and end of what fits, says so, and the window stays usable."""
    settings = Settings(threads=2, n_ctx=512)  # the smallest window: the least prompt to read
    settings.reply_tokens = {"short": 16, "normal": 48, "long": 400}
    settings.reply_length = "short"
    settings.save()
    app = make_app(resolver=lambda s, r: ResolvedModel(None, model_path, "Qwen2.5-Coder-0.5B"))
    win = app.window
    qtbot.waitUntil(lambda: app.client.model_loaded, timeout=120_000)
    line = "16:40:{:02d} ERROR storage: write failed (No space left on device), retrying\n"
    log = "".join(line.format(i % 60) for i in range(900)).strip()  # about 63 KB
    with stalls("send_real"), qtbot.waitSignal(win.turnFinished, timeout=300_000) as done:
        paste(app, log)
        win.input.insertPlainText("Why does my app keep failing?")
        win.send()
    _, reply, stats = done.args
    assert stats is not None, win.state_label.text()  # None: the turn failed
    sent = "Why does my app keep failing?\n\n" + log
    user = win.chat.bubbles[0]
    assert user.text == sent and user.is_preview and len(laid_out(user)) <= SHOWN_MAX
    assert user.chip_text().startswith(("😄 Positive", "😞 Negative"))
    assert app.store.messages(win.current_id)[0].content == sent  # type: ignore[arg-type]
    assert reply.strip() and win.chat.bubbles[1].text == reply
    assert any("too long for the context window" in n for n in stats.notices)
    assert "too long for the context window" in win.statusBar().currentMessage()
