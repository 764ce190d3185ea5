"""PyInstaller entry: the installed `qwen-aio` command, frozen.

`qwen-aio` takes the same subcommands as a pip install (no subcommand opens the window);
`qwen-aio-gui`, the same program built without a console on Windows, opens the window.
"""

from __future__ import annotations

import sys
from pathlib import Path

from qwen_aio.cli import gui_main, main

if __name__ == "__main__":
    sys.exit(gui_main() if Path(sys.executable).stem.endswith("-gui") else main())
