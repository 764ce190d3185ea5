"""The house rule: engine/ and models/ (and the shared foundation) never import Qt or desktop/."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_linter_contract_holds() -> None:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe, "import-linter is part of the test extra"
    out = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 kept, 0 broken" in out.stdout


def test_cli_core_paths_load_no_qt() -> None:
    code = (
        "import sys, engine, models.download, models.resolve, qwen_aio.cli.main as c;"
        "c.build_parser();"
        "assert not [m for m in sys.modules if m.startswith(('PySide6', 'desktop'))], 'Qt loaded'"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
