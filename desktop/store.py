"""Saved conversations in SQLite (WAL): plain sqlite3, no Qt, so it is testable on its own."""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content TEXT NOT NULL,
    mood_label TEXT,
    mood_confidence REAL,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages(conversation_id, id);
"""

EMOJI = {"Positive": "😄", "Negative": "😞"}


@dataclass(frozen=True)
class Conversation:
    id: int
    title: str
    created: float
    updated: float


@dataclass(frozen=True)
class StoredMessage:
    id: int
    conversation_id: int
    role: str
    content: str
    mood_label: str | None
    mood_confidence: float | None
    created: float


class ConversationStore:
    """Conversations and their messages; every write commits at once so a crash loses nothing."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path))
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._db.commit()

    def close(self) -> None:
        self._db.close()

    def journal_mode(self) -> str:
        return str(self._db.execute("PRAGMA journal_mode").fetchone()[0])

    # --- conversations ----------------------------------------------------------------------

    def create(self, title: str) -> Conversation:
        now = time.time()
        with self._db:
            cur = self._db.execute(
                "INSERT INTO conversations (title, created, updated) VALUES (?, ?, ?)",
                (title, now, now),
            )
        return Conversation(int(cur.lastrowid or 0), title, now, now)

    def conversations(self) -> list[Conversation]:
        """Most recently used first, as the sidebar shows them."""
        rows = self._db.execute(
            "SELECT id, title, created, updated FROM conversations ORDER BY updated DESC, id DESC"
        ).fetchall()
        return [Conversation(r["id"], r["title"], r["created"], r["updated"]) for r in rows]

    def get(self, conversation_id: int) -> Conversation | None:
        r = self._db.execute(
            "SELECT id, title, created, updated FROM conversations WHERE id = ?",
            (conversation_id,),
        ).fetchone()
        return Conversation(r["id"], r["title"], r["created"], r["updated"]) if r else None

    def rename(self, conversation_id: int, title: str) -> None:
        with self._db:
            self._db.execute("UPDATE conversations SET title = ? WHERE id = ?",
                             (title, conversation_id))

    def delete(self, conversation_id: int) -> None:
        with self._db:
            self._db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    # --- messages ---------------------------------------------------------------------------

    def add_message(self, conversation_id: int, role: str, content: str,
                    mood_label: str | None = None,
                    mood_confidence: float | None = None) -> StoredMessage:
        now = time.time()
        with self._db:
            cur = self._db.execute(
                "INSERT INTO messages (conversation_id, role, content, mood_label, "
                "mood_confidence, created) VALUES (?, ?, ?, ?, ?, ?)",
                (conversation_id, role, content, mood_label, mood_confidence, now),
            )
            self._db.execute("UPDATE conversations SET updated = ? WHERE id = ?",
                             (now, conversation_id))
        return StoredMessage(int(cur.lastrowid or 0), conversation_id, role, content,
                             mood_label, mood_confidence, now)

    def set_mood(self, message_id: int, label: str, confidence: float) -> None:
        with self._db:
            self._db.execute(
                "UPDATE messages SET mood_label = ?, mood_confidence = ? WHERE id = ?",
                (label, confidence, message_id),
            )

    def messages(self, conversation_id: int) -> list[StoredMessage]:
        rows = self._db.execute(
            "SELECT id, conversation_id, role, content, mood_label, mood_confidence, created "
            "FROM messages WHERE conversation_id = ? ORDER BY id",
            (conversation_id,),
        ).fetchall()
        return [StoredMessage(r["id"], r["conversation_id"], r["role"], r["content"],
                              r["mood_label"], r["mood_confidence"], r["created"]) for r in rows]

    def message_count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM messages").fetchone()[0])

    # --- export -----------------------------------------------------------------------------

    def export_markdown(self, conversation_id: int) -> str:
        """The conversation as Markdown with each user message's mood; text is quoted, not run."""
        conv = self.get(conversation_id)
        if conv is None:
            raise KeyError(conversation_id)
        stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(conv.created))
        lines = [f"# {_md_line(conv.title)}", "", f"*{stamp}*", ""]
        for m in self.messages(conversation_id):
            if m.role == "user":
                mood = ""
                if m.mood_label:
                    conf = f" {m.mood_confidence:.0%}" if m.mood_confidence is not None else ""
                    mood = f" — {EMOJI.get(m.mood_label, '')} {m.mood_label}{conf}"
                lines.append(f"**You**{mood}")
            else:
                lines.append("**Assistant**")
            lines.append("")
            lines.extend("> " + ln if ln else ">" for ln in m.content.splitlines() or [""])
            lines.append("")
        return "\n".join(lines)


def _md_line(text: str) -> str:
    return " ".join(text.split())
