"""The window's command-line options, Qt-free: `qwen-aio --help` lists them without loading Qt."""

from __future__ import annotations

import argparse

THEMES = ("system", "light", "dark")  # the Settings.theme values (desktop.theme applies them)


def add_window_options(parser: argparse.ArgumentParser) -> None:
    """Options only the window has; `qwen-aio` and the desktop app's own parser both add them."""
    group = parser.add_argument_group("window (no subcommand)")
    group.add_argument("--lang", choices=("zh", "en"),
                        help="window language for this run (not saved)")
    group.add_argument("--no-tray", action="store_true",
                        help="no system tray icon: closing the window quits")
    group.add_argument("--theme", choices=THEMES,
                       help="window colours for this run (not saved): system, light or dark")


def window_argv(args: argparse.Namespace) -> list[str]:
    """The desktop app's arguments for what `qwen-aio` parsed (model, threads, window options)."""
    argv: list[str] = []
    if getattr(args, "model", None):
        argv += ["--model", args.model]
    if getattr(args, "backend", None):
        argv += ["--backend", args.backend]
    if getattr(args, "threads", None):
        argv += ["--threads", str(args.threads)]
    if getattr(args, "lang", None):
        argv += ["--lang", args.lang]
    if getattr(args, "no_tray", False):
        argv.append("--no-tray")
    if getattr(args, "theme", None):
        argv += ["--theme", args.theme]
    if getattr(args, "verbose", 0):
        argv.append("-" + "v" * args.verbose)
    return argv
