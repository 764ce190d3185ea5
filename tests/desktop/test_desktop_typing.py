"""Preparing while the person types: the window and the tray popup, scripted and real."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from desktop_fakes import FakeEngine, make_recorder

from qwen_aio.desktop.backend import ResolvedModel
from qwen_aio.foundation.settings import Settings


def _prepares(engine: FakeEngine) -> list[tuple[str, bool]]:
    return [(c[2], c[3]) for c in engine.calls if c[0] == "prepare"]  # type: ignore[misc]


def test_typing_prepares_finished_words_then_labels_the_draft(qtbot: Any, make_app: Any,
                                                               fake_engine: FakeEngine) -> None:
    app = make_app(fake_engine)
    win = app.window
    qtbot.waitUntil(lambda: app.client.model_loaded, timeout=5000)
    qtbot.keyClicks(win.input, "What a lovely day")
    qtbot.waitUntil(lambda: ("What a lovely day", True) in _prepares(fake_engine),
                    timeout=5000)
    assert ("What a lovely", False) in _prepares(fake_engine)  # a word still being typed waits
    qtbot.waitUntil(lambda: win.draft_mood.text() == "😄", timeout=5000)
    assert "Positive" in win.draft_mood.toolTip()

    rec = make_recorder(app.client.worker, win.chat.chips)
    with qtbot.waitSignal(win.turnFinished, timeout=5000):
        win.send()
    kinds = [c[0] for c in fake_engine.calls]
    assert kinds.index("prepare") < kinds.index("mood") < kinds.index("chat")
    assert rec.events[0][0] == "mood" and rec.events[0][1].startswith("😄 Positive")
    assert win.draft_mood.text() == ""  # the input is empty again


def test_a_keystroke_abandons_the_preparation_in_flight(qtbot: Any, make_app: Any,
                                                        fake_engine: FakeEngine) -> None:
    fake_engine.block_in_mood = True  # a labelled preparation blocks until released/cancelled
    app = make_app(fake_engine)
    win = app.window
    qtbot.waitUntil(lambda: app.client.model_loaded, timeout=5000)
    qtbot.keyClicks(win.input, "so bad")
    qtbot.waitUntil(lambda: ("so bad", True) in _prepares(fake_engine), timeout=5000)
    assert app.client.preparing
    qtbot.keyClicks(win.input, "!")  # cancels the blocked one at its next check
    qtbot.waitUntil(lambda: ("cancelled", "so bad") in fake_engine.prepare_ends, timeout=5000)
    assert win.draft_mood.text() == ""  # an abandoned label is never shown
    fake_engine.release.set()
    qtbot.waitUntil(lambda: ("so bad!", True) in _prepares(fake_engine), timeout=5000)
    qtbot.waitUntil(lambda: win.draft_mood.text() == "😞", timeout=5000)


def test_enter_keeps_the_labelled_preparation_of_the_same_text(qtbot: Any, make_app: Any,
                                                               fake_engine: FakeEngine) -> None:
    fake_engine.block_in_mood = True
    app = make_app(fake_engine)
    win = app.window
    qtbot.waitUntil(lambda: app.client.model_loaded, timeout=5000)
    qtbot.keyClicks(win.input, "good news")
    qtbot.waitUntil(lambda: ("good news", True) in _prepares(fake_engine), timeout=5000)
    win.send()  # the preparation is this turn's first step: it is not abandoned
    assert app.client.preparing
    fake_engine.release.set()
    qtbot.waitUntil(lambda: fake_engine.prepare_ends == [("done", "good news")], timeout=5000)
    qtbot.waitUntil(lambda: win.chat.chips()[-1].startswith("😄 Positive"), timeout=5000)


def test_the_label_of_a_kept_preparation_shows_before_it_ends(qtbot: Any, make_app: Any,
                                                              fake_engine: FakeEngine) -> None:
    """Enter while the preparation evaluates its chat part: the chip is there at once, from
    the preparation's label, not after the preparation and the turn's own mood pass."""
    fake_engine.block_after_label = True
    app = make_app(fake_engine)
    win = app.window
    qtbot.waitUntil(lambda: app.client.model_loaded, timeout=5000)
    qtbot.keyClicks(win.input, "such a bad day")
    qtbot.waitUntil(lambda: win.draft_mood.text() == "😞", timeout=5000)  # label heard
    assert app.client.preparing  # still in its chat part
    win.send()
    qtbot.waitUntil(lambda: bool(win.chat.chips()) and win.chat.chips()[-1].startswith("😞"),
                    timeout=5000)
    assert app.client.preparing and fake_engine.prepare_ends == []  # it has not ended
    assert not any(c[0] == "mood" for c in fake_engine.calls)  # the turn has not started
    fake_engine.release_prepare.set()
    with qtbot.waitSignal(win.turnFinished, timeout=5000):
        pass
    assert fake_engine.prepare_ends == [("done", "such a bad day")]
    assert len(win.chat.chips()) == 1 and win.chat.chips()[0].startswith("😞")  # shown once


def test_a_label_heard_after_enter_is_shown_then(qtbot: Any, make_app: Any,
                                                 fake_engine: FakeEngine) -> None:
    """Enter before the preparation has its label: the label goes to the turn when heard."""
    fake_engine.block_in_mood = True  # the label is not known yet at Enter
    fake_engine.block_after_label = True
    app = make_app(fake_engine)
    win = app.window
    qtbot.waitUntil(lambda: app.client.model_loaded, timeout=5000)
    qtbot.keyClicks(win.input, "good news")
    qtbot.waitUntil(lambda: ("good news", True) in _prepares(fake_engine), timeout=5000)
    win.send()
    assert win.chat.chips() == [] or not win.chat.chips()[-1].startswith("😄")
    fake_engine.release.set()  # the label now; the chat part still blocks
    qtbot.waitUntil(lambda: bool(win.chat.chips()) and win.chat.chips()[-1].startswith("😄"),
                    timeout=5000)
    assert fake_engine.prepare_ends == []
    fake_engine.release_prepare.set()
    with qtbot.waitSignal(win.turnFinished, timeout=5000):
        pass


def test_the_setting_turns_preparing_off(qtbot: Any, make_app: Any,
                                         fake_engine: FakeEngine) -> None:
    settings = Settings.load()
    settings.prepare_while_typing = False
    settings.save()
    app = make_app(fake_engine)
    qtbot.waitUntil(lambda: app.client.model_loaded, timeout=5000)
    qtbot.keyClicks(app.window.input, "nothing happens here")
    qtbot.wait(600)  # three times the pause that would label it
    assert _prepares(fake_engine) == []


def test_the_tray_popup_labels_while_typing(qtbot: Any, make_app: Any,
                                            fake_engine: FakeEngine) -> None:
    app = make_app(fake_engine)
    qtbot.waitUntil(lambda: app.client.model_loaded, timeout=5000)
    app.quick.popup()
    qtbot.keyClicks(app.quick.input, "this is awful")
    qtbot.waitUntil(lambda: app.quick.result.text().startswith("😞 Negative"), timeout=5000)
    assert ("mood", "this is awful") in fake_engine.calls  # no button, no Enter


def test_real_model_the_label_after_enter_is_the_prepared_one(qtbot: Any, make_app: Any,
                                                              model_path: Path) -> None:
    settings = Settings(threads=2, n_ctx=1024)
    settings.reply_tokens = {"short": 12, "normal": 12, "long": 12}
    settings.save()
    app = make_app(resolver=lambda s, r: ResolvedModel(None, model_path, "Qwen2.5-Coder-0.5B"))
    win = app.window
    qtbot.waitUntil(lambda: app.client.model_loaded, timeout=120_000)
    text = "I finally finished the marathon today!"
    with qtbot.waitSignal(win.typing.draftMood, timeout=120_000,
                          check_params_cb=lambda mood: mood is not None) as drafted:
        qtbot.keyClicks(win.input, text)
    assert drafted.args[0].text == text
    moods: list[Any] = []
    app.client.worker.moodReady.connect(lambda _rid, mood: moods.append(mood))
    with qtbot.waitSignal(win.turnFinished, timeout=120_000) as done:
        win.send()
    stats = done.args[2]
    assert stats is not None and done.args[1].strip()
    assert moods and moods[0].cached and moods[0].label == drafted.args[0].label
    engine = app.client.worker._engine
    # the prompt was ready up to the person's words and the hint: only the closing is new
    assert 0 < stats.evaluated_tokens <= engine._chat._closing
