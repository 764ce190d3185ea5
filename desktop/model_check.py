"""The full checksum of a catalogue model, verified in the background after it has loaded.

The load itself trusts a checksum record whose size and mtime match (quick); bit rot changes
neither. So once the model runs, its whole sha256 is checked on a QThread at the lowest
priority, and a mismatch is told to the person with the way out: download it again.
"""

from __future__ import annotations

import logging
import os
import threading

from PySide6.QtCore import QObject, QThread, Signal, Slot
from PySide6.QtWidgets import QMessageBox, QWidget

from qwen_aio.desktop import backend
from qwen_aio.desktop.i18n import Translator
from qwen_aio.foundation.errors import Cancelled, ModelCorrupt, QwenAioError

log = logging.getLogger(__name__)


class _ChecksumWorker(QObject):
    """Hashes one model file on its thread; reports whether it matched."""

    checked = Signal(str, bool, str)  # model id, ok, path
    finished = Signal()

    def __init__(self, model_id: str, cancel: threading.Event) -> None:
        super().__init__()
        self.model_id = model_id
        self._cancel = cancel

    @Slot()
    def run(self) -> None:
        _lower_this_threads_priority()
        try:
            path = backend.verify_model_full(self.model_id, self._cancel)
        except ModelCorrupt as exc:
            log.error("Background checksum: %s", exc)
            self.checked.emit(self.model_id, False, exc.path)
        except Cancelled:
            log.info("Background checksum of %s stopped", self.model_id)
        except (QwenAioError, OSError) as exc:  # gone or unreadable: the next load will say so
            log.warning("Background checksum of %s could not run: %s", self.model_id, exc)
        else:
            log.info("Background checksum of %s: OK", self.model_id)
            self.checked.emit(self.model_id, True, str(path))
        finally:
            self.finished.emit()


def _lower_this_threads_priority() -> None:
    """Qt's thread priorities do nothing for Linux's normal scheduler; a thread's nice does."""
    if hasattr(os, "setpriority"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        except OSError as exc:
            log.debug("Could not lower the checksum thread's priority: %s", exc)


class ModelCheck(QObject):
    """Starts the check once per catalogue model and run, after the engine has loaded it."""

    checked = Signal(str, bool)  # model id, ok (for the tests and the log)
    redownloadRequested = Signal()

    def __init__(self, loaded: Signal, tr: Translator, window: QWidget) -> None:
        super().__init__(window)
        self._tr = tr
        self._window = window
        self._expected: str | None = None
        self._done: set[str] = set()
        self._thread: QThread | None = None
        self._worker: _ChecksumWorker | None = None
        self._cancel = threading.Event()
        self.warning: QMessageBox | None = None
        loaded.connect(self._on_loaded)

    def expect(self, model_id: str | None) -> None:
        """The model about to load (None: a person's own file, which has no known checksum)."""
        self._expected = model_id

    @Slot(str)
    def _on_loaded(self, _name: str) -> None:
        model_id, self._expected = self._expected, None
        if model_id and model_id not in self._done:
            self.start(model_id)

    def start(self, model_id: str) -> None:
        if self._thread is not None:
            return
        self._done.add(model_id)
        self._cancel = threading.Event()
        thread = QThread()
        thread.setObjectName("model-checksum")
        worker = _ChecksumWorker(model_id, self._cancel)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.checked.connect(self._on_checked)
        worker.finished.connect(thread.quit)
        # No deleteLater: Python owns both, and drops them only once the thread has ended.
        thread.finished.connect(self._on_thread_finished)
        self._thread, self._worker = thread, worker
        thread.start(QThread.Priority.LowestPriority)

    @property
    def running(self) -> bool:
        return self._thread is not None

    @Slot(str, bool, str)
    def _on_checked(self, model_id: str, ok: bool, path: str) -> None:
        if not ok:
            self._warn(model_id, path)
        self.checked.emit(model_id, ok)

    @Slot()
    def _on_thread_finished(self) -> None:
        thread = self._thread
        self._thread = self._worker = None
        if thread is not None:
            # `finished` comes just before the thread really ends: dropping the last reference
            # sooner destroys a running QThread (a crash). The wait is that last moment.
            thread.wait()

    def _warn(self, model_id: str, path: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, self._tr("check.title"),
                          self._tr("check.damaged", path=path), parent=self._window)
        again = box.addButton(self._tr("check.download_again"),
                              QMessageBox.ButtonRole.AcceptRole)
        box.addButton(self._tr("check.later"), QMessageBox.ButtonRole.RejectRole)
        box.buttonClicked.connect(
            lambda button: self.redownloadRequested.emit() if button is again else None)
        self.warning = box
        box.open()  # not exec(): the window goes on working

    def stop(self, timeout_ms: int = 5000) -> None:
        """At quit: stop hashing (it checks between chunks) and let the thread end."""
        self._cancel.set()
        if self._thread is None:
            return
        self._thread.quit()  # its `finished -> quit` is queued to this (waiting) thread
        if not self._thread.wait(timeout_ms):
            log.warning("The checksum thread did not stop within %d ms", timeout_ms)
