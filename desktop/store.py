"""Saved conversations in SQLite (WAL): plain sqlite3, no Qt, so it is testable on its own.

The schema's version is `PRAGMA user_version`; `MIGRATIONS` holds one function per version step,
each run in its own transaction, so an old file is brought up to date step by step and a file
from a newer app is refused untouched. Every write is one short `BEGIN IMMEDIATE` transaction
and readers never block writers (WAL), so two processes can share the file; `busy_timeout`
makes a writer wait for the other instead of failing.
"""

from __future__ import annotations

import functools
import json
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from qwen_aio.engine.text import normalize
from qwen_aio.engine.types import EMOJI
from qwen_aio.foundation.errors import (
    ConversationsDamaged,
    ConversationsTooNew,
    ConversationsUnavailable,
)

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000  # another process's write transaction is milliseconds long
MEMORY = ":memory:"  # a store that keeps nothing on disk (when the file cannot be used)

# An assistant row's life: "streaming" while the reply runs (saved as it streams), then "done",
# "stopped" (the person pressed Stop or quit), or "failed"; a row still "streaming" when the app
# starts again was cut by a crash and becomes "interrupted".
STATUSES = ("streaming", "done", "stopped", "failed", "interrupted")


def _v1_tables(db: sqlite3.Connection) -> None:
    """The first schema (files before versioning have it at user_version 0)."""
    db.execute("""CREATE TABLE IF NOT EXISTS conversations (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        title TEXT NOT NULL,
        created REAL NOT NULL,
        updated REAL NOT NULL)""")
    db.execute("""CREATE TABLE IF NOT EXISTS messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
        content TEXT NOT NULL,
        mood_label TEXT,
        mood_confidence REAL,
        created REAL NOT NULL)""")
    db.execute("CREATE INDEX IF NOT EXISTS messages_by_conversation "
               "ON messages(conversation_id, id)")


def _v2_corrections(db: sqlite3.Connection) -> None:
    """Mood corrections (a flag on the message, a table keyed by normalized text), stop reason."""
    _add_columns(db, (("mood_corrected", "INTEGER NOT NULL DEFAULT 0"), ("stop_reason", "TEXT")))
    db.execute("""CREATE TABLE IF NOT EXISTS corrections (
        key TEXT PRIMARY KEY,
        text TEXT NOT NULL,
        label TEXT NOT NULL CHECK (label IN ('Positive', 'Negative')),
        created REAL NOT NULL)""")


def _v3_reply_status(db: sqlite3.Connection) -> None:
    """Replies saved while they stream: status, the model, token counts."""
    _add_columns(db, (("status", "TEXT NOT NULL DEFAULT 'done'"), ("model", "TEXT"),
                      ("prompt_tokens", "INTEGER"), ("reply_tokens", "INTEGER")))
    db.execute("CREATE INDEX IF NOT EXISTS messages_streaming ON messages(status) "
               "WHERE status = 'streaming'")


def _add_columns(db: sqlite3.Connection, columns: tuple[tuple[str, str], ...]) -> None:
    """Only the missing ones: a file written before versioning may already have some."""
    have = {r[1] for r in db.execute("PRAGMA table_info(messages)")}
    for name, decl in columns:
        if name not in have:
            db.execute(f"ALTER TABLE messages ADD COLUMN {name} {decl}")


# --- search (schema 4) -----------------------------------------------------------------------
# An external-content FTS5 table over messages.content with the trigram tokenizer: it finds any
# substring of 3+ characters, so Chinese (no spaces between words) is found as well as English.
# Shorter terms (most Chinese words are 2 characters) are matched with LIKE, a scan that takes
# a few ms over 10,000 messages. Triggers keep the index in step with every write, also those
# of another process; the update trigger only fires when the text changed.
FTS_TABLE = "messages_fts"
FTS_SOURCE = "messages_fts_source"  # what is indexed: the start of each message
# A message's first INDEXED_CHARS are indexed: a 1 MB paste of Chinese text has a million
# distinct trigrams (2 s to index, on the UI thread); its first 20,000 characters take 40 ms.
# Short terms (LIKE) still look through whole messages.
INDEXED_CHARS = 20_000
_FTS_TRIGGERS = ("messages_fts_insert", "messages_fts_delete", "messages_fts_update")
_INDEXED = f"substr({{row}}.content, 1, {INDEXED_CHARS})"
_FTS_SQL = (
    # The external content is a view, so 'rebuild' reads the same text the triggers index.
    f"CREATE VIEW IF NOT EXISTS {FTS_SOURCE} AS SELECT id, {_INDEXED.format(row='messages')} "
    "AS content FROM messages",
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(content, "
    f"content='{FTS_SOURCE}', content_rowid='id', tokenize='trigram')",
    f"CREATE TRIGGER IF NOT EXISTS messages_fts_insert AFTER INSERT ON messages BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, content) VALUES (new.id, {_INDEXED.format(row='new')}); "
    "END",
    f"CREATE TRIGGER IF NOT EXISTS messages_fts_delete AFTER DELETE ON messages BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, content) "
    f"VALUES ('delete', old.id, {_INDEXED.format(row='old')}); END",
    f"CREATE TRIGGER IF NOT EXISTS messages_fts_update AFTER UPDATE OF content ON messages "
    f"WHEN old.content IS NOT new.content BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, content) "
    f"VALUES ('delete', old.id, {_INDEXED.format(row='old')}); "
    f"INSERT INTO {FTS_TABLE}(rowid, content) VALUES (new.id, {_INDEXED.format(row='new')}); "
    "END",
)
TRIGRAM_MIN = 3  # the trigram tokenizer matches nothing for a shorter term


@functools.lru_cache(maxsize=1)
def fts5_available() -> bool:
    """FTS5 with the trigram tokenizer (SQLite 3.34+) in this Python's sqlite3."""
    probe = sqlite3.connect(MEMORY)
    try:
        probe.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='trigram')")
        return True
    except sqlite3.OperationalError as exc:
        log.warning("SQLite %s has no FTS5 trigram search (%s): searching with LIKE",
                    sqlite3.sqlite_version, exc)
        return False
    finally:
        probe.close()


def _create_search_index(db: sqlite3.Connection) -> None:
    """The FTS table and its triggers, filled from every message (about 0.2 s per 10,000)."""
    for sql in _FTS_SQL:
        db.execute(sql)
    db.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")


def _v4_search(db: sqlite3.Connection) -> None:
    """Search across conversations: the FTS index where this SQLite has FTS5, else LIKE only.

    Without FTS5 the step still counts as done; `_ensure_search_index` builds the index the
    first time an app with FTS5 opens the file. An app of schema 3 refuses a schema-4 file
    (ConversationsTooNew: left untouched, that session keeps nothing), as it refuses any newer
    file; the step only adds (a view, the FTS table, triggers), so no row of theirs changes.
    """
    if fts5_available():
        _create_search_index(db)


def _v5_notices_and_tasks(db: sqlite3.Connection) -> None:
    """The engine's notices about a message ("your message was cut…"), as a JSON list of the
    engine's English (the window translates them when it shows them), so a reopened
    conversation still says what was left out; and the task (summary, keywords…) a message
    asked for or a result came from: those stay out of the chat's history."""
    _add_columns(db, (("notices", "TEXT"), ("task", "TEXT")))


# MIGRATIONS[n] takes a file from user_version n to n + 1; append, never edit or reorder.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    _v1_tables,
    _v2_corrections,
    _v3_reply_status,
    _v4_search,
    _v5_notices_and_tasks,
]
SCHEMA_VERSION = len(MIGRATIONS)

_MESSAGE_COLUMNS = ("id, conversation_id, role, content, mood_label, mood_confidence, created, "
                    "mood_corrected, stop_reason, status, model, prompt_tokens, reply_tokens, "
                    "notices, task")

# sqlite3's error names (Python 3.11+) for a file that is damaged or cannot be read at all.
_DAMAGE_NAMES = ("SQLITE_NOTADB", "SQLITE_CORRUPT", "SQLITE_CANTOPEN", "SQLITE_IOERR",
                 "SQLITE_PERM", "SQLITE_AUTH")
_DAMAGE_WORDS = ("not a database", "malformed", "unable to open", "disk i/o error")


def is_damage(exc: sqlite3.DatabaseError) -> bool:
    """Damage or an unreadable file (set it aside), not a busy one (wait or try again later)."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name:
        return any(name.startswith(n) for n in _DAMAGE_NAMES)
    return any(w in str(exc).lower() for w in _DAMAGE_WORDS)


_HEADER = b"SQLite format 3\x00"


def _check_header(path: Path) -> None:
    """A file that is not SQLite at all is refused before SQLite opens it.

    SQLite would otherwise delete the -wal and -shm files beside it when the connection closes,
    and they must be kept with the damaged file.
    """
    try:
        with path.open("rb") as f:
            head = f.read(100)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ConversationsDamaged(str(path), f"cannot be read: {exc.strerror or exc}") from exc
    if head and (len(head) < 100 or not head.startswith(_HEADER)):
        raise ConversationsDamaged(str(path), "file is not a database")


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
    status: str = "done"  # one of STATUSES
    model: str | None = None  # assistant messages: the model that wrote it
    prompt_tokens: int | None = None
    reply_tokens: int | None = None
    notices: tuple[str, ...] = ()  # the engine's notices about it, in the engine's English
    task: str | None = None  # a task's id: the text given to a task, or its result (not chat)


def _notices(raw: str | None) -> tuple[str, ...]:
    if not raw:
        return ()
    try:
        items = json.loads(raw)
    except ValueError:
        log.warning("Unreadable notices on a message (%r): ignored", raw[:80])
        return ()
    return tuple(i for i in items if isinstance(i, str)) if isinstance(items, list) else ()


@dataclass(frozen=True)
class SearchHit:
    """A message that contains every term of a search, with a short piece of text around one."""

    conversation_id: int
    title: str
    message_id: int
    role: str
    created: float
    snippet: str


SNIPPET_BEFORE = 30  # characters of context before the first term found
SNIPPET_CHARS = 120
MAX_TERMS = 8


def search_terms(query: str) -> list[str]:
    """The whitespace-separated terms of a query, each once, at most MAX_TERMS of them."""
    terms: list[str] = []
    for word in query.split():
        if word.lower() not in (t.lower() for t in terms):
            terms.append(word)
    return terms[:MAX_TERMS]


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _snippet(piece: str, at: int, length: int) -> str:
    """The piece of a message around a term as one line, with an ellipsis where it was cut."""
    start = max(1, at - SNIPPET_BEFORE)
    line = " ".join(piece.split())
    space = line.find(" ")
    if start > 1 and 0 <= space < SNIPPET_BEFORE // 2:
        line = line[space + 1:]  # not half a word after the ellipsis
    return ("…" if start > 1 else "") + line + ("…" if start + SNIPPET_CHARS - 1 < length else "")


def _message(r: sqlite3.Row) -> StoredMessage:
    return StoredMessage(r["id"], r["conversation_id"], r["role"], r["content"], r["mood_label"],
                         r["mood_confidence"], r["created"], bool(r["mood_corrected"]),
                         r["stop_reason"], r["status"], r["model"], r["prompt_tokens"],
                         r["reply_tokens"], _notices(r["notices"]), r["task"])


F = TypeVar("F", bound=Callable[..., Any])


def _guarded(method: F) -> F:
    """A failing read or write becomes ConversationsUnavailable, which the window shows."""

    @functools.wraps(method)
    def wrapper(self: ConversationStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.IntegrityError:
            raise  # a bug in the caller (a bad role or id), not the file's fault
        except sqlite3.DatabaseError as exc:
            log.error("Conversations database %s failed: %s", self.path, exc)
            raise ConversationsUnavailable(str(self.path), str(exc)) from exc

    return wrapper  # type: ignore[return-value]


class ConversationStore:
    """Conversations and their messages; every write commits at once so a crash loses nothing.

    Opening checks the file (`PRAGMA quick_check`) and raises ConversationsDamaged, or
    ConversationsTooNew for a newer app's file; `open_store` turns those into a usable store.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = path
        memory = str(path) == MEMORY
        if not memory:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            _check_header(Path(path))
        self._db = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000,
                                   isolation_level=None)  # transactions are ours: _write()
        self._db.row_factory = sqlite3.Row
        try:
            self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._db.execute("PRAGMA foreign_keys=ON")
            if not memory:
                self._use_wal()
                self._db.execute("PRAGMA synchronous=NORMAL")  # WAL: a crash loses nothing
            self._check()
            self._migrate()
            self.fts = self._ensure_search_index()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            if is_damage(exc):
                raise ConversationsDamaged(str(path), str(exc)) from exc
            raise ConversationsUnavailable(str(path), str(exc)) from exc
        except BaseException:
            self._db.close()
            raise

    def _use_wal(self) -> None:
        """Switch to WAL, waiting for other openers: the switch can fail at once as "locked".

        Two processes opening a rollback-journal file together both read it (a shared lock)
        and then ask for the exclusive lock the switch needs; SQLite answers one of them with
        SQLITE_BUSY without calling the busy handler (it would deadlock), so wait here.
        """
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        delay = 0.005
        while True:
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() + delay > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.2)

    def _check(self) -> None:
        """Damage anywhere in the file, found now rather than as a blank conversation later.

        quick_check reads every page once (no index cross-check): a few ms for a typical
        file of a few MB, linear in its size, and it runs once per start.
        """
        found = [str(r[0]) for r in self._db.execute("PRAGMA quick_check")]
        if found != ["ok"]:
            raise ConversationsDamaged(str(self.path), "; ".join(found[:3]))

    def _version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        """Apply the missing steps, each in its own transaction; rows are never copied or dropped.

        The version is read again inside each write transaction, so two processes opening an
        old file at once never run a step twice.
        """
        while True:
            if self._version() == SCHEMA_VERSION:
                return
            with self._write():
                version = self._version()
                if version > SCHEMA_VERSION:
                    raise ConversationsTooNew(str(self.path), version, SCHEMA_VERSION)
                if version == SCHEMA_VERSION:
                    return
                log.info("Upgrading %s from schema %d to %d", self.path, version, version + 1)
                MIGRATIONS[version](self._db)
                self._db.execute(f"PRAGMA user_version = {version + 1}")

    def _search_objects(self) -> set[str]:
        names = (FTS_SOURCE, FTS_TABLE, *_FTS_TRIGGERS)
        rows = self._db.execute(
            f"SELECT name FROM sqlite_master WHERE name IN ({', '.join('?' * len(names))})",
            names).fetchall()
        return {str(r[0]) for r in rows}

    def _ensure_search_index(self) -> bool:
        """True when search can use the FTS index; repairs it or turns it off as this SQLite can.

        With FTS5: an index that is missing, or whose triggers were dropped (an app without FTS5
        wrote to the file since), is rebuilt. Without FTS5 the triggers are dropped, or every
        write to messages would fail with "no such module"; the index is then stale until an
        app with FTS5 rebuilds it.
        """
        want = {FTS_SOURCE, FTS_TABLE, *_FTS_TRIGGERS}
        have = self._search_objects()
        if fts5_available() and have == want:
            return True
        if not fts5_available() and not have & set(_FTS_TRIGGERS):
            return False
        with self._write() as db:
            have = self._search_objects()  # again, inside the lock: another process may be here
            if fts5_available():
                if have != want:
                    log.info("Building the search index of %s", self.path)
                    for name in _FTS_TRIGGERS:
                        db.execute(f"DROP TRIGGER IF EXISTS {name}")
                    _create_search_index(db)
                return True
            for name in _FTS_TRIGGERS:
                if name in have:
                    log.warning("No FTS5 here: search index triggers of %s dropped", self.path)
                    db.execute(f"DROP TRIGGER IF EXISTS {name}")
            return False

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction; BEGIN IMMEDIATE takes the lock at once (or waits)."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def close(self) -> None:
        self._db.close()

    def schema_version(self) -> int:
        return self._version()

    def journal_mode(self) -> str:
        return str(self._db.execute("PRAGMA journal_mode").fetchone()[0])

    @_guarded
    def recover_interrupted(self) -> int:
        """Replies still "streaming" were cut by a crash: mark them "interrupted" (at start-up)."""
        with self._write() as db:
            n = db.execute("UPDATE messages SET status = 'interrupted' "
                           "WHERE status = 'streaming'").rowcount
        if n:
            log.warning("%d reply(ies) were cut by a crash and are marked interrupted", n)
        return int(n)

    # --- conversations ----------------------------------------------------------------------

    @_guarded
    def create(self, title: str) -> Conversation:
        now = time.time()
        with self._write() as db:
            cur = db.execute(
                "INSERT INTO conversations (title, created, updated) VALUES (?, ?, ?)",
                (title, now, now),
            )
        return Conversation(int(cur.lastrowid or 0), title, now, now)

    @_guarded
    def conversations(self) -> list[Conversation]:
        """Most recently used first, as the sidebar shows them."""
        rows = self._db.execute(
            "SELECT id, title, created, updated FROM conversations ORDER BY updated DESC, id DESC"
        ).fetchall()
        return [Conversation(r["id"], r["title"], r["created"], r["updated"]) for r in rows]

    @_guarded
    def get(self, conversation_id: int) -> Conversation | None:
        r = self._db.execute(
            "SELECT id, title, created, updated FROM conversations WHERE id = ?",
            (conversation_id,),
        ).fetchone()
        return Conversation(r["id"], r["title"], r["created"], r["updated"]) if r else None

    @_guarded
    def rename(self, conversation_id: int, title: str) -> None:
        with self._write() as db:
            db.execute("UPDATE conversations SET title = ? WHERE id = ?", (title, conversation_id))

    @_guarded
    def delete(self, conversation_id: int) -> None:
        with self._write() as db:
            db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    # --- messages ---------------------------------------------------------------------------

    @_guarded
    def add_message(self, conversation_id: int, role: str, content: str,
                    mood_label: str | None = None, mood_confidence: float | None = None,
                    *, stop_reason: str | None = None, status: str = "done",
                    model: str | None = None, task: str | None = None) -> StoredMessage:
        now = time.time()
        with self._write() as db:
            cur = db.execute(
                "INSERT INTO messages (conversation_id, role, content, mood_label, "
                "mood_confidence, created, stop_reason, status, model, task) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (conversation_id, role, content, mood_label, mood_confidence, now, stop_reason,
                 status, model, task),
            )
            db.execute("UPDATE conversations SET updated = ? WHERE id = ?",
                       (now, conversation_id))
        return StoredMessage(int(cur.lastrowid or 0), conversation_id, role, content,
                             mood_label, mood_confidence, now, False, stop_reason, status, model,
                             task=task)

    def start_reply(self, conversation_id: int, content: str, model: str | None,
                    task: str | None = None) -> StoredMessage:
        """The reply's row, written as soon as it has text; `update_reply` follows it."""
        return self.add_message(conversation_id, "assistant", content, status="streaming",
                                model=model, task=task)

    @_guarded
    def update_reply(self, message_id: int, content: str, *, status: str = "streaming",
                     stop_reason: str | None = None, prompt_tokens: int | None = None,
                     reply_tokens: int | None = None, model: str | None = None) -> None:
        """The reply's text so far (or at its end, with status, stop reason and token counts)."""
        if status not in STATUSES:
            raise ValueError(f"not a reply status: {status!r}")
        with self._write() as db:
            db.execute(
                "UPDATE messages SET content = ?, status = ?, "
                "stop_reason = COALESCE(?, stop_reason), "
                "prompt_tokens = COALESCE(?, prompt_tokens), "
                "reply_tokens = COALESCE(?, reply_tokens), model = COALESCE(?, model) "
                "WHERE id = ? AND role = 'assistant'",
                (content, status, stop_reason, prompt_tokens, reply_tokens, model, message_id),
            )

    @_guarded
    def set_mood(self, message_id: int, label: str, confidence: float, *,
                 corrected: bool = False) -> None:
        """The mood pass's label; ``corrected`` when the engine gave the person's own label."""
        with self._write() as db:
            db.execute(
                "UPDATE messages SET mood_label = ?, mood_confidence = ?, mood_corrected = ? "
                "WHERE id = ?",
                (label, confidence, int(corrected), message_id),
            )

    @_guarded
    def add_notices(self, message_id: int, notices: Sequence[str]) -> None:
        """The engine's notices about a message, after those it has (each once)."""
        if not notices:
            return
        with self._write() as db:
            row = db.execute("SELECT notices FROM messages WHERE id = ?",
                             (message_id,)).fetchone()
            if row is None:
                return
            have = list(_notices(row["notices"]))
            have += [n for n in notices if n not in have]
            db.execute("UPDATE messages SET notices = ? WHERE id = ?",
                       (json.dumps(have, ensure_ascii=False), message_id))

    @_guarded
    def correct_mood(self, message_id: int, label: str) -> None:
        """The person says the label is ``label``: saved on the message and as a correction."""
        if label not in EMOJI:
            raise ValueError(f"not a mood label: {label!r}")
        row = self._db.execute("SELECT content FROM messages WHERE id = ?",
                               (message_id,)).fetchone()
        if row is None:
            raise KeyError(message_id)
        text = str(row["content"])
        with self._write() as db:  # one transaction: the chip and the engine's examples agree
            db.execute(
                "UPDATE messages SET mood_label = ?, mood_confidence = 1.0, mood_corrected = 1 "
                "WHERE id = ?",
                (label, message_id),
            )
            db.execute(
                "INSERT INTO corrections (key, text, label, created) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET text = excluded.text, label = excluded.label, "
                "created = excluded.created",
                (normalize(text), text, label, time.time()),
            )

    @_guarded
    def corrections(self) -> list[tuple[str, str]]:
        """(text, label) of every correction, oldest first: the engine keeps the newest."""
        rows = self._db.execute(
            "SELECT text, label FROM corrections ORDER BY created, rowid").fetchall()
        return [(r["text"], r["label"]) for r in rows]

    def set_reply(self, message_id: int, content: str, stop_reason: str | None) -> None:
        """A continued reply: its whole text and why it stopped this time."""
        self.update_reply(message_id, content, status="done", stop_reason=stop_reason)

    @_guarded
    def message(self, message_id: int) -> StoredMessage | None:
        r = self._db.execute(f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE id = ?",
                             (message_id,)).fetchone()
        return _message(r) if r else None

    @_guarded
    def messages(self, conversation_id: int) -> list[StoredMessage]:
        rows = self._db.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? ORDER BY id",
            (conversation_id,),
        ).fetchall()
        return [_message(r) for r in rows]

    @_guarded
    def message_count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM messages").fetchone()[0])

    @_guarded
    def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        """Messages containing every term of `query` (any case for A-Z), newest first.

        Terms of 3+ characters go through the FTS index when there is one; shorter ones, and
        all of them without FTS5, are matched with LIKE (a scan: a few ms per 10,000 messages).
        """
        terms = search_terms(query)
        if not terms or limit <= 0:
            return []
        indexed = [t for t in terms if self.fts and len(t) >= TRIGRAM_MIN]
        scanned = [t for t in terms if t not in indexed]
        where: list[str] = []
        args: list[object] = []
        source, newest = "messages m", "m.id"
        if indexed:  # FTS5 walks its index newest first itself, and stops at the limit
            newest = "f.rowid"
            source = f"{FTS_TABLE} f JOIN messages m ON m.id = f.rowid"
            where.append(f"{FTS_TABLE} MATCH ?")
            args.append(" ".join('"' + t.replace('"', '""') + '"' for t in indexed))
        for t in scanned:
            where.append("m.content LIKE ? ESCAPE '\\'")
            args.append(_like(t))
        # The snippet starts a little before the longest term (lower(): ASCII case only, as LIKE).
        first = max(terms, key=len)
        rows = self._db.execute(
            "SELECT m.id, m.conversation_id, m.role, m.created, c.title, "
            "length(m.content) AS n, instr(lower(m.content), lower(?)) AS at, "
            "substr(m.content, max(1, instr(lower(m.content), lower(?)) - ?), ?) AS piece "
            f"FROM {source} JOIN conversations c ON c.id = m.conversation_id "
            f"WHERE {' AND '.join(where)} ORDER BY {newest} DESC LIMIT ?",
            (first, first, SNIPPET_BEFORE, SNIPPET_CHARS, *args, limit),
        ).fetchall()
        return [SearchHit(r["conversation_id"], r["title"], r["id"], r["role"], r["created"],
                          _snippet(r["piece"], r["at"], r["n"])) for r in rows]

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

    # --- issue 11: the conversation view (Regenerate, Edit and resend) ---------------------

    @_guarded
    def delete_messages_from(self, conversation_id: int, first_id: int) -> int:
        """Remove `first_id` and every later message of the conversation; how many went."""
        with self._write() as db:
            n = db.execute("DELETE FROM messages WHERE conversation_id = ? AND id >= ?",
                           (conversation_id, first_id)).rowcount
        return int(n)


def _md_line(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True)
class Opened:
    """What `open_store` gives the app: a usable store, and what went wrong with the file."""

    store: ConversationStore
    problem: Exception | None = None  # ConversationsDamaged / TooNew / Unavailable
    moved_to: Path | None = None  # where a damaged file was kept


def set_aside(path: Path) -> Path:
    """Rename a damaged database (with its -wal and -shm) next to itself; never delete it."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    for suffix in ("", "-wal", "-shm"):
        src = Path(f"{path}{suffix}")
        if src.exists():
            src.rename(Path(f"{target}{suffix}"))
    log.warning("Kept the damaged conversations file as %s", target)
    return target


def open_store(path: Path) -> Opened:
    """Open the conversations file; a damaged one is kept aside and a fresh one started.

    A newer app's file, a busy or unusable one gives a store in memory (nothing saved this
    run) so the app still starts; `problem` says what happened for the person.
    """
    try:
        return Opened(ConversationStore(path))
    except ConversationsDamaged as exc:
        log.error("%s", exc)
        try:
            moved = set_aside(path)
            return Opened(ConversationStore(path), exc, moved)
        except (OSError, ConversationsDamaged, ConversationsUnavailable) as again:
            log.error("Could not start a fresh conversations file: %s", again)
            problem: Exception = ConversationsUnavailable(str(path), str(again))
    except (ConversationsTooNew, ConversationsUnavailable) as exc:
        log.error("%s", exc)
        problem = exc
    return Opened(ConversationStore(MEMORY), problem)
