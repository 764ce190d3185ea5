"""The conversation store is plain sqlite3: tested without Qt, on a real file."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from qwen_aio.desktop.store import ConversationStore
from qwen_aio.foundation import paths


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
