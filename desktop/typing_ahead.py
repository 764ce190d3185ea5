"""Work done while the person types: the draft is evaluated as it grows and labelled at a
pause, so on Enter the mood label is already there and the reply starts at once.

The timing rules are in `drafts.py` (shared with the benchmark's typing replay). Everything
here runs on the UI thread and only posts requests: the worker owns the model, and a new
keystroke abandons the preparation in flight.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from qwen_aio.desktop.backend import Message, MoodResult
from qwen_aio.desktop.drafts import LABEL_QUIET_MS, WORD_QUIET_MS, finished_part
from qwen_aio.desktop.worker import EngineClient
from qwen_aio.foundation.settings import Settings

# A paste longer than this is not prepared (the turn cuts it to fit the context anyway, and
# tokenizing it on every keystroke would cost more than it saves).
MAX_DRAFT_CHARS = 4000


class TypingAhead(QObject):
    """Watches the input box and asks the worker to prepare what is typed."""

    draftMood = Signal(object)  # MoodResult of the text in the input box (None: cleared)

    def __init__(self, text: Callable[[], str], changed: Signal, client: EngineClient,
                 settings: Settings, history: Callable[[], Sequence[Message]],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._text = text
        self._client = client
        self._settings = settings
        self._history = history
        self._word = self._timer(WORD_QUIET_MS, lambda: self._prepare(label=False))
        self._label = self._timer(LABEL_QUIET_MS, lambda: self._prepare(label=True))
        self._request: int | None = None
        self._detached = False
        # what was last sent for preparing, and whether labelled: a repeat is skipped
        self._last: tuple[str, bool] = ("", False)
        changed.connect(self._on_changed)
        client.worker.draftMoodReady.connect(self._on_draft_mood)

    def _timer(self, ms: int, slot: Callable[[], None]) -> QTimer:
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(ms)
        timer.timeout.connect(slot)
        return timer

    @property
    def enabled(self) -> bool:
        return bool(self._settings.prepare_while_typing)

    @Slot()
    def _on_changed(self) -> None:
        if not self._text().strip():  # cleared (or sent: the turn decides about the work)
            self._word.stop()
            self._label.stop()
            self._last = ("", False)
            self.draftMood.emit(None)
            return
        if self._client.preparing:  # a keystroke makes the work in flight stale
            self._client.abandon_preparation()
            self._last = ("", False)  # it may not have finished: do it again
        if self.enabled and not self._detached:
            self._word.start()
            self._label.start()

    def reset(self) -> None:
        """The message was sent (or the conversation changed): nothing is pending."""
        self._word.stop()
        self._label.stop()
        self._request = None
        self._last = ("", False)
        self.draftMood.emit(None)

    def detach(self) -> None:
        """The app is quitting: no timer may fire a preparation (it reads the store)."""
        self._word.stop()
        self._label.stop()
        self._detached = True

    def _prepare(self, *, label: bool) -> None:
        client = self._client
        if self._detached or not self.enabled or not client.model_loaded or client.busy:
            return
        text = self._text().strip()
        draft = text if label else finished_part(text).rstrip()
        if not draft or len(draft) > MAX_DRAFT_CHARS:
            return
        if draft == self._last[0] and (self._last[1] or not label):
            return  # done already (a labelled preparation includes the plain one)
        self._last = (draft, label)
        self._request = client.prepare(
            list(self._history()), draft, max_tokens=self._settings.reply_limit(),
            system_prompt=self._settings.system_prompt or None, label=label)

    @Slot(int, object)
    def _on_draft_mood(self, rid: int, mood: MoodResult) -> None:
        if rid == self._request and mood.text == self._text().strip():
            self.draftMood.emit(mood)
