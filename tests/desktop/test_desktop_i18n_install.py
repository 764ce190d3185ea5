"""Both languages are complete, and `install-desktop` writes a valid desktop entry."""

from __future__ import annotations

import shutil
import string
import subprocess
from pathlib import Path

import pytest

from qwen_aio.desktop.i18n import STRINGS, Translator, resolve_language
from qwen_aio.desktop.install import desktop_entry, install_desktop


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


@pytest.mark.parametrize("key", sorted(STRINGS))
def test_every_string_has_both_languages(key: str) -> None:
    en, zh = STRINGS[key]
    assert en.strip() and zh.strip()
    assert _fields(en) == _fields(zh), "placeholders must match"


def test_chips_in_both_languages() -> None:
    assert Translator("zh").mood_chip("Positive", 0.93) == "😄 正面 93%"
    assert Translator("zh").mood_chip("Negative", 0.7) == "😞 负面 70%"
    assert Translator("en").mood_chip("Positive", 0.5) == "😄 Positive 50%"


def test_language_follows_the_system_unless_set() -> None:
    assert resolve_language("system", "zh_CN") == "zh"
    assert resolve_language("system", "zh-TW") == "zh"
    assert resolve_language("system", "de_DE") == "en"
    assert resolve_language("en", "zh_CN") == "en"
    assert resolve_language("zh", "en_US") == "zh"


def test_install_desktop_writes_entry_and_icons(tmp_path: Path) -> None:
    written = install_desktop()  # XDG_DATA_HOME points into tmp_path (conftest)
    names = sorted(p.name for p in written)
    assert names == ["qwen-aio.desktop", "qwen-aio.png", "qwen-aio.svg"]
    for p in written:
        assert p.is_relative_to(tmp_path) and p.stat().st_size > 0
    entry = written[0].read_text(encoding="utf-8")
    assert "Exec=" in entry and "Icon=qwen-aio" in entry and "Name[zh_CN]=" in entry


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None,
                    reason="desktop-file-utils is not installed")
@pytest.mark.parametrize("exec_cmd", ["/usr/bin/qwen-aio-gui", '"/opt/my apps/qwen-aio-gui"'])
def test_desktop_entry_validates(tmp_path: Path, exec_cmd: str) -> None:
    entry = tmp_path / "qwen-aio.desktop"
    entry.write_text(desktop_entry(exec_cmd), encoding="utf-8")
    result = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None,
                    reason="desktop-file-utils is not installed")
def test_installed_entry_validates() -> None:
    entry = install_desktop()[0]
    result = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_window_options_reach_the_app_from_qwen_aio() -> None:
    """`qwen-aio --lang zh --no-tray …` hands the window exactly what its own parser takes."""
    from qwen_aio.cli.main import build_parser
    from qwen_aio.desktop.app import _parse
    from qwen_aio.desktop.options import window_argv

    args = build_parser(None).parse_args(["--lang", "zh", "--no-tray", "--model", "m.gguf",
                                          "--threads", "1", "-v"])
    parsed, qt_args = _parse(window_argv(args))
    assert (parsed.lang, parsed.no_tray, parsed.model, parsed.threads, parsed.verbose) == (
        "zh", True, "m.gguf", 1, 1)
    assert qt_args == []
