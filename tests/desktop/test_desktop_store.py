"""The conversation store is plain sqlite3: tested without Qt, on a real file."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from desktop_fakes import FakeEngine, make_recorder
from PySide6.QtWidgets import QLabel

from qwen_aio.desktop import store as store_module
from qwen_aio.desktop.store import (
    MIGRATIONS,
    SCHEMA_VERSION,
    ConversationStore,
    StoredMessage,
    open_store,
)
from qwen_aio.foundation import paths
from qwen_aio.foundation.errors import (
    ConversationsDamaged,
    ConversationsTooNew,
    ConversationsUnavailable,
)


def test_messages_and_moods_survive_reopening() -> None:
    store = ConversationStore(paths.conversations_db())
    assert store.journal_mode() == "wal"
    conv = store.create("Monday")
    user = store.add_message(conv.id, "user", "I got the job!")
    store.set_mood(user.id, "Positive", 0.97)
    store.add_message(conv.id, "assistant", "Congratulations!")
    store.close()

    again = ConversationStore(paths.conversations_db())
    [saved] = again.conversations()
    assert saved.title == "Monday"
    msgs = again.messages(saved.id)
    assert [(m.role, m.content, m.mood_label) for m in msgs] == [
        ("user", "I got the job!", "Positive"),
        ("assistant", "Congratulations!", None),
    ]
    assert msgs[0].mood_confidence == 0.97
    again.close()


def test_rename_delete_and_order(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3")
    a = store.create("a")
    b = store.create("b")
    store.add_message(a.id, "user", "later message makes a the most recent")
    assert [c.title for c in store.conversations()] == ["a", "b"]
    store.rename(b.id, "renamed")
    assert store.get(b.id).title == "renamed"  # type: ignore[union-attr]
    store.delete(a.id)
    assert [c.title for c in store.conversations()] == ["renamed"]
    assert store.message_count() == 0  # messages go with their conversation
    store.close()


def test_export_markdown_has_moods_and_quotes_text(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3")
    conv = store.create("Day")
    m = store.add_message(conv.id, "user", "Rain again.\n# not a heading")
    store.set_mood(m.id, "Negative", 0.81)
    store.add_message(conv.id, "assistant", "That sounds dreary.")
    md = store.export_markdown(conv.id)
    assert md.startswith("# Day\n")
    assert "**You** — 😞 Negative 81%" in md
    assert "> Rain again.\n> # not a heading" in md
    assert "**Assistant**\n\n> That sounds dreary." in md
    store.close()


def test_roles_are_checked(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3")
    conv = store.create("x")
    try:
        store.add_message(conv.id, "system", "no")
    except sqlite3.IntegrityError:
        pass
    else:
        raise AssertionError("a 'system' row must be refused")
    finally:
        store.close()


def test_qt_free_modules_do_not_import_qt() -> None:
    """store, install and i18n are used without a display (CLI, tests): they must stay Qt-free."""
    code = ("import sys, desktop.store, desktop.install, desktop.i18n, desktop.backend; "
            "sys.exit(1 if any(m.startswith('PySide6') for m in sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


_V1_SCHEMA = """
CREATE TABLE conversations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content TEXT NOT NULL,
    mood_label TEXT,
    mood_confidence REAL,
    created REAL NOT NULL
);
CREATE INDEX messages_by_conversation ON messages(conversation_id, id);
"""


def test_a_v1_database_is_upgraded_without_losing_messages(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite3"
    db = sqlite3.connect(str(path))
    db.executescript(_V1_SCHEMA)
    db.execute("INSERT INTO conversations VALUES (1, 'Old day', 1.0, 2.0)")
    db.executemany("INSERT INTO messages (conversation_id, role, content, mood_label, "
                   "mood_confidence, created) VALUES (1, ?, ?, ?, ?, ?)",
                   [("user", "Rainy and cold", "Negative", 0.8, 1.5),
                    ("assistant", "Stay warm.", None, None, 1.6)])
    db.commit()
    db.close()

    store = ConversationStore(path)
    msgs = store.messages(1)
    assert [(m.role, m.content, m.mood_label, m.mood_confidence, m.mood_corrected,
             m.stop_reason) for m in msgs] == [
        ("user", "Rainy and cold", "Negative", 0.8, False, None),
        ("assistant", "Stay warm.", None, None, False, None)]
    assert store.corrections() == []
    store.correct_mood(msgs[0].id, "Positive")
    store.add_message(1, "assistant", "More", stop_reason="limit")
    store.close()

    again = ConversationStore(path)  # a second open finds nothing to migrate
    assert [(m.content, m.mood_label, m.mood_corrected, m.stop_reason)
            for m in again.messages(1)] == [
        ("Rainy and cold", "Positive", True, None),
        ("Stay warm.", None, False, None),
        ("More", None, False, "limit")]
    assert again.corrections() == [("Rainy and cold", "Positive")]
    assert again.message_count() == 3
    again.close()
    columns = [r[1] for r in sqlite3.connect(str(path)).execute("PRAGMA table_info(messages)")]
    assert columns.count("mood_corrected") == 1 and columns.count("stop_reason") == 1


def test_corrections_are_keyed_by_normalized_text_newest_last(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3")
    conv = store.create("x")
    a = store.add_message(conv.id, "user", "I love it")
    b = store.add_message(conv.id, "user", "Meh")
    c = store.add_message(conv.id, "user", "i  LOVE it")
    store.correct_mood(a.id, "Negative")
    store.correct_mood(b.id, "Negative")
    store.correct_mood(c.id, "Positive")  # same words as a: replaces it and becomes the newest
    assert store.corrections() == [("Meh", "Negative"), ("i  LOVE it", "Positive")]
    first = store.message(a.id)
    assert first is not None and (first.mood_label, first.mood_corrected) == ("Negative", True)
    try:
        store.correct_mood(a.id, "Neutral")
    except ValueError:
        pass
    else:
        raise AssertionError("only Positive and Negative are labels")
    store.close()


def test_set_reply_updates_assistant_messages_only(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3")
    conv = store.create("x")
    user = store.add_message(conv.id, "user", "hi")
    reply = store.add_message(conv.id, "assistant", "Hello th", stop_reason="limit")
    store.set_reply(reply.id, "Hello there.", "end")
    store.set_reply(user.id, "changed", "end")
    assert [(m.content, m.stop_reason) for m in store.messages(conv.id)] == [
        ("hi", None), ("Hello there.", "end")]
    store.close()


# --- schema versions and migrations (issue 9) -----------------------------------------------

_V2_SCHEMA = _V1_SCHEMA.replace(
    "    created REAL NOT NULL\n);\nCREATE INDEX",
    "    created REAL NOT NULL,\n    mood_corrected INTEGER NOT NULL DEFAULT 0,\n"
    "    stop_reason TEXT\n);\nCREATE INDEX") + """
CREATE TABLE corrections (
    key TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    label TEXT NOT NULL CHECK (label IN ('Positive', 'Negative')),
    created REAL NOT NULL
);
PRAGMA user_version = 2;
"""


def _columns(path: Path) -> list[str]:
    db = sqlite3.connect(str(path))
    try:
        return [r[1] for r in db.execute("PRAGMA table_info(messages)")]
    finally:
        db.close()


def _user_version(path: Path) -> int:
    db = sqlite3.connect(str(path))
    try:
        return int(db.execute("PRAGMA user_version").fetchone()[0])
    finally:
        db.close()


def test_a_v1_file_is_upgraded_step_by_step_to_the_current_schema(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite3"
    db = sqlite3.connect(str(path))
    db.executescript(_V1_SCHEMA)
    db.execute("INSERT INTO conversations VALUES (1, 'Old day', 1.0, 2.0)")
    db.execute("INSERT INTO messages (conversation_id, role, content, created) "
               "VALUES (1, 'assistant', 'Stay warm.', 1.6)")
    db.commit()
    db.close()
    assert _user_version(path) == 0

    store = ConversationStore(path)
    assert store.schema_version() == SCHEMA_VERSION == len(MIGRATIONS) == 5
    [m] = store.messages(1)
    assert (m.content, m.status, m.model, m.prompt_tokens, m.reply_tokens) == (
        "Stay warm.", "done", None, None, None)
    store.close()
    cols = _columns(path)
    assert all(cols.count(c) == 1 for c in ("stop_reason", "status", "model", "reply_tokens"))


def test_the_current_v2_schema_is_upgraded_keeping_every_row(tmp_path: Path) -> None:
    path = tmp_path / "v2.sqlite3"
    db = sqlite3.connect(str(path))
    db.executescript(_V2_SCHEMA)
    db.execute("INSERT INTO conversations VALUES (1, 'Tuesday', 1.0, 2.0)")
    db.executemany("INSERT INTO messages (conversation_id, role, content, created, "
                   "mood_corrected, stop_reason) VALUES (1, ?, ?, ?, ?, ?)",
                   [("user", "So tired", 1.1, 1, None), ("assistant", "Rest a bi", 1.2, 0,
                                                        "limit")])
    db.execute("INSERT INTO corrections VALUES ('so tired', 'So tired', 'Negative', 1.0)")
    db.commit()
    db.close()

    store = ConversationStore(path)
    assert store.schema_version() == SCHEMA_VERSION
    assert [(m.content, m.mood_corrected, m.stop_reason, m.status)
            for m in store.messages(1)] == [("So tired", True, None, "done"),
                                            ("Rest a bi", False, "limit", "done")]
    assert store.corrections() == [("So tired", "Negative")]
    store.close()
    assert ConversationStore(path).schema_version() == SCHEMA_VERSION  # nothing left to do


def test_a_failing_migration_step_leaves_the_file_at_its_last_good_version(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.sqlite3"
    ConversationStore(path).close()

    def broken_step(db: sqlite3.Connection) -> None:
        db.execute("ALTER TABLE messages ADD COLUMN half_done TEXT")
        raise RuntimeError("step failed halfway")

    monkeypatch.setattr(store_module, "MIGRATIONS", [*MIGRATIONS, broken_step])
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with pytest.raises(RuntimeError):
        ConversationStore(path)
    assert _user_version(path) == SCHEMA_VERSION  # the step's transaction was rolled back
    assert "half_done" not in _columns(path)


def test_a_file_from_a_newer_version_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    store = ConversationStore(path)
    store.add_message(store.create("future").id, "user", "hello from the future")
    store.close()
    db = sqlite3.connect(str(path))
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    before = path.read_bytes()

    with pytest.raises(ConversationsTooNew) as err:
        ConversationStore(path)
    assert "newer version" in str(err.value) and "update the app" in str(err.value)
    opened = open_store(path)  # the app still starts, on a store that keeps nothing
    assert isinstance(opened.problem, ConversationsTooNew) and opened.moved_to is None
    assert opened.store.conversations() == []
    opened.store.close()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if ".corrupt-" in p.name) == []


# --- replies saved while they stream --------------------------------------------------------

def test_a_reply_row_streams_then_finishes_with_its_figures(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3")
    conv = store.create("x")
    row = store.start_reply(conv.id, "Hel", "Qwen test")
    assert store.message(row.id).status == "streaming"  # type: ignore[union-attr]
    store.update_reply(row.id, "Hello th")
    store.update_reply(row.id, "Hello there.", status="done", stop_reason="end",
                       prompt_tokens=31, reply_tokens=4)
    m = store.message(row.id)
    assert m is not None
    assert (m.content, m.status, m.stop_reason, m.model, m.prompt_tokens, m.reply_tokens) == (
        "Hello there.", "done", "end", "Qwen test", 31, 4)
    with pytest.raises(ValueError):
        store.update_reply(row.id, "x", status="weird")
    assert store.recover_interrupted() == 0
    store.close()


def test_a_reply_still_streaming_at_the_next_start_is_marked_interrupted(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    store = ConversationStore(path)
    conv = store.create("x")
    store.add_message(conv.id, "user", "Tell me a story")
    row = store.start_reply(conv.id, "Once upon", "Qwen test")
    store.update_reply(row.id, "Once upon a time")
    store._db.close()  # the process dies here: no finishing write

    again = ConversationStore(path)
    assert again.recover_interrupted() == 1
    m = again.message(row.id)
    assert m is not None and (m.content, m.status) == ("Once upon a time", "interrupted")
    assert again.recover_interrupted() == 0
    again.close()


# --- damaged, unreadable or busy files ------------------------------------------------------

def _filled(path: Path, n: int = 300) -> None:
    store = ConversationStore(path)
    conv = store.create("full")
    for i in range(n):
        store.add_message(conv.id, "user", f"message {i} " + "words " * 40)
    store.close()


def _check_set_aside(path: Path, damaged: bytes) -> None:
    opened = open_store(path)
    assert isinstance(opened.problem, ConversationsDamaged), opened.problem
    assert opened.moved_to is not None and opened.moved_to.name.startswith(
        "conversations.sqlite3.corrupt-")
    assert opened.moved_to.read_bytes() == damaged  # kept as it was, never deleted
    store = opened.store
    assert store.conversations() == [] and store.journal_mode() == "wal"
    store.add_message(store.create("fresh").id, "user", "a new start")
    store.close()
    db = sqlite3.connect(str(path))
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()


def test_a_damaged_header_is_kept_aside_and_a_fresh_file_started(tmp_path: Path) -> None:
    path = tmp_path / "conversations.sqlite3"
    _filled(path)
    with path.open("r+b") as f:
        f.write(b"this is no longer an SQLite header" * 3)
    damaged = path.read_bytes()
    with pytest.raises(ConversationsDamaged) as err:
        ConversationStore(path)
    assert "not a database" in str(err.value)
    _check_set_aside(path, damaged)


def test_a_damaged_schema_page_is_kept_aside_and_a_fresh_file_started(tmp_path: Path) -> None:
    path = tmp_path / "conversations.sqlite3"
    _filled(path)
    with path.open("r+b") as f:  # page 1 after the 100-byte header: the schema's b-tree
        f.seek(100)
        f.write(b"\xff" * 400)
    damaged = path.read_bytes()
    with pytest.raises(ConversationsDamaged):
        ConversationStore(path)
    _check_set_aside(path, damaged)


def test_damage_in_the_middle_is_found_at_open(tmp_path: Path) -> None:
    path = tmp_path / "conversations.sqlite3"
    _filled(path)
    page = 4096
    pages = path.stat().st_size // page
    assert pages > 10
    with path.open("r+b") as f:
        f.seek(page * (pages // 2))
        f.write(bytes(range(256)) * (page // 256))
    _check_set_aside(path, path.read_bytes())


def test_the_wal_and_shm_files_go_aside_with_the_database(tmp_path: Path) -> None:
    path = tmp_path / "conversations.sqlite3"
    path.write_bytes(b"garbage, not a database" * 100)
    Path(f"{path}-wal").write_bytes(b"old wal")
    Path(f"{path}-shm").write_bytes(b"old shm")
    opened = open_store(path)
    assert opened.moved_to is not None
    assert Path(f"{opened.moved_to}-wal").read_bytes() == b"old wal"
    assert Path(f"{opened.moved_to}-shm").read_bytes() == b"old shm"
    opened.store.close()


def test_a_locked_file_is_reported_not_set_aside(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Busy is not damage: a later write that cannot get the lock raises a message for the user."""
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_MS", 50)
    path = tmp_path / "c.sqlite3"
    store = ConversationStore(path)
    conv = store.create("x")
    other = sqlite3.connect(str(path), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process in the middle of a write
    try:
        with pytest.raises(ConversationsUnavailable) as err:
            store.add_message(conv.id, "user", "hello")
        assert "locked" in str(err.value) and "restart the app" in str(err.value)
    finally:
        other.execute("ROLLBACK")
        other.close()
    store.add_message(conv.id, "user", "hello")  # the lock is gone: writing works again
    assert store.message_count() == 1
    store.close()
    assert [p.name for p in tmp_path.iterdir() if ".corrupt-" in p.name] == []


# --- the window with the store: replies saved as they stream, quitting, damaged files --------

def _ready(qtbot: Any, make_app: Any, engine: FakeEngine) -> Any:
    app = make_app(engine)
    qtbot.waitUntil(lambda: app.client.model_loaded)
    return app


def _last_reply(app: Any) -> StoredMessage:
    convs = app.store.conversations()
    replies = [m for m in app.store.messages(convs[0].id) if m.role == "assistant"]
    return replies[-1]


def test_the_reply_row_is_written_while_it_streams_then_finished(
        qtbot: Any, make_app: Any, fake_engine: FakeEngine) -> None:
    fake_engine.block_after = 2
    app = _ready(qtbot, make_app, fake_engine)
    win = app.window
    with qtbot.waitSignal(app.client.worker.token):
        win.input.setPlainText("tell me something")
        win.send()
    # Written at the first piece, before the reply ends; the throttled update brings the rest.
    qtbot.waitUntil(lambda: app.store.message_count() == 2)
    qtbot.waitUntil(lambda: _last_reply(app).content == "I hear ")
    row = _last_reply(app)
    assert (row.status, row.model, row.stop_reason) == ("streaming", "Fake model", None)
    assert win.chat.bubbles[-1].message_id == row.id

    with qtbot.waitSignal(win.turnFinished):
        fake_engine.release.set()
    row = _last_reply(app)
    assert (row.content, row.status, row.stop_reason, row.prompt_tokens, row.reply_tokens) == (
        "I hear you.", "done", "end", 20, 4)
    assert app.store.message_count() == 2  # updated in place, never a second row


@pytest.mark.parametrize("how", ["quit", "close"])
def test_quitting_mid_reply_saves_what_was_streamed_as_stopped(
        qtbot: Any, make_app: Any, fake_engine: FakeEngine, how: str) -> None:
    fake_engine.block_after = 3
    app = _ready(qtbot, make_app, fake_engine)
    rec = make_recorder(app.client.worker, app.window.chat.chips)
    app.window.input.setPlainText("a long story please")
    app.window.send()
    qtbot.waitUntil(lambda: len(rec.pieces) == 3)
    path = app.store.path
    if how == "quit":
        app.quit()  # what the tray's Quit and SIGTERM call
    else:
        app.window.close()  # no tray here: closing the window quits
        assert app._quitting

    store = ConversationStore(path)
    [conv] = store.conversations()
    reply = store.messages(conv.id)[-1]
    assert (reply.role, reply.content, reply.status, reply.stop_reason) == (
        "assistant", "I hear you", "stopped", "cancelled")
    assert store.recover_interrupted() == 0  # nothing was left "streaming"
    store.close()


def test_a_reply_cut_by_a_crash_shows_as_interrupted(qtbot: Any, make_app: Any,
                                                     fake_engine: FakeEngine) -> None:
    store = ConversationStore(paths.conversations_db())
    conv = store.create("before the crash")
    store.add_message(conv.id, "user", "Tell me a story")
    row = store.start_reply(conv.id, "Once upon a", "Fake model")
    store.close()  # the process died: the row is still "streaming"

    app = _ready(qtbot, make_app, fake_engine)
    assert app.store.message(row.id).status == "interrupted"
    bubble = app.window.chat.bubbles[-1]
    assert bubble.text == "Once upon a"
    notes = [w.text() for w in bubble.findChildren(QLabel, "replyNote")]
    assert notes == ["(interrupted: the app closed before this reply ended)"]


def test_a_damaged_database_is_kept_aside_and_the_app_starts(
        qtbot: Any, make_app: Any, fake_engine: FakeEngine) -> None:
    db = paths.conversations_db()
    db.write_bytes(b"\x00garbage where the conversations were" * 50)
    app = _ready(qtbot, make_app, fake_engine)
    moved = app.opened_store.moved_to
    assert moved is not None and moved.read_bytes().startswith(b"\x00garbage")
    assert app.store_box is not None and app.store_box.isVisible()
    assert str(moved) in app.store_box.text() and "damaged" in app.store_box.text()
    assert str(moved) in app.window.statusBar().currentMessage()
    with qtbot.waitSignal(app.window.turnFinished):
        app.window.input.setPlainText("a fresh start")
        app.window.send()
    assert app.store.message_count() == 2 and app.window.state_label.text() == "Ready."


def test_a_store_failure_mid_turn_is_shown_not_ready(
        qtbot: Any, make_app: Any, fake_engine: FakeEngine,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_MS", 50)
    fake_engine.block_in_prefill = True
    app = _ready(qtbot, make_app, fake_engine)
    win = app.window
    with qtbot.waitSignal(app.client.worker.moodReady):
        win.input.setPlainText("hello")
        win.send()
    other = sqlite3.connect(str(app.store.path), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock from now on
    try:
        with qtbot.waitSignal(win.turnFinished):
            fake_engine.release.set()
        state = win.state_label.text()
        assert state.startswith("Conversations could not be read or saved: database is locked")
        win.input.setPlainText("and again")
        win.send()  # the user message cannot be saved: said, and nothing is sent
        assert win.state_label.text().startswith("Conversations could not be read or saved")
        assert win.input.toPlainText() == "and again" and not app.client.busy
    finally:
        other.execute("ROLLBACK")
        other.close()
    with qtbot.waitSignal(win.turnFinished):
        win.send()  # the lock is gone: the same text goes through
    assert win.state_label.text() == "Ready."


def test_a_newer_database_is_left_alone_and_the_app_still_runs(
        qtbot: Any, make_app: Any, fake_engine: FakeEngine) -> None:
    db = paths.conversations_db()
    store = ConversationStore(db)
    store.create("from the future")
    store.close()
    raw = sqlite3.connect(str(db))
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    raw.close()
    before = db.read_bytes()

    app = _ready(qtbot, make_app, fake_engine)
    assert app.store_box is not None and "newer version" in app.store_box.text()
    assert app.window.sidebar.count() == 0
    with qtbot.waitSignal(app.window.turnFinished):
        app.window.input.setPlainText("still works")
        app.window.send()
    assert app.store.message_count() == 2  # kept in memory for this session only
    app.quit()
    assert db.read_bytes() == before


def test_notices_are_kept_once_each_and_a_damaged_value_is_ignored(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3")
    conv = store.create("n").id
    m = store.add_message(conv, "user", "hello")
    assert store.messages(conv)[0].notices == ()
    store.add_notices(m.id, ["Your message was cut.", "缩短了"])
    store.add_notices(m.id, ["缩短了", "Another."])
    store.add_notices(m.id, [])
    assert store.messages(conv)[0].notices == ("Your message was cut.", "缩短了", "Another.")
    store.add_notices(999, ["nobody's"])  # a deleted message: nothing happens
    store._db.execute("UPDATE messages SET notices = '{not json' WHERE id = ?", (m.id,))
    store._db.commit()
    assert store.messages(conv)[0].notices == ()  # the message itself is still there
    store.close()
