"""The house rules: imports point down the layers, and only the code that needs it is loaded.

bench/eval > CLI > desktop > engine > models > foundation; Qt only in the desktop package;
`qwen-aio --help` and the window start without llama.cpp or the benchmark.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OLD_NAMES = ("engine", "models", "desktop")  # the folders' names; installed as qwen_aio.<name>
SOURCE_DIRS = ("engine", "models", "desktop", "qwen_aio", "tests", "packaging")


def test_import_linter_contracts_hold() -> None:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe, "import-linter is part of the test extra"
    out = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    contracts = (ROOT / "pyproject.toml").read_text(encoding="utf-8").count(
        "[[tool.importlinter.contracts]]")
    assert contracts == 3
    assert f"Contracts: {contracts} kept, 0 broken." in out.stdout
    assert re.search(r"Layers: .* KEPT", out.stdout.replace("\n", " "))


def _python_files() -> list[Path]:
    files = [p for d in SOURCE_DIRS for p in (ROOT / d).rglob("*.py")]
    return [*files, ROOT / "packaging" / "qwen-aio.spec"]


def _names_a_module(dotted: str) -> bool:
    """"desktop.app" or "models.store.check_header" name modules; "desktop.log" is a file."""
    parts = dotted.split(".")
    return any((ROOT.joinpath(*parts[:n]).with_suffix(".py")).is_file()
               or ROOT.joinpath(*parts[:n], "__init__.py").is_file()
               for n in range(2, len(parts) + 1))


def test_nothing_imports_the_folders_by_their_old_top_level_names() -> None:
    """`engine`, `models`, `desktop` are importable only as qwen_aio.<name>; nothing may rely on
    the source tree being on sys.path (it is not, once the wheel is installed)."""
    bad = []
    dotted = re.compile(rf"^({'|'.join(OLD_NAMES)})\.[a-z_]+(\.[A-Za-z_]+)*$")
    for path in _python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and dotted.match(node.value) and _names_a_module(node.value):
                names = [node.value]  # import_module / monkeypatch targets given as text
            bad += [f"{path.relative_to(ROOT)}:{node.lineno} {name}"  # type: ignore[attr-defined]
                    for name in names if name.split(".")[0] in OLD_NAMES]
    assert not bad, "old top-level names in use:\n" + "\n".join(bad)


def _modules_after(code: str) -> set[str]:
    code += "\nimport sys\nprint('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return set(out.stdout.split())


def _loaded(modules: set[str], *prefixes: str) -> list[str]:
    return sorted(m for m in modules
                  if m in prefixes or m.startswith(tuple(p + "." for p in prefixes)))


def test_help_loads_neither_llama_cpp_qt_nor_the_benchmark() -> None:
    modules = _modules_after(
        "import contextlib, io\n"
        "from qwen_aio.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(['--help'])")
    assert not _loaded(modules, "llama_cpp", "numpy", "PySide6", "qwen_aio.bench",
                       "qwen_aio.engine.engine", "huggingface_hub")


def test_help_shows_the_window_options() -> None:
    out = subprocess.run([sys.executable, "-m", "qwen_aio", "--help"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    for option in ("--no-tray", "--lang", "mood", "bench"):
        assert option in out.stdout


def test_a_subcommand_loads_only_its_own_module() -> None:
    modules = _modules_after(
        "from qwen_aio.cli.main import build_parser, chosen_command\n"
        "argv = ['--threads', '2', 'models', 'list']\n"
        "build_parser(chosen_command(argv)).parse_args(argv)")
    assert "qwen_aio.cli.cmd_models" in modules
    assert not _loaded(modules, "qwen_aio.cli.cmd_mood", "qwen_aio.cli.cmd_chat",
                       "qwen_aio.bench", "llama_cpp", "PySide6")


def test_the_core_loads_no_qt() -> None:
    modules = _modules_after(
        "import qwen_aio.engine.engine, qwen_aio.models.download, qwen_aio.models.resolve\n"
        "from qwen_aio.cli import build_parser\n"
        "build_parser()")
    assert "llama_cpp" in modules
    assert not _loaded(modules, "PySide6")
    # Qt-free helpers the CLI shares with the window: the run options and when to offer
    # Continue (`qwen-aio chat`'s /continue)
    assert _loaded(modules, "qwen_aio.desktop") == ["qwen_aio.desktop",
                                                     "qwen_aio.desktop.continuing",
                                                     "qwen_aio.desktop.options"]


def test_the_window_starts_without_llama_cpp_or_the_benchmark() -> None:
    """The window shows (here: no model, so the setup dialog) before llama.cpp is loaded."""
    modules = _modules_after(
        "import os\n"
        "os.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
        "from PySide6.QtCore import QTimer\n"
        "from PySide6.QtWidgets import QApplication\n"
        "from qwen_aio.desktop.app import main\n"
        "qapp = QApplication(['qwen-aio'])\n"
        "QTimer.singleShot(500, qapp.quit)\n"
        "assert main(['--no-tray', '--model', '/nowhere/model.gguf']) == 0")
    assert "qwen_aio.desktop.main_window" in modules
    assert not _loaded(modules, "llama_cpp", "qwen_aio.engine.engine", "qwen_aio.bench",
                       "qwen_aio.cli")
