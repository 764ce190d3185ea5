"""Smoke test of the frozen one-folder build (dist/qwen-aio), run by packaging/build.sh and CI.

  .venv/bin/python packaging/smoke_test.py [DIST_DIR] [MODEL.gguf]

Checks what a person who double-clicks would meet: the frozen `qwen-aio mood` labels sentences
with the test model; the window starts offscreen, shows, loads the model and quits cleanly on
SIGTERM; the icons are found; nothing asks for pip. Each check prints one line.
"""
# ruff: noqa: T201

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEST_MODEL_ID = "qwen2.5-coder-0.5b-instruct"  # the tests' model (tests/conftest.py)


def test_model() -> Path:
    """The tests' model, from their cache (fetched once if this runs before the tests)."""
    from qwen_aio.models.download import download
    from qwen_aio.models.store import is_present, model_path

    root = Path(os.environ.get("QWEN_AIO_TEST_MODELS",
                               Path.home() / ".cache" / "qwen-aio-test-models"))
    if not is_present(TEST_MODEL_ID, root):
        download(TEST_MODEL_ID, root=root)
    return model_path(TEST_MODEL_ID, root)


def run(exe: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(exe), *args], env=env, capture_output=True, text=True,
                          encoding="utf-8", timeout=300)


def check(ok: bool, what: str, detail: str = "") -> None:
    print(f"  {'ok  ' if ok else 'FAIL'} {what}", flush=True)
    if not ok:
        raise SystemExit(f"frozen smoke test failed: {what}\n{detail}")


def smoke_cli(exe: Path, model: Path, env: dict[str, str]) -> None:
    out = run(exe, "--version", env=env)
    check(out.returncode == 0 and out.stdout.startswith("qwen-aio "), "qwen-aio --version",
          out.stdout + out.stderr)
    out = run(exe, "mood", "--json", "--model", str(model), "今天的实验终于成功了，太棒了！",
              "This is the worst day of my life.", env=env)
    rows = [json.loads(line) for line in out.stdout.splitlines()] if out.returncode == 0 else []
    check([r["label"] for r in rows] == ["Positive", "Negative"],
          "qwen-aio mood labels a Chinese and an English sentence", out.stdout + out.stderr)
    check(str(model) in out.stderr, "the model in use is said on stderr", out.stderr)
    out = run(exe, "bench", env=env)
    check(out.returncode == 2 and "not part of this build" in out.stderr,
          "qwen-aio bench says it is not part of the build", out.stderr)
    xdg = Path(env["XDG_DATA_HOME"])
    out = run(exe, "install-desktop", env=env)
    icons = list((xdg / "icons").rglob("qwen-aio.*"))
    check(out.returncode == 0 and len(icons) == 2, "install-desktop finds the icon files",
          out.stdout + out.stderr)


def smoke_window(exe: Path, model: Path, env: dict[str, str]) -> None:
    """Start the window offscreen; once it has shown and loaded the model, SIGTERM it."""
    cmd = [str(exe), "-v", "--no-tray", "--model", str(model)]
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, encoding="utf-8")
    assert proc.stdout is not None
    lines: list[str] = []
    shown = loaded = None
    deadline = t0 + 180
    for line in proc.stdout:
        lines.append(line)
        if shown is None and "Window shown" in line:
            shown = time.monotonic() - t0
        if "Loaded " in line and "threads) in" in line:
            loaded = time.monotonic() - t0
            break
        if time.monotonic() > deadline:
            break
    proc.send_signal(signal.SIGTERM)
    try:
        rest, _ = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        rest, _ = proc.communicate()
    log = "".join(lines) + (rest or "")
    check(shown is not None, f"the window shows offscreen ({(shown or 0) * 1000:.0f} ms)", log)
    check(loaded is not None, f"the worker loads the model ({(loaded or 0) * 1000:.0f} ms)", log)
    check(proc.returncode == 0, f"SIGTERM quits cleanly (exit {proc.returncode})", log)
    check("Traceback" not in log and "could not be loaded" not in log,
          "no traceback, the app icon is found", log)
    desktop_log = Path(env["QWEN_AIO_HOME"]) / "logs" / "desktop.log"
    check(desktop_log.is_file() and "Window shown" in desktop_log.read_text(encoding="utf-8"),
          "desktop.log is written", log)


def smoke_gui(dist: Path, env: dict[str, str]) -> None:
    """qwen-aio-gui (the double-click program), with no model yet: the window and setup show,
    in Chinese: the app's catalogue and Qt's own (standard buttons) are in the bundle."""
    exe = dist / ("qwen-aio-gui.exe" if os.name == "nt" else "qwen-aio-gui")
    home = Path(env["QWEN_AIO_HOME"]) / "gui"
    desktop_log = home / "logs" / "desktop.log"
    proc = subprocess.Popen([str(exe), "--lang", "zh"], env={**env, "QWEN_AIO_HOME": str(home)},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None and not (
            desktop_log.is_file() and "setup dialog" in desktop_log.read_text(encoding="utf-8")):
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    text = desktop_log.read_text(encoding="utf-8") if desktop_log.is_file() else ""
    check("Window shown" in text and "setup dialog" in text and proc.returncode == 0,
          "qwen-aio-gui opens the window and the first-run setup, and quits cleanly",
          text + out)
    check("qtbase_zh_CN.qm" in text and "qwen_aio_zh_CN.qm" in text,
          "the Chinese catalogues (the app's and Qt's qtbase_zh_CN.qm) are in the bundle", text)


def main() -> int:
    dist = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "dist" / "qwen-aio"
    model = Path(sys.argv[2]) if len(sys.argv) > 2 else test_model()
    exe = dist / ("qwen-aio.exe" if os.name == "nt" else "qwen-aio")
    print(f"Frozen smoke test: {exe} with {model.name}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
        # No pip and no Python of ours: PATH without the venv, and pip made unreachable.
        env.update(QWEN_AIO_HOME=str(Path(tmp) / "home"), XDG_DATA_HOME=str(Path(tmp) / "xdg"),
                   QT_QPA_PLATFORM="offscreen", HF_HUB_OFFLINE="1",
                   PATH=os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                        if ".venv" not in p))
        smoke_cli(exe, model, env)
        smoke_window(exe, model, env)
        smoke_gui(dist, env)
    print("Frozen smoke test passed.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
