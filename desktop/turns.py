"""The chat turn state machine, on the UI thread: send or continue, then mood, tokens, done.

A turn starts in `send` (or `continue_reply`), which posts it to the EngineClient and keeps a
`_Turn`; the worker's signals arrive here in order (moodReady, token..., then exactly one of
replyDone or failed) and fill in the bubbles and the store. At most one turn is in flight.

The reply's row is written at its first piece of text (status "streaming") and updated at most
every SAVE_EVERY_MS while it streams, then once more at its end with the status, stop reason and
token counts; so a crash loses at most the last half second, and the next start marks the row
"interrupted". Quitting delivers what the worker already sent and saves it as "stopped".

From the moment the reply's bubble is there (the mood has arrived, or Continue was clicked)
until its first piece of text, the bubble shows "Thinking…" (reply_waiting.py), and that the
computer is busy after a few seconds; it stops at the first text, on an error and on Stop.

Continue is offered on the last reply when it stopped for its token limit, cut ("limit") or
ended at a sentence near it ("sentence"): continuing.py decides, for the CLI's /continue too.
When the person asked for a list or a long answer, "Longer replies" beside it sets the long
preset and continues.

Regenerate runs the turn again over the history before the last reply; the old reply's row is
deleted when the new one has its first text (so Stop or an error before that gives the old reply
back). Edit puts the person's last message back in the input and removes that exchange.
The status bar's reply speed is the running reply's, updated as it streams.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer, Signal, Slot

from qwen_aio.desktop import tasks_ui
from qwen_aio.desktop.backend import Message, MoodResult, ReplyStats, TaskInfo
from qwen_aio.desktop.chat_view import MessageBubble
from qwen_aio.desktop.continuing import can_continue, offer_longer
from qwen_aio.desktop.conversations import Conversations
from qwen_aio.desktop.reply_waiting import BUSY_AFTER_MS, TICK_MS
from qwen_aio.desktop.store import ConversationStore, StoredMessage
from qwen_aio.desktop.window_layout import LENGTHS, PASTE_HELD_CHARS, WindowLayout
from qwen_aio.desktop.worker import EngineClient
from qwen_aio.foundation.errors import ConversationsUnavailable
from qwen_aio.foundation.settings import Settings

log = logging.getLogger(__name__)

SAVE_EVERY_MS = 500  # a streaming reply is written at most this often (and at its end)
SPEED_EVERY_S = 0.25  # the running reply's speed in the status bar changes at most this often


def chat_history(messages: list[StoredMessage]) -> list[Message]:
    """Saved messages as the chat pass reads them: those with text, without tasks' messages."""
    return [Message(m.role, m.content) for m in messages  # type: ignore[arg-type]
            if m.content.strip() and m.task is None]


@dataclass
class _Turn:
    """The one chat turn in flight: where its results go on screen and in the store.

    A continuation has no user message: it extends the saved reply `continued_id`, whose text
    before this turn is `base_text`.
    """

    request_id: int
    conversation_id: int
    user_message_id: int | None
    user_bubble: MessageBubble | None
    reply_bubble: MessageBubble | None = None
    continued_id: int | None = None
    base_text: str = ""
    base_tokens: int = 0  # a continuation: the saved reply's token count before this turn
    base_reason: str = "limit"  # a continuation: why the saved reply stopped ("limit" or
    # "sentence"), given back if this turn adds nothing
    text: str = ""  # this turn's reply so far
    reply_id: int | None = None  # its row in the store, once it has text
    saved_text: str | None = None  # what that row holds now
    store_error: str | None = None  # a failed write: shown instead of "Ready." at the end
    mood_shown: bool = False  # its label arrived (early from a preparation, or from the turn)
    replaces: list[StoredMessage] | None = None  # Regenerate: the old reply, until new text
    task: TaskInfo | None = None  # a task's result instead of a reply
    pieces: int = 0  # pieces (about one token each) that arrived in this turn
    first_piece_at: float = 0.0  # time.perf_counter() of the first one
    speed_shown_at: float = 0.0


class Turns(QObject):
    """Drives each turn from the input box to the saved reply; the window only shows state."""

    moodSeen = Signal(object)  # MoodResult, for the tray icon
    turnFinished = Signal(int, str, object)  # request id, reply, ReplyStats (None: it failed)

    def __init__(self, view: WindowLayout, store: ConversationStore, client: EngineClient,
                 settings: Settings, conversations: Conversations, *,
                 set_state: Callable[..., None], update_controls: Callable[[], None]) -> None:
        super().__init__(view)
        self.view = view
        self.store = store
        self.client = client
        self.settings = settings
        self.conversations = conversations
        self._set_state = set_state
        self._update_controls = update_controls
        self._turn: _Turn | None = None
        # the "Thinking…" indicator's pace (tests shorten them)
        self.waiting_tick_ms = TICK_MS
        self.waiting_busy_after_ms = BUSY_AFTER_MS
        self._model = ""  # the loaded engine's name, saved with each reply
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(SAVE_EVERY_MS)
        self._save_timer.timeout.connect(self._save_progress)
        w = client.worker
        w.loaded.connect(self._on_loaded)
        w.moodReady.connect(self._on_mood)
        client.moodEarly.connect(self._on_mood)  # the preparation's label: the same result
        w.token.connect(self._on_token)
        w.replyDone.connect(self._on_reply_done)
        w.failed.connect(self._on_failed)
        client.tasksChanged.connect(self._on_tasks)
        conversations.opened.connect(self._on_conversation_opened)
        view.chat.regenerateClicked.connect(self.regenerate)
        view.chat.longerClicked.connect(self.longer_replies)
        # "Longer replies" is offered only while the replies are not long already
        view.length_box.currentIndexChanged.connect(lambda _i: self.refresh_continue())
        view.chat.editClicked.connect(self.edit_last)

    def history(self, conversation_id: int | None) -> list[Message]:
        """A conversation as the engine sees it: its saved messages that have text (a task's
        text and result are not part of the chat)."""
        if conversation_id is None:
            return []
        return chat_history(self.store.messages(conversation_id))

    def task_info(self, task_id: str | None) -> TaskInfo | None:
        return None if task_id is None else tasks_ui.task_named(task_id, self.client.tasks)

    def _name(self, task: TaskInfo) -> str:
        return task.name(self.view.tr.language)

    @Slot(object)
    def _on_tasks(self, tasks: list[TaskInfo]) -> None:
        """The loaded engine's tasks: the picker offers them, shown task messages are named."""
        self.view.task_box.set_tasks(tasks)
        for b in self.view.chat.bubbles:
            if b.task is not None:
                tasks_ui.show_task(b, tasks_ui.task_named(b.task, tasks), self.view.tr)

    # --- starting a turn --------------------------------------------------------------------

    def send(self) -> None:
        text = self.view.input.message()
        if not text:
            return
        if self.client.busy:
            self._set_state("state.busy_hint")
            return
        if not self.client.model_loaded:
            return
        picker = self.view.task_box
        req = tasks_ui.parse(text, picker.tasks, picker.chosen())
        if req.unknown is not None:
            self._set_state("task.unknown", name=req.unknown, commands=picker.commands())
            return
        if not req.text:  # "/summary" alone: the text stays in the box
            self._set_state("task.empty", name=req.task.id if req.task else "")
            return
        text, task = req.text, req.task
        try:
            conversation_id = self.conversations.ensure_open()
            history = self.history(conversation_id)
            self.conversations.title_from_first_message(conversation_id, text)
            stored = self.store.add_message(conversation_id, "user", text,
                                            task=task.id if task else None)
        except ConversationsUnavailable as exc:  # nothing was sent: the text stays in the box
            self._set_state("state.store_failed", error=exc.reason)
            return
        bubble = self.view.chat.add("user", text, stored.id, stored.created)
        self.view.input.clear_message()
        if task is not None:
            tasks_ui.show_task(bubble, task, self.view.tr)
            picker.choose(None)  # the picker is for the next message only
        rid = self.client.send(history, text, max_tokens=self.settings.reply_limit(),
                               system_prompt=self.settings.system_prompt or None,
                               task=task.id if task else None, target=req.target)
        self._turn = _Turn(rid, conversation_id, stored.id, bubble, task=task)
        self._set_state("state.mood")
        self._show_speed_waiting()
        self._update_controls()

    def regenerate(self, bubble: MessageBubble | None = None) -> None:
        """Write the open conversation's last reply again; the new reply replaces it.

        The model reads the history before the old reply; the old reply's row is deleted as
        the new one is first written, and comes back if the new one ends without text.
        """
        conversation_id = self.conversations.current_id
        if self.client.busy or not self.client.model_loaded or conversation_id is None:
            return
        try:
            messages = self.store.messages(conversation_id)
        except ConversationsUnavailable as exc:
            self._set_state("state.store_failed", error=exc.reason)
            return
        if not messages or messages[-1].role != "assistant":
            return
        i = len(messages) - 1
        while i >= 0 and messages[i].role == "assistant":
            i -= 1
        if i < 0:
            return
        user = messages[i]
        chat = self.view.chat
        at = chat.index_of(user.id)
        if at is None or (bubble is not None and (not chat.bubbles or bubble is not
                                                  chat.bubbles[-1])):
            return
        chat.remove_from(at + 1)
        history = chat_history(messages[:i])
        task = self.task_info(user.task)
        rid = self.client.send(history, user.content, max_tokens=self.settings.reply_limit(),
                               system_prompt=self.settings.system_prompt or None,
                               task=task.id if task else None)
        self._turn = _Turn(rid, conversation_id, user.id, chat.bubbles[at],
                           replaces=messages[i + 1:], task=task)
        self._set_state("state.regenerating")
        self._show_speed_waiting()
        self._update_controls()

    def edit_last(self, bubble: MessageBubble | None = None) -> None:
        """The person's last message back into the input; it and its reply leave the
        conversation (and the store), so sending the edited text continues from before it."""
        conversation_id = self.conversations.current_id
        if self.client.busy or conversation_id is None:
            return
        try:
            messages = self.store.messages(conversation_id)
        except ConversationsUnavailable as exc:
            self._set_state("state.store_failed", error=exc.reason)
            return
        users = [m for m in messages if m.role == "user"]
        if not users:
            return
        last = users[-1]
        chat = self.view.chat
        at = chat.index_of(last.id)
        if at is None or (bubble is not None and bubble is not chat.bubbles[at]):
            return
        try:
            self.store.delete_messages_from(conversation_id, last.id)
        except ConversationsUnavailable as exc:
            self._set_state("state.store_failed", error=exc.reason)
            return
        chat.remove_from(at)
        box = self.view.input
        typed = box.toPlainText().strip()  # what the person had started typing stays, after it
        if len(last.content) > PASTE_HELD_CHARS:
            box.set_pasted(f"{last.content}\n\n{box.pasted}" if box.pasted else last.content)
        else:
            box.setPlainText(f"{last.content}\n\n{typed}" if typed else last.content)
            box.moveCursor(box.textCursor().MoveOperation.End)
        try:
            self.conversations.refresh_timeline()
        except ConversationsUnavailable as exc:
            self._set_state("state.store_failed", error=exc.reason)
            return
        self._set_state("state.edit_back")
        self._update_controls()
        box.setFocus()

    def continue_reply(self, bubble: MessageBubble | None = None) -> None:
        """Write more of the open conversation's last reply, stopped for its token limit (cut,
        or ended at a sentence near it)."""
        conversation_id = self.conversations.current_id
        if self.client.busy or not self.client.model_loaded or conversation_id is None:
            return
        try:
            messages = self.store.messages(conversation_id)
        except ConversationsUnavailable as exc:
            self._set_state("state.store_failed", error=exc.reason)
            return
        if not messages or messages[-1].role != "assistant" \
                or not can_continue(messages[-1].stop_reason) or messages[-1].task is not None:
            return
        cut = messages[-1]
        bubbles = self.view.chat.bubbles
        target = bubbles[-1] if bubbles else None
        if target is None or target.message_id != cut.id or (bubble is not None
                                                              and bubble is not target):
            return
        history = chat_history(messages)
        rid = self.client.continue_reply(history, max_tokens=self.settings.reply_limit(),
                                         system_prompt=self.settings.system_prompt or None)
        target.set_text(cut.content)
        target.set_stop_reason(None)
        self._start_waiting(target)
        self._turn = _Turn(rid, conversation_id, None, None, target, cut.id, cut.content,
                           cut.reply_tokens or 0, cut.stop_reason or "limit", reply_id=cut.id,
                           saved_text=cut.content)
        self._set_state("state.continuing")
        self._show_speed_waiting()
        self._update_controls()

    def longer_replies(self, bubble: MessageBubble | None = None) -> None:
        """"Longer replies": the long preset from now on (the box next to the input, which
        saves it), then more of this reply at that length."""
        if self.client.busy or not self.client.model_loaded:
            return
        self.view.length_box.setCurrentIndex(LENGTHS.index("long"))
        self.settings.reply_length = "long"  # the window saves it too; this turn needs it now
        self.continue_reply(bubble)

    def stop(self) -> None:
        if self.client.busy:
            self.client.stop()

    def refresh_continue(self) -> None:
        """Continue sits on the conversation's last message only, if that reply stopped for
        its limit ("Longer replies" too, if the person asked for a long answer); Regenerate on
        the last reply, Edit on the person's last message (while idle)."""
        bubbles = self.view.chat.bubbles
        last = bubbles[-1] if bubbles else None
        running = self._turn.reply_bubble if self._turn is not None else None
        idle = not self.client.busy
        enabled = self.client.model_loaded and idle
        last_user = next((b for b in reversed(bubbles) if b.role == "user"), None)
        preset = LENGTHS[self.view.length_box.currentIndex()]
        for b in bubbles:
            final_reply = (b is last and b is not running and b.role == "assistant"
                           and b.message_id is not None)
            longer = (final_reply and last_user is not None
                      and offer_longer(last_user.text, b.stop_reason, preset))
            b.set_can_continue(final_reply and b.task is None, enabled, longer=longer)
            b.set_can_regenerate(final_reply and last_user is not None, enabled)
            b.set_can_edit(b is last_user and b.message_id is not None and idle)

    def _on_conversation_opened(self) -> None:
        """Another conversation is shown: a running turn keeps saving, but off screen."""
        if self._turn is not None:
            self._stop_waiting(self._turn)
            self._turn.user_bubble = self._turn.reply_bubble = None
        self._show_details()
        self.refresh_continue()

    def _show_details(self) -> None:
        """Each shown message's time (on hover) and each reply's model, from the store."""
        conversation_id = self.conversations.current_id
        if conversation_id is None or not self.view.chat.bubbles:
            return
        try:
            stored = {m.id: m for m in self.store.messages(conversation_id)}
        except ConversationsUnavailable:
            return  # the conversation could not be shown either; it says so already
        for b in self.view.chat.bubbles:
            m = stored.get(b.message_id) if b.message_id is not None else None
            if m is not None:
                b.set_details(created=m.created, model=m.model)

    # --- the sign of life before the first text --------------------------------------------

    def _start_waiting(self, bubble: MessageBubble) -> None:
        bubble.start_waiting(self.waiting_tick_ms, self.waiting_busy_after_ms)

    @staticmethod
    def _stop_waiting(turn: _Turn) -> None:
        """The turn ended (or its bubble leaves the screen): no more "Thinking…"."""
        if turn.reply_bubble is not None:
            turn.reply_bubble.stop_waiting()

    # --- the running reply's speed ----------------------------------------------------------

    def _show_speed_waiting(self) -> None:
        self.view.status_speed.setText(self.view.tr("status.speed_waiting"))

    def _show_live_speed(self, turn: _Turn) -> None:
        now = time.perf_counter()
        if turn.pieces == 1:
            turn.first_piece_at = turn.speed_shown_at = now
            return
        if now - turn.speed_shown_at < SPEED_EVERY_S:
            return
        turn.speed_shown_at = now
        tps = (turn.pieces - 1) / max(now - turn.first_piece_at, 1e-6)
        self.view.status_speed.setText(self.view.tr("status.speed_live", tps=tps))

    # --- the worker's answers ---------------------------------------------------------------

    @Slot(int, object)
    def _on_mood(self, rid: int, mood: MoodResult) -> None:
        turn = self._turn
        if turn is None or turn.request_id != rid or turn.mood_shown:
            return
        turn.mood_shown = True
        if turn.user_message_id is not None:
            self._write(turn, self.store.set_mood, turn.user_message_id, mood.label,
                        mood.confidence, corrected=mood.corrected)
        if turn.user_bubble is not None:
            turn.user_bubble.set_mood(mood.label, mood.confidence, mood.corrected)
        if turn.conversation_id == self.conversations.current_id:
            self._write(turn, self.conversations.refresh_timeline)
            turn.reply_bubble = self.view.chat.add("assistant", "")
            turn.reply_bubble.set_details(model=self._model or None)
            if turn.task is not None:
                tasks_ui.show_task(turn.reply_bubble, turn.task, self.view.tr)
            self._start_waiting(turn.reply_bubble)
        self.view.status_mood.setText(self.view.tr("status.mood_cached") if mood.cached
                                      else self.view.tr("status.mood_latency",
                                                        ms=mood.latency_ms))
        if mood.notice:
            if turn.user_message_id is not None:  # saved in English, translated when shown
                self._write(turn, self.store.add_notices, turn.user_message_id, [mood.notice])
            notice = self.view.tr.notice(mood.notice)  # the engine's English, translated
            if turn.user_bubble is not None:  # it is about the person's message: shown there
                turn.user_bubble.add_notice(notice)
            self.view.statusBar().showMessage(notice, 15000)
        if turn.store_error is None:
            if turn.task is not None:
                self._set_state("task.running", task=self._name(turn.task))
            else:
                self._set_state("state.replying")
        self.moodSeen.emit(mood)

    @Slot(int, str)
    def _on_token(self, rid: int, piece: str) -> None:
        turn = self._turn
        if turn is None or turn.request_id != rid:
            return
        turn.text += piece
        turn.pieces += 1
        if turn.reply_bubble is not None:
            turn.reply_bubble.append_text(piece)
        self._show_live_speed(turn)
        if turn.reply_id is None:
            self._save_progress()  # the row is written as soon as the reply has text
        elif not self._save_timer.isActive():
            self._save_timer.start()

    def _save_progress(self) -> None:
        """Write the running reply's text so far (status "streaming")."""
        turn = self._turn
        if turn is None or turn.store_error is not None:
            return
        content = turn.base_text + turn.text
        if turn.reply_id is None:
            if not turn.text.strip() or self._gone(turn):
                return
            row = self._start_row(turn, content)
            if row is not None:
                turn.reply_id, turn.saved_text = row.id, content
                if turn.reply_bubble is not None:
                    turn.reply_bubble.message_id = row.id
                    turn.reply_bubble.set_details(created=row.created)
        elif content != turn.saved_text:
            self._write(turn, self.store.update_reply, turn.reply_id, content)
            turn.saved_text = content

    def _start_row(self, turn: _Turn, content: str) -> StoredMessage | None:
        """The reply's row; a regenerated reply's old row goes first (it is replaced now)."""
        if turn.replaces:
            if self._write(turn, self.store.delete_messages_from, turn.conversation_id,
                           turn.replaces[0].id) is None:
                return None
            turn.replaces = None
        row = self._write(turn, self.store.start_reply, turn.conversation_id, content,
                          self._model or None, turn.task.id if turn.task else None)
        return row if isinstance(row, StoredMessage) else None

    def _give_back(self, turn: _Turn) -> None:
        """A regeneration ended without text: the old reply, still saved, is shown again."""
        old, turn.replaces = turn.replaces, None
        if not old:
            return
        chat = self.view.chat
        if turn.reply_bubble is not None and turn.reply_bubble in chat.bubbles:
            chat.remove_from(chat.bubbles.index(turn.reply_bubble))
        turn.reply_bubble = None
        if turn.user_bubble is None:  # another conversation is shown
            return
        for m in old:
            bubble = chat.add(m.role, m.content, m.id, m.created)
            bubble.set_details(model=m.model)
            bubble.set_stop_reason(m.stop_reason)
            if m.stop_reason == "cancelled":
                bubble.mark_stopped()

    def _gone(self, turn: _Turn) -> bool:
        """The turn's conversation was deleted meanwhile: its reply has nowhere to go."""
        return self._write(turn, self.store.get, turn.conversation_id) is None

    def _write(self, turn: _Turn, fn: Callable[..., object], *args: object,
               **kwargs: object) -> object | None:
        """A store call for this turn; a failure is shown (and kept for the turn's end state)."""
        try:
            return fn(*args, **kwargs)
        except ConversationsUnavailable as exc:
            turn.store_error = exc.reason
            self._set_state("state.store_failed", error=exc.reason)
            return None

    def _finish_row(self, turn: _Turn, text: str, status: str, stats: ReplyStats | None,
                    reason: str | None = None) -> None:
        """The reply's last write: its whole text, status, stop reason and token counts.

        Tried even after a failed write in this turn (a lock held too long may be gone now);
        the turn's end state still says that something failed.
        """
        self._save_timer.stop()
        content = turn.base_text + text
        if turn.reply_id is None:
            if not text.strip() or self._gone(turn):
                return
            row = self._start_row(turn, content)
            if row is None:
                return
            turn.reply_id = row.id
            if turn.reply_bubble is not None:
                turn.reply_bubble.message_id = row.id
                turn.reply_bubble.set_details(created=row.created)
        prompt = stats.prompt_tokens if stats is not None else None
        generated = turn.base_tokens + stats.generated_tokens if stats is not None else None
        if stats is not None:
            reason = stats.stop_reason or None
        self._write(turn, self.store.update_reply, turn.reply_id, content, status=status,
                    stop_reason=reason, prompt_tokens=prompt, reply_tokens=generated,
                    model=self._model or None)
        turn.saved_text = content

    @Slot(int, str, object)
    def _on_reply_done(self, rid: int, text: str, stats: ReplyStats) -> None:
        turn = self._turn
        if turn is None or turn.request_id != rid:
            return
        self._turn = None
        self._stop_waiting(turn)
        reason: str = stats.stop_reason
        status = "stopped" if reason == "cancelled" else "done"
        if turn.continued_id is not None and not text and reason == "cancelled":
            reason = turn.base_reason  # stopped before any new text: nothing changed
        else:
            self._finish_row(turn, text, status, stats)
        if turn.replaces:
            self._give_back(turn)
        if turn.reply_bubble is not None:
            turn.reply_bubble.set_stop_reason(reason)
        if stats.stop_reason == "cancelled":
            if turn.reply_bubble is not None and (text or turn.continued_id is None):
                turn.reply_bubble.mark_stopped()
            if turn.store_error is None:
                self._set_state("state.stopped")
        elif turn.store_error is None:
            self._set_state("state.ready")
        if stats.generated_tokens and stats.decode_tps:
            self.view.status_speed.setText(self.view.tr("status.speed", tps=stats.decode_tps))
        else:  # nothing was written this time: no speed to show for this reply
            self.view.status_speed.clear()
        if stats.notices:  # history trimmed or a long paste cut: say so, it changes the reply
            notices = [self.view.tr.notice(n) for n in stats.notices]  # the engine's English
            target = turn.reply_bubble or turn.user_bubble
            about = turn.reply_id if turn.reply_bubble is not None else turn.user_message_id
            if about is not None:
                self._write(turn, self.store.add_notices, about, list(stats.notices))
            if target is not None:
                for notice in notices:
                    target.add_notice(notice)
            self.view.statusBar().showMessage("  ".join(notices), 15000)
        self._update_controls()
        self.view.input.setFocus()
        self.turnFinished.emit(rid, text, stats)

    @Slot(int, str)
    def _on_failed(self, rid: int, message: str) -> None:
        turn = self._turn
        if turn is None or turn.request_id != rid:
            return
        self._turn = None
        self._save_timer.stop()
        self._stop_waiting(turn)
        if turn.continued_id is not None:
            if turn.saved_text != turn.base_text and turn.store_error is None:
                self._write(turn, self.store.update_reply, turn.continued_id, turn.base_text,
                            status="done", stop_reason=turn.base_reason)
            if turn.reply_bubble is not None:
                turn.reply_bubble.set_text(turn.base_text)  # back as it was: still continuable
                turn.reply_bubble.set_stop_reason(turn.base_reason)
        elif turn.reply_id is not None:
            self._finish_row(turn, turn.text, "failed", None)
        if turn.replaces:
            self._give_back(turn)
        self._set_state("state.error", error=message)
        self._update_controls()
        self.turnFinished.emit(rid, "", None)

    @Slot(str)
    def _on_loaded(self, name: str) -> None:
        self._model = name

    def detach(self) -> None:
        """The app is quitting (the worker thread has ended): save the running reply first.

        What the worker sent before it stopped is still queued for this thread; delivering it
        now lets the reply's own end (replyDone, "cancelled") save it as "stopped". Late
        results after this must not touch the store, which closes next.
        """
        if self._turn is not None:
            QCoreApplication.sendPostedEvents(None, QEvent.Type.MetaCall.value)
        turn = self._turn
        if turn is not None:  # the worker never answered: save what arrived
            self._turn = None
            self._stop_waiting(turn)
            if turn.continued_id is None or turn.text:
                self._finish_row(turn, turn.text, "stopped", None, "cancelled")
        self._save_timer.stop()
        w = self.client.worker
        for signal, slot in ((w.moodReady, self._on_mood), (w.token, self._on_token),
                             (w.replyDone, self._on_reply_done), (w.failed, self._on_failed),
                             (w.loaded, self._on_loaded)):
            signal.disconnect(slot)
