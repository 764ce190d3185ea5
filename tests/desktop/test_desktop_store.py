"""The conversation store is plain sqlite3: tested without Qt, on a real file."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from desktop.store import ConversationStore
from qwen_aio import paths


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
