"""The app icon and the tray's mood variants (a coloured badge drawn over the app icon)."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPen, QPixmap

from qwen_aio.desktop.icons_paths import ICON_PNG

log = logging.getLogger(__name__)

BADGE = {"Positive": QColor("#43a047"), "Negative": QColor("#e53935")}


@functools.cache
def _report_missing(path: Path) -> None:
    """Once per run: a frozen or packaged build that lost its assets says so in the log."""
    log.warning("The app icon %s could not be loaded; using a plain one", path)


SIZES = (16, 24, 32, 48, 64, 128, 256)
RATIOS = (1.0, 2.0)  # each size also drawn for a 2x (HiDPI) screen


def screen_ratio() -> float:
    """The primary screen's device pixel ratio (1.0 without a screen)."""
    screen = QGuiApplication.primaryScreen()
    return screen.devicePixelRatio() if screen is not None else 1.0


def app_pixmap(size: int = 64, dpr: float = 1.0) -> QPixmap:
    """``size`` logical pixels, drawn with size*dpr real ones (sharp on a HiDPI screen).

    The PNG is always loadable; the SVG needs the QtSvg image plugin, which may be missing.
    """
    real = max(1, round(size * dpr))
    pix = QPixmap(str(ICON_PNG))
    if pix.isNull():
        _report_missing(ICON_PNG)
        pix = QPixmap(real, real)
        pix.fill(QColor("#4f6cf0"))
    pix = pix.scaled(real, real, Qt.AspectRatioMode.KeepAspectRatio,
                     Qt.TransformationMode.SmoothTransformation)
    pix.setDevicePixelRatio(dpr)
    return pix


def _ratios() -> tuple[float, ...]:
    """1x and 2x, plus the screen's own ratio when it is another (1.5, 3...)."""
    own = screen_ratio()
    return RATIOS if own in RATIOS else (*RATIOS, own)


def app_icon() -> QIcon:
    icon = QIcon()
    for dpr in _ratios():
        for size in SIZES:
            icon.addPixmap(app_pixmap(size, dpr))
    return icon


def mood_pixmap(label: str, size: int, dpr: float = 1.0) -> QPixmap:
    """The app icon with a green or red dot; painted in logical pixels, so sharp at any dpr."""
    pix = app_pixmap(size, dpr)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    d = size * 0.5
    p.setPen(QPen(QColor("white"), max(1.0, size / 16)))
    p.setBrush(BADGE[label])
    p.drawEllipse(QRectF(size - d - 0.5, size - d - 0.5, d, d))
    p.end()
    return pix


def mood_icon(label: str | None) -> QIcon:
    """The tray icon: the app icon, with a green or red dot for the last mood seen."""
    if label not in BADGE:
        return app_icon()
    icon = QIcon()
    for dpr in _ratios():
        for size in (16, 24, 32, 48, 64):
            icon.addPixmap(mood_pixmap(label, size, dpr))
    return icon
