"""Damaged model files: each gets a clear message, and llama.cpp never ends up with a model.

The load goes the way a person's does (`qwen-aio mood --model ...`: resolve, verify, load);
a spy on the engine's `load_model` records whether llama.cpp was asked and what it returned.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from qwen_aio.cli.main import main
from qwen_aio.foundation.errors import ModelCorrupt
from qwen_aio.models import store

CATALOGUE_ID = "smollm2-135m-instruct"  # the small second test model: quick to copy and hash
Loads = list[tuple[str, str]]  # (file name, "loaded" | "refused") per llama.cpp load


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> Loads:
    """Spy on the engine's model loader: the real loader runs; each call is recorded."""
    import qwen_aio.engine.engine as engine_module

    real = engine_module.load_model
    seen: Loads = []

    def spy(path: Path) -> object:
        try:
            model = real(path)
        except Exception:
            seen.append((Path(path).name, "refused"))
            raise
        seen.append((Path(path).name, "loaded"))
        return model

    monkeypatch.setattr(engine_module, "load_model", spy)
    return seen


def _mood(model: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["mood", "--model", model, "--threads", "1", "a calm day"])
    return code, capsys.readouterr().err


def _install_catalogue_copy(source: Path) -> Path:
    """The second test model copied in as a downloaded catalogue model, checksum recorded."""
    dest = store.model_path(CATALOGUE_ID)
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, dest)
    store.verify_model(CATALOGUE_ID, full=True)  # as after a download: the record is written
    return dest


def _flip_byte_keeping_size_and_mtime(path: Path) -> None:
    st = path.stat()
    with path.open("r+b") as fh:
        fh.seek(st.st_size // 2)
        byte = fh.read(1)
        fh.seek(st.st_size // 2)
        fh.write(bytes([byte[0] ^ 0x01]))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns


def test_a_flipped_byte_is_found_by_the_full_check_and_never_loaded_after(
        second_model_path: Path, loads: Loads, capsys: pytest.CaptureFixture[str]) -> None:
    dest = _install_catalogue_copy(second_model_path)
    _flip_byte_keeping_size_and_mtime(dest)
    with pytest.raises(ModelCorrupt) as info:
        store.verify_model(CATALOGUE_ID, full=True)
    assert str(info.value) == (
        f"The model file {dest} is damaged (checksum mismatch). Delete it and download it "
        "again with `qwen-aio models download`.")
    code, said = _mood(CATALOGUE_ID, capsys)  # the quick check no longer trusts size + mtime
    assert code != 0
    assert "is damaged (checksum mismatch)" in said and "download it again" in said
    assert loads == []


def test_a_truncated_catalogue_model_is_refused_before_loading(
        second_model_path: Path, loads: Loads, capsys: pytest.CaptureFixture[str]) -> None:
    dest = _install_catalogue_copy(second_model_path)
    with dest.open("r+b") as fh:
        fh.truncate(dest.stat().st_size // 2)
    code, said = _mood(CATALOGUE_ID, capsys)
    assert code != 0
    assert f"The model file {dest} is damaged (checksum mismatch)" in said
    assert loads == []


def test_a_truncated_file_of_ones_own_is_refused_by_llama_cpp_without_a_model(
        tmp_path: Path, model_path: Path, loads: Loads,
        capsys: pytest.CaptureFixture[str]) -> None:
    cut = tmp_path / "cut.gguf"
    with model_path.open("rb") as src:
        cut.write_bytes(src.read(1_000_000))
    code, said = _mood(str(cut), capsys)
    assert code != 0
    assert f"Could not load the model {cut}" in said
    assert loads == [("cut.gguf", "refused")]


def test_a_text_file_renamed_gguf_is_told_it_is_not_a_model_file(
        tmp_path: Path, loads: Loads, capsys: pytest.CaptureFixture[str]) -> None:
    notes = tmp_path / "notes.gguf"
    notes.write_text("Shopping: milk, eggs\n" * 50, encoding="utf-8")
    code, said = _mood(str(notes), capsys)
    assert code != 0
    assert f"{notes} is not a GGUF model file, or it is damaged (not a GGUF file)" in said
    assert "Choose another .gguf file" in said and "qwen-aio models list" in said
    assert "download it again" not in said  # the person's own file: no download fixes it
    assert loads == []


def _broken_copy(source: Path, dest: Path, damage: Callable[[bytearray], None]) -> Path:
    with source.open("rb") as src:
        data = bytearray(src.read(4_000_000))
    damage(data)
    dest.write_bytes(bytes(data))
    return dest


def test_a_gguf_with_a_broken_header_is_refused_before_llama_cpp(
        tmp_path: Path, second_model_path: Path, loads: Loads,
        capsys: pytest.CaptureFixture[str]) -> None:
    def garbage_counts(data: bytearray) -> None:
        data[4:24] = b"\xff" * 20  # version, tensor count and metadata count

    bad = _broken_copy(second_model_path, tmp_path / "header.gguf", garbage_counts)
    code, said = _mood(str(bad), capsys)
    assert code != 0
    assert f"{bad} is not a GGUF model file, or it is damaged (its GGUF header is broken)" in said
    assert loads == []


def test_a_gguf_with_broken_metadata_is_refused_by_llama_cpp_without_a_model(
        tmp_path: Path, second_model_path: Path, loads: Loads,
        capsys: pytest.CaptureFixture[str]) -> None:
    def garbage_metadata(data: bytearray) -> None:
        data[24:4096] = b"\xa5" * (4096 - 24)  # the first metadata keys and values

    bad = _broken_copy(second_model_path, tmp_path / "meta.gguf", garbage_metadata)
    code, said = _mood(str(bad), capsys)
    assert code != 0
    assert f"Could not load the model {bad}" in said
    assert loads == [("meta.gguf", "refused")]
