"""Screenshots of tasks (issue 12) from the real app and model under a virtual display: task
results in the window (a summary, keywords as chips, a translation) and the tray's
"Translate the clipboard" result in the quick popup.

    Xvfb :93 -screen 0 1280x800x24 &
    QWEN_AIO_HOME=/tmp/shots-tasks DISPLAY=:93 .venv/bin/python scripts/task_screenshots.py \
        docs/screenshots path/to/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf
"""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from pathlib import Path

from PySide6.QtCore import QRect, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

log = logging.getLogger("task_screenshots")
STORY = ("Our team spent two years building a solar panel project in Berlin. Last week the city "
         "agreed to install the panels on twelve schools, and the first one goes up in March. "
         "Everyone is proud, although the last months were exhausting.")
MESSAGES = ["We finally got the approval for our solar project today!",
            "/summary " + STORY, "/keywords " + STORY]
CLIPBOARD = "今天的会议推迟到下午三点，请大家提前准备好项目进度报告。"


def main() -> None:
    logging.basicConfig(level=logging.INFO)
    out, model = Path(sys.argv[1]), Path(sys.argv[2])
    app = QApplication([sys.argv[0]])
    from qwen_aio.desktop.app import DesktopApp
    from qwen_aio.desktop.backend import ResolvedModel
    from qwen_aio.foundation.settings import Settings

    s = Settings(threads=2, n_ctx=2048, theme="light", language="en")
    s.reply_tokens = {"short": 40, "normal": 60, "long": 120}
    s.save()
    d = DesktopApp(Settings.load(), use_tray=False, language="en",
                   resolver=lambda st, r: ResolvedModel(None, model, "Qwen2.5-Coder-0.5B"))
    d.window.setGeometry(QRect(0, 0, 1280, 770))
    d.start()
    msgs = list(MESSAGES)

    def settle() -> None:
        end = time.time() + 1.0
        while time.time() < end:  # let every window paint
            QApplication.processEvents()
            time.sleep(0.05)

    def shot(name: str) -> None:
        settle()
        subprocess.run(f"xwd -root -silent | convert xwd:- {out / name}", shell=True, check=True)
        log.info("wrote %s", out / name)

    def send_next() -> None:
        if not msgs:
            QTimer.singleShot(500, phase_window)
            return
        d.window.input.setPlainText(msgs.pop(0))
        d.window.send()

    def phase_window() -> None:
        shot("tasks-in-the-window.png")
        QGuiApplication.clipboard().setText(CLIPBOARD)
        d.clipboard_task("translate")
        wait = QTimer(d.window)
        wait.setInterval(100)

        def done() -> None:
            if d.quick.task_text is not None:
                wait.stop()
                settle()
                d.quick.grab().save(str(out / "tasks-tray-clipboard-translate.png"))
                log.info("wrote %s", out / "tasks-tray-clipboard-translate.png")
                d.quit()

        wait.timeout.connect(done)
        wait.start()

    poll = QTimer()
    poll.setInterval(200)

    def check_loaded() -> None:
        if d.client.model_loaded:
            poll.stop()
            QTimer.singleShot(300, send_next)

    poll.timeout.connect(check_loaded)
    poll.start()
    d.window.turnFinished.connect(lambda *a: QTimer.singleShot(300, send_next))
    d.finished.connect(app.quit)
    QTimer.singleShot(240_000, d.quit)
    app.exec()


if __name__ == "__main__":
    main()
