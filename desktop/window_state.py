"""The window's size, splitter, shown panels and open conversation, kept across restarts.

QSettings in an ini file in the app's config folder (beside settings.json), not the platform's
registry or plist: QWEN_AIO_HOME moves it with everything else, so tests and sandboxes never
touch the person's own window state, and deleting the config folder resets it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow, QSplitter

from qwen_aio.foundation import paths

log = logging.getLogger(__name__)

FILE_NAME = "window.ini"


def state_file() -> Path:
    return paths.config_dir() / FILE_NAME


def window_settings() -> QSettings:
    return QSettings(str(state_file()), QSettings.Format.IniFormat)


def save_layout(window: QMainWindow, splitter: QSplitter, *, conversation: int | None,
                shown: dict[str, bool]) -> None:
    s = window_settings()
    s.setValue("window/geometry", window.saveGeometry())
    s.setValue("window/state", window.saveState())
    s.setValue("window/splitter", splitter.saveState())
    s.setValue("conversation/open", conversation if conversation is not None else 0)
    for name, value in shown.items():
        s.setValue(f"view/{name}", value)
    s.sync()
    if s.status() != QSettings.Status.NoError:
        log.warning("Could not save the window state to %s (%s)", s.fileName(), s.status().name)


def restore_layout(window: QMainWindow, splitter: QSplitter) -> bool:
    """Size, position and splitter as they were; False when there was nothing (first start)."""
    s = window_settings()
    geometry, state, split = (s.value(k) for k in ("window/geometry", "window/state",
                                                   "window/splitter"))
    restored = False
    if isinstance(geometry, QByteArray) and not geometry.isEmpty():
        restored = window.restoreGeometry(geometry)  # Qt keeps it on a screen that exists
    if isinstance(state, QByteArray) and not state.isEmpty():
        window.restoreState(state)
    if isinstance(split, QByteArray) and not split.isEmpty():
        splitter.restoreState(split)
    return restored


def saved_conversation() -> int | None:
    value = window_settings().value("conversation/open", 0)
    try:
        n = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
    return n or None


def saved_shown(name: str, default: bool = True) -> bool:
    value = window_settings().value(f"view/{name}", default)
    if isinstance(value, str):  # an ini file gives "true" / "false"
        return value.lower() == "true"
    return bool(value)
