"""The main window with a scripted engine: signal order, Stop, queueing, persistence, safety."""

from __future__ import annotations

from typing import Any

from desktop_fakes import FakeEngine, Recorder, make_recorder
from PySide6.QtCore import Qt

from qwen_aio.desktop.app import DesktopApp
from qwen_aio.foundation.errors import ModelLoadFailed


def ready(qtbot: Any, make_app: Any, fake_engine: FakeEngine, **kwargs: Any) -> DesktopApp:
    app = make_app(fake_engine, **kwargs)
    qtbot.waitUntil(lambda: app.client.model_loaded)
    return app


def send(qtbot: Any, app: DesktopApp, text: str) -> tuple[int, str, Any]:
    """Type and press Enter; wait until the window has shown the whole reply.

    Waits on the window's own signal: qtbot's wait on a worker signal would return in the
    worker thread's time, before the UI thread has seen the result.
    """
    with qtbot.waitSignal(app.window.turnFinished, timeout=10_000) as done:
        app.window.input.setPlainText(text)
        qtbot.keyClick(app.window.input, Qt.Key.Key_Return)
    return tuple(done.args)  # type: ignore[return-value]


def record(app: DesktopApp) -> Recorder:
    """Events as the UI thread sees them, with the user chip's text at each moment."""
    return make_recorder(app.client.worker, app.window.chat.chips)


def test_window_shows_loading_then_ready(qtbot: Any, make_app: Any,
                                         fake_engine: FakeEngine) -> None:
    app = make_app(fake_engine)
    assert app.window.isVisible()
    assert not app.window.send_button.isEnabled()
    qtbot.waitUntil(lambda: app.client.model_loaded)
    assert app.window.status_model.text() == "Model: Fake model"
    assert app.window.send_button.isEnabled()


def test_mood_chip_appears_before_the_first_token(qtbot: Any, make_app: Any,
                                                  fake_engine: FakeEngine) -> None:
    app = ready(qtbot, make_app, fake_engine)
    rec = record(app)
    _, text, stats = send(qtbot, app, "What a lovely morning")
    events = rec.events
    assert [e for e, _ in events] == ["mood", "token", "token", "token", "token", "done"]
    # The chip was already filled in when the first token reached the UI.
    assert events[1] == ("token", "😄 Positive 90%")
    assert text == "I hear you." and stats.stop_reason == "end"
    assert app.window.chat.bubbles[-1].text == "I hear you."
    assert app.window.status_mood.text() == "Mood: 12 ms"
    assert app.window.status_speed.text() == "Reply: 42.0 tokens/s"
    assert app.window.timeline.points == [("Positive", 0.9)]


def test_enter_sends_and_shift_enter_makes_a_newline(qtbot: Any, make_app: Any,
                                                     fake_engine: FakeEngine) -> None:
    app = ready(qtbot, make_app, fake_engine)
    box = app.window.input
    qtbot.keyClicks(box, "line one")
    qtbot.keyClick(box, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(box, "line two")
    assert box.toPlainText() == "line one\nline two"
    assert fake_engine.calls == []
    with qtbot.waitSignal(app.window.turnFinished):
        qtbot.keyClick(box, Qt.Key.Key_Return)
    assert fake_engine.calls[0] == ("mood", "line one\nline two")
    assert box.toPlainText() == ""


def test_stop_ends_the_reply_and_the_next_message_works(qtbot: Any, make_app: Any,
                                                        fake_engine: FakeEngine) -> None:
    fake_engine.block_after = 2
    app = ready(qtbot, make_app, fake_engine)
    win = app.window
    rec = record(app)
    tokens = rec.pieces
    win.input.setPlainText("tell me something")
    qtbot.keyClick(win.input, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(tokens) == 2)
    # While the reply runs, sending is paused and the window says so.
    assert not win.send_button.isEnabled() and win.stop_button.isEnabled()
    assert "Replying" in win.state_label.text()
    win.input.setPlainText("impatient second message")
    qtbot.keyClick(win.input, Qt.Key.Key_Return)
    assert "wait for it" in win.state_label.text()
    assert [c[0] for c in fake_engine.calls] == ["mood", "chat"]  # the model was not called again

    with qtbot.waitSignal(app.window.turnFinished) as done:
        qtbot.keyClick(win, Qt.Key.Key_Escape)
    _, text, stats = done.args
    assert fake_engine.ended_by == ["cancel"]  # stopped by the flag, not by the fake's safety cap
    assert stats.stop_reason == "cancelled" and text == "I hear "
    stopped = win.chat.bubbles[-1]
    assert stopped.text == "I hear " and stopped.stopped
    assert stopped.meta_label is not None and stopped.meta_label.text() == "Fake model · stopped"
    assert win.state_label.text() == "Stopped."
    assert win.send_button.isEnabled() and not win.stop_button.isEnabled()

    fake_engine.block_after = None
    win.input.clear()
    _, text, stats = send(qtbot, app, "and now?")
    assert stats.stop_reason == "end" and text == "I hear you."
    # The stopped partial reply is in the history the next turn sees.
    history = fake_engine.calls[-1][1]
    assert [(m.role, m.content) for m in history] == [
        ("user", "tell me something"), ("assistant", "I hear ")]


def test_stop_works_while_the_prompt_is_processed(qtbot: Any, make_app: Any,
                                                  fake_engine: FakeEngine) -> None:
    fake_engine.block_in_prefill = True
    app = ready(qtbot, make_app, fake_engine)
    with qtbot.waitSignal(app.window.moodSeen):
        app.window.input.setPlainText("hello")
        app.window.send()
    with qtbot.waitSignal(app.window.turnFinished) as done:
        app.window.stop_button.click()
    assert done.args[2].stop_reason == "cancelled" and done.args[1] == ""
    assert fake_engine.ended_by == ["cancel"]
    assert app.store.message_count() == 1  # the user message only: an empty reply is not saved


def test_stop_during_the_mood_pass(qtbot: Any, make_app: Any, fake_engine: FakeEngine) -> None:
    fake_engine.block_in_mood = True
    app = ready(qtbot, make_app, fake_engine)
    app.window.input.setPlainText("hello")
    app.window.send()
    with qtbot.waitSignal(app.window.turnFinished) as done:
        app.window.stop()
    assert done.args[2].stop_reason == "cancelled"
    assert [c[0] for c in fake_engine.calls] == ["mood"]


def test_conversations_survive_closing_and_reopening(qtbot: Any, make_app: Any) -> None:
    first = FakeEngine()
    app = ready(qtbot, make_app, first)
    send(qtbot, app, "Sunny walk in the park")
    send(qtbot, app, "Then I had a terrible headache")
    app.window.rename_conversation("Tuesday")
    app.window.close()  # no tray: closing the window quits the app
    assert first.closed and not app.client.thread.isRunning()

    second = FakeEngine()
    again = ready(qtbot, make_app, second)
    win = again.window
    assert win.sidebar.count() == 1 and win.sidebar.item(0).text() == "Tuesday"
    assert [b.role for b in win.chat.bubbles] == ["user", "assistant", "user", "assistant"]
    assert win.chat.chips() == ["😄 Positive 90%", "😞 Negative 80%"]
    assert win.timeline.points == [("Positive", 0.9), ("Negative", 0.8)]
    # The next turn continues the restored conversation's history.
    send(qtbot, again, "Better now")
    assert len(second.calls[-1][1]) == 4


def test_sidebar_new_switch_delete_and_export(qtbot: Any, make_app: Any, fake_engine: FakeEngine,
                                              tmp_path: Any) -> None:
    app = ready(qtbot, make_app, fake_engine)
    win = app.window
    send(qtbot, app, "first conversation, sad day")
    first_id = win.current_id
    assert win.sidebar.item(0).text() == "first conversation, sad day"  # titled from message
    second_id = win.new_conversation()
    assert win.chat.bubbles == [] and win.timeline.points == []
    send(qtbot, app, "second one")
    assert fake_engine.calls[-1][1] == ()  # a new conversation starts with no history
    win.open_conversation(first_id)  # type: ignore[arg-type]
    assert win.chat.chips() == ["😞 Negative 80%"]
    out = win.export_conversation(tmp_path / "first.md")
    assert out is not None and "😞 Negative 80%" in out.read_text(encoding="utf-8")
    win.delete_conversation(confirm=False)
    assert [c.id for c in app.store.conversations()] == [second_id]
    assert win.current_id == second_id and win.chat.chips() == ["😄 Positive 90%"]


def test_text_is_shown_as_plain_text(qtbot: Any, make_app: Any, fake_engine: FakeEngine) -> None:
    """The person's text is plain; a reply is Markdown without HTML: tags stay visible text."""
    html = '<b>bold</b><img src="http://example.com/x.png"><a href="http://evil">click</a>'
    fake_engine.pieces = ['<script>alert(1)</script>', '<a href="http://x">link</a>']
    app = ready(qtbot, make_app, fake_engine)
    send(qtbot, app, html)
    user, reply = app.window.chat.bubbles
    assert user.body.textFormat() == Qt.TextFormat.PlainText
    assert not user.body.openExternalLinks()
    assert not user.body.textInteractionFlags() & Qt.TextInteractionFlag.LinksAccessibleByMouse
    assert user.body.text() == html
    assert not reply.body.openLinks() and not reply.body.openExternalLinks()
    assert reply.body.text() == '<script>alert(1)</script><a href="http://x">link</a>'


def test_reply_length_control_sets_the_token_limit(qtbot: Any, make_app: Any,
                                                   fake_engine: FakeEngine) -> None:
    app = ready(qtbot, make_app, fake_engine)
    app.window.length_box.setCurrentIndex(0)  # short
    send(qtbot, app, "hi")
    assert fake_engine.calls[-1][3] == app.settings.reply_tokens["short"]
    app.window.length_box.setCurrentIndex(2)  # long
    send(qtbot, app, "hi again")
    assert fake_engine.calls[-1][3] == app.settings.reply_tokens["long"]
    from qwen_aio.foundation.settings import Settings
    assert Settings.load().reply_length == "long"  # the choice is remembered


def test_chinese_ui(qtbot: Any, make_app: Any, fake_engine: FakeEngine) -> None:
    app = ready(qtbot, make_app, fake_engine, locale_name="zh_CN")
    assert app.window.send_button.text() == "发送"
    send(qtbot, app, "今天真开心")
    assert app.window.chat.chips() == ["😄 正面 90%"]
    app.apply_settings(_with(app.settings, language="en"))
    assert app.window.send_button.text() == "Send"
    assert app.window.chat.chips() == ["😄 Positive 90%"]


def _cancel_text() -> str:
    from PySide6.QtWidgets import QDialogButtonBox

    box = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
    return box.button(QDialogButtonBox.StandardButton.Cancel).text().replace("&", "")


def test_qt_standard_buttons_follow_the_language_at_runtime(
        qtbot: Any, make_app: Any, fake_engine: FakeEngine) -> None:
    """Qt's own qtbase_zh_CN.qm is installed with the Chinese UI and removed with English."""
    app = ready(qtbot, make_app, fake_engine, locale_name="en_US")
    assert _cancel_text() == "Cancel"
    app.apply_settings(_with(app.settings, language="zh"))
    assert app.window.send_button.text() == "发送" and _cancel_text() == "取消"
    app.apply_settings(_with(app.settings, language="en"))
    assert app.window.send_button.text() == "Send" and _cancel_text() == "Cancel"


def test_engine_error_is_shown_and_the_app_recovers(qtbot: Any, make_app: Any,
                                                    fake_engine: FakeEngine) -> None:
    app = ready(qtbot, make_app, fake_engine)

    def broken_mood(text: str, *, cancel: Any = None) -> Any:
        raise ModelLoadFailed("x.gguf", "out of memory")

    good_mood = fake_engine.mood
    fake_engine.mood = broken_mood  # type: ignore[method-assign]
    with qtbot.waitSignal(app.window.turnFinished) as done:
        app.window.input.setPlainText("hello")
        app.window.send()
    assert done.args[2] is None
    assert "out of memory" in app.window.state_label.text()
    assert app.window.send_button.isEnabled()
    fake_engine.mood = good_mood  # type: ignore[method-assign]
    _, text, _ = send(qtbot, app, "hello again")
    assert text == "I hear you."


def _with(settings: Any, **changes: Any) -> Any:
    import dataclasses
    return dataclasses.replace(settings, **changes)


def test_closing_while_a_reply_runs_stops_the_worker(qtbot: Any, make_app: Any,
                                                     fake_engine: FakeEngine) -> None:
    fake_engine.block_after = 1
    app = ready(qtbot, make_app, fake_engine)
    with qtbot.waitSignal(app.client.worker.token):
        app.window.input.setPlainText("long story")
        app.window.send()
    app.quit()
    assert fake_engine.ended_by == ["cancel"] and fake_engine.closed
    assert not app.client.thread.isRunning()


def test_engine_notices_are_shown(qtbot: Any, make_app: Any, fake_engine: FakeEngine) -> None:
    fake_engine.notices = ["The 4 oldest messages were left out to fit the context window."]
    app = ready(qtbot, make_app, fake_engine)
    _, text, stats = send(qtbot, app, "hello again")
    assert stats.notices and text
    assert "oldest messages were left out" in app.window.statusBar().currentMessage()
