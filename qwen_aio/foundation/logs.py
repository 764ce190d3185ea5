"""One logging set-up for the command line and the window: stderr, plus a file for the window."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

_STDERR = "qwen-aio-stderr"
_FILE = "qwen-aio-file"
FORMAT = "%(levelname)s %(name)s: %(message)s"
FILE_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def level_for(verbose: int) -> int:
    """-v shows what the app does, -vv also llama.cpp's own messages."""
    return logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG


def setup_logging(verbose: int = 0, *, log_file: Path | None = None) -> None:
    """Log to stderr at the chosen verbosity and, given `log_file`, to a rotating file at INFO.

    Safe to call again (the window calls it after the CLI did): each handler is replaced, never
    doubled.
    """
    root = logging.getLogger()
    stderr_level = level_for(verbose)
    _install(root, _STDERR, logging.StreamHandler(sys.stderr), stderr_level, FORMAT)
    levels = [stderr_level]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(log_file, maxBytes=1_000_000,
                                                       backupCount=2, encoding="utf-8")
        file_level = min(logging.INFO, stderr_level)
        _install(root, _FILE, handler, file_level, FILE_FORMAT)
        levels.append(file_level)
    elif (kept := _named(root, _FILE)) is not None:
        levels.append(kept.level)
    root.setLevel(min(levels))
    logging.getLogger("llama.cpp").setLevel(logging.DEBUG if verbose >= 2 else logging.INFO)


def _named(root: logging.Logger, name: str) -> logging.Handler | None:
    return next((h for h in root.handlers if h.get_name() == name), None)


def _install(root: logging.Logger, name: str, handler: logging.Handler, level: int,
             fmt: str) -> None:
    old = _named(root, name)
    if old is not None:
        root.removeHandler(old)
        old.close()
    handler.set_name(name)
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter(fmt))
    root.addHandler(handler)
