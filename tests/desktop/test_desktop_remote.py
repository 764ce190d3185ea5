"""The window with an inference server (issue 13): no local model is looked for, and a server
that cannot be used is said plainly with an offer to switch back to the local model.

The failure is the real one: RemoteEngine.connect against a loopback port nobody listens on.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from desktop_fakes import FakeEngine
from PySide6.QtWidgets import QApplication, QMessageBox

from qwen_aio.desktop import backend
from qwen_aio.desktop.backend import ResolvedModel
from qwen_aio.foundation.settings import Settings

pytest.importorskip("openai")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_server_offers_the_local_model(qtbot: Any, make_app: Any,
                                                      fake_engine: FakeEngine) -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    s = Settings.load()
    s.backend_url = url
    s.save()
    resolved: list[str] = []
    loads: list[str] = []

    def factory(choice: ResolvedModel, settings: Settings) -> Any:
        loads.append(settings.backend_url)
        if settings.backend_url:
            return backend.load_engine(choice, settings)  # the real connect: it fails
        return fake_engine

    def resolver(settings: Settings, requested: str | None) -> ResolvedModel:
        resolved.append("local")
        return ResolvedModel("fake", Path("fake.gguf"), "Fake model")

    app = make_app(engine_factory=factory, resolver=resolver)
    assert resolved == []  # with a server set, no local model is looked for
    qtbot.waitUntil(lambda: app.window.findChild(QMessageBox, "remoteFailed") is not None,
                    timeout=60_000)
    box = app.window.findChild(QMessageBox, "remoteFailed")
    assert url in box.text() and "local model" in box.text()
    assert not app.client.model_loaded
    local = next(b for b in box.buttons() if b.text() == "Use the local model")
    local.click()
    qtbot.waitUntil(lambda: app.client.model_loaded, timeout=10_000)
    assert loads == [url, ""] and resolved == ["local"]
    assert Settings.load().backend_url == ""  # saved: the next start is local too
    QApplication.processEvents()


def test_closing_the_offer_keeps_the_server_setting(qtbot: Any, make_app: Any) -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    s = Settings.load()
    s.backend_url = url
    s.save()
    app = make_app(engine_factory=backend.load_engine,
                   resolver=lambda settings, requested: pytest.fail("no local model needed"))
    qtbot.waitUntil(lambda: app.window.findChild(QMessageBox, "remoteFailed") is not None,
                    timeout=60_000)
    box = app.window.findChild(QMessageBox, "remoteFailed")
    box.button(QMessageBox.StandardButton.Close).click()
    assert Settings.load().backend_url == url and not app.client.model_loaded


def test_backend_for_one_run_is_never_saved(qtbot: Any, make_app: Any,
                                            fake_engine: FakeEngine) -> None:
    """`qwen-aio --backend URL`: this run uses the server; saving settings does not keep it."""
    import copy

    url = f"http://127.0.0.1:{closed_port()}/v1"
    seen: list[str] = []

    def factory(choice: ResolvedModel, settings: Settings) -> Any:
        seen.append(settings.backend_url)
        if settings.backend_url:
            return backend.load_engine(choice, settings)
        return fake_engine

    app = make_app(engine_factory=factory, backend_url=url,
                   resolver=lambda s, r: ResolvedModel("fake", Path("fake.gguf"), "Fake model"))
    assert app.backend_url() == url and app.settings.backend_url == ""
    qtbot.waitUntil(lambda: app.window.findChild(QMessageBox, "remoteFailed") is not None,
                    timeout=60_000)
    changed = copy.deepcopy(app.settings)
    changed.theme = "dark"
    app.apply_settings(changed)  # the settings dialog's OK: saves every setting
    assert Settings.load().backend_url == ""
    box = app.window.findChild(QMessageBox, "remoteFailed")
    next(b for b in box.buttons() if b.text() == "Use the local model").click()
    qtbot.waitUntil(lambda: app.client.model_loaded, timeout=10_000)
    assert seen[0] == url and seen[-1] == "" and app.backend_url() == ""
    assert Settings.load().backend_url == ""


def test_threads_for_one_run_reach_the_engine_and_are_never_saved(
        qtbot: Any, make_app: Any, fake_engine: FakeEngine) -> None:
    """`qwen-aio --threads 1`: the engine gets 1; saving other settings does not keep it."""
    import copy

    seen: list[int] = []

    def factory(choice: ResolvedModel, settings: Settings) -> Any:
        seen.append(settings.threads)
        return fake_engine

    app = make_app(engine_factory=factory, threads=1,
                   resolver=lambda s, r: ResolvedModel("fake", Path("fake.gguf"), "Fake model"))
    qtbot.waitUntil(lambda: app.client.model_loaded, timeout=10_000)
    assert seen == [1] and app.settings.threads == 0
    changed = copy.deepcopy(app.settings)
    changed.theme = "dark"
    app.apply_settings(changed)
    assert Settings.load().threads == 0
    changed = copy.deepcopy(app.settings)
    changed.threads = 2  # the person's choice now wins over --threads
    app.apply_settings(changed)
    qtbot.waitUntil(lambda: len(seen) == 2 and app.client.model_loaded, timeout=10_000)
    assert seen == [1, 2] and Settings.load().threads == 2
