"""The app icon and the tray's mood variants (a coloured badge drawn over the app icon)."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap

from qwen_aio.desktop.icons_paths import ICON_PNG

log = logging.getLogger(__name__)

BADGE = {"Positive": QColor("#43a047"), "Negative": QColor("#e53935")}


@functools.cache
def _report_missing(path: Path) -> None:
    """Once per run: a frozen or packaged build that lost its assets says so in the log."""
    log.warning("The app icon %s could not be loaded; using a plain one", path)


def app_pixmap(size: int = 64) -> QPixmap:
    """The PNG is always loadable; the SVG needs the QtSvg image plugin, which may be missing."""
    pix = QPixmap(str(ICON_PNG))
    if pix.isNull():
        _report_missing(ICON_PNG)
        pix = QPixmap(size, size)
        pix.fill(QColor("#4f6cf0"))
    return pix.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                      Qt.TransformationMode.SmoothTransformation)


def app_icon() -> QIcon:
    icon = QIcon()
    for size in (16, 24, 32, 48, 64, 128, 256):
        icon.addPixmap(app_pixmap(size))
    return icon


def mood_icon(label: str | None) -> QIcon:
    """The tray icon: the app icon, with a green or red dot for the last mood seen."""
    if label not in BADGE:
        return app_icon()
    icon = QIcon()
    for size in (16, 24, 32, 48, 64):
        pix = app_pixmap(size)
        p = QPainter(pix)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        d = size * 0.5
        p.setPen(QPen(QColor("white"), max(1.0, size / 16)))
        p.setBrush(BADGE[label])
        p.drawEllipse(QRectF(size - d - 0.5, size - d - 0.5, d, d))
        p.end()
        icon.addPixmap(pix)
    return icon
