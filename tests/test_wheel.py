"""The wheel installs one top-level name, qwen_aio, with every module and the icons in it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# repository folder -> where it lands in the wheel
MAPPING = {"engine": "qwen_aio/engine", "models": "qwen_aio/models",
           "desktop": "qwen_aio/desktop", "qwen_aio": "qwen_aio"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built from a clean copy: setuptools reuses an in-tree build/ with whatever it holds."""
    src = tmp_path_factory.mktemp("src") / "qwen-aio"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "docs", "__pycache__", "*.egg-info", ".*_cache"))
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(src)],
        capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stdout + built.stderr
    (found,) = out.glob("qwen_all_in_one-*.whl")
    return found


def test_one_top_level_package(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == {"qwen_aio"}
    dist_info = next(n for n in names if n.endswith(".dist-info/top_level.txt"))
    assert zipfile.ZipFile(wheel).read(dist_info).decode().split() == ["qwen_aio"]
    packages = sorted({n.rsplit("/", 1)[0] for n in names if n.endswith("/__init__.py")})
    assert packages == ["qwen_aio/bench", "qwen_aio/cli", "qwen_aio/desktop", "qwen_aio/engine",
                        "qwen_aio/foundation", "qwen_aio/models"]
    assert "qwen_aio/__init__.py" not in names  # a namespace package: see pyproject.toml


def test_every_module_and_asset_is_in_the_wheel(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"{MAPPING[folder]}/{p.relative_to(ROOT / folder).as_posix()}"
                for folder in MAPPING for p in (ROOT / folder).rglob("*")
                if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
    assert not expected - names
    assert {"qwen_aio/desktop/assets/qwen-aio.png", "qwen_aio/desktop/assets/qwen-aio.svg",
            "qwen_aio/desktop/assets/qwen_aio_zh_CN.qm", "qwen_aio/__main__.py"} <= names


def test_metadata_license_and_entry_points(wheel: Path) -> None:
    zf = zipfile.ZipFile(wheel)
    meta = zf.read(next(n for n in zf.namelist() if n.endswith("/METADATA"))).decode()
    assert "License-Expression: MIT" in meta
    entry = zf.read(next(n for n in zf.namelist() if n.endswith("/entry_points.txt"))).decode()
    assert "qwen-aio = qwen_aio.cli:main" in entry
    assert "qwen-aio-gui = qwen_aio.cli:gui_main" in entry


def test_installed_wheel_has_no_old_top_level_names(wheel: Path, tmp_path: Path) -> None:
    """Unpacked alone (no site-packages, no source tree), only qwen_aio.* is importable."""
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    code = ("import importlib.util as u, sys; sys.path[:0] = [sys.argv[1]]\n"
            "assert [n for n in ('engine', 'models', 'desktop') if u.find_spec(n)] == []\n"
            "import qwen_aio.engine.types, qwen_aio.foundation.errors\n"
            "print(qwen_aio.engine.types.__file__)")
    out = subprocess.run([sys.executable, "-S", "-c", code, str(target)], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert Path(out.stdout.strip()).is_relative_to(target)
