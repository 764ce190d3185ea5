"""The guards themselves: the QThread check can fail, and the Qt binding keeps refcounts right."""

from __future__ import annotations

import sys
from typing import Any

from desktop_fakes import running_threads
from PySide6.QtCore import QObject, QThread, Signal, Slot

from qwen_aio.desktop.worker import EngineClient


def test_the_thread_check_sees_a_running_thread(qtbot: Any) -> None:
    thread = QThread()
    thread.start()
    qtbot.waitUntil(thread.isRunning)
    assert len(running_threads()) == 1  # the autouse check would fail this test if left so
    thread.quit()
    thread.wait()
    assert running_threads() == []


def test_engine_client_shutdown_ends_its_thread(qtbot: Any) -> None:
    client = EngineClient(lambda choice, settings: None)  # type: ignore[arg-type,return-value]
    qtbot.waitUntil(client.thread.isRunning)
    client.shutdown()
    assert not client.thread.isRunning() and running_threads() == []


class _Emitter(QObject):
    sig = Signal(int, str)


class _Receiver(QObject):
    @Slot(int, str)
    def on_sig(self, _i: int, _s: str) -> None:
        pass


def test_signal_delivery_keeps_bool_refcounts() -> None:
    """PySide6 6.12.0 drops a reference to True on every signal delivered to Python; a window
    streaming tokens then crashes the interpreter (bool_dealloc) after a few thousand tokens."""
    emitter, receiver = _Emitter(), _Receiver()
    emitter.sig.connect(receiver.on_sig)
    before = sys.getrefcount(True)
    for _ in range(200):
        emitter.sig.emit(1, "x")
    assert sys.getrefcount(True) >= before - 5
