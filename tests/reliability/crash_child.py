"""The real desktop app (offscreen Qt, real model, real store) driven through two turns.

Run by test_crash.py, which kills it (SIGKILL or SIGTERM) at a moment of its choosing. Usage:
    crash_child.py MODEL_PATH TRIAL        one finished turn, then a long reply to be cut
    crash_child.py MODEL_PATH check        start (the store's crash recovery runs), then quit
QWEN_AIO_HOME must point at the trial's folder. Events go to stdout as JSON lines: "token" is
written from the worker thread when a piece is emitted (before the UI thread can save it);
"seen" from the UI thread after the app's own slot has handled that piece (so its row exists).
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtWidgets import QApplication

from qwen_aio.desktop.app import (
    DesktopApp,
    SingleInstance,
    instance_lock_path,
    quit_on_signals,
    server_name,
)
from qwen_aio.desktop.backend import ResolvedModel
from qwen_aio.foundation.settings import Settings

FIRST_TOKENS = 6  # the finished turn: short
CUT_TOKENS = 40  # the turn that gets cut: long enough to be cut at any of its pieces

_out = threading.Lock()


def emit(event: str, **data: Any) -> None:
    with _out:
        sys.stdout.write(json.dumps({"event": event, **data}) + "\n")
        sys.stdout.flush()


def main() -> int:
    model, mode = Path(sys.argv[1]), sys.argv[2]
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    qapp = QApplication([sys.argv[0]])
    single = SingleInstance(server_name(), instance_lock_path())
    if not single.acquire(notify_for_ms=0):
        emit("busy")
        return 3
    settings = Settings(threads=2, n_ctx=1024, temperature=0.0)
    settings.reply_tokens = {"short": FIRST_TOKENS, "normal": FIRST_TOKENS, "long": CUT_TOKENS}
    settings.reply_length = "short"
    settings.system_prompt = ("You are a helpful assistant. Answer every message at length, "
                              "in many full sentences.")  # so the cut reply runs long
    desktop = DesktopApp(settings, use_tray=False, locale_name="en_US",
                         resolver=lambda s, r: ResolvedModel(None, model, "Qwen test model"))
    desktop.finished.connect(qapp.quit)
    quit_on_signals(desktop)
    emit("started", pid=os.getpid())
    if mode == "check":
        desktop.quit()
        single.close()
        return 0

    win = desktop.window
    streamed: list[str] = []

    def on_token(_rid: int, piece: str) -> None:  # worker thread, before the UI sees it
        streamed.append(piece)
        emit("token", n=len(streamed), text="".join(streamed))

    desktop.client.worker.token.connect(on_token, Qt.ConnectionType.DirectConnection)
    first = f"Trial {mode}: I finally finished my big project today and I feel great!"
    cut = f"Please list ten detailed tips for sleeping better, one full sentence each ({mode})."

    def send(text: str, length: int) -> None:
        win.length_box.setCurrentIndex(length)
        win.input.setPlainText(text)
        win.send()
        user = [b for b in win.chat.bubbles if b.role == "user"][-1]
        emit("sent", text=text, id=user.message_id)

    class Driver(QObject):
        """QObject slots, so the worker's signals arrive in the UI thread (after the app's)."""

        seen = 0

        @Slot(int, str)
        def on_seen(self, _rid: int, _piece: str) -> None:
            self.seen += 1
            emit("seen", n=self.seen)

        @Slot(str)
        def on_loaded(self, _name: str) -> None:
            win.new_conversation()  # a short history: each trial starts from a cold cache
            send(first, 0)

    driver = Driver()
    def on_finished(_rid: int, text: str, stats: object) -> None:
        reply = win.chat.bubbles[-1]
        emit("done", text=text, id=reply.message_id, ok=stats is not None)
        if len([b for b in win.chat.bubbles if b.role == "user"]) == 1:
            streamed.clear()
            driver.seen = 0
            send(cut, 2)

    desktop.client.worker.loaded.connect(driver.on_loaded)
    desktop.client.worker.token.connect(driver.on_seen)  # after Turns: it runs second
    win.turnFinished.connect(on_finished)
    desktop.start()
    try:
        return int(qapp.exec())
    finally:
        desktop.quit()
        single.close()
        emit("quit")


if __name__ == "__main__":
    sys.exit(main())
