"""Screenshots for docs/: drive the real app under Xvfb, grab the window and the tray popup.

  QWEN_AIO_HOME=$(mktemp -d) SHOT_MODEL=/path/to/model.gguf \
    xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python packaging/take_screenshots.py

Without SHOT_MODEL a scripted fake engine (tests/desktop/desktop_fakes.py) stands in.
"""
# ruff: noqa
import os, sys
from pathlib import Path
ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests" / "desktop")]  # the scripted fake engine
from PySide6.QtCore import QTimer, QEventLoop
from PySide6.QtWidgets import QApplication
from qwen_aio.desktop.app import DesktopApp
from qwen_aio.desktop.backend import ResolvedModel
from qwen_aio.foundation.settings import Settings
qapp = QApplication(sys.argv[:1])
MODEL = Path(os.environ["SHOT_MODEL"]) if os.environ.get("SHOT_MODEL") else None
kw = {}
if MODEL is None:
    from desktop_fakes import FakeEngine
    e = FakeEngine(pieces=["That ", "sounds ", "lovely", "!"])
    kw = dict(engine_factory=lambda c, s: e)
s = Settings.load(); s.threads = 2; s.n_ctx = 2048; s.reply_length = "short"; s.reply_tokens["short"] = 40; s.save()
app = DesktopApp(Settings.load(), resolver=lambda s, r: ResolvedModel(None, MODEL or Path("x"), "Qwen2.5-Coder-0.5B-Instruct (Q4_K_M)"), use_tray=False, locale_name=os.environ.get("SHOT_LOCALE", "en_US"), **kw)
app.start()
def spin(ms):
    loop = QEventLoop(); QTimer.singleShot(ms, loop.quit); loop.exec()
def wait(cond, limit=180000):
    t = 0
    while not cond() and t < limit:
        spin(50); t += 50
wait(lambda: app.client.model_loaded)
msgs = ["Woke up early and the sunrise was beautiful!",
        "Then my train was cancelled and I was late for work. So annoying.",
        "My colleague brought me coffee, that was really kind.",
        "But the meeting ran two hours over and I'm exhausted."]
for m in msgs:
    done = []
    app.window.turnFinished.connect(lambda *a: done.append(1))
    app.window.input.setPlainText(m); app.window.send()
    wait(lambda: done)
app.window.input.setPlainText("Tomorrow will be better, I hope")
spin(500)
app.window.grab().save(str(ROOT / "docs" / "screenshot-window.png"))
app.quick.popup()
app.quick.input.setText("I finally finished the project and it works!")
got = []
app.quick.moodChecked.connect(lambda m: got.append(m))
app.quick.check()
wait(lambda: got)
spin(300)
app.quick.grab().save(str(ROOT / "docs" / "screenshot-tray.png"))
print("saved", app.window.chat.chips(), app.window.status_model.text(), app.window.status_mood.text(), app.window.status_speed.text())
app.quit()
