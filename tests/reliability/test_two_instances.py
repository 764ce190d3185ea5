"""Two processes at once: one app per data folder (QLockFile), and a shared SQLite file."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from qwen_aio.desktop.store import SCHEMA_VERSION

RUN_APP = "import sys; from qwen_aio.desktop.app import main; sys.exit(main(['--no-tray']))"

# A first instance that has taken the lock but is still starting (not listening yet): it
# listens when the parent says so, then reports every "raise" a later launch sends it.
FIRST = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from qwen_aio.desktop.app import SingleInstance, instance_lock_path, server_name

app = QApplication([sys.argv[0]])
single = SingleInstance(server_name(), instance_lock_path())
print("locked", single.lock.tryLock(0), flush=True)
sys.stdin.readline()  # busy starting up until the parent says go
print("listening", single.listen(), flush=True)
single.activated.connect(lambda: print("raised", flush=True))
import threading
asked = threading.Event()
threading.Thread(target=lambda: (sys.stdin.readline(), asked.set()), daemon=True).start()
poll = QTimer()  # the parent's "quit" arrives on stdin, read by that thread
poll.timeout.connect(lambda: app.quit() if asked.is_set() else None)
poll.start(50)
app.exec()
single.close()
print("bye", flush=True)
"""


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "QWEN_AIO_HOME": str(home), "QT_QPA_PLATFORM": "offscreen"}


def _launch_second(home: Path) -> subprocess.CompletedProcess[str]:
    """The real `qwen-aio` entry point; a wrongly started second app would never return."""
    try:
        return subprocess.run([sys.executable, "-c", RUN_APP], env=_env(home), text=True,
                              capture_output=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("a second launch started a second app instead of leaving")


def test_a_second_launch_never_takes_over_a_starting_or_busy_first_one(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = subprocess.Popen([sys.executable, "-c", FIRST], env=_env(home), text=True,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert first.stdin is not None and first.stdout is not None
    try:
        assert first.stdout.readline().split() == ["locked", "True"]
        # Launched while the first is not listening: no one answers, yet it must not start.
        second = _launch_second(home)
        assert second.returncode == 0, second.stderr[-2000:]
        assert "already running" in second.stderr

        first.stdin.write("go\n")
        first.stdin.flush()
        assert first.stdout.readline().split() == ["listening", "True"]
        third = _launch_second(home)  # now it answers: the running window is raised
        assert third.returncode == 0, third.stderr[-2000:]
        assert first.stdout.readline().strip() == "raised"
        assert (home / "data" / "qwen-aio.lock").exists()
    finally:
        first.stdin.write("quit\n")
        first.stdin.flush()
        out, _ = first.communicate(timeout=60)
    assert out.split() == ["bye"] and first.returncode == 0
    assert not (home / "data" / "qwen-aio.lock").exists()  # released on a normal exit


WRITER = """
import sys
from pathlib import Path
from qwen_aio.desktop.store import ConversationStore

path, name, n = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
sys.stdin.readline()  # both start together
store = ConversationStore(path)  # the first to open migrates the old file; the other waits
for i in range(n):
    conv = store.create(f"{name} {i}")
    user = store.add_message(conv.id, "user", f"{name} says {i}")
    store.set_mood(user.id, "Positive", 0.9)
    reply = store.start_reply(conv.id, "Hel", "test")
    for k in range(5):
        store.update_reply(reply.id, "Hello" + " there" * k)
    store.update_reply(reply.id, f"Hello {name} {i}", status="done", stop_reason="end",
                       prompt_tokens=10, reply_tokens=3)
store.close()
print("ok", flush=True)
"""

_V1 = """
CREATE TABLE conversations (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL,
    created REAL NOT NULL, updated REAL NOT NULL);
CREATE TABLE messages (id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')), content TEXT NOT NULL,
    mood_label TEXT, mood_confidence REAL, created REAL NOT NULL);
INSERT INTO conversations VALUES (1, 'old', 1.0, 1.0);
INSERT INTO messages (conversation_id, role, content, created) VALUES (1, 'user', 'kept', 1.0);
"""


def test_two_processes_writing_at_once_never_corrupt_the_file(tmp_path: Path) -> None:
    """Both open an old (v1) file at the same moment, migrate it once, and write in parallel."""
    path = tmp_path / "conversations.sqlite3"
    db = sqlite3.connect(str(path))
    db.executescript(_V1)
    db.close()
    n = 150
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), name, str(n)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for name in ("app", "cli")]
    for w in writers:
        assert w.stdin is not None
        w.stdin.write("go\n")
        w.stdin.flush()
    results = [w.communicate(timeout=300) for w in writers]
    assert [(w.returncode, out.strip()) for w, (out, _) in zip(writers, results, strict=True)] \
        == [(0, "ok"), (0, "ok")], [err[-2000:] for _, err in results]

    db = sqlite3.connect(str(path))
    assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    # The search index (schema 4) followed both writers: FTS5's own check raises if not.
    db.execute("INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)")
    assert db.execute("SELECT content FROM messages WHERE id = 1").fetchone() == ("kept",)
    for name in ("app", "cli"):
        rows = db.execute("SELECT content, status FROM messages WHERE role = 'assistant' "
                          "AND content LIKE ?", (f"Hello {name} %",)).fetchall()
        assert sorted(rows) == sorted((f"Hello {name} {i}", "done") for i in range(n))
        assert db.execute("SELECT COUNT(*) FROM messages WHERE role = 'user' AND content LIKE ? "
                          "AND mood_label = 'Positive'", (f"{name} says %",)).fetchone()[0] == n
    db.close()


OPENER = """
import sys
from qwen_aio.desktop.store import ConversationStore
print("ready", flush=True)
sys.stdin.readline()  # all start together
ConversationStore(sys.argv[1]).close()
print("ok", flush=True)
"""


def test_processes_opening_an_old_file_together_all_get_it(tmp_path: Path) -> None:
    """Switching a rollback-journal file to WAL can fail at once as "locked" (SQLite will not
    wait when waiting could deadlock); every opener must wait its turn instead of failing.
    Before the fix, 5 of 8 rounds of three openers had one that failed."""
    failures = []
    for round_ in range(6):
        path = tmp_path / f"round{round_}.sqlite3"
        db = sqlite3.connect(str(path))
        db.executescript(_V1)
        db.close()
        openers = [subprocess.Popen([sys.executable, "-c", OPENER, str(path)],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True) for _ in range(3)]
        for o in openers:  # wait until each has imported, then release them at once
            assert o.stdin is not None and o.stdout is not None
            assert o.stdout.readline().strip() == "ready"
        for o in openers:
            o.stdin.write("go\n")  # type: ignore[union-attr]
            o.stdin.flush()  # type: ignore[union-attr]
        for o in openers:
            out, err = o.communicate(timeout=120)
            if o.returncode or out.strip() != "ok":
                failures.append(err.strip().splitlines()[-1:] if err else out)
    assert failures == []
