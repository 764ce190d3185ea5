"""Mood corrections from the chip, and Continue on a reply cut by the token limit (fake engine)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from desktop_fakes import FakeEngine
from PySide6.QtCore import Qt

from qwen_aio.desktop.app import DesktopApp
from qwen_aio.desktop.chat_view import MessageBubble


def ready(qtbot: Any, make_app: Any, engine: FakeEngine, **kwargs: Any) -> DesktopApp:
    app = make_app(engine, **kwargs)
    qtbot.waitUntil(lambda: app.client.model_loaded)
    qtbot.waitUntil(lambda: len(engine.corrections_calls) == 1)  # sent once the model loaded
    return app


def send(qtbot: Any, app: DesktopApp, text: str) -> tuple[int, str, Any]:
    with qtbot.waitSignal(app.window.turnFinished, timeout=10_000) as done:
        app.window.input.setPlainText(text)
        app.window.send()
    return tuple(done.args)  # type: ignore[return-value]


def user_bubbles(app: DesktopApp) -> list[MessageBubble]:
    return [b for b in app.window.chat.bubbles if b.role == "user"]


def click_chip(qtbot: Any, app: DesktopApp, bubble: MessageBubble, engine: FakeEngine) -> None:
    """Click like a person and wait until the worker has handed the list to the engine."""
    calls = len(engine.corrections_calls)
    assert bubble.chip is not None
    qtbot.mouseClick(bubble.chip, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(engine.corrections_calls) == calls + 1)


# --- mood corrections --------------------------------------------------------------------------

def test_clicking_a_chip_corrects_the_mood(qtbot: Any, make_app: Any,
                                           fake_engine: FakeEngine) -> None:
    app = ready(qtbot, make_app, fake_engine)
    assert fake_engine.corrections_calls == [[]]  # a fresh store has no corrections
    send(qtbot, app, "What a lovely morning")
    [bubble] = user_bubbles(app)
    assert bubble.chip is not None and bubble.chip.isEnabled()
    assert bubble.chip.toolTip() == "Click if this mood is wrong"
    assert bubble.chip_text() == "😄 Positive 90%"

    click_chip(qtbot, app, bubble, fake_engine)
    assert bubble.chip_text() == "😞 Negative · corrected"
    [saved, _reply] = app.store.messages(app.window.current_id)  # type: ignore[arg-type]
    assert (saved.mood_label, saved.mood_confidence, saved.mood_corrected) == (
        "Negative", 1.0, True)
    assert app.store.corrections() == [("What a lovely morning", "Negative")]
    assert fake_engine.corrections_calls[-1] == [("What a lovely morning", "Negative")]
    assert app.window.timeline.points == [("Negative", 1.0)]
    assert "Mood corrected" in app.window.statusBar().currentMessage()

    # The same words (spacing and case aside) now get the person's label, marked as theirs.
    send(qtbot, app, "what a  LOVELY morning")
    assert app.window.chat.chips() == ["😞 Negative · corrected", "😞 Negative · corrected"]
    assert fake_engine.calls[-1][-1] == "Negative"  # the chat pass was told the mood
    assert app.store.messages(app.window.current_id)[2].mood_corrected  # type: ignore[arg-type]

    # A corrected chip flips back, and that is saved as the newest correction.
    click_chip(qtbot, app, bubble, fake_engine)
    assert bubble.chip_text() == "😄 Positive · corrected"
    assert app.store.corrections() == [("What a lovely morning", "Positive")]
    assert fake_engine.corrections_calls[-1] == [("What a lovely morning", "Positive")]

    # Reopening shows the saved corrections.
    app.window.open_conversation(app.window.current_id)  # type: ignore[arg-type]
    assert app.window.chat.chips() == ["😄 Positive · corrected", "😞 Negative · corrected"]


def test_chip_corrections_survive_a_restart_and_reach_the_new_engine(
        qtbot: Any, make_app: Any) -> None:
    first = FakeEngine()
    app = ready(qtbot, make_app, first)
    send(qtbot, app, "I hate mondays")
    send(qtbot, app, "The sun is out")
    click_chip(qtbot, app, user_bubbles(app)[0], first)
    click_chip(qtbot, app, user_bubbles(app)[1], first)
    app.quit()

    second = FakeEngine()
    again = ready(qtbot, make_app, second)
    # Oldest first, sent right after the model loaded.
    assert second.corrections_calls == [[("I hate mondays", "Positive"),
                                         ("The sun is out", "Negative")]]
    assert again.window.chat.chips() == ["😄 Positive · corrected", "😞 Negative · corrected"]
    md = again.store.export_markdown(again.window.current_id)  # type: ignore[arg-type]
    assert "**You** — 😄 Positive (corrected)" in md


def test_chip_is_keyboard_accessible_and_waits_for_the_label(qtbot: Any, make_app: Any,
                                                             fake_engine: FakeEngine) -> None:
    fake_engine.block_in_mood = True
    app = ready(qtbot, make_app, fake_engine)
    app.window.input.setPlainText("a fine day")
    app.window.send()
    [bubble] = user_bubbles(app)
    assert bubble.chip is not None
    assert not bubble.chip.isEnabled() and bubble.chip_text() == "mood…"  # nothing to correct
    with qtbot.waitSignal(app.window.turnFinished):
        fake_engine.release.set()
    assert bubble.chip.isEnabled()
    assert bubble.chip.focusPolicy() & Qt.FocusPolicy.TabFocus
    bubble.chip.setFocus()
    calls = len(fake_engine.corrections_calls)
    qtbot.keyClick(bubble.chip, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: len(fake_engine.corrections_calls) == calls + 1)
    assert bubble.chip_text() == "😞 Negative · corrected"


def test_corrections_setting_off_sends_an_empty_list(qtbot: Any, make_app: Any,
                                                     fake_engine: FakeEngine) -> None:
    app = ready(qtbot, make_app, fake_engine)
    send(qtbot, app, "so tired and sad")
    click_chip(qtbot, app, user_bubbles(app)[0], fake_engine)
    assert fake_engine.corrections_calls[-1] == [("so tired and sad", "Positive")]

    app.apply_settings(dataclasses.replace(app.settings, mood_corrections=False))
    qtbot.waitUntil(lambda: fake_engine.corrections_calls[-1] == [])
    assert app.store.corrections() == [("so tired and sad", "Positive")]  # kept, just unused
    send(qtbot, app, "so tired and sad")
    assert app.window.chat.chips()[-1] == "😞 Negative 80%"
    click_chip(qtbot, app, user_bubbles(app)[1], fake_engine)  # still saved while off
    assert fake_engine.corrections_calls[-1] == []
    assert "off in Settings" in app.window.statusBar().currentMessage()

    app.apply_settings(dataclasses.replace(app.settings, mood_corrections=True))
    qtbot.waitUntil(lambda: fake_engine.corrections_calls[-1] == [
        ("so tired and sad", "Positive")])


def test_settings_dialog_has_the_corrections_switch(qtbot: Any, make_app: Any,
                                                    fake_engine: FakeEngine) -> None:
    from qwen_aio.desktop.settings_dialog import SettingsDialog

    app = ready(qtbot, make_app, fake_engine)
    dlg = SettingsDialog(app.settings, app.tr)
    qtbot.addWidget(dlg)
    assert dlg.mood_corrections.isChecked()
    dlg.mood_corrections.setChecked(False)
    assert dlg.result_settings().mood_corrections is False
    assert app.settings.mood_corrections is True  # the dialog edits a copy


def test_a_correction_updates_the_tray_when_it_shows_that_message(
        qtbot: Any, make_app: Any, fake_engine: FakeEngine) -> None:
    from qwen_aio.desktop.tray import TrayController

    app = ready(qtbot, make_app, fake_engine)
    app.tray = TrayController(app.tr)  # offscreen has no tray: drive the controller directly
    send(qtbot, app, "awful commute")
    send(qtbot, app, "nice lunch")
    assert app.tray.last_label == "Positive"
    click_chip(qtbot, app, user_bubbles(app)[0], fake_engine)  # not the one the tray shows
    assert app.tray.last_label == "Positive"
    click_chip(qtbot, app, user_bubbles(app)[1], fake_engine)
    assert app.tray.last_label == "Negative"
    assert "Negative · corrected" in app.tray.icon.toolTip()

    # The quick check goes through the same engine, so it gets the correction too.
    with qtbot.waitSignal(app.quick.moodChecked) as checked:
        app.quick.input.setText("Nice lunch")
        app.quick.check()
    assert checked.args[0].corrected and checked.args[0].label == "Negative"
    assert app.quick.result.text() == "😞 Negative · corrected"


def test_chinese_chip_correction(qtbot: Any, make_app: Any, fake_engine: FakeEngine) -> None:
    app = ready(qtbot, make_app, fake_engine, locale_name="zh_CN")
    send(qtbot, app, "今天真开心")
    [bubble] = user_bubbles(app)
    assert bubble.chip is not None and bubble.chip.toolTip() == "情绪判断不对？点击更正"
    click_chip(qtbot, app, bubble, fake_engine)
    assert bubble.chip_text() == "😞 负面 · 已更正"
    app.apply_settings(dataclasses.replace(app.settings, language="en"))
    assert bubble.chip_text() == "😞 Negative · corrected"


# --- Continue ----------------------------------------------------------------------------------

def continue_buttons(app: DesktopApp) -> list[bool]:
    return [b.can_continue for b in app.window.chat.bubbles if b.role == "assistant"]


def test_continue_extends_a_cut_reply(qtbot: Any, make_app: Any,
                                      fake_engine: FakeEngine) -> None:
    fake_engine.stop_reason = "limit"
    app = ready(qtbot, make_app, fake_engine)
    win = app.window
    _, text, stats = send(qtbot, app, "tell me about your day")
    assert stats.stop_reason == "limit"
    reply = win.chat.bubbles[-1]
    assert continue_buttons(app) == [True]
    assert reply.continue_button is not None and reply.continue_button.isEnabled()
    assert reply.continue_button.text() == "Continue"
    assert reply.cut_hint is not None and reply.cut_hint.isVisibleTo(reply)

    # Cut again: the text grows in the same bubble and the button stays.
    with qtbot.waitSignal(win.turnFinished) as done:
        qtbot.mouseClick(reply.continue_button, Qt.MouseButton.LeftButton)
        assert not win.send_button.isEnabled() and win.stop_button.isEnabled()
        assert "Continuing" in win.state_label.text()
    assert done.args[1] == " And more."
    kind, history, max_tokens, _prompt = fake_engine.calls[-1]
    assert kind == "continue" and max_tokens == app.settings.reply_limit()
    assert [(m.role, m.content) for m in history] == [
        ("user", "tell me about your day"), ("assistant", "I hear you.")]
    assert win.chat.bubbles[-1] is reply and reply.text == "I hear you. And more."
    assert continue_buttons(app) == [True]
    saved = app.store.messages(win.current_id)[-1]  # type: ignore[arg-type]
    assert (saved.content, saved.stop_reason) == ("I hear you. And more.", "limit")

    # Ends this time: the button and the hint go away, the store agrees.
    fake_engine.stop_reason = "end"
    fake_engine.continue_pieces = [" The", " end."]
    with qtbot.waitSignal(win.turnFinished):
        win.continue_reply()
    assert reply.text == "I hear you. And more. The end."
    assert continue_buttons(app) == [False] and not reply.cut_hint.isVisibleTo(reply)
    saved = app.store.messages(win.current_id)[-1]  # type: ignore[arg-type]
    assert (saved.content, saved.stop_reason) == ("I hear you. And more. The end.", "end")
    assert len(app.store.messages(win.current_id)) == 2  # type: ignore[arg-type]
    # The next turn sees the whole continued reply.
    send(qtbot, app, "thanks")
    assert fake_engine.calls[-1][1][-1].content == "I hear you. And more. The end."


# "sentence" (ended early near the limit) offers Continue: test_desktop_reply_life.py
@pytest.mark.parametrize("reason", ["end", "cancelled"])
def test_no_continue_on_replies_that_were_not_cut(qtbot: Any, make_app: Any,
                                                  fake_engine: FakeEngine, reason: str) -> None:
    fake_engine.stop_reason = reason
    if reason == "cancelled":
        fake_engine.stop_reason = "limit"  # would be cut, but the person stopped it first
        fake_engine.block_after = 2
    app = ready(qtbot, make_app, fake_engine)
    with qtbot.waitSignal(app.window.turnFinished) as done:
        app.window.input.setPlainText("hello")
        app.window.send()
        if reason == "cancelled":
            qtbot.waitUntil(lambda: app.window.chat.bubbles[-1].text == "I hear ")
            app.window.stop()
    assert done.args[2].stop_reason == reason
    assert continue_buttons(app) == [False]
    app.window.open_conversation(app.window.current_id)  # type: ignore[arg-type]
    assert continue_buttons(app) == [False]
    calls = list(fake_engine.calls)
    app.window.continue_reply()  # nothing to continue: no request
    assert fake_engine.calls == calls and not app.client.busy


def test_continue_only_on_the_last_reply_and_after_reopening(qtbot: Any, make_app: Any,
                                                             fake_engine: FakeEngine) -> None:
    fake_engine.stop_reason = "limit"
    app = ready(qtbot, make_app, fake_engine)
    win = app.window
    send(qtbot, app, "first")
    send(qtbot, app, "second")
    assert continue_buttons(app) == [False, True]
    first_reply = [b for b in win.chat.bubbles if b.role == "assistant"][0]
    assert first_reply.cut_hint is not None and first_reply.cut_hint.isVisibleTo(first_reply)

    conv = win.current_id
    win.new_conversation()
    assert win.chat.bubbles == []
    win.open_conversation(conv)  # type: ignore[arg-type]
    assert continue_buttons(app) == [False, True]  # from the stored stop_reason

    # While a new turn runs, no Continue is offered anywhere.
    fake_engine.block_after = 1
    app.window.input.setPlainText("third")
    app.window.send()
    qtbot.waitUntil(lambda: win.chat.bubbles[-1].text == "I ")
    assert continue_buttons(app) == [False, False, False]
    with qtbot.waitSignal(win.turnFinished):
        fake_engine.release.set()
    assert continue_buttons(app) == [False, False, True]


def test_stop_a_continuation(qtbot: Any, make_app: Any, fake_engine: FakeEngine) -> None:
    fake_engine.stop_reason = "limit"
    app = ready(qtbot, make_app, fake_engine)
    win = app.window
    send(qtbot, app, "story please")
    reply = win.chat.bubbles[-1]

    # Stopped before any new text: nothing changes and Continue is offered again.
    fake_engine.block_in_prefill = True
    win.continue_reply(reply)
    assert continue_buttons(app) == [False]
    with qtbot.waitSignal(win.turnFinished) as done:
        qtbot.keyClick(win, Qt.Key.Key_Escape)
    assert done.args[2].stop_reason == "cancelled" and done.args[1] == ""
    assert reply.text == "I hear you." and continue_buttons(app) == [True]
    assert app.store.messages(win.current_id)[-1].stop_reason == "limit"  # type: ignore[arg-type]

    # Stopped midway: the new text is kept and the reply counts as stopped.
    fake_engine.block_in_prefill = False
    fake_engine.block_after = 1
    fake_engine.release.clear()
    win.continue_reply(reply)
    qtbot.waitUntil(lambda: reply.text == "I hear you. And ")
    with qtbot.waitSignal(win.turnFinished):
        win.stop_button.click()
    assert reply.body.text() == "I hear you. And" and reply.stopped
    assert reply.meta_label is not None and "stopped" in reply.meta_label.text()
    assert continue_buttons(app) == [False]
    saved = app.store.messages(win.current_id)[-1]  # type: ignore[arg-type]
    assert (saved.content, saved.stop_reason) == ("I hear you. And ", "cancelled")


def test_continue_in_chinese(qtbot: Any, make_app: Any, fake_engine: FakeEngine) -> None:
    fake_engine.stop_reason = "limit"
    app = ready(qtbot, make_app, fake_engine, locale_name="zh_CN")
    send(qtbot, app, "讲个故事")
    reply = app.window.chat.bubbles[-1]
    assert reply.continue_button is not None and reply.continue_button.text() == "继续"
    assert reply.cut_hint is not None and reply.cut_hint.text() == "…已达长度上限"
