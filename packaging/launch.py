"""PyInstaller entry point: the same start-up as `qwen-aio` without a subcommand."""

from __future__ import annotations

import sys

from qwen_aio.desktop.app import main

if __name__ == "__main__":
    sys.exit(main())
