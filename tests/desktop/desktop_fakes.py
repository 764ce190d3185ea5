"""A scripted engine with the real Engine's interface, for exact signal-order and Stop tests."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Slot

from qwen_aio.engine.text import normalize
from qwen_aio.engine.types import CancelToken, Message, MoodResult, ReplyStats
from qwen_aio.foundation.errors import Cancelled, EmptyInput, QwenAioError

NEGATIVE_WORDS = ("sad", "bad", "awful", "hate", "terrible", "annoying", "exhausted", "糟", "难过")
SAFETY_CAP_S = 10.0  # a blocked fake never hangs a broken test forever


@dataclass
class FakeEngine:
    """Moods by keyword (or the person's corrections); replies are the scripted pieces.

    Can block to simulate slow work; `stop_reason` is how an uncancelled reply ends ("limit":
    cut, so the window offers Continue, whose pieces are `continue_pieces`).
    """

    name: str = "Fake model"
    pieces: list[str] = field(default_factory=lambda: ["I ", "hear ", "you", "."])
    continue_pieces: list[str] = field(default_factory=lambda: [" And ", "more", "."])
    stop_reason: str = "end"
    block_in_prefill: bool = False  # wait (checking cancel) before the first piece
    block_after: int | None = None  # wait (checking cancel) after this many pieces
    block_in_mood: bool = False
    # a labelled preparation waits (checking cancel) after its label, as the real one
    # evaluates the chat context then: released by `release_prepare`
    block_after_label: bool = False
    release_prepare: threading.Event = field(default_factory=threading.Event)
    notices: list[str] = field(default_factory=list)  # what the real engine says on trimming
    calls: list[tuple[object, ...]] = field(default_factory=list)
    ended_by: list[str] = field(default_factory=list)  # "end", "cancel" or "timeout" per stream
    corrections_calls: list[list[tuple[str, str]]] = field(default_factory=list)
    overrides: dict[str, str] = field(default_factory=dict)  # normalized text -> label
    prepare_ends: list[tuple[str, str]] = field(default_factory=list)  # labelled preparations
    closed: bool = False
    release: threading.Event = field(default_factory=threading.Event)
    # tasks: the registry the window reads, and each task's scripted output
    tasks: FakeTasks = field(default_factory=lambda: FakeTasks(list(FAKE_TASKS)))
    task_pieces: dict[str, list[str]] = field(default_factory=lambda: {
        "summary": ["A ", "short ", "summary", "."],
        "keywords": ['["rain', '", "', 'picnic', '", "', 'friends"]'],
        "fix": ["I ", "have ", "a ", "cat", "."],
        "translate": ["今天", "下雨", "了", "。"]})

    def mood(self, text: str, *, cancel: CancelToken | None = None) -> MoodResult:
        self.calls.append(("mood", text))
        if not text.strip():
            raise EmptyInput()
        if self.block_in_mood and not _wait(self.release, cancel):
            raise Cancelled()
        corrected = self.overrides.get(normalize(text))
        if corrected is not None:
            return MoodResult(text, corrected, 1.0, 0.5, False, 0,  # type: ignore[arg-type]
                              corrected=True)
        negative = any(w in text.lower() for w in NEGATIVE_WORDS)
        return MoodResult(text, "Negative" if negative else "Positive",
                          0.8 if negative else 0.9, 12.5, False, 7)

    def chat(self, history: Sequence[Message], text: str, *, max_tokens: int = 128,
             system_prompt: str | None = None, cancel: CancelToken | None = None,
             mood: str | None = None, confidence: float | None = None) -> FakeStream:
        self.calls.append(("chat", tuple(history), text, max_tokens, system_prompt, mood))
        return FakeStream(self, cancel, max_tokens, self.pieces)

    def continue_reply(self, history: Sequence[Message], *, max_tokens: int,
                       system_prompt: str | None = None,
                       cancel: CancelToken | None = None) -> FakeStream:
        self.calls.append(("continue", tuple(history), max_tokens, system_prompt))
        return FakeStream(self, cancel, max_tokens, self.continue_pieces)

    def prepare(self, history: Sequence[Message], draft: str, *, max_tokens: int = 128,
                system_prompt: str | None = None, label: bool = False,
                cancel: CancelToken | None = None,
                on_label: Callable[[MoodResult], None] | None = None) -> MoodResult | None:
        """Records the call; with ``label``, the draft's mood (blocking like `mood` can)."""
        self.calls.append(("prepare", tuple(history), draft, label))
        if not label:
            return None
        if self.block_in_mood and not _wait(self.release, cancel):
            self.prepare_ends.append(("cancelled", draft))
            raise Cancelled()
        negative = any(w in draft.lower() for w in NEGATIVE_WORDS)
        mood = MoodResult(draft, "Negative" if negative else "Positive", 0.8, 12.5, False, 7)
        if on_label is not None:
            on_label(mood)
        if self.block_after_label and not _wait(self.release_prepare, cancel):
            self.prepare_ends.append(("cancelled", draft))
            raise Cancelled()
        self.prepare_ends.append(("done", draft))
        return mood

    def run_task(self, task_id: str, text: str, *, target: str | None = None,
                 cancel: CancelToken | None = None) -> FakeTaskStream:
        self.calls.append(("task", task_id, text, target))
        if not text.strip():
            raise EmptyInput()
        if self.tasks.get(task_id) is None:
            raise QwenAioError(f"There is no task called {task_id!r}.")
        return FakeTaskStream(self, cancel, 10_000, self.task_pieces.get(task_id, ["ok"]),
                              task_id)

    def set_corrections(self, pairs: Sequence[tuple[str, str]]) -> bool:
        """Like the engine: the newest label for a text wins."""
        self.corrections_calls.append(list(pairs))
        self.overrides = {normalize(text): label for text, label in pairs}
        return True

    def close(self) -> None:
        self.closed = True


def _wait(release: threading.Event, cancel: CancelToken | None) -> bool:
    """Block until released (True) or cancelled (False), polling like llama.cpp's abort hook."""
    waited = 0.0
    while waited < SAFETY_CAP_S:
        if cancel is not None and cancel.cancelled:
            return False
        if release.wait(0.005):
            return True
        waited += 0.005
    return True


class FakeStream:
    def __init__(self, engine: FakeEngine, cancel: CancelToken | None, max_tokens: int,
                 pieces: list[str]) -> None:
        self.engine = engine
        self.cancel = cancel
        self.max_tokens = max_tokens
        self.pieces = list(pieces)
        self.stats = ReplyStats(prompt_tokens=20, evaluated_tokens=20,
                                notices=list(engine.notices))

    def __iter__(self) -> Iterator[str]:
        e = self.engine
        if e.block_in_prefill and not _wait(e.release, self.cancel):
            return self._end("cancel")
        for i, piece in enumerate(self.pieces[: self.max_tokens]):
            if e.block_after is not None and i == e.block_after and not _wait(e.release,
                                                                                 self.cancel):
                return self._end("cancel")
            if self.cancel is not None and self.cancel.cancelled:
                return self._end("cancel")
            self.stats.generated_tokens += 1
            yield piece
        return self._end("end")

    def _end(self, how: str) -> None:
        self.engine.ended_by.append(how)
        reason = "cancelled" if how == "cancel" else self.engine.stop_reason
        self.stats.stop_reason = reason  # type: ignore[assignment]
        self.stats.decode_tps = 42.0


@dataclass(frozen=True)
class FakeTask:
    id: str
    name_en: str
    name_zh: str
    structured: bool = False


FAKE_TASKS = (FakeTask("mood", "Mood", "情绪"), FakeTask("summary", "Summary", "摘要"),
              FakeTask("keywords", "Keywords", "关键词", structured=True),
              FakeTask("fix", "Fix", "改错"), FakeTask("translate", "Translate", "翻译"))


@dataclass
class FakeTasks:
    """The registry's surface the window uses."""

    tasks: list[FakeTask]

    def list(self) -> list[FakeTask]:
        return list(self.tasks)

    def get(self, task_id: str) -> FakeTask | None:
        return next((t for t in self.tasks if t.id == task_id), None)


@dataclass
class FakeTaskResult:
    """engine.types.TaskResult's fields."""

    task: str
    text: str = ""
    items: list[str] | None = None
    stop_reason: str = ""
    notices: list[str] = field(default_factory=list)
    prompt_tokens: int = 0
    evaluated_tokens: int = 0
    generated_tokens: int = 0
    ttft_ms: float = 0.0
    decode_tps: float = 0.0


class FakeTaskStream(FakeStream):
    """A task's pieces with `result` filled in as they stream (like the real TaskStream)."""

    def __init__(self, engine: FakeEngine, cancel: CancelToken | None, max_tokens: int,
                 pieces: list[str], task_id: str) -> None:
        super().__init__(engine, cancel, max_tokens, pieces)
        self.result = FakeTaskResult(task_id, prompt_tokens=30, evaluated_tokens=5)

    def __iter__(self) -> Iterator[str]:
        for piece in super().__iter__():
            self.result.text += piece
            self.result.generated_tokens += 1
            yield piece
        self.result.stop_reason = self.stats.stop_reason
        self.result.decode_tps = 42.0


def make_recorder(worker: object, chips: Callable[[], list[str]]) -> Recorder:
    rec = Recorder(chips)
    worker.moodReady.connect(rec.on_mood)  # type: ignore[attr-defined]
    worker.token.connect(rec.on_token)  # type: ignore[attr-defined]
    worker.replyDone.connect(rec.on_done)  # type: ignore[attr-defined]
    return rec


class Recorder(QObject):
    """Records worker signals as the UI thread receives them, with the last chip at each moment.

    A QObject with @Slot methods, so the signals arrive queued in the UI thread, in the same
    order and at the same moments as the window's own slots (a bare lambda would run in the
    worker thread and see nothing of the UI).
    """

    def __init__(self, chips: Callable[[], list[str]]) -> None:
        super().__init__()
        self._chips = chips
        self.events: list[tuple[str, str]] = []
        self.pieces: list[str] = []

    def _chip(self) -> str:
        chips = self._chips()
        return chips[-1] if chips else ""

    @Slot(int, object)
    def on_mood(self, _rid: int, _mood: object) -> None:
        self.events.append(("mood", self._chip()))

    @Slot(int, str)
    def on_token(self, _rid: int, piece: str) -> None:
        self.pieces.append(piece)
        self.events.append(("token", self._chip()))

    @Slot(int, str, object)
    def on_done(self, _rid: int, _text: str, _stats: object) -> None:
        self.events.append(("done", self._chip()))


started_threads: weakref.WeakKeyDictionary[object, str] = weakref.WeakKeyDictionary()


def running_threads() -> list[str]:
    """Where each still-running QThread started since the check was installed was started from."""
    alive = []
    for thread, where in list(started_threads.items()):
        try:
            if thread.isRunning():  # type: ignore[attr-defined]
                alive.append(where)
        except RuntimeError:  # the C++ object is gone, so it is not running
            continue
    return alive
