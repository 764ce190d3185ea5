"""Where the icon files live; Qt-free so `install-desktop` works without a display."""

from __future__ import annotations

from pathlib import Path

ASSETS = Path(__file__).resolve().parent / "assets"
ICON_SVG = ASSETS / "qwen-aio.svg"
ICON_PNG = ASSETS / "qwen-aio.png"
