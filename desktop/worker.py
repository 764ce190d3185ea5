"""The single thread that talks to llama.cpp: an EngineWorker QObject living on a QThread.

A `Llama` object is not thread-safe, so every engine call happens in `EngineWorker`'s slots,
which run one at a time in the worker thread's event loop. The UI thread only posts requests
(queued signals) and sets per-request CancelTokens, so it never waits for the model.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from qwen_aio.desktop import backend
from qwen_aio.desktop.backend import (
    CancelToken,
    EngineLike,
    Message,
    MoodResult,
    ReplyStats,
    ReplyStreamLike,
    ResolvedModel,
)
from qwen_aio.foundation.errors import Cancelled, QwenAioError
from qwen_aio.foundation.settings import Settings

log = logging.getLogger(__name__)

EngineFactory = Callable[[ResolvedModel, Settings], EngineLike]


@dataclass(frozen=True)
class TurnRequest:
    """One user message: mood pass, then the streamed reply over the conversation's history."""

    request_id: int
    history: tuple[Message, ...]
    text: str
    max_tokens: int
    system_prompt: str | None
    cancel: CancelToken
    task: str | None = None  # a task's id (summary, keywords…): its result instead of a reply
    target: str | None = None  # translate: "en" or "zh" (None: the other language)


@dataclass(frozen=True)
class ContinueRequest:
    """More of a reply cut by the token limit: `history` ends with that assistant message."""

    request_id: int
    history: tuple[Message, ...]
    max_tokens: int
    system_prompt: str | None
    cancel: CancelToken


@dataclass(frozen=True)
class PrepareRequest:
    """Work on the message being typed (speculative: abandoned by the next keystroke)."""

    request_id: int
    history: tuple[Message, ...]
    draft: str
    max_tokens: int
    system_prompt: str | None
    label: bool
    cancel: CancelToken


class EngineWorker(QObject):
    """Owns the engine; its slots run in the worker thread, results go out as signals."""

    loaded = Signal(str)  # engine name
    loadFailed = Signal(str)  # message for the user
    moodReady = Signal(int, object)  # request id, MoodResult
    token = Signal(int, str)  # request id, text piece
    replyDone = Signal(int, str, object)  # request id, full reply, ReplyStats
    failed = Signal(int, str)  # request id, message for the user
    quickMoodReady = Signal(int, object)  # request id, MoodResult
    quickFailed = Signal(int, str)
    correctionsSet = Signal(int)  # how many corrections the engine now uses (-1: it failed)
    draftMoodReady = Signal(int, object)  # request id, MoodResult of the text being typed
    prepared = Signal(int)  # request id: a preparation ended (done, abandoned or failed)
    tasksReady = Signal(object)  # list[TaskInfo]: the loaded engine's tasks
    taskProblems = Signal(object)  # list[str]: tasks.toml's problems (those tasks skipped)
    quickTaskReady = Signal(int, str, object)  # request id, task id, the whole result text

    def __init__(self, factory: EngineFactory) -> None:
        super().__init__()
        self._factory = factory
        self._engine: EngineLike | None = None

    @Slot(object, object)
    def load(self, choice: ResolvedModel, settings: Settings) -> None:
        self.close_engine()
        try:
            self._engine = self._factory(choice, settings)
        except QwenAioError as exc:
            log.warning("Model load failed: %s", exc)
            self.loadFailed.emit(str(exc))
            return
        except Exception as exc:  # anything escaping a slot would be lost: report it instead
            log.exception("Unexpected error while loading %s", choice.path)
            self.loadFailed.emit(f"{type(exc).__name__}: {exc}")
            return
        self.tasksReady.emit(backend.task_infos(self._engine))
        problems = backend.task_problems(self._engine)
        if problems:
            self.taskProblems.emit(problems)
        self.loaded.emit(getattr(self._engine, "name", choice.title) or choice.title)

    @Slot(object)
    def turn(self, req: TurnRequest) -> None:
        """The mood pass (its label is shown at once), then the reply, which knows the mood."""

        def start(engine: EngineLike) -> ReplyStreamLike:
            mood = engine.mood(req.text, cancel=req.cancel)
            self.moodReady.emit(req.request_id, mood)
            if req.cancel.cancelled:
                raise Cancelled()
            if req.task is not None:  # the person's words still get their label, first
                return backend.TaskReply(engine.run_task(req.task, req.text, target=req.target,
                                                         cancel=req.cancel))
            return engine.chat(req.history, req.text, max_tokens=req.max_tokens,
                               system_prompt=req.system_prompt, cancel=req.cancel,
                               mood=mood.label, confidence=mood.confidence)

        self._reply(req.request_id, req.cancel, start)

    @Slot(object)
    def continue_turn(self, req: ContinueRequest) -> None:
        """More of a cut reply; its pieces go out on `token` like a normal turn's."""

        def start(engine: EngineLike) -> ReplyStreamLike:
            if req.cancel.cancelled:
                raise Cancelled()
            return engine.continue_reply(req.history, max_tokens=req.max_tokens,
                                         system_prompt=req.system_prompt, cancel=req.cancel)

        self._reply(req.request_id, req.cancel, start)

    def _reply(self, rid: int, cancel: CancelToken,
               start: Callable[[EngineLike], ReplyStreamLike]) -> None:
        """Stream a reply to the UI; always ends with exactly one replyDone or failed."""
        if self._engine is None:
            self.failed.emit(rid, "No model is loaded yet.")
            return
        pieces: list[str] = []
        stats = ReplyStats()
        try:
            stream = start(self._engine)
            stats = stream.stats
            for piece in stream:
                pieces.append(piece)
                self.token.emit(rid, piece)
                if cancel.cancelled:
                    break
            stats = stream.stats
            if cancel.cancelled:
                stats.stop_reason = "cancelled"
        except Cancelled:
            stats.stop_reason = "cancelled"
        except QwenAioError as exc:
            self.failed.emit(rid, str(exc))
            return
        except Exception as exc:  # keep the worker alive and tell the user what happened
            log.exception("Unexpected error in a chat turn")
            self.failed.emit(rid, f"{type(exc).__name__}: {exc}")
            return
        self.replyDone.emit(rid, "".join(pieces), stats)

    @Slot(object)
    def prepare(self, req: PrepareRequest) -> None:
        """Evaluate the draft (and label it, if asked) so sending it costs almost nothing.
        Speculative: being abandoned or failing is silent; the real turn does its own work."""
        try:
            if self._engine is None or req.cancel.cancelled:
                return
            def heard(mood: MoodResult) -> None:  # before the chat context's part
                if not req.cancel.cancelled:
                    self.draftMoodReady.emit(req.request_id, mood)

            self._engine.prepare(req.history, req.draft, max_tokens=req.max_tokens,
                                 system_prompt=req.system_prompt, label=req.label,
                                 cancel=req.cancel, on_label=heard)
        except Cancelled:
            pass
        except Exception:  # never let speculative work take the worker down
            log.exception("Preparing the draft failed")
        finally:
            self.prepared.emit(req.request_id)

    @Slot(object)
    def set_corrections(self, pairs: tuple[tuple[str, str], ...]) -> None:
        """The person's mood corrections, oldest first (empty: use none); slow, runs here."""
        if self._engine is None:
            return  # the window sends them again once a model has loaded
        try:
            self._engine.set_corrections(list(pairs))
        except QwenAioError as exc:
            log.warning("Mood corrections not applied: %s", exc)
            self.correctionsSet.emit(-1)
            return
        except Exception:  # a failed re-evaluation must not take the worker down
            log.exception("Unexpected error while applying mood corrections")
            self.correctionsSet.emit(-1)
            return
        self.correctionsSet.emit(len(pairs))

    @Slot(int, str, object)
    def quick_mood(self, request_id: int, text: str, cancel: CancelToken) -> None:
        """The tray's check: the mood pass only, nothing is stored or added to any history."""
        if self._engine is None:
            self.quickFailed.emit(request_id, "No model is loaded yet.")
            return
        try:
            mood = self._engine.mood(text, cancel=cancel)
        except QwenAioError as exc:
            self.quickFailed.emit(request_id, str(exc))
            return
        except Exception as exc:  # keep the worker alive and tell the user what happened
            log.exception("Unexpected error in a quick mood check")
            self.quickFailed.emit(request_id, f"{type(exc).__name__}: {exc}")
            return
        self.quickMoodReady.emit(request_id, mood)

    @Slot(int, str, str, object)
    def quick_task(self, request_id: int, task_id: str, text: str, cancel: CancelToken) -> None:
        """The tray's clipboard actions: one task on a text, nothing stored anywhere."""
        if self._engine is None:
            self.quickFailed.emit(request_id, "No model is loaded yet.")
            return
        try:
            result = "".join(self._engine.run_task(task_id, text, cancel=cancel))
        except Cancelled:
            self.quickFailed.emit(request_id, "")
            return
        except QwenAioError as exc:
            self.quickFailed.emit(request_id, str(exc))
            return
        except Exception as exc:  # keep the worker alive and tell the user what happened
            log.exception("Unexpected error in a quick task")
            self.quickFailed.emit(request_id, f"{type(exc).__name__}: {exc}")
            return
        self.quickTaskReady.emit(request_id, task_id, result)

    def close_engine(self) -> None:
        """Free the model; called in the worker thread, or after that thread has finished."""
        if self._engine is not None:
            try:
                self._engine.close()
            finally:
                self._engine = None


class EngineClient(QObject):
    """UI-thread handle: posts requests to the worker, owns the cancel tokens, stops the thread."""

    _post_load = Signal(object, object)
    _post_turn = Signal(object)
    _post_quick = Signal(int, str, object)
    _post_quick_task = Signal(int, str, str, object)
    _post_continue = Signal(object)
    _post_corrections = Signal(object)
    _post_prepare = Signal(object)
    # a turn's label, known before the turn starts: its text was being prepared when it was
    # sent and the preparation had labelled it (turn request id, MoodResult)
    moodEarly = Signal(int, object)
    tasksChanged = Signal(object)  # list[TaskInfo]: the loaded engine's tasks (UI thread)

    def __init__(self, factory: EngineFactory | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = EngineWorker(factory or backend.load_engine)
        self.thread = QThread()
        self.thread.setObjectName("engine-worker")
        self.worker.moveToThread(self.thread)
        self._post_load.connect(self.worker.load)
        self._post_turn.connect(self.worker.turn)
        self._post_quick.connect(self.worker.quick_mood)
        self._post_quick_task.connect(self.worker.quick_task)
        self.worker.quickTaskReady.connect(self._on_quick_task_ready)
        self.worker.tasksReady.connect(self._on_tasks)
        self.tasks: list[backend.TaskInfo] = []  # the loaded engine's, for the UI
        self._post_continue.connect(self.worker.continue_turn)
        self._post_corrections.connect(self.worker.set_corrections)
        self._post_prepare.connect(self.worker.prepare)
        self.worker.prepared.connect(self._on_prepared)
        self.worker.draftMoodReady.connect(self._on_draft_mood)
        self._preparing: PrepareRequest | None = None  # the one preparation in flight
        self._prep_mood: MoodResult | None = None  # its label, once heard
        self._kept_for: int | None = None  # the turn it became the first step of
        self.worker.replyDone.connect(self._on_reply_done)
        self.worker.failed.connect(self._on_failed)
        self.worker.quickMoodReady.connect(self._on_quick_ready)
        self.worker.quickFailed.connect(self._on_failed)
        self._next_id = 0
        self._tokens: dict[int, CancelToken] = {}
        self._turns: set[int] = set()
        self.model_loaded = False
        self.worker.loaded.connect(self._on_loaded)
        self.worker.loadFailed.connect(self._on_load_failed)
        self.thread.start()

    # --- requests ---------------------------------------------------------------------------

    def load(self, choice: ResolvedModel, settings: Settings) -> None:
        self.model_loaded = False
        self._post_load.emit(choice, settings)

    def prepare(self, history: Sequence[Message], draft: str, *, max_tokens: int,
                system_prompt: str | None = None, label: bool = False) -> int:
        """Prepare the message being typed; the one before it, if still running, is abandoned
        (at most one in flight). Returns its request id (draftMoodReady carries the label)."""
        self.abandon_preparation()
        rid = self._new_id()
        self._prep_mood = None
        self._kept_for = None
        self._preparing = PrepareRequest(rid, tuple(history), draft, max_tokens, system_prompt,
                                         label, self._tokens[rid])
        self._post_prepare.emit(self._preparing)
        return rid

    def abandon_preparation(self) -> None:
        """Stop the preparation in flight within one decode step (a keystroke, Stop, ...)."""
        if self._preparing is not None:
            self._preparing.cancel.cancel()

    @property
    def preparing(self) -> bool:
        return self._preparing is not None and not self._preparing.cancel.cancelled

    def send(self, history: Sequence[Message], text: str, *, max_tokens: int,
             system_prompt: str | None = None, task: str | None = None,
             target: str | None = None) -> int:
        """A turn: the mood pass on ``text``, then a reply over ``history`` (or ``task``'s
        result on ``text``)."""
        prep = self._preparing
        kept = prep is not None and prep.label and prep.draft == text and self.preparing
        if not kept:
            self.abandon_preparation()  # else it is this turn's first step: let it finish
        rid = self._new_id()
        self._turns.add(rid)
        self._post_turn.emit(TurnRequest(rid, tuple(history), text, max_tokens, system_prompt,
                                         self._tokens[rid], task, target))
        if kept:
            self._kept_for = rid
            mood = self._prep_mood
            if mood is not None:  # heard already: show it as soon as the caller is ready
                QTimer.singleShot(0, lambda: self.moodEarly.emit(rid, mood))
        return rid

    def continue_reply(self, history: Sequence[Message], *, max_tokens: int,
                       system_prompt: str | None = None) -> int:
        """Ask for more of the cut reply that ends `history`; a turn like `send` (Stop works)."""
        rid = self._new_id()
        self._turns.add(rid)
        self._post_continue.emit(ContinueRequest(rid, tuple(history), max_tokens, system_prompt,
                                                 self._tokens[rid]))
        return rid

    def quick_mood(self, text: str) -> int:
        self.abandon_preparation()  # the tray's question is answered first
        rid = self._new_id()
        self._post_quick.emit(rid, text, self._tokens[rid])
        return rid

    def quick_task(self, task_id: str, text: str) -> int:
        """A task on a text for the tray (quickTaskReady or quickFailed answers)."""
        self.abandon_preparation()
        rid = self._new_id()
        self._post_quick_task.emit(rid, task_id, text, self._tokens[rid])
        return rid

    def set_corrections(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Hand the person's corrections (oldest first) to the engine, after any queued work."""
        self._post_corrections.emit(tuple((str(t), str(label)) for t, label in pairs))

    @property
    def busy(self) -> bool:
        """True while a chat turn is queued or running: the UI must not send another."""
        return bool(self._turns)

    def stop(self) -> None:
        """Stop the running reply (and any queued one) within one token; thread-safe flags."""
        self.abandon_preparation()
        for rid in self._turns:
            self._tokens[rid].cancel()

    def shutdown(self) -> None:
        """Cancel everything, end the thread, then free the model: no thread is left running."""
        for token in self._tokens.values():
            token.cancel()
        if self.thread.isRunning():
            self.thread.quit()
            self.thread.wait()
        self.worker.close_engine()

    # --- bookkeeping ------------------------------------------------------------------------

    def _new_id(self) -> int:
        self._next_id += 1
        self._tokens[self._next_id] = CancelToken()
        return self._next_id

    # Every slot fed by the worker thread carries @Slot with its exact signature: PySide then
    # delivers it queued, in this object's (the UI) thread.

    @Slot(int, str, object)
    def _on_reply_done(self, rid: int, _text: str, _stats: object) -> None:
        self._forget(rid)

    @Slot(int, str)
    def _on_failed(self, rid: int, _message: str) -> None:
        self._forget(rid)

    @Slot(int, object)
    def _on_quick_ready(self, rid: int, _mood: object) -> None:
        self._forget(rid)

    @Slot(int, str, object)
    def _on_quick_task_ready(self, rid: int, _task: str, _text: object) -> None:
        self._forget(rid)

    @Slot(object)
    def _on_tasks(self, tasks: list[backend.TaskInfo]) -> None:
        self.tasks = list(tasks)
        self.tasksChanged.emit(self.tasks)

    @Slot(int, object)
    def _on_draft_mood(self, rid: int, mood: MoodResult) -> None:
        if self._preparing is None or self._preparing.request_id != rid:
            return
        self._prep_mood = mood
        if self._kept_for is not None:
            self.moodEarly.emit(self._kept_for, mood)

    @Slot(int)
    def _on_prepared(self, rid: int) -> None:
        if self._preparing is not None and self._preparing.request_id == rid:
            self._preparing = None
            self._kept_for = None
        self._tokens.pop(rid, None)

    def _forget(self, rid: int) -> None:
        self._tokens.pop(rid, None)
        self._turns.discard(rid)

    @Slot(str)
    def _on_loaded(self, _name: str) -> None:
        self.model_loaded = True

    @Slot(str)
    def _on_load_failed(self, _msg: str) -> None:
        self.model_loaded = False
