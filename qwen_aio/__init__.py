"""Qwen All-in-One: the shared, Qt-free foundation (errors, folders, settings) and the CLI."""

__version__ = "0.1.0"
APP_NAME = "qwen-aio"
