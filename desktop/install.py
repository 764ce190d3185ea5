"""`qwen-aio install-desktop`: a .desktop entry and the icon, so the app opens by double-click.

Plain Python (no Qt): it only writes files under the user's XDG data folder.
"""

from __future__ import annotations

import logging
import os
import shlex
import shutil
import sys
from pathlib import Path

from qwen_aio.desktop.icons_paths import ICON_PNG, ICON_SVG

log = logging.getLogger(__name__)

APP_ID = "qwen-aio"


def xdg_data_home() -> Path:
    value = os.environ.get("XDG_DATA_HOME", "").strip()
    return Path(value) if value else Path.home() / ".local" / "share"


def launch_command() -> str:
    """The GUI script if installed (no console on Windows), else this Python with the CLI."""
    for script in ("qwen-aio-gui", "qwen-aio"):
        beside = Path(sys.executable).with_name(script)
        found = str(beside) if beside.is_file() else shutil.which(script)
        if found:
            return _exec_quote(found)
    return f"{_exec_quote(sys.executable)} -m qwen_aio"


def _exec_quote(arg: str) -> str:
    """Quote for the Exec key: desktop-entry rules are close to, but stricter than, the shell's."""
    if all(c.isalnum() or c in "/._-+" for c in arg):
        return arg
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`").replace("$", "\\$")
    return f'"{escaped}"'


def desktop_entry(exec_cmd: str) -> str:
    return "\n".join([
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.4",
        "Name=Qwen All-in-One",
        "Name[zh_CN]=Qwen 全能助手",
        "GenericName=Mood-aware chat assistant",
        "GenericName[zh_CN]=情绪感知聊天助手",
        "Comment=Local assistant: labels the mood of each message, then replies with empathy",
        "Comment[zh_CN]=本地助手：先判断每条消息的情绪，再给出共情回复",
        f"Exec={exec_cmd}",
        f"Icon={APP_ID}",
        "Terminal=false",
        "Categories=Utility;",
        "Keywords=chat;mood;sentiment;assistant;qwen;情绪;聊天;",
        "StartupNotify=true",
        f"StartupWMClass={APP_ID}",
        "",
    ])


def install_desktop(data_home: Path | None = None) -> list[Path]:
    """Write the entry and icons; returns the files written (the CLI prints them)."""
    root = data_home or xdg_data_home()
    apps = root / "applications"
    svg_dir = root / "icons" / "hicolor" / "scalable" / "apps"
    png_dir = root / "icons" / "hicolor" / "256x256" / "apps"
    for d in (apps, svg_dir, png_dir):
        d.mkdir(parents=True, exist_ok=True)
    entry = apps / f"{APP_ID}.desktop"
    entry.write_text(desktop_entry(launch_command()), encoding="utf-8")
    entry.chmod(0o755)
    svg = svg_dir / f"{APP_ID}.svg"
    png = png_dir / f"{APP_ID}.png"
    shutil.copyfile(ICON_SVG, svg)
    shutil.copyfile(ICON_PNG, png)
    written = [entry, svg, png]
    log.info("Installed desktop entry: %s", ", ".join(map(str, written)))
    return written


def command_line() -> list[str]:
    """For tests and docs: the Exec line split as a launcher would split it."""
    return shlex.split(launch_command())
