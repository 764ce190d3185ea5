"""Crash trials: the real desktop app (real model, real SQLite file) killed mid-reply.

Each trial starts crash_child.py (the real DesktopApp under offscreen Qt), lets one turn finish,
starts a long reply and sends SIGKILL at a seeded random moment (during the mood pass, or once
the window has handled the k-th piece). The next start is the restart: the database must pass
`PRAGMA integrity_check`, every finished message must be there as written, and the cut reply
must be there as far as it was saved (a prefix of what was streamed, never empty once the
window had a piece), marked "interrupted". Nothing here depends on how long anything takes.
Set QWEN_AIO_CRASH_TRIALS to run more (or fewer) trials.
"""

from __future__ import annotations

import json
import os
import queue
import random
import signal
import sqlite3
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHILD = Path(__file__).with_name("crash_child.py")
TRIALS = int(os.environ.get("QWEN_AIO_CRASH_TRIALS", "20"))
SEED = 9
LAST_KILL_POINT = 30  # pieces into the cut reply (its limit is crash_child.CUT_TOKENS = 40)
EVENT_TIMEOUT_S = 300  # only so a hung child fails the test instead of blocking CI


class Child:
    """One run of crash_child.py; its JSON-line events arrive on a queue."""

    def __init__(self, model: Path, mode: str, home: Path, log: Path) -> None:
        env = {**os.environ, "QWEN_AIO_HOME": str(home), "QT_QPA_PLATFORM": "offscreen"}
        self.log = log
        with log.open("w") as err:
            self.proc = subprocess.Popen([sys.executable, str(CHILD), str(model), mode],
                                         stdout=subprocess.PIPE, stderr=err, text=True,
                                         env=env)
        self.events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("{"):
                self.events.put(json.loads(line))
        self.events.put(None)  # the pipe closed: the child is gone

    def next(self) -> dict[str, Any] | None:
        try:
            return self.events.get(timeout=EVENT_TIMEOUT_S)
        except queue.Empty:
            self.proc.kill()
            pytest.fail("the child stopped answering:\n" + self.log.read_text()[-2000:])

    def expect(self, kind: str) -> dict[str, Any]:
        ev = self.next()
        if ev is None or ev["event"] != kind:
            self.proc.kill()
            pytest.fail(f"expected {kind!r}, got {ev!r}:\n" + self.log.read_text()[-2000:])
        return ev

    def rest(self) -> list[dict[str, Any]]:
        """Every event the child wrote before it ended (the pipe keeps them after a kill)."""
        out = []
        while (ev := self.next()) is not None:
            out.append(ev)
        self._reader.join()
        self.proc.wait()
        return out


@dataclass
class Cut:
    """The reply a trial killed: its user message and every piece the worker had emitted."""

    user_id: int
    streamed: str = ""
    seen: int = 0  # pieces the window had handled when the kill was sent
    finished_id: int | None = None  # it ended before the kill point


@dataclass
class Tally:
    trials: int = 0
    integrity_ok: int = 0
    finished: int = 0
    finished_kept: int = 0
    cut_after_text: int = 0  # kills after the window had handled the reply's first piece
    partial_kept: int = 0  # ... whose reply row was there, marked interrupted
    failures: list[str] = field(default_factory=list)


def _check_restart(db_path: Path, finished: dict[int, tuple[str, str]], cut: Cut | None,
                   tally: Tally) -> None:
    db = sqlite3.connect(str(db_path))
    try:
        integrity = db.execute("PRAGMA integrity_check").fetchall()
        try:  # the search index (schema 4) matches the messages: FTS5's own check raises if not
            db.execute("INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)")
        except sqlite3.DatabaseError as exc:
            integrity = [(f"search index: {exc}",)]
        if integrity == [("ok",)]:
            tally.integrity_ok += 1
        else:
            tally.failures.append(f"integrity_check: {integrity[:3]}")
        rows = {r[0]: r[1:] for r in db.execute(
            "SELECT id, role, content, status, conversation_id FROM messages")}
        tally.finished = len(finished)
        tally.finished_kept = sum(1 for i, (role, text) in finished.items()
                                  if i in rows and rows[i][:3] == (role, text, "done"))
        if tally.finished_kept != tally.finished:
            missing = {i: v for i, v in finished.items()
                       if i not in rows or rows[i][:3] != (*v, "done")}
            tally.failures.append(f"finished messages lost or changed: {missing}")
        streaming = [i for i, r in rows.items() if r[2] == "streaming"]
        if streaming:
            tally.failures.append(f"rows still 'streaming' after the restart: {streaming}")
        if cut is None or cut.finished_id is not None:
            return
        conv = rows[cut.user_id][3]
        after = [(i, r) for i, r in rows.items() if i > cut.user_id and r[3] == conv]
        if cut.seen:
            tally.cut_after_text += 1
            if not after:
                tally.failures.append(f"the cut reply after {cut.user_id} was lost: the window "
                                      f"had {cut.seen} piece(s) of {cut.streamed!r}")
        if len(after) > 1:
            tally.failures.append(f"more than one reply row after {cut.user_id}: {after}")
        elif after:
            _, (role, content, status, _) = after[0]
            if role == "assistant" and status == "interrupted" and content \
                    and cut.streamed.startswith(content):
                tally.partial_kept += 1 if cut.seen else 0
            else:
                tally.failures.append(f"cut reply saved wrong: {after[0]}, streamed "
                                      f"{cut.streamed!r}")
    finally:
        db.close()


def _trial(child: Child, kill_at: int, finished: dict[int, tuple[str, str]]) -> Cut:
    """One finished turn, then the long reply, killed after `kill_at` pieces (0: at once)."""
    sent = child.expect("sent")
    finished[sent["id"]] = ("user", sent["text"])
    ev = child.next()
    while ev is not None and ev["event"] in ("token", "seen"):
        ev = child.next()
    if ev is None or ev["event"] != "done" or not ev["ok"]:
        pytest.fail(f"the first turn did not finish: {ev!r}\n" + child.log.read_text()[-2000:])
    finished[ev["id"]] = ("assistant", ev["text"])
    cut: Cut | None = None
    while cut is None or (kill_at and cut.finished_id is None):
        ev = child.next()
        if ev is None:
            pytest.fail("the child ended by itself:\n" + child.log.read_text()[-2000:])
        if ev["event"] == "sent":
            finished[ev["id"]] = ("user", ev["text"])
            cut = Cut(ev["id"])
            if kill_at == 0:
                break
        elif ev["event"] == "token" and cut is not None:
            cut.streamed = ev["text"]
        elif ev["event"] == "seen" and cut is not None:
            cut.seen = ev["n"]
            if ev["n"] >= kill_at:
                break
        elif ev["event"] == "done" and cut is not None:
            cut.finished_id = ev["id"]
            finished[ev["id"]] = ("assistant", ev["text"])
    assert cut is not None
    child.proc.send_signal(signal.SIGKILL)
    for ev in child.rest():  # pieces emitted before the kill landed
        if ev["event"] == "token":
            cut.streamed = ev["text"]
        elif ev["event"] == "done":
            cut.finished_id = ev["id"]
            finished[ev["id"]] = ("assistant", ev["text"])
    assert child.proc.returncode == -signal.SIGKILL
    return cut


def test_kill_9_mid_reply_loses_nothing_that_was_saved(
        model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "home"
    db_path = home / "data" / "conversations.sqlite3"
    rng = random.Random(SEED)
    finished: dict[int, tuple[str, str]] = {}
    tally = Tally()
    cut: Cut | None = None
    for trial in range(1, TRIALS + 2):
        last = trial == TRIALS + 1  # a last start only to check the last trial
        child = Child(model_path, "check" if last else str(trial), home,
                      tmp_path / f"child-{trial}.log")
        started = child.next()
        assert started is not None and started["event"] == "started", (
            f"trial {trial}: the app did not start after a kill -9 (lock or database): "
            f"{started!r}\n" + child.log.read_text()[-2000:])
        if cut is not None:  # the restart has run the store's crash recovery
            _check_restart(db_path, finished, cut, tally)
        if last:
            child.rest()
            assert child.proc.returncode == 0
            break
        tally.trials += 1
        cut = _trial(child, rng.randint(0, LAST_KILL_POINT), finished)

    summary = (f"crash trials: {tally.trials}, integrity ok {tally.integrity_ok}, finished "
               f"messages kept {tally.finished_kept}/{tally.finished}, partial replies kept "
               f"{tally.partial_kept}/{tally.cut_after_text} (killed after their first piece)")
    with capsys.disabled():
        sys.stdout.write("\n" + summary + "\n")
    assert not tally.failures, "\n".join(tally.failures)
    assert tally.trials == TRIALS and tally.integrity_ok == TRIALS
    assert tally.finished_kept == tally.finished >= 3 * TRIALS
    assert tally.partial_kept == tally.cut_after_text > 0


def test_sigterm_mid_reply_saves_the_whole_streamed_part_as_stopped(
        model_path: Path, tmp_path: Path) -> None:
    """A normal quit (SIGTERM, like a logout) finishes the turn's bookkeeping before exiting."""
    home = tmp_path / "home"
    child = Child(model_path, "term", home, tmp_path / "child.log")
    child.expect("started")
    child.expect("sent")
    while (ev := child.next()) is not None and ev["event"] != "done":
        pass
    assert ev is not None
    first_reply = ev["id"]
    cut = Cut(child.expect("sent")["id"])
    while (ev := child.next()) is not None and ev["event"] in ("token", "seen"):
        if ev["event"] == "token":
            cut.streamed = ev["text"]
        elif ev["n"] >= 5:
            break
    assert cut.streamed, f"no reply to cut: {ev!r}"
    child.proc.send_signal(signal.SIGTERM)
    for ev in child.rest():
        if ev["event"] == "token":
            cut.streamed = ev["text"]
    assert child.proc.returncode == 0, child.log.read_text()[-2000:]

    db = sqlite3.connect(str(home / "data" / "conversations.sqlite3"))
    rows = db.execute("SELECT id, content, status, stop_reason, model, prompt_tokens, "
                      "reply_tokens FROM messages WHERE id > ? OR id = ? ORDER BY id",
                      (cut.user_id, first_reply)).fetchall()
    db.close()
    (_, _, status, reason, model, prompt, reply), (_, content, cut_status, cut_reason, *_) = rows
    assert (status, reason in ("end", "sentence", "limit"), model) == (
        "done", True, "Qwen test model")
    assert prompt > 0 and reply > 0
    assert (content, cut_status, cut_reason) == (cut.streamed, "stopped", "cancelled")
    assert not (home / "data" / "qwen-aio.lock").exists()  # the instance lock was released
