"""Desktop tests: offscreen Qt, a throw-away QWEN_AIO_HOME, and no QThread left running.

Set QWEN_AIO_SHOW_TESTS=1 to watch the tests on the real display instead of offscreen.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from desktop_fakes import FakeEngine, running_threads, started_threads


def pytest_configure(config: pytest.Config) -> None:
    if not os.environ.get("QWEN_AIO_SHOW_TESTS"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep every test away from the user's settings, conversations and models."""
    home = tmp_path / "home"
    monkeypatch.setenv("QWEN_AIO_HOME", str(home))
    monkeypatch.delenv("QWEN_AIO_MODEL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    return home


@pytest.fixture(autouse=True)
def _no_thread_left(qapp: object, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail any test that leaves a QThread running (napari's check, for PySide6)."""
    from PySide6.QtCore import QThread

    original = QThread.start

    def start(self: QThread, *args: object) -> None:
        started_threads[self] = "".join(traceback.format_stack(limit=6)[:-1])
        original(self, *args)

    monkeypatch.setattr(QThread, "start", start)
    yield
    alive = running_threads()
    started_threads.clear()
    if alive:
        pytest.fail("A test left QThreads running; started at:\n" + "\n".join(alive))


@pytest.fixture(autouse=True)
def _english_qt_afterwards(qapp: object) -> Iterator[None]:
    """A Chinese app installs Qt translators on the (shared) QApplication: remove them after."""
    yield
    from qwen_aio.desktop import translations

    translations.install("en")


@pytest.fixture
def fake_engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
def make_app(qtbot: object) -> Iterator[Callable[..., object]]:
    """Build a DesktopApp around an engine (fake by default); every app is quit at teardown."""
    from qwen_aio.desktop.app import DesktopApp
    from qwen_aio.desktop.backend import ResolvedModel
    from qwen_aio.foundation.settings import Settings

    apps: list[DesktopApp] = []

    def make(engine: object | None = None, *, start: bool = True, **kwargs: object) -> DesktopApp:
        kwargs.setdefault("use_tray", False)
        kwargs.setdefault("locale_name", "en_US")
        if engine is not None:
            kwargs.setdefault("engine_factory", lambda choice, settings: engine)
            kwargs.setdefault("resolver", lambda settings, requested: ResolvedModel(
                "fake", Path("fake.gguf"), "Fake model"))
        app = DesktopApp(Settings.load(), **kwargs)
        apps.append(app)
        if start:
            app.start()
        return app

    yield make
    for app in apps:
        app.quit()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Figures measured (never asserted) by the tests, e.g. the UI thread's longest stall."""
    lines = [f"{report.nodeid.split('::')[-1]}: {name} = {value}"
             for report in terminalreporter.getreports("passed")
             for name, value in report.user_properties if name.startswith("max_ui_stall_ms")]
    if lines:
        terminalreporter.section("measured, not asserted")
        for line in lines:
            terminalreporter.write_line(line)
