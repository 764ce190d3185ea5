"""Tasks in the window (issue 12): the picker and slash commands, task results in the
conversation (named, keywords as chips, Copy), saved and kept out of the chat's history, and the
tray's clipboard actions. A scripted engine gives exact control; the real model's run is in
test_desktop_tasks_real_model.py.
"""

from __future__ import annotations

from typing import Any

from desktop_fakes import FakeEngine
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from qwen_aio.desktop import tasks_ui
from qwen_aio.desktop.app import DesktopApp
from qwen_aio.desktop.backend import TaskInfo, keywords_of

TASKS = [TaskInfo("summary", "Summary", "摘要"), TaskInfo("keywords", "Keywords", "关键词", True),
         TaskInfo("translate", "Translate", "翻译")]


def ready(qtbot: Any, make_app: Any, engine: FakeEngine, **kwargs: Any) -> DesktopApp:
    app = make_app(engine, **kwargs)
    qtbot.waitUntil(lambda: app.client.model_loaded and bool(app.window.task_box.tasks))
    return app


def send(qtbot: Any, app: DesktopApp, text: str) -> tuple[Any, ...]:
    with qtbot.waitSignal(app.window.turnFinished, timeout=10_000) as done:
        app.window.input.setPlainText(text)
        qtbot.keyClick(app.window.input, Qt.Key.Key_Return)
    return tuple(done.args)


def calls(engine: FakeEngine, kind: str) -> list[tuple[object, ...]]:
    return [c for c in engine.calls if c[0] == kind]


def test_parse_slash_commands_and_the_picker() -> None:
    summary, keywords, translate = TASKS
    assert tasks_ui.parse("hello", TASKS) == tasks_ui.Request("hello")
    assert tasks_ui.parse("hello", TASKS, summary) == tasks_ui.Request("hello", summary)
    assert tasks_ui.parse("/keywords  a long text", TASKS, summary) == \
        tasks_ui.Request("a long text", keywords)  # the command wins over the picker
    assert tasks_ui.parse("/Translate zh good morning", TASKS) == \
        tasks_ui.Request("good morning", translate, "zh")
    assert tasks_ui.parse("/translate english is hard", TASKS) == \
        tasks_ui.Request("english is hard", translate)  # "english" is text, not a target
    assert tasks_ui.parse("/summary", TASKS).text == ""
    assert tasks_ui.parse("/shrug ok", TASKS).unknown == "shrug"
    assert tasks_ui.parse("//shrug ok", TASKS) == tasks_ui.Request("/shrug ok")
    assert tasks_ui.parse("/usr/bin is a path", TASKS) == tasks_ui.Request("/usr/bin is a path")
    assert keywords_of('["a", " b ", ""]') == ["a", "b"]
    assert keywords_of('["a", 1]') is None and keywords_of('["a"') is None


def test_a_slash_command_runs_the_task_and_its_result_is_named(
        qtbot: Any, make_app: Any, fake_engine: FakeEngine) -> None:
    app = ready(qtbot, make_app, fake_engine)
    win = app.window
    send(qtbot, app, "It rained all day.")
    _rid, text, stats = send(qtbot, app, "/summary It rained all day and the picnic was off.")
    assert text == "A short summary." and stats.stop_reason == "end"
    assert calls(fake_engine, "task") == [
        ("task", "summary", "It rained all day and the picnic was off.", None)]
    # The mood pass still labels the person's words.
    assert ("mood", "It rained all day and the picnic was off.") in fake_engine.calls
    user, result = win.chat.bubbles[-2:]
    assert user.text == "It rained all day and the picnic was off."
    assert user.task_label is not None and user.task_label.text() == "→ Summary"
    assert user.chip is not None and "Positive" in user.chip.text()
    assert result.task_label is not None and result.task_label.text() == "Summary"
    assert not result.can_continue
    saved = app.store.messages(win.current_id)  # type: ignore[arg-type]
    assert [(m.role, m.task) for m in saved] == [("user", None), ("assistant", None),
                                                 ("user", "summary"), ("assistant", "summary")]
    # The next chat turn's history leaves the task's text and result out.
    send(qtbot, app, "Thanks!")
    history = calls(fake_engine, "chat")[-1][1]
    assert [m.content for m in history] == ["It rained all day.", "I hear you."]


def test_the_picker_is_for_the_next_message_only(qtbot: Any, make_app: Any,
                                                 fake_engine: FakeEngine) -> None:
    app = ready(qtbot, make_app, fake_engine)
    win = app.window
    picker = win.task_box
    assert [picker.itemText(i) for i in range(picker.count())] == [
        "Chat", "Summary", "Keywords", "Fix", "Translate"]  # mood is not offered: it always runs
    assert "/summary" in picker.toolTip()
    picker.choose("fix")
    send(qtbot, app, "i has a cat")
    assert calls(fake_engine, "task") == [("task", "fix", "i has a cat", None)]
    assert picker.chosen() is None and picker.currentText() == "Chat"
    send(qtbot, app, "hello again")
    assert len(calls(fake_engine, "task")) == 1 and len(calls(fake_engine, "chat")) == 1


def test_keywords_are_chips_copied_as_a_line_and_come_back_as_chips(
        qtbot: Any, make_app: Any, fake_engine: FakeEngine) -> None:
    app = ready(qtbot, make_app, fake_engine)
    win = app.window
    send(qtbot, app, "/keywords We had a picnic with friends until the rain came.")
    result = win.chat.bubbles[-1]
    result.flush()
    assert result.keywords == ["rain", "picnic", "friends"]
    chips = [w.text() for w in result.findChildren(type(result.task_label), "keywordChip")]
    assert chips == ["rain", "picnic", "friends"] and not result.body.isVisibleTo(result)
    qtbot.mouseClick(result.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == "rain, picnic, friends"
    win.open_conversation(win.current_id)  # type: ignore[arg-type]
    again = win.chat.bubbles[-1]
    assert again.keywords == ["rain", "picnic", "friends"]
    assert again.task_label is not None and again.task_label.text() == "Keywords"


def test_unknown_or_empty_commands_keep_the_text_and_send_nothing(
        qtbot: Any, make_app: Any, fake_engine: FakeEngine) -> None:
    app = ready(qtbot, make_app, fake_engine)
    win = app.window
    for text, said in (("/shrug fine", "/shrug"), ("/summary", "/summary")):
        win.input.setPlainText(text)
        qtbot.keyClick(win.input, Qt.Key.Key_Return)
        assert win.input.toPlainText() == text and said in win.state_label.text()
    assert win.chat.bubbles == [] and fake_engine.calls.count(("task",)) == 0
    assert not [c for c in fake_engine.calls if c[0] in ("task", "chat")]


def test_regenerate_a_task_result_runs_the_task_again(qtbot: Any, make_app: Any,
                                                     fake_engine: FakeEngine) -> None:
    app = ready(qtbot, make_app, fake_engine)
    win = app.window
    send(qtbot, app, "/translate en 今天下雨了")
    assert calls(fake_engine, "task")[-1] == ("task", "translate", "今天下雨了", "en")
    with qtbot.waitSignal(win.turnFinished, timeout=10_000):
        win.turns.regenerate()
    assert calls(fake_engine, "task")[-1][:3] == ("task", "translate", "今天下雨了")
    saved = app.store.messages(win.current_id)  # type: ignore[arg-type]
    assert [(m.role, m.task) for m in saved] == [("user", "translate"), ("assistant", "translate")]


def test_task_names_and_messages_in_chinese(qtbot: Any, make_app: Any,
                                            fake_engine: FakeEngine) -> None:
    app = ready(qtbot, make_app, fake_engine, language="zh")
    win = app.window
    assert win.task_box.itemText(0) == "对话" and win.task_box.itemText(1) == "摘要"
    send(qtbot, app, "/summary 今天下雨了，野餐取消了。")
    user, result = win.chat.bubbles
    assert user.task_label.text() == "→ 摘要" and result.task_label.text() == "摘要"  # type: ignore[union-attr]
    win.input.setPlainText("/nope 你好")
    qtbot.keyClick(win.input, Qt.Key.Key_Return)
    assert "/nope" in win.state_label.text() and "没有" in win.state_label.text()


def test_a_task_can_be_stopped(qtbot: Any, make_app: Any, fake_engine: FakeEngine) -> None:
    fake_engine.block_after = 1
    app = ready(qtbot, make_app, fake_engine)
    win = app.window
    with qtbot.waitSignal(win.turnFinished, timeout=10_000) as done:
        win.input.setPlainText("/summary a long story")
        qtbot.keyClick(win.input, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: bool(win.chat.bubbles) and len(win.chat.bubbles) == 2
                        and win.chat.bubbles[-1].text != "")
        qtbot.keyClick(win.input, Qt.Key.Key_Escape)
    assert done.args[2].stop_reason == "cancelled" and fake_engine.ended_by[-1] == "cancel"


# --- The tray's clipboard actions --------------------------------------------------------------

def test_tray_menu_has_the_clipboard_actions_once_the_engine_has_them(qtbot: Any) -> None:
    from qwen_aio.desktop.i18n import Translator
    from qwen_aio.desktop.tray import TrayController

    tray = TrayController(Translator("en"))
    texts = [a.text() for a in tray.menu.actions()]
    assert texts[1:4] == ["Summarize the clipboard", "Translate the clipboard",
                          "Fix the clipboard"]
    assert not any(a.isEnabled() for a in tray.clipboard_actions.values())
    tray.set_tasks(TASKS)  # no "fix" in this engine
    assert {k: a.isEnabled() for k, a in tray.clipboard_actions.items()} == {
        "summary": True, "translate": True, "fix": False}
    with qtbot.waitSignal(tray.clipboardTaskRequested) as asked:
        tray.clipboard_actions["translate"].trigger()
    assert asked.args == ["translate"]


def test_clipboard_task_shows_its_result_in_the_popup_with_copy(
        qtbot: Any, make_app: Any, fake_engine: FakeEngine) -> None:
    app = ready(qtbot, make_app, fake_engine)
    popup = app.quick
    QGuiApplication.clipboard().setText("It rained all day, so the picnic was cancelled.")
    app.clipboard_task("translate")
    assert popup.isVisible() and "working on the clipboard" in popup.result.text()
    qtbot.waitUntil(lambda: popup.task_text is not None, timeout=10_000)
    assert popup.result.text() == "今天下雨了。" and popup.copy_button.isVisible()
    assert "Nothing is saved" in popup.hint.text()
    assert calls(fake_engine, "task") == [
        ("task", "translate", "It rained all day, so the picnic was cancelled.", None)]
    QGuiApplication.clipboard().setText("something else")
    qtbot.mouseClick(popup.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == "今天下雨了。"
    assert app.store.conversations() == []  # nothing saved anywhere
    # Keywords become a line; an empty clipboard says what to do and runs nothing.
    popup.hide()
    QGuiApplication.clipboard().setText("")
    app.clipboard_task("summary")
    assert "holds no text" in popup.result.text() and not popup.copy_button.isVisible()
    assert len(calls(fake_engine, "task")) == 1
    # A mood check in the same popup leaves the task result behind.
    popup.input.setText("What a lovely day")
    with qtbot.waitSignal(popup.moodChecked, timeout=10_000):
        popup.check()
    assert "Positive" in popup.result.text() and not popup.copy_button.isVisible()
    assert popup.task_text is None and "Nothing is saved;" not in popup.hint.text()


def test_clipboard_keywords_are_one_line(qtbot: Any, make_app: Any,
                                        fake_engine: FakeEngine) -> None:
    app = ready(qtbot, make_app, fake_engine)
    QGuiApplication.clipboard().setText("Rain ruined the picnic with friends.")
    task = next(t for t in app.client.tasks if t.id == "keywords")
    app.quick.run_task(task, QGuiApplication.clipboard().text())
    qtbot.waitUntil(lambda: app.quick.task_text is not None, timeout=10_000)
    assert app.quick.result.text() == "rain, picnic, friends"
