"""The `qwen-aio` command: `main` parses, then imports only the subcommand that runs."""

from qwen_aio.cli.main import build_parser, main

__all__ = ["build_parser", "gui_main", "main"]


def gui_main() -> int:
    """Entry point for the gui-script (no console window on Windows): the window, with the
    window's options if any were given (`qwen-aio-gui --lang zh`); a subcommand is the CLI's."""
    return main(None)
