"""Saved conversations in SQLite (WAL): plain sqlite3, no Qt, so it is testable on its own.

Schema v2 adds the person's mood corrections (a flag on the message and a `corrections` table
keyed by normalized text) and each reply's stop reason; v1 files are upgraded in place.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from qwen_aio.engine.text import normalize
from qwen_aio.engine.types import EMOJI

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
    created REAL NOT NULL,
    mood_corrected INTEGER NOT NULL DEFAULT 0,
    stop_reason TEXT
);
CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages(conversation_id, id);
CREATE TABLE IF NOT EXISTS corrections (
    key TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    label TEXT NOT NULL CHECK (label IN ('Positive', 'Negative')),
    created REAL NOT NULL
);
"""

# Columns added after v1: (name, declaration) as `ALTER TABLE messages ADD COLUMN` takes them.
_ADDED_MESSAGE_COLUMNS = (
    ("mood_corrected", "INTEGER NOT NULL DEFAULT 0"),
    ("stop_reason", "TEXT"),
)
SCHEMA_VERSION = 2

_MESSAGE_COLUMNS = ("id, conversation_id, role, content, mood_label, mood_confidence, created, "
                    "mood_corrected, stop_reason")


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
    mood_corrected: bool = False  # the person set this label by clicking the chip
    stop_reason: str | None = None  # assistant messages: ReplyStats.stop_reason ("limit": cut)


def _message(r: sqlite3.Row) -> StoredMessage:
    return StoredMessage(r["id"], r["conversation_id"], r["role"], r["content"], r["mood_label"],
                         r["mood_confidence"], r["created"], bool(r["mood_corrected"]),
                         r["stop_reason"])


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
        self._migrate()
        self._db.commit()

    def _migrate(self) -> None:
        """Bring a v1 file up to date by adding columns; rows are never copied or dropped."""
        have = {r["name"] for r in self._db.execute("PRAGMA table_info(messages)")}
        with self._db:
            for name, decl in _ADDED_MESSAGE_COLUMNS:
                if name not in have:
                    log.info("Upgrading %s: adding messages.%s", self.path, name)
                    self._db.execute(f"ALTER TABLE messages ADD COLUMN {name} {decl}")
            self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

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
                    mood_label: str | None = None, mood_confidence: float | None = None,
                    *, stop_reason: str | None = None) -> StoredMessage:
        now = time.time()
        with self._db:
            cur = self._db.execute(
                "INSERT INTO messages (conversation_id, role, content, mood_label, "
                "mood_confidence, created, stop_reason) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (conversation_id, role, content, mood_label, mood_confidence, now, stop_reason),
            )
            self._db.execute("UPDATE conversations SET updated = ? WHERE id = ?",
                             (now, conversation_id))
        return StoredMessage(int(cur.lastrowid or 0), conversation_id, role, content,
                             mood_label, mood_confidence, now, False, stop_reason)

    def set_mood(self, message_id: int, label: str, confidence: float, *,
                 corrected: bool = False) -> None:
        """The mood pass's label; ``corrected`` when the engine gave the person's own label."""
        with self._db:
            self._db.execute(
                "UPDATE messages SET mood_label = ?, mood_confidence = ?, mood_corrected = ? "
                "WHERE id = ?",
                (label, confidence, int(corrected), message_id),
            )

    def correct_mood(self, message_id: int, label: str) -> None:
        """The person says the label is ``label``: saved on the message and as a correction."""
        if label not in EMOJI:
            raise ValueError(f"not a mood label: {label!r}")
        row = self._db.execute("SELECT content FROM messages WHERE id = ?",
                               (message_id,)).fetchone()
        if row is None:
            raise KeyError(message_id)
        text = str(row["content"])
        with self._db:  # one transaction: the chip and the engine's examples never disagree
            self._db.execute(
                "UPDATE messages SET mood_label = ?, mood_confidence = 1.0, mood_corrected = 1 "
                "WHERE id = ?",
                (label, message_id),
            )
            self._db.execute(
                "INSERT INTO corrections (key, text, label, created) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET text = excluded.text, label = excluded.label, "
                "created = excluded.created",
                (normalize(text), text, label, time.time()),
            )

    def corrections(self) -> list[tuple[str, str]]:
        """(text, label) of every correction, oldest first: the engine keeps the newest."""
        rows = self._db.execute(
            "SELECT text, label FROM corrections ORDER BY created, rowid").fetchall()
        return [(r["text"], r["label"]) for r in rows]

    def set_reply(self, message_id: int, content: str, stop_reason: str | None) -> None:
        """A continued reply: its whole text and why it stopped this time."""
        with self._db:
            self._db.execute(
                "UPDATE messages SET content = ?, stop_reason = ? "
                "WHERE id = ? AND role = 'assistant'",
                (content, stop_reason, message_id),
            )

    def message(self, message_id: int) -> StoredMessage | None:
        r = self._db.execute(f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE id = ?",
                             (message_id,)).fetchone()
        return _message(r) if r else None

    def messages(self, conversation_id: int) -> list[StoredMessage]:
        rows = self._db.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? ORDER BY id",
            (conversation_id,),
        ).fetchall()
        return [_message(r) for r in rows]

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
                if m.mood_label and m.mood_corrected:
                    mood = f" — {EMOJI.get(m.mood_label, '')} {m.mood_label} (corrected)"
                elif m.mood_label:
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
