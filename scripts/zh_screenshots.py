"""Screenshots of the Chinese window with Qt's own translations (issue 11): a Chinese reply from
the real model, a long message collapsed with 显示更多, and the delete confirmation with Qt's
standard Yes/No buttons in Chinese (qtbase_zh_CN.qm).

    Xvfb :93 -screen 0 1280x800x24 &
    QWEN_AIO_HOME=/tmp/shots-zh DISPLAY=:93 .venv/bin/python scripts/zh_screenshots.py \
        docs/screenshots path/to/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf
"""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from pathlib import Path

from PySide6.QtCore import QMimeData, QRect, QTimer
from PySide6.QtWidgets import QApplication

log = logging.getLogger("zh_screenshots")
MESSAGE = "今天终于把项目做完了，团队一起吃了火锅，好开心！"
LOG = "".join(f"2026-11-26 20:{i // 60:02d}:{i % 60:02d} INFO 服务正常，第 {i} 次检查通过\n"
              for i in range(400))


def main() -> None:
    logging.basicConfig(level=logging.INFO)
    out, model = Path(sys.argv[1]), Path(sys.argv[2])
    app = QApplication([sys.argv[0]])
    from qwen_aio.desktop.app import DesktopApp
    from qwen_aio.desktop.backend import ResolvedModel
    from qwen_aio.foundation.settings import Settings

    s = Settings(threads=2, n_ctx=2048, theme="light", language="zh")
    s.reply_tokens = {"short": 40, "normal": 60, "long": 120}
    s.save()
    d = DesktopApp(Settings.load(), use_tray=False, language="zh",
                   resolver=lambda st, r: ResolvedModel(None, model, "Qwen2.5-Coder-0.5B"))
    d.window.setGeometry(QRect(0, 0, 1280, 770))
    d.start()
    steps = ["message", "log", "done"]

    def shot(name: str) -> None:
        end = time.time() + 1.0
        while time.time() < end:  # let every window paint
            QApplication.processEvents()
            time.sleep(0.05)
        subprocess.run(f"xwd -root -silent | convert xwd:- {out / name}", shell=True, check=True)
        log.info("wrote %s", out / name)

    def next_step() -> None:
        step = steps.pop(0)
        if step == "message":
            d.window.input.setPlainText(MESSAGE)
            d.window.send()
        elif step == "log":
            data = QMimeData()
            data.setText(LOG)
            d.window.input.insertFromMimeData(data)
            d.window.send()
        else:
            QTimer.singleShot(300, phase_more)

    def phase_more() -> None:
        d.window.chat.bubbles[-2].show_more()
        shot("zh-reply-and-show-more.png")
        QTimer.singleShot(1500, phase_confirm_shot)
        d.window.conversations.delete()  # a modal question: the timer above shoots and closes it

    def phase_confirm_shot() -> None:
        box = QApplication.activeModalWidget()  # Xvfb has no window manager: grab the dialog
        if box is not None:
            box.grab().save(str(out / "zh-delete-confirm-qt-buttons.png"))
            log.info("wrote %s", out / "zh-delete-confirm-qt-buttons.png")
            box.reject()
        QTimer.singleShot(300, d.quit)

    poll = QTimer()
    poll.setInterval(200)

    def check_loaded() -> None:
        if d.client.model_loaded:
            poll.stop()
            QTimer.singleShot(300, next_step)

    poll.timeout.connect(check_loaded)
    poll.start()
    d.window.turnFinished.connect(lambda *a: QTimer.singleShot(300, next_step))
    d.finished.connect(app.quit)
    QTimer.singleShot(240_000, d.quit)
    app.exec()


if __name__ == "__main__":
    main()
