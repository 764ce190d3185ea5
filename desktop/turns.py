"""The chat turn state machine, on the UI thread: send or continue, then mood, tokens, done.

A turn starts in `send` (or `continue_reply`), which posts it to the EngineClient and keeps a
`_Turn`; the worker's signals arrive here in order (moodReady, token..., then exactly one of
replyDone or failed) and fill in the bubbles and the store. At most one turn is in flight.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal, Slot

from qwen_aio.desktop.backend import Message, MoodResult, ReplyStats
from qwen_aio.desktop.chat_view import MessageBubble
from qwen_aio.desktop.conversations import Conversations
from qwen_aio.desktop.store import ConversationStore
from qwen_aio.desktop.window_layout import WindowLayout
from qwen_aio.desktop.worker import EngineClient
from qwen_aio.foundation.settings import Settings


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
        w = client.worker
        w.moodReady.connect(self._on_mood)
        w.token.connect(self._on_token)
        w.replyDone.connect(self._on_reply_done)
        w.failed.connect(self._on_failed)
        conversations.opened.connect(self._on_conversation_opened)

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
        conversation_id = self.conversations.ensure_open()
        history = [Message(m.role, m.content) for m in self.store.messages(conversation_id)
                   if m.content.strip()]
        self.conversations.title_from_first_message(conversation_id, text)
        stored = self.store.add_message(conversation_id, "user", text)
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
        messages = self.store.messages(conversation_id)
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
        self._turn = _Turn(rid, conversation_id, None, None, target, cut.id, cut.content)
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
        if turn is None or turn.request_id != rid:
            return
        if turn.user_message_id is not None:
            self.store.set_mood(turn.user_message_id, mood.label, mood.confidence,
                                corrected=mood.corrected)
        if turn.user_bubble is not None:
            turn.user_bubble.set_mood(mood.label, mood.confidence, mood.corrected)
        if turn.conversation_id == self.conversations.current_id:
            self.conversations.refresh_timeline()
            turn.reply_bubble = self.view.chat.add("assistant", "")
        self.view.status_mood.setText(self.view.tr("status.mood_cached") if mood.cached
                                      else self.view.tr("status.mood_latency",
                                                        ms=mood.latency_ms))
        if mood.notice:
            self.view.statusBar().showMessage(mood.notice, 15000)
        self._set_state("state.replying")
        self.moodSeen.emit(mood)

    @Slot(int, str)
    def _on_token(self, rid: int, piece: str) -> None:
        turn = self._turn
        if turn is not None and turn.request_id == rid and turn.reply_bubble is not None:
            turn.reply_bubble.append_text(piece)

    @Slot(int, str, object)
    def _on_reply_done(self, rid: int, text: str, stats: ReplyStats) -> None:
        turn = self._turn
        if turn is None or turn.request_id != rid:
            return
        self._turn = None
        reason: str = stats.stop_reason
        if turn.continued_id is not None:
            if text or reason != "cancelled":  # stopped before any new text: nothing changed
                self.store.set_reply(turn.continued_id, turn.base_text + text, reason)
            else:
                reason = "limit"
        elif text.strip() and self.store.get(turn.conversation_id) is not None:
            stored = self.store.add_message(turn.conversation_id, "assistant", text,
                                            stop_reason=reason)
            if turn.reply_bubble is not None:
                turn.reply_bubble.message_id = stored.id
        if turn.reply_bubble is not None:
            turn.reply_bubble.set_stop_reason(reason)
        if stats.stop_reason == "cancelled":
            if turn.reply_bubble is not None and (text or turn.continued_id is None):
                turn.reply_bubble.mark_stopped()
            self._set_state("state.stopped")
        else:
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
        if turn.continued_id is not None and turn.reply_bubble is not None:
            turn.reply_bubble.set_text(turn.base_text)  # nothing was saved: still cut
            turn.reply_bubble.set_stop_reason("limit")
        self._set_state("state.error", error=message)
        self._update_controls()
        self.turnFinished.emit(rid, "", None)

    def detach(self) -> None:
        """The app is quitting: late results from the worker must not touch the closed store."""
        self._turn = None
        w = self.client.worker
        for signal, slot in ((w.moodReady, self._on_mood), (w.token, self._on_token),
                             (w.replyDone, self._on_reply_done), (w.failed, self._on_failed)):
            signal.disconnect(slot)
