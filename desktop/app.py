"""Start-up: QApplication, one instance per user, the window at once, the model in the worker."""

from __future__ import annotations

import argparse
import copy
import dataclasses
import hashlib
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
from PySide6.QtCore import (
    QDeadlineTimer,
    QLocale,
    QLockFile,
    QObject,
    QPoint,
    QRect,
    QThread,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QGuiApplication
from PySide6.QtNetwork import QLocalServer, QLocalSocket
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox, QSystemTrayIcon

from qwen_aio.desktop import backend, theme, translations
from qwen_aio.desktop.backend import MoodResult, ResolvedModel
from qwen_aio.desktop.i18n import Translator, resolve_language
from qwen_aio.desktop.icons import app_icon
from qwen_aio.desktop.main_window import MainWindow
from qwen_aio.desktop.model_check import ModelCheck
from qwen_aio.desktop.options import add_window_options
from qwen_aio.desktop.settings_dialog import SettingsDialog, needs_reload
from qwen_aio.desktop.setup_dialog import Downloader, SetupDialog
from qwen_aio.desktop.store import Opened, open_store
from qwen_aio.desktop.tray import QuickMoodPopup, TrayController
from qwen_aio.desktop.worker import EngineClient, EngineFactory
from qwen_aio.engine.text import normalize
from qwen_aio.foundation import paths
from qwen_aio.foundation.errors import (
    ConversationsDamaged,
    ConversationsTooNew,
    ConversationsUnavailable,
    ModelNotFound,
    QwenAioError,
)
from qwen_aio.foundation.logs import setup_logging
from qwen_aio.foundation.settings import Settings

log = logging.getLogger(__name__)

Resolver = Callable[[Settings, "str | None"], ResolvedModel]


def server_name() -> str:
    """One name per user and data folder, so a QWEN_AIO_HOME sandbox never meets the real app."""
    key = f"{os.getuid() if hasattr(os, 'getuid') else os.getlogin()}:{paths.data_dir()}"
    return "qwen-aio-" + hashlib.sha1(key.encode()).hexdigest()[:12]


def instance_lock_path() -> Path:
    """The lock file that makes one app per data folder (QWEN_AIO_HOME moves it too)."""
    return paths.data_dir() / "qwen-aio.lock"


class SingleInstance(QObject):
    """A second launch tells the first one to raise its window, then exits.

    The QLockFile decides who is first, not the socket: a first instance that is busy or still
    starting (not yet listening) keeps its place, and a second launch never removes its socket.
    A lock left by a crashed run (its process is gone) is taken over by the next start.
    """

    activated = Signal()

    def __init__(self, name: str, lock_path: Path | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.server: QLocalServer | None = None
        self.lock = QLockFile(str(lock_path)) if lock_path is not None else None
        if self.lock is not None:
            self.lock.setStaleLockTime(0)  # never by age: only a dead owner makes it stale

    def acquire(self, notify_for_ms: int = 5000) -> bool:
        """True: this is the one instance (it now listens). False: another runs and was told."""
        if self.lock is None or self.lock.tryLock(0):
            self.listen()
            return True
        if self.lock.error() != QLockFile.LockError.LockFailedError:
            # No lock file can be made (a read-only folder): run, as before the lock existed.
            log.warning("Cannot create %s (%s): not checking for another instance",
                        self.lock.fileName(), self.lock.error().name)
            if self.notify_running():
                return False
            self.listen()
            return True
        log.info("Another instance holds %s", self.lock.fileName())
        deadline = QDeadlineTimer(notify_for_ms)
        while not deadline.hasExpired():  # it may still be starting: it listens once it is up
            if self.notify_running():
                return False
            QThread.msleep(200)
        log.warning("The running instance did not answer; not starting a second one")
        return False

    def notify_running(self, timeout_ms: int = 500) -> bool:
        sock = QLocalSocket()
        sock.connectToServer(self.name)
        if not sock.waitForConnected(timeout_ms):
            return False
        sock.write(b"raise\n")
        sock.waitForBytesWritten(timeout_ms)
        sock.disconnectFromServer()
        return True

    def listen(self) -> bool:
        QLocalServer.removeServer(self.name)  # a crashed run may have left a stale socket file
        self.server = QLocalServer(self)
        self.server.newConnection.connect(self._on_connection)
        ok = self.server.listen(self.name)
        if not ok:
            log.warning("Single-instance server failed: %s", self.server.errorString())
        return ok

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        if self.lock is not None and self.lock.isLocked():
            self.lock.unlock()

    def _on_connection(self) -> None:
        assert self.server is not None
        while (conn := self.server.nextPendingConnection()) is not None:
            conn.disconnected.connect(conn.deleteLater)
            self.activated.emit()


class DesktopApp(QObject):
    """Owns the store, the engine worker, the window, the tray and the dialogs; wires them up."""

    finished = Signal()  # everything is stopped; main() leaves the event loop on it

    def __init__(self, settings: Settings, *, engine_factory: EngineFactory | None = None,
                 resolver: Resolver | None = None, downloader: Downloader | None = None,
                 requested_model: str | None = None, use_tray: bool = True,
                 locale_name: str | None = None, language: str | None = None,
                 theme_name: str | None = None, backend_url: str | None = None,
                 threads: int | None = None) -> None:
        super().__init__()
        self.settings = settings
        # --backend: this run only, never saved ("" runs the local model; None: the setting)
        self._backend_override = backend_url
        self._threads_override = threads  # --threads: this run only, never saved
        self._resolver = resolver or backend.resolve_model
        self._downloader = downloader
        self._requested = requested_model
        self._locale = locale_name or QLocale.system().name()
        self._language_override = language  # --lang: this run only, never saved
        self._theme_override = theme_name  # --theme: this run only, never saved
        self._quitting = False
        self._told_tray = False
        self._last_mood: MoodResult | None = None  # what the tray icon shows
        self.tr = self._translator(language or settings.language)
        self.opened_store = open_store(paths.conversations_db())
        self.store = self.opened_store.store
        self.store_notice = self._store_notice(self.opened_store)
        self.store_box: QMessageBox | None = None
        try:
            self.store.recover_interrupted()  # one instance: a "streaming" row is a crash's
        except ConversationsUnavailable as exc:
            self.store_notice = self.store_notice or str(exc)
        self.client = EngineClient(engine_factory)
        tray_ok = use_tray and QSystemTrayIcon.isSystemTrayAvailable()
        self.window = MainWindow(settings, self.store, self.client, self.tr,
                                 tray_available=tray_ok)
        self.quick = QuickMoodPopup(self.client, self.tr)
        self.tray: TrayController | None = TrayController(self.tr) if tray_ok else None
        self.setup_dialog: SetupDialog | None = None
        self.task_problems: list[str] = []  # what tasks.toml got wrong, at the last load
        self.model_check = ModelCheck(self.client.worker.loaded, self.tr, self.window)
        self.model_check.redownloadRequested.connect(self.run_setup)
        self.client.worker.loadFailed.connect(self._offer_local_model)
        self.client.worker.taskProblems.connect(self._show_task_problems)
        self.window.closed.connect(self.quit)
        self.window.hiddenToTray.connect(self._on_hidden_to_tray)
        self.window.settingsRequested.connect(self.open_settings)
        self.window.moodSeen.connect(self._on_mood_seen)
        self.window.moodCorrected.connect(self._on_mood_corrected)
        self.quick.moodChecked.connect(self._on_mood_seen)
        self.quick.avoid = self._status_bar_rect
        if self.tray is not None:
            tray = self.tray
            tray.quickRequested.connect(lambda: self.quick.popup(tray.anchor()))
            tray.quickClicked.connect(lambda: self.quick.toggle(tray.anchor()))
            tray.clipboardTaskRequested.connect(self.clipboard_task)
            self.client.tasksChanged.connect(tray.set_tasks)
            self.tray.openRequested.connect(self.window.show_and_raise)
            self.tray.quitRequested.connect(self.quit)

    def apply_theme(self) -> None:
        """The colour theme (setting, or --theme for this run) on the whole application."""
        qapp = QApplication.instance()
        if isinstance(qapp, QApplication):
            theme.apply_theme(qapp, self._theme_override or self.settings.theme)

    def _status_bar_rect(self) -> QRect | None:
        """The window's status bar on screen, which the tray popup must not cover."""
        if not self.window.isVisible() or self.window.isMinimized():
            return None
        bar = self.window.statusBar()
        return QRect(bar.mapToGlobal(QPoint(0, 0)), bar.size())

    def start(self) -> None:
        """Show the window first; resolving and loading the model follow in the event loop."""
        self.apply_theme()
        self.window.show()
        log.info("Window shown %.0f ms after the process started", _ms_since_process_start())
        if self.tray is not None:
            self.tray.show()
        if self.store_notice:
            self._show_store_notice(self.store_notice)
        QTimer.singleShot(0, self.ensure_model)

    # --- the conversations file -------------------------------------------------------------

    def _store_notice(self, opened: Opened) -> str:
        """What the person must know about the conversations file ("" when all is well)."""
        problem = opened.problem
        if isinstance(problem, ConversationsDamaged) and opened.moved_to is not None:
            return self.tr("store.damaged", path=str(opened.moved_to))
        if isinstance(problem, ConversationsTooNew):
            return self.tr("store.too_new", path=problem.path)
        if isinstance(problem, ConversationsUnavailable):
            return self.tr("store.unavailable", path=problem.path, error=problem.reason)
        return ""

    def _show_store_notice(self, text: str) -> None:
        """A message box that does not block start-up (the model loads meanwhile)."""
        self.window.statusBar().showMessage(text, 60000)
        box = QMessageBox(QMessageBox.Icon.Warning, self.tr("app.title"), text,
                          QMessageBox.StandardButton.Ok, self.window)
        box.setObjectName("storeNotice")
        box.open()
        self.store_box = box

    def backend_url(self) -> str:
        """The inference server this run uses ("" for the local model)."""
        if self._backend_override is not None:
            return self._backend_override.strip()
        return self.settings.backend_url.strip()

    def _load_settings(self) -> Settings:
        """A copy of the settings for the worker, with this run's server and threads (--backend,
        --threads: neither is saved)."""
        settings = copy.deepcopy(self.settings)
        settings.backend_url = self.backend_url()
        if self._threads_override:
            settings.threads = self._threads_override
        return settings

    def ensure_model(self) -> None:
        url = self.backend_url()
        if url:  # an inference server: no local model is needed (or looked for)
            title = self.settings.backend_model.strip() or url
            self.window.set_model_loading(title)
            self.client.load(ResolvedModel(None, Path(), title), self._load_settings())
            return
        try:
            choice = self._resolver(self.settings, self._requested)
        except ModelNotFound:
            log.info("No model on disk: opening the setup dialog")
            self.window.set_no_model()
            self.run_setup()
            return
        except QwenAioError as exc:
            self.window.set_no_model()
            self.window.show_load_failed(str(exc))
            return
        if choice.notice:  # the models package's English (fallback model), translated
            self.window.statusBar().showMessage(self.tr.notice(choice.notice), 15000)
        self.window.set_model_loading(choice.title)
        self.model_check.expect(choice.id)  # its full checksum, in the background once loaded
        self.client.load(choice, self._load_settings())

    # --- dialogs ----------------------------------------------------------------------------

    def run_setup(self) -> None:
        if self.setup_dialog is not None and self.setup_dialog.isVisible():
            self.setup_dialog.raise_()
            return
        dlg = SetupDialog(self.tr, downloader=self._downloader, parent=self.window)
        dlg.modelChosen.connect(self._on_setup_chosen)
        self.setup_dialog = dlg
        dlg.open()

    @Slot(object)
    def _show_task_problems(self, problems: list[str]) -> None:
        """tasks.toml had mistakes: those tasks were skipped, the rest work. Said in the status
        bar (the details, which name the file and line, are also in the log)."""
        for problem in problems:
            log.warning("tasks.toml: %s", problem)
        self.task_problems = list(problems)
        self.window.statusBar().showMessage(
            self.tr("task.problems", count=len(problems), first=problems[0]), 60_000)

    @Slot(str)
    def _offer_local_model(self, message: str) -> None:
        """A server (backend_url) failed to connect: offer the local model instead (issue 13)."""
        if not self.backend_url():
            return
        box = QMessageBox(QMessageBox.Icon.Warning, self.tr("app.title"),
                          self.tr("remote.failed", error=message),
                          QMessageBox.StandardButton.Close, self.window)
        box.setObjectName("remoteFailed")
        local = box.addButton(self.tr("remote.use_local"), QMessageBox.ButtonRole.AcceptRole)

        def chosen() -> None:
            if box.clickedButton() is local:
                if self._backend_override:  # --backend: this run goes local, nothing saved
                    self._backend_override = ""
                else:
                    self.settings.backend_url = ""
                    self.settings.save()
                self.ensure_model()

        box.finished.connect(chosen)
        box.open()
        self.remote_box = box

    def _on_setup_chosen(self, value: str) -> None:
        self.settings.model = "" if value == backend.default_model_id() else value
        self.settings.save()
        self._requested = None
        self.ensure_model()

    def open_settings(self) -> None:
        dlg = SettingsDialog(self.settings, self.tr, self.window)
        dlg.setupRequested.connect(lambda: QTimer.singleShot(0, self.run_setup))
        if dlg.exec() == QDialog.DialogCode.Accepted:
            self.apply_settings(dlg.result_settings())

    def _translator(self, setting: str) -> Translator:
        """The strings of the language ``setting`` resolves to, with Qt's own catalogues (standard
        buttons, Qt's dialogs) installed on the application for it."""
        language = resolve_language(setting, self._locale)
        translations.install(language)
        return Translator(language)

    def apply_settings(self, new: Settings) -> None:
        old = copy.deepcopy(self.settings)
        for f in dataclasses.fields(Settings):  # in place: the window holds this same object
            setattr(self.settings, f.name, getattr(new, f.name))
        self.settings.save()
        if old.language != new.language:
            self.tr = self._translator(new.language)
            self.window.retranslate(self.tr)
            self.quick.retranslate(self.tr)
            if self.tray is not None:
                self.tray.retranslate(self.tr)
        if old.threads != new.threads:
            self._threads_override = None  # the person chose now: it wins over --threads
        if old.theme != new.theme:
            self._theme_override = None  # the person chose one now: it wins over --theme
            self.apply_theme()
        if needs_reload(old, new):
            if old.model != new.model:
                self._requested = None
            self.client.stop()
            self.ensure_model()  # the new engine gets the corrections when it has loaded
        elif old.mood_corrections != new.mood_corrections:
            self.window.sync_corrections()

    # --- tray -------------------------------------------------------------------------------

    def _on_mood_seen(self, mood: MoodResult) -> None:
        self._last_mood = mood
        if self.tray is not None:
            self.tray.set_mood(mood.label, mood.confidence, mood.corrected)

    def _on_mood_corrected(self, mood: MoodResult) -> None:
        """A chip was corrected: the tray follows if it shows the mood of that same text."""
        last = self._last_mood
        if last is not None and normalize(last.text) == normalize(mood.text):
            self._on_mood_seen(mood)

    def _on_hidden_to_tray(self) -> None:
        if self.tray is not None and not self._told_tray:
            self._told_tray = True
            self.tray.notify(self.tr("tray.still_running"))

    # --- the end ----------------------------------------------------------------------------

    def clipboard_task(self, task_id: str) -> None:
        """The tray's "Summarize / Translate / Fix the clipboard": the result in the popup."""
        task = next((t for t in self.client.tasks if t.id == task_id), None)
        if task is None:
            return
        text = QGuiApplication.clipboard().text()
        self.quick.run_task(task, text, self.tray.anchor() if self.tray is not None else None)

    def quit(self) -> None:
        """Stop the worker (and any download), close the database, then leave the event loop."""
        if self._quitting:
            return
        self._quitting = True
        if self.setup_dialog is not None:
            self.setup_dialog.stop_thread()
        self.model_check.stop()
        self.client.stop()
        self.window.force_quit = True
        self.window.hide()
        self.quick.hide()
        if self.tray is not None:
            self.tray.hide()
        self.client.shutdown()
        self.window.detach()
        self.store.close()
        self.finished.emit()


def _ms_since_process_start() -> float:
    """For the log (and `qwen-aio bench --startup`): how long start-up took until now."""
    return (time.time() - psutil.Process().create_time()) * 1000


def _parse(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    """The window's options; anything else (Qt's own, e.g. -platform) is left for Qt."""
    parser = argparse.ArgumentParser(prog="qwen-aio", description="Open the desktop window.")
    parser.add_argument("--model", help="catalogue id or path to a .gguf file")
    parser.add_argument("--threads", type=int, help="CPU threads for this run")
    parser.add_argument("--backend", metavar="URL",
                        help="an OpenAI-compatible inference server for this run")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more log output on stderr (-vv for llama.cpp's own)")
    add_window_options(parser)
    return parser.parse_known_args(argv)


def quit_on_signals(desktop: DesktopApp) -> None:
    """Ctrl+C or a logout's SIGTERM: stop the worker cleanly instead of dying mid-write."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: QTimer.singleShot(0, desktop.quit))
    ticker = QTimer(desktop)  # Python runs signal handlers only when it gets the GIL back
    ticker.timeout.connect(lambda: None)
    ticker.start(500)


def main(argv: list[str] | None = None) -> int:
    """Entry point for `qwen-aio` with no subcommand (and the gui-script)."""
    args, qt_args = _parse(list(sys.argv[1:] if argv is None else argv))
    setup_logging(args.verbose, log_file=paths.log_dir() / "desktop.log")
    QGuiApplication.setApplicationName("qwen-aio")
    QGuiApplication.setApplicationDisplayName("Qwen All-in-One")
    QGuiApplication.setDesktopFileName("qwen-aio")
    qapp = QApplication.instance() or QApplication([sys.argv[0], *qt_args])
    assert isinstance(qapp, QApplication)
    qapp.setQuitOnLastWindowClosed(False)  # the tray may keep running; quitting is explicit
    qapp.setWindowIcon(app_icon())

    single = SingleInstance(server_name(), instance_lock_path())
    if not single.acquire():
        log.warning("Qwen All-in-One is already running: asked its window to come forward")
        return 0

    settings = Settings.load()
    backend_url = None  # --backend: this run only, never saved ("local": the local model)
    if args.backend is not None:
        backend_url = "" if args.backend.strip().lower() == "local" else args.backend.strip()
    desktop = DesktopApp(settings, requested_model=args.model, use_tray=not args.no_tray,
                         language=args.lang, theme_name=args.theme, backend_url=backend_url,
                         threads=max(1, args.threads) if args.threads else None)
    single.activated.connect(desktop.window.show_and_raise)
    desktop.finished.connect(qapp.quit)
    quit_on_signals(desktop)
    desktop.start()
    try:
        return int(qapp.exec())
    finally:
        desktop.quit()
        single.close()
