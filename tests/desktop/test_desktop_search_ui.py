"""Ctrl+F search, the keyboard shortcuts and menus, and the window state kept across restarts.

Real widgets offscreen, the real SQLite file in QWEN_AIO_HOME, a scripted engine.
"""

from __future__ import annotations

from typing import Any

import pytest
from desktop_fakes import FakeEngine
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QInputDialog, QMessageBox

from qwen_aio.desktop import search as search_module
from qwen_aio.desktop import theme, window_state
from qwen_aio.desktop.app import DesktopApp
from qwen_aio.desktop.main_window import MainWindow
from qwen_aio.foundation import paths


def ready(qtbot: Any, make_app: Any, fake_engine: FakeEngine, **kwargs: Any) -> DesktopApp:
    app = make_app(fake_engine, **kwargs)
    qtbot.waitUntil(lambda: app.client.model_loaded)
    app.window.activateWindow()
    return app


def send(qtbot: Any, app: DesktopApp, text: str) -> None:
    with qtbot.waitSignal(app.window.turnFinished, timeout=10_000):
        app.window.input.setPlainText(text)
        qtbot.keyClick(app.window.input, Qt.Key.Key_Return)


def fill(app: DesktopApp) -> dict[str, int]:
    """Three conversations in the real store; the long one has its match far from the end."""
    store = app.store
    ids = {}
    long = store.create("Long day")
    ids["long"] = long.id
    for i in range(30):
        store.add_message(long.id, "user", f"Paragraph {i}: " + "nothing to see here. " * 12)
        if i == 2:
            ids["zebra"] = store.add_message(long.id, "assistant",
                                             "There was a zebra at the crossing 斑马线").id
    ids["tea"] = store.create("Tea").id
    store.add_message(ids["tea"], "user", "I love green tea")
    ids["new"] = store.create("Newest").id
    store.add_message(ids["new"], "user", "最近面试很顺利")
    app.window.conversations.reload_sidebar()
    app.window.open_conversation(ids["new"])
    return ids


def in_view(win: MainWindow, message_id: int) -> bool:
    bubble = next(b for b in win.chat.bubbles if b.message_id == message_id)
    top = bubble.mapTo(win.chat.viewport(), bubble.rect().topLeft())
    return win.chat.viewport().rect().intersects(QRect(top, bubble.size()))


def results(win: MainWindow) -> list[str]:
    return [win.search.results.item(i).text() for i in range(win.search.results.count())]


# --- search -------------------------------------------------------------------------------

def test_ctrl_f_types_debounced_results_and_enter_reveals_the_message(
        qtbot: Any, make_app: Any, fake_engine: FakeEngine) -> None:
    app = ready(qtbot, make_app, fake_engine)
    win = app.window
    ids = fill(app)
    assert not win.search.isVisible()
    qtbot.keyClick(win.input, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert win.search.isVisible() and win.search.field.hasFocus()

    qtbot.keyClicks(win.search.field, "zebr")
    assert results(win) == [] and win.search.timer.isActive()  # not on every key: debounced
    qtbot.waitUntil(lambda: results(win) != [])
    assert results(win) == ["Long day · Assistant\nThere was a zebra at the crossing 斑马线"]
    assert win.search.status.text() == "1 messages found"

    qtbot.keyClick(win.search.field, Qt.Key.Key_Return)
    assert win.current_id == ids["long"]
    outline = win.revealer.outline
    assert outline is not None
    qtbot.waitUntil(outline.isVisible)  # the new bubbles are shown by the event loop
    assert outline.parentWidget().message_id == ids["zebra"]  # type: ignore[union-attr]
    # The zebra is the 4th of 31 messages: the view (which follows the bottom) was moved to it.
    qtbot.waitUntil(lambda: in_view(win, ids["zebra"]))
    qtbot.wait(300)  # layouts settle: the view stays on it instead of following the bottom
    assert in_view(win, ids["zebra"])
    assert not in_view(win, win.chat.bubbles[-1].message_id or -1)


def test_chinese_two_characters_down_arrow_and_click(qtbot: Any, make_app: Any,
                                                     fake_engine: FakeEngine) -> None:
    app = ready(qtbot, make_app, fake_engine)
    win = app.window
    ids = fill(app)
    win.search.open_search()
    win.search.field.setText("斑马")
    win.search.run()  # the snippet starts a little before the term, at a word
    assert results(win) == ["Long day · Assistant\n…was a zebra at the crossing 斑马线"]
    win.search.field.setText("面试")
    win.search.run()
    assert results(win) == ["Newest · You\n最近面试很顺利"]
    win.search.field.setText("tea")
    win.search.run()
    qtbot.keyClick(win.search.field, Qt.Key.Key_Down)
    assert win.search.results.hasFocus() and win.search.results.currentRow() == 0
    qtbot.keyClick(win.search.results, Qt.Key.Key_Return)
    assert win.current_id == ids["tea"]
    win.search.field.setText("no such words anywhere")
    win.search.run()
    assert results(win) == [] and win.search.status.text() == "No message contains this."


def test_replies_sent_in_the_window_are_found(qtbot: Any, make_app: Any,
                                              fake_engine: FakeEngine) -> None:
    """Through the real store: the reply was saved while streaming (update_reply) then done."""
    fake_engine.pieces = ["Have ", "some ", "chamomile ", "tea."]
    app = ready(qtbot, make_app, fake_engine)
    send(qtbot, app, "I can't sleep")
    win = app.window
    win.search.open_search()
    win.search.field.setText("chamomile")
    win.search.run()
    assert results(win) == ["I can't sleep · Assistant\nHave some chamomile tea."]


def test_esc_in_the_search_field_closes_it_and_a_deleted_conversation_is_not_opened(
        qtbot: Any, make_app: Any, fake_engine: FakeEngine) -> None:
    app = ready(qtbot, make_app, fake_engine)
    win = app.window
    ids = fill(app)
    win.search.open_search()
    win.search.field.setText("green")
    win.search.run()
    assert len(results(win)) == 1
    app.store.delete(ids["tea"])  # e.g. by another process after the search ran
    win.search._choose(win.search.results.item(0))
    assert win.current_id == ids["new"] and results(win) == []
    qtbot.keyClick(win.search.field, Qt.Key.Key_Escape)
    assert not win.search.isVisible()
    qtbot.keyClick(win, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert win.search.isVisible() and win.search.field.selectedText() == "green"


def test_outline_uses_the_palette_and_goes_away(qtbot: Any, make_app: Any,
                                                fake_engine: FakeEngine,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_module, "HIGHLIGHT_MS", 50)
    app = ready(qtbot, make_app, fake_engine)
    win = app.window
    win.setPalette(theme.dark_palette())
    ids = fill(app)
    win.open_search_hit(ids["tea"], win.store.messages(ids["tea"])[0].id)
    outline = win.revealer.outline
    assert outline is not None
    assert theme.css(theme.link(theme.dark_palette())) in outline.styleSheet()
    qtbot.waitUntil(lambda: win.revealer.outline is None)
    muted = theme.css(theme.muted(theme.dark_palette()))
    assert muted in win.state_label.styleSheet() and muted in win.search.status.styleSheet()


def test_result_rows_mark_the_terms_and_never_run_markup(qtbot: Any, make_app: Any,
                                                        fake_engine: FakeEngine) -> None:
    app = ready(qtbot, make_app, fake_engine)
    win = app.window
    conv = app.store.create("<i>Tags</i>")
    app.store.add_message(conv.id, "user", "Bread & <b>butter</b> <img src=x> BREAD")
    win.search.open_search()
    win.search.field.setText("bread")
    win.search.run()
    row = win.search.results.item(0).data(search_module.HTML_ROLE)
    accent = theme.css(theme.link(win.search.results.palette()))
    assert row.startswith("<b>&lt;i&gt;Tags&lt;/i&gt;</b>")
    assert row.endswith(f'<br><b style="color:{accent}">Bread</b> &amp; &lt;b&gt;butter&lt;/b&gt; '
                        f'&lt;img src=x&gt; <b style="color:{accent}">BREAD</b>')
    assert search_module.marked("a.b a+b", ["a.b"], "#000000").count("<b") == 1  # not a regex
    # The delegate lays out the HTML: two lines at least (title, snippet).
    index = win.search.results.model().index(0, 0)
    height = win.search.results.sizeHintForRow(0)
    assert index.isValid() and height >= 2 * win.search.results.fontMetrics().height()


# --- keyboard and menus ---------------------------------------------------------------------

def test_ctrl_n_f2_and_delete_with_confirmation(qtbot: Any, make_app: Any,
                                                fake_engine: FakeEngine,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    app = ready(qtbot, make_app, fake_engine)
    win = app.window
    qtbot.keyClick(win.input, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    first = win.current_id
    assert first is not None and [c.title for c in app.store.conversations()] == [
        "New conversation"]
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Renamed by F2", True))
    qtbot.keyClick(win.input, Qt.Key.Key_F2)
    assert app.store.get(first).title == "Renamed by F2"  # type: ignore[union-attr]

    asked: list[str] = []
    answer = [QMessageBox.StandardButton.No]

    def question(_parent: object, _title: str, text: str) -> QMessageBox.StandardButton:
        asked.append(text)
        return answer[0]

    monkeypatch.setattr(QMessageBox, "question", question)
    win.input.setPlainText("abc")
    win.input.setFocus()
    qtbot.keyClick(win.input, Qt.Key.Key_Delete)  # in the input, Delete edits text
    assert asked == [] and app.store.get(first) is not None
    win.sidebar.setFocus()
    qtbot.keyClick(win.sidebar, Qt.Key.Key_Delete)
    assert asked == ["Delete “Renamed by F2” and all its messages?"]
    assert app.store.get(first) is not None  # answered No
    answer[0] = QMessageBox.StandardButton.Yes
    qtbot.keyClick(win.sidebar, Qt.Key.Key_Delete)
    assert app.store.get(first) is None and app.store.conversations() == []


def test_ctrl_enter_sends_and_ctrl_q_quits_even_with_a_tray(qtbot: Any, make_app: Any,
                                                            fake_engine: FakeEngine) -> None:
    app = ready(qtbot, make_app, fake_engine)
    win = app.window
    with qtbot.waitSignal(win.turnFinished, timeout=10_000):
        win.input.setPlainText("sent with ctrl enter")
        qtbot.keyClick(win.input, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert [b.text for b in win.chat.bubbles] == ["sent with ctrl enter", "I hear you."]
    win.tray_available = True  # closing would hide the window in the tray...
    app.settings.close_to_tray = True
    with qtbot.waitSignal(app.finished, timeout=5000):
        qtbot.keyClick(win.input, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert not win.isVisible()  # ...Ctrl+Q quits


def test_menus_show_the_shortcuts_and_buttons_say_them(qtbot: Any, make_app: Any,
                                                       fake_engine: FakeEngine) -> None:
    app = ready(qtbot, make_app, fake_engine)
    win = app.window
    menus = {m.title(): [(a.text(), a.shortcut().toString()) for a in m.actions()
                         if not a.isSeparator()]
             for m in (win.menu_conversation, win.menu_edit, win.menu_view, win.menu_help)}
    assert menus["&Conversation"][:3] == [("New conversation", "Ctrl+N"), ("Rename…", "F2"),
                                          ("Delete…", "Del")]
    assert menus["&Conversation"][-1] == ("Quit", "Ctrl+Q")
    assert menus["&Edit"] == [("Search conversations…", "Ctrl+F"), ("Send", "Ctrl+Return"),
                              ("Stop", "Esc")]
    assert win.act_new.shortcuts()[0] == QKeySequence(QKeySequence.StandardKey.New)
    assert win.new_button.toolTip() == "New conversation (Ctrl+N)"
    assert win.send_button.toolTip() == "Send (Return / Ctrl+Return)"
    assert win.stop_button.toolTip() == "Stop (Esc)"
    assert win.search.field.toolTip().startswith("Find messages in every conversation (Ctrl+F)")
    rows = dict(win.shortcut_rows())
    assert rows["Delete the conversation (in the list)"] == "Del"
    assert rows["New line in the message"] == "Shift+Return"
    assert rows["Send"] == "Return / Ctrl+Return" and rows["Quit"] == "Ctrl+Q"
    box = win.show_shortcuts()
    assert "Ctrl+F" in box.text()
    box.close()


def test_menus_and_tooltips_in_chinese(qtbot: Any, make_app: Any,
                                       fake_engine: FakeEngine) -> None:
    app = ready(qtbot, make_app, fake_engine, language="zh")
    win = app.window
    assert win.menu_conversation.title() == "对话(&C)"
    assert win.new_button.toolTip() == "新建对话（Ctrl+N）"
    assert win.search.field.placeholderText() == "搜索全部对话"


def test_view_menu_hides_the_list_and_the_timeline(qtbot: Any, make_app: Any,
                                                   fake_engine: FakeEngine) -> None:
    app = ready(qtbot, make_app, fake_engine)
    win = app.window
    win.act_show_timeline.trigger()
    assert not win.timeline.isVisible() and not win.timeline_title.isVisible()
    win.act_show_list.trigger()
    assert not win.sidebar.isVisible()
    qtbot.keyClick(win.input, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert win.search.field.isVisible() and win.sidebar.isVisible()  # the list holds the search
    assert win.act_show_list.isChecked()


# --- window state ---------------------------------------------------------------------------

def test_size_splitter_panels_and_open_conversation_are_restored(
        qtbot: Any, make_app: Any, fake_engine: FakeEngine) -> None:
    app = ready(qtbot, make_app, fake_engine)
    win = app.window
    ids = fill(app)
    win.open_conversation(ids["long"])  # not the most recent one
    win.resize(760, 540)
    win.splitter.setSizes([320, 440])
    qtbot.waitUntil(lambda: win.splitter.sizes()[0] == 320)
    win.act_show_timeline.setChecked(False)
    sizes = win.splitter.sizes()
    app.quit()
    assert window_state.state_file() == paths.config_dir() / "window.ini"
    assert window_state.state_file().is_file()

    again = ready(qtbot, make_app, fake_engine)
    w2 = again.window
    assert (w2.width(), w2.height()) == (760, 540)
    qtbot.waitUntil(lambda: w2.splitter.sizes() == sizes)
    assert w2.current_id == ids["long"]
    assert w2.sidebar.currentItem().text() == "Long day"
    assert not w2.act_show_timeline.isChecked() and not w2.timeline.isVisible()


def test_a_remembered_conversation_that_was_deleted_opens_the_newest(
        qtbot: Any, make_app: Any, fake_engine: FakeEngine) -> None:
    app = ready(qtbot, make_app, fake_engine)
    ids = fill(app)
    app.window.open_conversation(ids["tea"])
    app.quit()
    window_state.window_settings().setValue("conversation/open", 99999)
    again = ready(qtbot, make_app, fake_engine)
    assert again.window.current_id == ids["new"]


def test_first_start_without_a_state_file(qtbot: Any, make_app: Any,
                                          fake_engine: FakeEngine) -> None:
    assert not window_state.state_file().exists()
    app = ready(qtbot, make_app, fake_engine)
    assert (app.window.width(), app.window.height()) == (980, 680)
    assert app.window.act_show_list.isChecked() and app.window.act_show_timeline.isChecked()
    assert QApplication.instance() is not None


# --- the real model ---------------------------------------------------------------------------

def test_a_real_models_streamed_reply_is_found_and_revealed(qtbot: Any, make_app: Any,
                                                            model_path: Any) -> None:
    """The reply was saved while it streamed (the update trigger ran each time): its final
    words are in the index, and choosing the hit shows that very bubble."""
    import re

    from qwen_aio.desktop.backend import ResolvedModel
    from qwen_aio.foundation.settings import Settings

    settings = Settings(threads=2, n_ctx=1024)
    settings.reply_tokens = {"short": 24, "normal": 48, "long": 400}
    settings.reply_length = "normal"
    settings.save()
    app = make_app(resolver=lambda s, r: ResolvedModel(None, model_path, "Qwen2.5-Coder-0.5B"))
    win = app.window
    qtbot.waitUntil(lambda: app.client.model_loaded, timeout=120_000)
    with qtbot.waitSignal(win.turnFinished, timeout=120_000) as done:
        win.input.setPlainText("My grandmother taught me to bake bread today.")
        win.send()
    _, reply, stats = done.args
    assert stats is not None and reply.strip()
    [user_id, reply_id] = [b.message_id for b in win.chat.bubbles]
    last_word = re.findall(r"\w{4,}", reply)[-1]  # written in the last updates of the stream
    win.new_conversation()
    win.search.open_search()
    qtbot.keyClicks(win.search.field, last_word)
    qtbot.waitUntil(lambda: win.search.hits != [], timeout=5000)
    hit = next(h for h in win.search.hits if h.message_id == reply_id)
    assert hit.role == "assistant" and last_word.lower() in hit.snippet.lower()
    win.search.field.setText("grandmother taught bread")
    win.search.run()
    row = [h.message_id for h in win.search.hits].index(user_id)  # the reply may echo the words
    win.search.results.setCurrentRow(row)
    qtbot.keyClick(win.search.results, Qt.Key.Key_Return)
    assert win.current_id == hit.conversation_id
    assert win.revealer.outline is not None
    assert win.revealer.outline.parentWidget().message_id == user_id  # type: ignore
