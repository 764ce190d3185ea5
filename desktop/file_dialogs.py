"""The app's file choosers, in one place: a .gguf model to open, a Markdown file to save."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from qwen_aio.desktop.i18n import Translator


def ask_gguf_file(parent: QWidget, tr: Translator) -> Path | None:
    """A model file the person picks (setup dialog and settings); None if they cancel."""
    chosen, _ = QFileDialog.getOpenFileName(parent, tr("setup.choose_title"), str(Path.home()),
                                            "GGUF (*.gguf)")
    return Path(chosen) if chosen else None


def ask_markdown_path(parent: QWidget, tr: Translator, title: str) -> Path | None:
    """Where to save a conversation exported as Markdown, named after it; None if cancelled."""
    name = "".join(c if c.isalnum() or c in " -_" else "_" for c in title) or "conversation"
    chosen, _ = QFileDialog.getSaveFileName(parent, tr("win.export_title"),
                                            str(Path.home() / f"{name}.md"), "Markdown (*.md)")
    return Path(chosen) if chosen else None
