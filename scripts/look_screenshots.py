"""Screenshots of the real app and model under a virtual display: the draft mood while typing
(issue 10), light, dark, tray popup (issue 11).

    Xvfb :93 -screen 0 1280x800x24 &
    QWEN_AIO_HOME=/tmp/shots DISPLAY=:93 .venv/bin/python scripts/look_screenshots.py \
        docs/screenshots path/to/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf
"""

from __future__ import annotations

import copy
import logging
import subprocess
import sys
import time
from pathlib import Path

from PySide6.QtCore import QRect, QTimer
from PySide6.QtWidgets import QApplication

log = logging.getLogger("look_screenshots")
MESSAGES = ["I just got my dream job and I am so happy!",
            "But my old team is sad that I am leaving, and I feel guilty about it.",
            "We had a farewell lunch today, it was really lovely.",
            "My cat is sick and the vet bill is huge. I feel awful."]


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

    def shot(name: str) -> None:
        end = time.time() + 1.0
        while time.time() < end:  # let every window paint
            QApplication.processEvents()
            time.sleep(0.05)
        subprocess.run(f"xwd -root -silent | convert xwd:- {out / name}", shell=True, check=True)
        log.info("wrote %s", out / name)

    def send_next() -> None:
        if not msgs:
            QTimer.singleShot(500, phase_draft)
            return
        d.window.input.setPlainText(msgs.pop(0))
        d.window.send()

    def phase_draft() -> None:  # issue 10: the label of the message being typed, by the input
        d.window.input.setPlainText("The rain ruined our picnic and everyone went home early")
        wait = QTimer(d.window)
        wait.setInterval(100)

        def labelled() -> None:
            if d.window.draft_mood.text():
                wait.stop()
                shot("typing-draft-mood.png")
                d.window.input.clear()
                QTimer.singleShot(500, phase_light)

        wait.timeout.connect(labelled)
        wait.start()

    def phase_light() -> None:
        shot("look-window-light.png")
        new = copy.deepcopy(d.settings)
        new.theme = "dark"
        d.apply_settings(new)
        QTimer.singleShot(800, phase_dark)

    def phase_dark() -> None:
        shot("look-window-dark.png")
        # Xvfb has no window manager: a popup over the window stays black there, so make room.
        d.window.setGeometry(QRect(0, 0, 880, 770))
        d.quick.popup()
        d.quick.input.setText("Rainy Monday, but the coffee is great")
        d.quick.moodChecked.connect(lambda *_: QTimer.singleShot(1500, phase_popup))
        d.quick.check()

    def phase_popup() -> None:
        shot("look-tray-popup-dark.png")
        d.quit()

    # The worker's `loaded` comes from its thread: poll on the UI thread instead.
    poll = QTimer()
    poll.setInterval(200)

    def check_loaded() -> None:
        if d.client.model_loaded:
            poll.stop()
            QTimer.singleShot(300, send_next)

    poll.timeout.connect(check_loaded)
    poll.start()
    d.window.turnFinished.connect(lambda *a: QTimer.singleShot(200, send_next))
    d.finished.connect(app.quit)
    QTimer.singleShot(240_000, d.quit)
    app.exec()


if __name__ == "__main__":
    main()
