"""Tasks on the remote engine, against the real llama-cpp-python server on loopback (the
session's `llama_server` fixture, conftest.py) with the stand-in model: the same registry as
locally, the keywords grammar honoured by the server, translation, summary, cancel, the CLI's
--backend, and a broken tasks.toml."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from qwen_aio.engine.api import EngineAPI, TaskStreamLike
from qwen_aio.engine.remote import TASK_MAX_INPUT_CHARS, RemoteEngine
from qwen_aio.engine.tasks import BUILTIN_TASKS, KEYWORDS_GRAMMAR, UnknownTask
from qwen_aio.engine.types import LABELS, CancelToken
from qwen_aio.foundation.errors import EmptyInput

EN_TEXT = ("The city opened a new public library downtown last week. It holds fifty thousand "
           "books, a cafe and a reading room for children. Officials hope it becomes a meeting "
           "place for the neighbourhood, and the first days brought long queues of visitors. "
           "The building was designed by a local architect and runs mostly on solar power.")
ZH_TEXT = "我们明天早上八点在学校门口见面，然后一起坐公交车去博物馆参观。"
KEYWORDS_TEXT = ("Researchers at the university built a battery that charges an electric car "
                 "in ten minutes.")
# The keys `qwen-aio task ... --json` prints for one input (cmd_task._one), local or remote.
JSON_KEYS = {"task", "input", "output", "items", "stop_reason", "notices", "prompt_tokens",
             "evaluated_tokens", "generated_tokens", "ttft_ms", "decode_tps"}

BROKEN_TASKS_TOML = """\
[tasks.headline]
name = "Headline"
system = "Write a short headline for the user's text. Output only the headline."
max_tokens = 24

[tasks.shout]
system = "Repeat the user's text in capital letters."
max_tokens = "many"
"""


def han_share(text: str) -> float:
    han = sum(0x4E00 <= ord(c) <= 0x9FFF for c in text)
    latin = sum(c.isascii() and c.isalpha() for c in text)
    return han / max(1, han + latin)


@pytest.fixture(scope="module")
def remote(llama_server: dict[str, object]) -> Iterator[RemoteEngine]:
    eng = RemoteEngine.connect(str(llama_server["url"]), timeout=120)
    yield eng
    eng.close()


def test_the_remote_engine_has_the_same_tasks(remote: RemoteEngine) -> None:
    assert isinstance(remote, EngineAPI)
    assert remote.tasks.ids() == [t.id for t in BUILTIN_TASKS]
    assert remote.tasks.problems == []


def test_keywords_is_a_json_list_constrained_by_the_server(remote: RemoteEngine) -> None:
    task = remote.tasks.get("keywords")
    request, limit, notices = remote.task_request(task, KEYWORDS_TEXT, "en")
    assert request["extra_body"]["grammar"] == KEYWORDS_GRAMMAR  # llama.cpp's GBNF field
    assert request["temperature"] == 0.0 and request["stream"] is True
    assert limit == task.max_tokens and notices == []
    stream = remote.run_task("keywords", KEYWORDS_TEXT)
    assert isinstance(stream, TaskStreamLike)
    pieces = list(stream)
    r = stream.result
    assert r.text == "".join(pieces) == stream.text
    parsed = json.loads(r.text)  # exactly the grammar's JSON, nothing around it
    assert isinstance(parsed, list) and 1 <= len(parsed) <= 8
    assert all(isinstance(k, str) and k.strip() for k in parsed)
    assert r.items == [k.strip() for k in parsed]
    assert r.task == "keywords" and r.stop_reason == "end"
    assert 1 <= r.generated_tokens <= task.max_tokens and r.ttft_ms > 0


def test_translate_chinese_gives_mostly_latin_script(remote: RemoteEngine) -> None:
    r = remote.run_task("translate", ZH_TEXT).consume()
    assert r.target == "en" and r.text.strip()
    assert han_share(r.text) < 0.2, r.text
    assert r.items is None and r.stop_reason in ("end", "limit")


def test_summary_is_shorter_than_its_input(remote: RemoteEngine) -> None:
    r = remote.run_task("summary", EN_TEXT).consume()
    assert r.text.strip()
    assert len(r.text) < len(EN_TEXT), r.text
    assert r.generated_tokens <= remote.tasks.get("summary").max_tokens


def test_a_long_input_is_cut_with_a_notice(remote: RemoteEngine) -> None:
    text = " ".join([EN_TEXT] * 6)
    assert len(text) > TASK_MAX_INPUT_CHARS
    request, _, notices = remote.task_request(remote.tasks.get("summary"), text, "en")
    sent = request["messages"][-1]["content"]
    assert len(sent) < len(text) and sent.startswith(text[:100]) and sent.endswith(text[-100:])
    assert notices and "first" in notices[0]


def test_cancel_mid_task_stops_it_and_the_server(remote: RemoteEngine,
                                                 llama_server: dict[str, object]) -> None:
    log = Path(str(llama_server["log"]))
    before = log.read_text(encoding="utf-8", errors="replace").count("Disconnected from client")
    cancel = CancelToken()
    stream = remote.run_task("translate", " ".join([EN_TEXT] * 2), target="zh", cancel=cancel)
    got = []
    for piece in stream:
        got.append(piece)
        if len(got) == 3:
            cancel.cancel()
    assert len(got) == 3
    assert stream.result.stop_reason == "cancelled" and stream.result.generated_tokens == 3
    deadline = time.monotonic() + 60  # the server notices at its next token
    while log.read_text(encoding="utf-8", errors="replace").count(
            "Disconnected from client") == before:
        assert time.monotonic() < deadline, "the server never noticed the closed stream"
        time.sleep(0.2)
    closed = remote.run_task("fix", "She dont like going to school becuase of the teachers.")
    next(closed)
    closed.close()  # closing without a cancel token stops it too
    assert closed.result.stop_reason == "cancelled"
    assert remote.run_task("keywords", KEYWORDS_TEXT).consume().items  # still works after


def test_unknown_task_and_empty_input(remote: RemoteEngine) -> None:
    with pytest.raises(UnknownTask) as info:
        remote.run_task("poem", "hello")
    assert "poem" in str(info.value) and "keywords" in str(info.value)
    with pytest.raises(EmptyInput):
        remote.run_task("summary", "   ")


def test_mood_as_a_task_is_the_mood_pass(remote: RemoteEngine) -> None:
    text = "今天的实验终于成功了，太棒了！"
    r = remote.run_task("mood", text).consume()
    assert r.text in LABELS and r.text == remote.mood(text).label
    assert r.stop_reason == "end"


def test_a_bad_tasks_toml_field_is_reported_and_the_builtins_still_work(
        llama_server: dict[str, object], tmp_path: Path) -> None:
    path = tmp_path / "tasks.toml"
    path.write_text(BROKEN_TASKS_TOML, encoding="utf-8")
    eng = RemoteEngine.connect(str(llama_server["url"]), timeout=120, tasks_file=path)
    try:
        assert len(eng.tasks.problems) == 1
        problem = eng.tasks.problems[0]
        assert f"{path}:8" in problem and "'shout'" in problem and "max_tokens" in problem
        assert "shout" not in eng.tasks and "headline" in eng.tasks
        assert eng.tasks.get("headline").source == f"{path}:1"
        assert 1 <= len(eng.run_task("keywords", KEYWORDS_TEXT).consume().items or []) <= 8
        headline = eng.run_task("headline", EN_TEXT).consume()
        assert headline.text.strip() and headline.generated_tokens <= 24
    finally:
        eng.close()


def test_the_cli_runs_a_task_on_the_server(llama_server: dict[str, object],
                                           qwen_home: Path) -> None:
    env = {"QWEN_AIO_HOME": str(qwen_home), "PATH": "/usr/bin:/bin",
           "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.run([sys.executable, "-m", "qwen_aio", "task", "keywords", KEYWORDS_TEXT,
                           "--backend", str(llama_server["url"]), "--json"],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(rows) == 1 and set(rows[0]) == JSON_KEYS
    row = rows[0]
    assert row["task"] == "keywords" and row["input"] == KEYWORDS_TEXT
    assert json.loads(row["output"]) == row["items"] and 1 <= len(row["items"]) <= 8
    assert row["stop_reason"] == "end" and row["generated_tokens"] >= 1
    assert "Server: " in proc.stderr
