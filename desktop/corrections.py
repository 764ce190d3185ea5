"""Mood chip corrections: the person says a label is wrong; it is flipped, saved and taught.

The store keeps each correction (keyed by normalized text); the engine gets the list (unless
the setting is off) to answer the same text with the person's label and to learn from them.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from qwen_aio.desktop.backend import MoodResult
from qwen_aio.desktop.chat_view import MessageBubble
from qwen_aio.desktop.conversations import Conversations
from qwen_aio.desktop.store import ConversationStore
from qwen_aio.desktop.window_layout import WindowLayout
from qwen_aio.desktop.worker import EngineClient
from qwen_aio.foundation.errors import ConversationsUnavailable
from qwen_aio.foundation.settings import Settings


class Corrections(QObject):
    """Flips a chip on click and keeps the engine's corrections in step with the store."""

    moodCorrected = Signal(object)  # MoodResult with the person's label (corrected=True)

    def __init__(self, view: WindowLayout, store: ConversationStore, client: EngineClient,
                 settings: Settings, conversations: Conversations) -> None:
        super().__init__(view)
        self.view = view
        self.store = store
        self.client = client
        self.settings = settings
        self.conversations = conversations

    def correct(self, bubble: MessageBubble) -> None:
        """The person says the chip is wrong: flip it, save it, and teach the engine."""
        if bubble.message_id is None or bubble.mood_label not in ("Positive", "Negative"):
            return
        label = "Negative" if bubble.mood_label == "Positive" else "Positive"
        try:
            self.store.correct_mood(bubble.message_id, label)
        except ConversationsUnavailable as exc:  # not saved: the chip stays as it was
            self._store_failed(exc)
            return
        bubble.set_mood(label, 1.0, corrected=True)
        self.conversations.refresh_timeline()
        self.sync()
        note = "mood.corrected_note" if self.settings.mood_corrections \
            else "mood.corrected_note_off"
        self.view.statusBar().showMessage(self.view.tr(note), 8000)
        self.moodCorrected.emit(MoodResult(bubble.text, label, 1.0, 0.0, False, corrected=True))

    def sync(self) -> None:
        """Send the saved corrections (none when the setting is off) to the loaded engine."""
        if not self.client.model_loaded:
            return  # a load is on its way, and its `loaded` sends them
        try:
            pairs = self.store.corrections() if self.settings.mood_corrections else []
        except ConversationsUnavailable as exc:
            self._store_failed(exc)
            return
        self.client.set_corrections(pairs)

    def _store_failed(self, exc: ConversationsUnavailable) -> None:
        self.view.statusBar().showMessage(
            self.view.tr("state.store_failed", error=exc.reason), 30000)
