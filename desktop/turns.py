"""The chat turn state machine, on the UI thread: send or continue, then mood, tokens, done.

A turn starts in `send` (or `continue_reply`), which posts it to the EngineClient and keeps a
`_Turn`; the worker's signals arrive here in order (moodReady, token..., then exactly one of
replyDone or failed) and fill in the bubbles and the store. At most one turn is in flight.

The reply's row is written at its first piece of text (status "streaming") and updated at most
every SAVE_EVERY_MS while it streams, then once more at its end with the status, stop reason and
token counts; so a crash loses at most the last half second, and the next start marks the row
"interrupted". Quitting delivers what the worker already sent and saves it as "stopped".
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer, Signal, Slot

from qwen_aio.desktop.backend import Message, MoodResult, ReplyStats
from qwen_aio.desktop.chat_view import MessageBubble
from qwen_aio.desktop.conversations import Conversations
from qwen_aio.desktop.store import ConversationStore
from qwen_aio.desktop.window_layout import WindowLayout
from qwen_aio.desktop.worker import EngineClient
from qwen_aio.foundation.errors import ConversationsUnavailable
from qwen_aio.foundation.settings import Settings

log = logging.getLogger(__name__)

SAVE_EVERY_MS = 500  # a streaming reply is written at most this often (and at its end)


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
    text: str = ""  # this turn's reply so far
    reply_id: int | None = None  # its row in the store, once it has text
    saved_text: str | None = None  # what that row holds now
    store_error: str | None = None  # a failed write: shown instead of "Ready." at the end
    mood_shown: bool = False  # its label arrived (early from a preparation, or from the turn)


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
        conversations.opened.connect(self._on_conversation_opened)

    def history(self, conversation_id: int | None) -> list[Message]:
        """A conversation as the engine sees it: its saved messages that have text."""
        if conversation_id is None:
            return []
        return [Message(m.role, m.content) for m in self.store.messages(conversation_id)
                if m.content.strip()]

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
        try:
            conversation_id = self.conversations.ensure_open()
            history = self.history(conversation_id)
            self.conversations.title_from_first_message(conversation_id, text)
            stored = self.store.add_message(conversation_id, "user", text)
        except ConversationsUnavailable as exc:  # nothing was sent: the text stays in the box
            self._set_state("state.store_failed", error=exc.reason)
            return
        bubble = self.view.chat.add("user", text, stored.id)
        self.view.input.clear_message()
        rid = self.client.send(history, text, max_tokens=self.settings.reply_limit(),
                               system_prompt=self.settings.system_prompt or None)
        self._turn = _Turn(rid, conversation_id, stored.id, bubble)
        self._set_state("state.mood")
        self._update_controls()

    def continue_reply(self, bubble: MessageBubble | None = None) -> None:
        """Write more of the open conversation's last reply, cut by the token limit."""
        conversation_id = self.conversations.current_id
        if self.client.busy or not self.client.model_loaded or conversation_id is None:
            return
        try:
            messages = self.store.messages(conversation_id)
        except ConversationsUnavailable as exc:
            self._set_state("state.store_failed", error=exc.reason)
            return
        if not messages or messages[-1].role != "assistant" \
                or messages[-1].stop_reason != "limit":
            return
        cut = messages[-1]
        bubbles = self.view.chat.bubbles
        target = bubbles[-1] if bubbles else None
        if target is None or target.message_id != cut.id or (bubble is not None
                                                              and bubble is not target):
            return
        history = [Message(m.role, m.content) for m in messages if m.content.strip()]
        rid = self.client.continue_reply(history, max_tokens=self.settings.reply_limit(),
                                         system_prompt=self.settings.system_prompt or None)
        target.set_text(cut.content)
        target.set_stop_reason(None)
        self._turn = _Turn(rid, conversation_id, None, None, target, cut.id, cut.content,
                           cut.reply_tokens or 0, reply_id=cut.id, saved_text=cut.content)
        self._set_state("state.continuing")
        self._update_controls()

    def stop(self) -> None:
        if self.client.busy:
            self.client.stop()

    def refresh_continue(self) -> None:
        """Continue sits on the conversation's last message only, if that is a cut reply."""
        bubbles = self.view.chat.bubbles
        last = bubbles[-1] if bubbles else None
        running = self._turn.reply_bubble if self._turn is not None else None
        enabled = self.client.model_loaded and not self.client.busy
        for b in bubbles:
            b.set_can_continue(b is last and b is not running and b.role == "assistant"
                               and b.message_id is not None, enabled)

    def _on_conversation_opened(self) -> None:
        """Another conversation is shown: a running turn keeps saving, but off screen."""
        if self._turn is not None:
            self._turn.user_bubble = self._turn.reply_bubble = None
        self.refresh_continue()

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
        self.view.status_mood.setText(self.view.tr("status.mood_cached") if mood.cached
                                      else self.view.tr("status.mood_latency",
                                                        ms=mood.latency_ms))
        if mood.notice:
            self.view.statusBar().showMessage(mood.notice, 15000)
        if turn.store_error is None:
            self._set_state("state.replying")
        self.moodSeen.emit(mood)

    @Slot(int, str)
    def _on_token(self, rid: int, piece: str) -> None:
        turn = self._turn
        if turn is None or turn.request_id != rid:
            return
        turn.text += piece
        if turn.reply_bubble is not None:
            turn.reply_bubble.append_text(piece)
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
            row = self._write(turn, self.store.start_reply, turn.conversation_id, content,
                              self._model or None)
            if row is not None:
                turn.reply_id, turn.saved_text = row.id, content
                if turn.reply_bubble is not None:
                    turn.reply_bubble.message_id = row.id
        elif content != turn.saved_text:
            self._write(turn, self.store.update_reply, turn.reply_id, content)
            turn.saved_text = content

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
            row = self._write(turn, self.store.start_reply, turn.conversation_id, content,
                              self._model or None)
            if row is None:
                return
            turn.reply_id = row.id
            if turn.reply_bubble is not None:
                turn.reply_bubble.message_id = row.id
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
        reason: str = stats.stop_reason
        status = "stopped" if reason == "cancelled" else "done"
        if turn.continued_id is not None and not text and reason == "cancelled":
            reason = "limit"  # stopped before any new text: nothing changed, still cut
        else:
            self._finish_row(turn, text, status, stats)
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
        if stats.notices:  # history trimmed or a long paste cut: say so, it changes the reply
            self.view.statusBar().showMessage("  ".join(stats.notices), 15000)
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
        if turn.continued_id is not None:
            if turn.saved_text != turn.base_text and turn.store_error is None:
                self._write(turn, self.store.update_reply, turn.continued_id, turn.base_text,
                            status="done", stop_reason="limit")
            if turn.reply_bubble is not None:
                turn.reply_bubble.set_text(turn.base_text)  # back as it was: still cut
                turn.reply_bubble.set_stop_reason("limit")
        elif turn.reply_id is not None:
            self._finish_row(turn, turn.text, "failed", None)
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
            if turn.continued_id is None or turn.text:
                self._finish_row(turn, turn.text, "stopped", None, "cancelled")
        self._save_timer.stop()
        w = self.client.worker
        for signal, slot in ((w.moodReady, self._on_mood), (w.token, self._on_token),
                             (w.replyDone, self._on_reply_done), (w.failed, self._on_failed),
                             (w.loaded, self._on_loaded)):
            signal.disconnect(slot)
