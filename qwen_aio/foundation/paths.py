"""Where the app keeps its files: platformdirs folders, all moved at once by QWEN_AIO_HOME."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from qwen_aio.foundation import APP_NAME

HOME_ENV = "QWEN_AIO_HOME"


def _home() -> Path | None:
    value = os.environ.get(HOME_ENV, "").strip()
    return Path(value).expanduser() if value else None


def _folder(kind: str) -> Path:
    home = _home()
    if home is not None:
        path = home / kind
    else:
        getter = {
            "config": platformdirs.user_config_dir,
            "data": platformdirs.user_data_dir,
            "cache": platformdirs.user_cache_dir,
            "logs": platformdirs.user_log_dir,
        }[kind]
        path = Path(getter(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_dir() -> Path:
    return _folder("config")


def data_dir() -> Path:
    return _folder("data")


def cache_dir() -> Path:
    return _folder("cache")


def log_dir() -> Path:
    return _folder("logs")


def models_dir() -> Path:
    path = data_dir() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def settings_file() -> Path:
    return config_dir() / "settings.json"


def tasks_file() -> Path:
    """The person's own tasks (and changes to the built-in ones): see the README."""
    return config_dir() / "tasks.toml"


def conversations_db() -> Path:
    return data_dir() / "conversations.sqlite3"
