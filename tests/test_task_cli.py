"""`qwen-aio task` as a user runs it: JSON shape, exit codes, tasks.toml notes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def run(*args: str, stdin: str | None = None, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QWEN_AIO_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "qwen_aio", *args], input=stdin, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=300)

ROW_KEYS = {"task", "input", "output", "items", "stop_reason", "notices", "prompt_tokens",
            "evaluated_tokens", "generated_tokens", "ttft_ms", "decode_tps"}


def test_task_json_rows_and_exit_1_when_a_line_fails(model_path: Path, qwen_home: Path) -> None:
    out = run("task", "keywords", "--json", "--file", "-", "--model", str(model_path),
              stdin="Solar panels on every school roof by 2030, the mayor said.\n\n",
              home=qwen_home)
    assert out.returncode == 1, out.stderr  # the blank line failed, the other did not
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(rows) == 2
    assert set(rows[0]) == ROW_KEYS
    assert rows[0]["task"] == "keywords" and isinstance(rows[0]["items"], list)
    assert json.loads(rows[0]["output"]) == rows[0]["items"]
    assert rows[1]["output"] is None and "empty" in rows[1]["error"]


def test_translate_with_to_after_the_text(model_path: Path, qwen_home: Path) -> None:
    out = run("task", "translate", "我喜欢喝茶。", "--to", "en", "--json", "--model",
              str(model_path), home=qwen_home)
    assert out.returncode == 0, out.stderr
    row = json.loads(out.stdout)
    assert set(row) == ROW_KEYS | {"target"} and row["target"] == "en" and row["output"]


def test_task_list_and_usage_errors(qwen_home: Path) -> None:
    config = qwen_home / "config"
    config.mkdir(parents=True)
    (config / "tasks.toml").write_text('[tasks.title]\nsystem = "Title it."\n\n'
                                       "[tasks.bad]\nmax_tokens = 0\n", encoding="utf-8")
    out = run("task", "list", "--json", home=qwen_home)
    assert out.returncode == 0, out.stderr
    ids = [json.loads(line)["id"] for line in out.stdout.splitlines()]
    assert ids == ["mood", "summary", "keywords", "fix", "translate", "title"]
    assert "tasks.toml:5" in out.stderr and "bad" in out.stderr
    for args, message in ((["task", "poem", "x"], "Unknown task 'poem'"),
                          (["task", "summary"], "Give the text"),
                          (["task", "translate", "x", "--to", "fr"], "Cannot translate"),
                          (["task", "summary", "x", "--to", "en"], "--to is for translate"),
                          (["task", "fix", "--file", "/nowhere.txt"], "No such file")):
        out = run(*args, home=qwen_home)
        assert out.returncode == 2, (args, out.stderr)
        assert message in out.stderr, (args, out.stderr)
