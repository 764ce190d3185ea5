"""The reply bubble's life before and after its text: "Thinking…" until the first piece (with a
busy hint after a while), and Continue for a reply that stopped for its limit, cut ("limit") or
ended at a sentence near it ("sentence"), with "Longer replies" when a long answer was asked.

Through the real window with the scripted engine (exact timing: it blocks where told) and the
real SQLite store in the test's home. The indicator's pace is shortened through the `Turns`
attributes, so the busy hint shows in a fraction of a second.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from desktop_fakes import FakeEngine, FakeStream, _wait
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from qwen_aio.desktop.app import DesktopApp
from qwen_aio.desktop.continuing import can_continue, offer_longer, wants_long_answer
from qwen_aio.desktop.reply_waiting import BUSY_AFTER_MS, TICK_MS
from qwen_aio.engine.types import CancelToken, Message
from qwen_aio.foundation.errors import QwenAioError

FAST_TICK_MS = 30
FAST_BUSY_MS = 300


def ready(qtbot: Any, make_app: Any, engine: FakeEngine, **kwargs: Any) -> DesktopApp:
    app = make_app(engine, **kwargs)
    qtbot.waitUntil(lambda: app.client.model_loaded)
    app.window.turns.waiting_tick_ms = FAST_TICK_MS
    app.window.turns.waiting_busy_after_ms = FAST_BUSY_MS
    return app


def send(qtbot: Any, app: DesktopApp, text: str) -> tuple[Any, ...]:
    with qtbot.waitSignal(app.window.turnFinished, timeout=10_000) as done:
        app.window.input.setPlainText(text)
        qtbot.keyClick(app.window.input, Qt.Key.Key_Return)
    return tuple(done.args)


def start(qtbot: Any, app: DesktopApp, text: str) -> Any:
    """Send without waiting for the end; returns the reply's bubble once it is there."""
    win = app.window
    win.input.setPlainText(text)
    win.send()
    qtbot.waitUntil(lambda: len(win.chat.bubbles) == 2)
    return win.chat.bubbles[-1]


def stored(app: DesktopApp) -> list[tuple[str, str]]:
    return [(m.role, m.content) for m in app.store.messages(app.window.current_id)]  # type: ignore[arg-type]


# --- "Thinking…" before the first text ----------------------------------------------------------

def test_defaults_are_unobtrusive() -> None:
    assert TICK_MS == 400 and BUSY_AFTER_MS == 5000


def test_thinking_shows_before_the_first_token_animates_then_says_busy(
        qtbot: Any, make_app: Any, fake_engine: FakeEngine, tmp_path: Path) -> None:
    fake_engine.block_in_prefill = True  # the prompt is being read: no token for a while
    app = ready(qtbot, make_app, fake_engine)
    win = app.window
    reply = start(qtbot, app, "hello")
    waiting = reply.waiting
    assert reply.is_waiting and waiting is not None and waiting.isVisibleTo(reply)
    assert waiting.text().startswith("Thinking") and not waiting.busy
    assert reply.text == "" and reply.body.isHidden()  # no blank line above it
    assert reply.accessibleDescription() == "Thinking…" == waiting.accessibleName()

    seen = {waiting.text()}
    qtbot.waitUntil(lambda: seen.add(waiting.text()) or len(seen) >= 3, timeout=2000)
    assert {t.rstrip(".") for t in seen} == {"Thinking"}  # the dots move, the word stays

    qtbot.waitUntil(lambda: waiting.busy, timeout=3000)
    assert waiting.text().endswith("\nStill working — the computer is busy")
    assert reply.accessibleDescription() == ("Thinking… Still working — the computer is "
                                            "busy")

    # Never the message's text: not copied, not saved.
    clipboard = QGuiApplication.clipboard()
    clipboard.setText("before")
    reply.copy()
    assert clipboard.text() == ""
    assert stored(app) == [("user", "hello")]

    with qtbot.waitSignal(win.turnFinished, timeout=10_000):
        fake_engine.release.set()
    assert not reply.is_waiting and waiting.isHidden() and not waiting._timer.isActive()
    assert reply.accessibleDescription() == "" and not reply.body.isHidden()
    assert reply.text == "I hear you."
    assert stored(app) == [("user", "hello"), ("assistant", "I hear you.")]
    out = win.export_conversation(tmp_path / "chat.md")
    assert out is not None and "Thinking" not in out.read_text(encoding="utf-8")
    reply.copy()
    assert clipboard.text() == "I hear you."


def test_thinking_stops_at_the_first_token(qtbot: Any, make_app: Any,
                                           fake_engine: FakeEngine) -> None:
    fake_engine.block_after = 1  # one piece, then the engine waits: the reply has begun
    app = ready(qtbot, make_app, fake_engine)
    win = app.window
    reply = start(qtbot, app, "hello")
    qtbot.waitUntil(lambda: reply.text == "I ")
    assert win.client.busy and not reply.is_waiting
    assert reply.waiting is None or reply.waiting.isHidden()
    reply.flush()
    assert "Thinking" not in reply.body.text()
    with qtbot.waitSignal(win.turnFinished, timeout=10_000):
        fake_engine.release.set()
    assert reply.text == "I hear you." and not reply.is_waiting


def test_thinking_stops_on_stop(qtbot: Any, make_app: Any, fake_engine: FakeEngine) -> None:
    fake_engine.block_in_prefill = True
    app = ready(qtbot, make_app, fake_engine)
    win = app.window
    reply = start(qtbot, app, "hello")
    assert reply.is_waiting
    with qtbot.waitSignal(win.turnFinished, timeout=10_000) as done:
        win.stop()
    assert done.args[2].stop_reason == "cancelled"
    assert not reply.is_waiting and reply.waiting is not None and reply.waiting.isHidden()
    assert reply.accessibleDescription() == ""
    assert app.store.message_count() == 1  # nothing of the indicator was saved


class FailingStream(FakeStream):
    """Reads the prompt (blocks until released), then fails like a broken engine."""

    def __iter__(self) -> Iterator[str]:
        _wait(self.engine.release, self.cancel)
        raise QwenAioError("the engine broke")
        yield ""  # a generator, like the real stream


def test_thinking_stops_on_an_error(qtbot: Any, make_app: Any,
                                    fake_engine: FakeEngine) -> None:
    def chat(history: Sequence[Message], text: str, *, max_tokens: int = 128,
             system_prompt: str | None = None, cancel: CancelToken | None = None,
             **_more: Any) -> FakeStream:
        return FailingStream(fake_engine, cancel, max_tokens, [])

    fake_engine.chat = chat  # type: ignore[method-assign]
    app = ready(qtbot, make_app, fake_engine)
    win = app.window
    reply = start(qtbot, app, "hello")
    assert reply.is_waiting
    with qtbot.waitSignal(win.turnFinished, timeout=10_000) as done:
        fake_engine.release.set()
    assert done.args[2] is None  # it failed
    assert "the engine broke" in win.state_label.text()
    assert not reply.is_waiting and reply.waiting is not None and reply.waiting.isHidden()
    assert reply.text == "" and app.store.message_count() == 1


def test_thinking_in_chinese(qtbot: Any, make_app: Any, fake_engine: FakeEngine) -> None:
    fake_engine.block_in_prefill = True
    app = ready(qtbot, make_app, fake_engine, language="zh")
    win = app.window
    reply = start(qtbot, app, "你好")
    waiting = reply.waiting
    assert waiting is not None and waiting.text().startswith("正在思考")
    assert reply.accessibleDescription() == "正在思考…"
    qtbot.waitUntil(lambda: waiting.busy, timeout=3000)
    assert waiting.text().endswith("\n仍在处理，电脑有点忙")
    assert reply.accessibleDescription() == "正在思考… 仍在处理，电脑有点忙"
    with qtbot.waitSignal(win.turnFinished, timeout=10_000):
        win.stop()
    assert not reply.is_waiting


def test_thinking_while_a_continuation_is_prepared(qtbot: Any, make_app: Any,
                                                   fake_engine: FakeEngine) -> None:
    """Continue keeps the text shown; the indicator sits under it until the new text."""
    fake_engine.stop_reason = "limit"
    app = ready(qtbot, make_app, fake_engine)
    win = app.window
    send(qtbot, app, "tell me")
    reply = win.chat.bubbles[-1]
    fake_engine.block_in_prefill = True
    win.continue_reply()
    assert reply.is_waiting and not reply.body.isHidden() and reply.text == "I hear you."
    with qtbot.waitSignal(win.turnFinished, timeout=10_000):
        fake_engine.release.set()
    assert not reply.is_waiting and reply.text == "I hear you. And more."
    assert stored(app)[-1] == ("assistant", "I hear you. And more.")


# --- Continue for a reply that stopped for its limit ------------------------------------------

def test_which_replies_continue_and_when_the_long_preset_is_offered() -> None:
    assert can_continue("limit") and can_continue("sentence")
    assert not any(can_continue(r) for r in ("end", "cancelled", "", None))
    for asked in ("Give me a list of games", "Any IDEAS for dinner?", "What are the steps?",
                  "Explain how tides work", "Tell me more", "Any tips?", "Describe it in detail",
                  "请详细说说", "列出三种水果", "给我几个建议", "有哪些步骤"):
        assert wants_long_answer(asked), asked
    for asked in ("hello", "Listen, I'm sad", "I listed nothing", "今天好累"):
        assert not wants_long_answer(asked), asked
    assert offer_longer("list them", "sentence", "short")
    assert offer_longer("list them", "limit", "normal")
    assert not offer_longer("list them", "end", "short")  # it finished by itself
    assert not offer_longer("list them", "limit", "long")  # already the longest
    assert not offer_longer("hello", "limit", "short")


def test_a_reply_ended_at_a_sentence_offers_continue_and_it_continues(
        qtbot: Any, make_app: Any, fake_engine: FakeEngine) -> None:
    fake_engine.stop_reason = "sentence"
    app = ready(qtbot, make_app, fake_engine)
    win = app.window
    send(qtbot, app, "hello")
    reply = win.chat.bubbles[-1]
    assert reply.stop_reason == "sentence" and reply.can_continue
    assert reply.cut_hint is not None and reply.cut_hint.isVisibleTo(reply)
    assert reply.cut_hint.text() == "… ended early, near the length limit"
    assert not reply.can_offer_longer  # "hello" asked for nothing long
    assert app.store.messages(win.current_id)[-1].stop_reason == "sentence"  # type: ignore[arg-type]

    with qtbot.waitSignal(win.turnFinished, timeout=10_000):
        qtbot.mouseClick(reply.continue_button, Qt.MouseButton.LeftButton)
    assert fake_engine.calls[-1][0] == "continue"
    assert [(m.role, m.content) for m in fake_engine.calls[-1][1]] == [
        ("user", "hello"), ("assistant", "I hear you.")]  # the saved reply is what goes on
    assert reply.text == "I hear you. And more."
    assert stored(app) == [("user", "hello"), ("assistant", "I hear you. And more.")]
    assert reply.can_continue  # the scripted continuation stopped at a sentence again

    # A reply the model ended by itself offers nothing.
    fake_engine.stop_reason = "end"
    send(qtbot, app, "thanks")
    last = win.chat.bubbles[-1]
    assert not last.can_continue and not reply.can_continue
    assert last.cut_hint is not None and not last.cut_hint.isVisibleTo(last)


def test_continue_survives_reopening(qtbot: Any, make_app: Any) -> None:
    first = FakeEngine(stop_reason="sentence")
    app = ready(qtbot, make_app, first)
    send(qtbot, app, "Tell me about the sea")
    conversation = app.window.current_id
    app.window.close()  # no tray: closing quits

    second = FakeEngine(stop_reason="end")
    again = ready(qtbot, make_app, second)
    win = again.window
    assert win.current_id == conversation
    reply = win.chat.bubbles[-1]
    assert reply.stop_reason == "sentence" and reply.can_continue
    assert reply.meta_label is not None and "ended at a sentence" in reply.meta_label.text()
    with qtbot.waitSignal(win.turnFinished, timeout=10_000):
        qtbot.mouseClick(reply.continue_button, Qt.MouseButton.LeftButton)
    assert second.calls[-1][0] == "continue"
    assert reply.text == "I hear you. And more." and not reply.can_continue  # ended: "end"
    assert again.store.messages(conversation)[-1].stop_reason == "end"


def test_a_stopped_continuation_keeps_the_sentence_reason(qtbot: Any, make_app: Any,
                                                          fake_engine: FakeEngine) -> None:
    fake_engine.stop_reason = "sentence"
    app = ready(qtbot, make_app, fake_engine)
    win = app.window
    send(qtbot, app, "hello")
    reply = win.chat.bubbles[-1]
    fake_engine.block_in_prefill = True
    win.continue_reply()
    with qtbot.waitSignal(win.turnFinished, timeout=10_000):
        win.stop()
    assert reply.stop_reason == "sentence" and reply.can_continue and not reply.stopped
    assert app.store.messages(win.current_id)[-1].stop_reason == "sentence"  # type: ignore[arg-type]


@pytest.mark.parametrize("reason", ["limit", "sentence"])
def test_longer_replies_is_offered_for_a_list_and_continues_at_the_long_length(
        qtbot: Any, make_app: Any, fake_engine: FakeEngine, reason: str) -> None:
    fake_engine.stop_reason = reason
    app = ready(qtbot, make_app, fake_engine)
    win = app.window
    win.length_box.setCurrentIndex(0)  # short
    send(qtbot, app, "Give me some ideas for a rainy day")
    assert fake_engine.calls[-1][3] == app.settings.reply_tokens["short"]
    reply = win.chat.bubbles[-1]
    assert reply.can_continue and reply.can_offer_longer
    assert reply.longer_button is not None and reply.longer_button.text() == "Longer replies"

    win.length_box.setCurrentIndex(2)  # the person chose long themselves: no more offer
    assert not reply.can_offer_longer and reply.can_continue
    win.length_box.setCurrentIndex(1)
    assert reply.can_offer_longer

    with qtbot.waitSignal(win.turnFinished, timeout=10_000):
        qtbot.mouseClick(reply.longer_button, Qt.MouseButton.LeftButton)
    assert win.length_box.currentIndex() == 2 and app.settings.reply_length == "long"
    assert fake_engine.calls[-1][0] == "continue"
    assert fake_engine.calls[-1][2] == app.settings.reply_tokens["long"]
    assert reply.text == "I hear you. And more."
    assert not reply.can_offer_longer  # long already
