"""The window (`qwen-aio` with no subcommand) and `qwen-aio install-desktop`."""

from __future__ import annotations

import argparse

from qwen_aio.cli.common import EXIT_OK, EXIT_UNAVAILABLE, err
from qwen_aio.desktop.options import window_argv


def open_window(args: argparse.Namespace) -> int:
    """Hand the window's options to the desktop app; Qt is imported only now."""
    try:
        from qwen_aio.desktop.app import main as desktop_main
    except ImportError as exc:
        err(f"The desktop window is not available ({exc}). Try `qwen-aio --help`.")
        return EXIT_UNAVAILABLE
    return int(desktop_main(window_argv(args)) or 0)


def configure(p: argparse.ArgumentParser) -> None:
    """`install-desktop` takes no options of its own."""


def run(args: argparse.Namespace) -> int:
    from qwen_aio.desktop.install import install_desktop

    for path in install_desktop():
        print(f"Wrote {path}")
    return EXIT_OK
