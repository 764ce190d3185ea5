"""Search across conversations in the store (schema 4): real SQLite files, FTS5 and LIKE paths."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from qwen_aio.desktop import store as store_module
from qwen_aio.desktop.store import (
    FTS_TABLE,
    MIGRATIONS,
    SCHEMA_VERSION,
    ConversationStore,
    fts5_available,
    search_terms,
)
from qwen_aio.foundation.errors import ConversationsTooNew


@pytest.fixture(params=["fts5", "like"])
def search_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every search test runs with the FTS5 index and with the LIKE fallback (no FTS5)."""
    if request.param == "like":
        monkeypatch.setattr(store_module, "fts5_available", lambda: False)
    else:
        assert fts5_available(), "this Python's SQLite has FTS5 with trigram (3.34+)"
    return str(request.param)


@pytest.fixture
def filled(tmp_path: Path, search_path: str) -> Iterator[ConversationStore]:
    store = ConversationStore(tmp_path / "c.sqlite3")
    assert store.fts == (search_path == "fts5")
    work = store.create("Work")
    store.add_message(work.id, "user", "I got the JOB offer today!")
    store.add_message(work.id, "assistant", "Congratulations on the new job.")
    zh = store.create("中文")
    store.add_message(zh.id, "user", "今天面试通过了，我很开心")
    store.add_message(zh.id, "assistant", "恭喜你！面试通过真不容易。")
    odd = store.create("Odd")
    store.add_message(odd.id, "user", "50% done, file_name.txt and a \"quote\"")
    yield store
    store.close()


def _found(store: ConversationStore, query: str) -> list[str]:
    return [h.snippet for h in store.search(query)]


def test_words_and_case(filled: ConversationStore) -> None:
    assert _found(filled, "job") == ["Congratulations on the new job.",
                                     "I got the JOB offer today!"]
    assert _found(filled, "OFFER job") == ["I got the JOB offer today!"]  # every term
    assert _found(filled, "offer congratulations") == []
    assert _found(filled, "   ") == [] and _found(filled, "nothing-like-this") == []


def test_chinese_two_and_more_characters(filled: ConversationStore) -> None:
    """Chinese has no spaces: 2-character words (LIKE) and longer runs (trigram) are found."""
    assert _found(filled, "面试") == ["恭喜你！面试通过真不容易。", "今天面试通过了，我很开心"]
    assert _found(filled, "面试通过了") == ["今天面试通过了，我很开心"]
    assert _found(filled, "开心 今天") == ["今天面试通过了，我很开心"]
    [hit] = filled.search("恭喜")
    assert (hit.title, hit.role) == ("中文", "assistant")


def test_like_wildcards_and_quotes_are_plain_text(filled: ConversationStore) -> None:
    assert _found(filled, "50%") == ["50% done, file_name.txt and a \"quote\""]
    assert _found(filled, "e_n") == ["50% done, file_name.txt and a \"quote\""]
    assert _found(filled, "%") == _found(filled, "50%")
    assert _found(filled, "0% d") == ["50% done, file_name.txt and a \"quote\""]
    assert _found(filled, '"quote"') == ["50% done, file_name.txt and a \"quote\""]
    assert _found(filled, 'a" OR "b') == []  # no FTS5 query syntax gets through


def test_hits_name_the_conversation_and_message(filled: ConversationStore) -> None:
    [hit] = filled.search("offer")
    conv = next(c for c in filled.conversations() if c.title == "Work")
    [user, _] = filled.messages(conv.id)
    assert (hit.conversation_id, hit.message_id, hit.title, hit.role) == (
        conv.id, user.id, "Work", "user")
    assert len(filled.search("a", limit=2)) == 2 and filled.search("a", limit=0) == []


def test_snippet_is_cut_around_the_term(tmp_path: Path, search_path: str) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3")
    conv = store.create("Long")
    text = "word " * 400 + "needle\n\nin   the\thaystack " + "end " * 400
    store.add_message(conv.id, "user", text)
    [hit] = store.search("needle")
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…")
    assert "needle in the haystack" in hit.snippet
    assert len(hit.snippet) <= store_module.SNIPPET_CHARS + 2
    store.close()


def test_streaming_updates_edits_and_deletes_follow(tmp_path: Path, search_path: str) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3")
    conv = store.create("Stream")
    reply = store.start_reply(conv.id, "Hel", "m")
    for text in ("Hello the", "Hello there, have some", "Hello there, have some tea."):
        store.update_reply(reply.id, text)
    store.update_reply(reply.id, "Hello there, have some tea.", status="done", stop_reason="end")
    assert _found(store, "tea") == ["Hello there, have some tea."]
    assert _found(store, "the") == ["Hello there, have some tea."]
    store.set_reply(reply.id, "Something else entirely.", "end")
    assert _found(store, "tea") == [] and _found(store, "entirely") == [
        "Something else entirely."]
    store.set_mood(reply.id, "Positive", 0.9)  # not the content: nothing to re-index
    assert _found(store, "entirely") == ["Something else entirely."]
    store.delete(conv.id)  # messages go by ON DELETE CASCADE: the delete trigger fires too
    assert _found(store, "entirely") == []
    if store.fts:
        store._db.execute(
            f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rank) VALUES ('integrity-check', 1)")
    store.close()


def test_a_huge_message_indexes_only_its_start(tmp_path: Path, record_property: object) -> None:
    """1 MB of Chinese has a million distinct trigrams (2 s to index on the UI thread); only the
    first INDEXED_CHARS are indexed, and short terms (LIKE) still see the whole message."""
    store = ConversationStore(tmp_path / "c.sqlite3")
    assert store.fts
    conv = store.create("Paste")
    cjk = "".join(chr(0x4E00 + (i * 7919) % 20900) for i in range(1_000_000))
    text = "开头的话 " + cjk + " 结尾的话语 tail-marker"
    start = time.perf_counter()
    m = store.add_message(conv.id, "user", text)
    record_property("insert_1mb_cjk_ms", round((time.perf_counter() - start) * 1000))
    [(indexed,)] = store._db.execute(
        f"SELECT length(content) FROM {store_module.FTS_SOURCE} WHERE id = ?", (m.id,)).fetchall()
    assert indexed == store_module.INDEXED_CHARS
    assert [h.message_id for h in store.search("开头的话")] == [m.id]  # indexed part
    assert store.search("tail-marker") == []  # past the indexed part: not found by FTS...
    assert [h.message_id for h in store.search("结尾")] == [m.id]  # ...short terms scan it all
    store.update_reply(m.id, "x")  # not an assistant row: unchanged, index too
    store.delete(conv.id)
    assert store.search("开头的话") == []
    store._db.execute(
        f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rank) VALUES ('integrity-check', 1)")
    store.close()


# --- the migration, and files meeting apps without FTS5 ---------------------------------------

def _v3_file(path: Path) -> None:
    """A file as the app of schema 3 left it, with messages."""
    db = sqlite3.connect(str(path), isolation_level=None)
    for step in MIGRATIONS[:3]:
        step(db)
    db.execute("PRAGMA user_version = 3")
    db.execute("INSERT INTO conversations VALUES (1, 'Before search', 1.0, 2.0)")
    db.executemany("INSERT INTO messages (conversation_id, role, content, created) "
                   "VALUES (1, ?, ?, ?)", [("user", "My cat is sick 猫生病了", 1.1),
                                          ("assistant", "I'm sorry about your cat.", 1.2)])
    db.close()


def _objects(path: Path) -> set[str]:
    db = sqlite3.connect(str(path))
    try:
        return {r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' OR name = 'messages_fts'")}
    finally:
        db.close()


SEARCH_OBJECTS = {"messages_fts", "messages_fts_insert", "messages_fts_delete",
                  "messages_fts_update"}


def test_a_v3_file_is_upgraded_and_its_old_messages_are_found(tmp_path: Path) -> None:
    path = tmp_path / "v3.sqlite3"
    _v3_file(path)
    store = ConversationStore(path)
    assert store.schema_version() == SCHEMA_VERSION == 5 and store.fts
    assert [h.message_id for h in store.search("cat")] == [2, 1]
    assert [h.message_id for h in store.search("猫生病")] == [1]
    store.close()
    assert _objects(path) == SEARCH_OBJECTS


def test_a_v4_file_is_refused_untouched_by_a_v3_app(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """What an app of schema 3 does with this file: ConversationsTooNew, nothing written."""
    path = tmp_path / "c.sqlite3"
    store = ConversationStore(path)
    store.add_message(store.create("new").id, "user", "written by schema 4")
    store.close()
    before = path.read_bytes()
    monkeypatch.setattr(store_module, "MIGRATIONS", MIGRATIONS[:3])
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", 3)
    with pytest.raises(ConversationsTooNew):
        ConversationStore(path)
    assert path.read_bytes() == before


def test_without_fts5_the_triggers_go_and_the_index_is_rebuilt_later(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An app whose SQLite lacks FTS5 could not write to messages while the triggers are there.

    It drops them (the index goes stale); the next app with FTS5 rebuilds the index, so what
    was written meanwhile is found.
    """
    path = tmp_path / "v3.sqlite3"
    _v3_file(path)
    ConversationStore(path).close()
    assert _objects(path) == SEARCH_OBJECTS

    monkeypatch.setattr(store_module, "fts5_available", lambda: False)
    plain = ConversationStore(path)
    assert not plain.fts and _objects(path) == {"messages_fts"}
    plain.add_message(1, "user", "written without the index: giraffe")
    assert [h.message_id for h in plain.search("giraffe")] == [3]  # LIKE
    plain.close()

    monkeypatch.undo()
    again = ConversationStore(path)
    assert again.fts and _objects(path) == SEARCH_OBJECTS
    assert [h.message_id for h in again.search("giraffe")] == [3]
    assert [h.message_id for h in again.search("cat")] == [2, 1]
    again.close()


def test_a_file_first_upgraded_without_fts5_gets_its_index_later(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "v3.sqlite3"
    _v3_file(path)
    monkeypatch.setattr(store_module, "fts5_available", lambda: False)
    plain = ConversationStore(path)
    assert plain.schema_version() == SCHEMA_VERSION and not plain.fts and _objects(path) == set()
    plain.close()
    monkeypatch.undo()
    again = ConversationStore(path)
    assert again.fts and [h.message_id for h in again.search("sorry")] == [2]
    again.close()


def test_search_terms() -> None:
    assert search_terms("  Job  job JOB offer ") == ["Job", "offer"]
    assert len(search_terms(" ".join(f"w{i}" for i in range(20)))) == store_module.MAX_TERMS


# --- speed: results as the person types, on the UI thread ------------------------------------

def test_searching_ten_thousand_messages_is_fast(tmp_path: Path, search_path: str,
                                                 record_property: object) -> None:
    """10,000 messages written by another connection (the triggers index them); each query
    is well under a frame's worth of typing delay (the measured times go to the report)."""
    path = tmp_path / "big.sqlite3"
    ConversationStore(path).close()
    words = ["the", "job", "offer", "today", "tired", "happy", "coffee", "rain", "interview",
             "sleep", "family", "今天", "工作", "很累", "开心", "面试", "通过", "下雨", "咖啡"]
    db = sqlite3.connect(str(path), isolation_level=None)
    db.execute("BEGIN")
    for c in range(100):
        db.execute("INSERT INTO conversations (title, created, updated) VALUES (?, 1, 1)",
                   (f"Day {c}",))
    rows = [(1 + i % 100, "user" if i % 2 else "assistant",
             " ".join(words[(i * 7 + k * 3) % len(words)] for k in range(5 + i % 60)), 1.0)
            for i in range(10_000)]
    rows[5000] = (51, "user", "a unique zebra crossing 斑马线", 1.0)
    db.executemany("INSERT INTO messages (conversation_id, role, content, created) "
                   "VALUES (?, ?, ?, ?)", rows)
    db.execute("COMMIT")
    db.close()

    store = ConversationStore(path)
    timings = {}
    for query in ("zebra", "斑马线", "斑马", "coffee rain", "今天", "z", "interview family",
                  "nothing matches this"):
        start = time.perf_counter()
        hits = store.search(query, limit=50)
        timings[query] = round((time.perf_counter() - start) * 1000, 1)
        if query in ("zebra", "斑马线", "斑马"):
            assert [h.message_id for h in hits] == [5001]
    record_property("search_ms", timings)  # type: ignore[operator]
    print(f"{search_path}: {timings} ms")  # noqa: T201 - shown with -s, for the report
    assert max(timings.values()) < 250, timings  # measured: a few ms each (see the report)
    store.close()
