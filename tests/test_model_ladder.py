"""The model ladder: bigger hub models in the catalogue, their figures, a real download of one
of them from a loopback stand-in for the hub, and `qwen-aio models list`."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_models import GGUF_HEAD, _FakeHub, _serve  # the hub's HTTP, as test_models speaks it

from qwen_aio.models import resolve, store
from qwen_aio.models.catalog import (
    CATALOG,
    DEFAULT_MODEL_ID,
    FALLBACK_MODEL_ID,
    HubSource,
    Tier,
    get_spec,
    ladder,
)
from qwen_aio.models.download import DownloadProgress, download

# The names as Qwen's own GGUF repositories spell them (checked against their file listings).
NEW_HUB_MODELS = {
    "qwen2.5-0.5b-instruct": ("Qwen/Qwen2.5-0.5B-Instruct-GGUF",
                              "qwen2.5-0.5b-instruct-q4_k_m.gguf"),
    "qwen2.5-1.5b-instruct": ("Qwen/Qwen2.5-1.5B-Instruct-GGUF",
                              "qwen2.5-1.5b-instruct-q4_k_m.gguf"),
    "qwen3-1.7b": ("Qwen/Qwen3-1.7B-GGUF", "Qwen3-1.7B-Q8_0.gguf"),  # Qwen offers only Q8_0
}


@pytest.mark.parametrize("model_id", sorted(NEW_HUB_MODELS))
def test_new_entries_are_hub_gguf_files_of_qwens_own_repositories(model_id: str) -> None:
    spec = get_spec(model_id)
    repo_id, filename = NEW_HUB_MODELS[model_id]
    assert isinstance(spec.source, HubSource) and spec.from_hub
    assert (spec.source.repo_id, spec.source.filename) == (repo_id, filename)
    assert re.fullmatch(r"Qwen/Qwen[0-9.]+-[0-9.]+B(-Instruct)?-GGUF", spec.source.repo_id)
    assert spec.filename == filename and filename.endswith(".gguf")
    assert spec.sha256 is None  # taken from the hub's file metadata at download time
    assert spec.size and spec.size > 400_000_000  # from the hub's listing


def test_every_model_has_its_size_memory_and_speed() -> None:
    for spec in CATALOG.values():
        assert spec.download_bytes and spec.memory_mb and spec.gen_tps_2core, spec.id
        assert spec.prompt_tps_2core and spec.prompt_tps_2core > spec.gen_tps_2core, spec.id
        assert spec.memory_mb * 2**20 > spec.download_bytes, spec.id  # the file is mapped in
        assert spec.note, spec.id
    default = CATALOG[DEFAULT_MODEL_ID]
    assert default.size is None and default.approx_size  # the hub knows the exact bytes
    assert CATALOG[FALLBACK_MODEL_ID].size == 491_400_064  # PyPI sizes stay exact


def test_the_default_stays_first_and_the_only_recommended_one() -> None:
    assert DEFAULT_MODEL_ID == "qwen1.5-0.5b-chat"
    order = [spec.id for spec in ladder()]
    assert order[0] == DEFAULT_MODEL_ID and order[-1] == "smollm2-135m-instruct"
    assert set(order) == set(CATALOG)
    assert [s.id for s in CATALOG.values() if s.tier is Tier.RECOMMENDED] == [DEFAULT_MODEL_ID]
    better = [s for s in ladder() if s.tier is Tier.BETTER]
    assert [s.id for s in better] == ["qwen2.5-1.5b-instruct", "qwen3-1.7b"]
    light = max(s.memory_mb or 0 for s in CATALOG.values() if s.tier is not Tier.BETTER)
    for spec in better:  # bigger: more memory and slower than anything lighter
        assert (spec.memory_mb or 0) > light
        assert (spec.gen_tps_2core or 0) < (CATALOG[DEFAULT_MODEL_ID].gen_tps_2core or 0)


def test_speeds_scale_with_the_bytes_read_per_token() -> None:
    """Decode is memory-bandwidth-bound: tokens/s x file bytes stays near the measured 0.5B's
    46 tokens/s x 491.4 MB (the estimates were made that way)."""
    measured = 46 * 491.4e6
    for spec in CATALOG.values():
        if spec.tier is Tier.TINY:
            continue
        assert (spec.gen_tps_2core or 0) * (spec.download_bytes or 0) == pytest.approx(
            measured, rel=0.1), spec.id


# --- a real download of a new entry, from a loopback stand-in for the hub ----------------------

class _RecordingHub(_FakeHub):
    """test_models' fake hub, also remembering which paths were asked for."""

    paths: list[str] = []

    def do_HEAD(self) -> None:  # noqa: N802
        self.paths.append(self.path)
        super().do_HEAD()

    def do_GET(self) -> None:  # noqa: N802
        self.paths.append(self.path)
        super().do_GET()


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_RecordingHub]]:
    handler = type("Hub", (_RecordingHub,), {"payload": GGUF_HEAD + os.urandom(200_000),
                                            "ranges": [], "served": [], "paths": []})
    server = _serve(handler)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    yield handler
    server.shutdown()
    server.server_close()


def test_a_bigger_model_downloads_through_huggingface_hub_and_resolves(
        hub: type[_RecordingHub], qwen_home: Path) -> None:
    model_id = "qwen2.5-1.5b-instruct"
    seen: list[DownloadProgress] = []
    path = download(model_id, progress=seen.append)

    wanted = "/Qwen/Qwen2.5-1.5B-Instruct-GGUF/resolve/main/qwen2.5-1.5b-instruct-q4_k_m.gguf"
    assert [p for p in hub.paths if "/resolve/" in p] == [wanted, wanted]  # HEAD, then GET
    assert path == store.model_path(model_id)
    assert path.is_relative_to(qwen_home) and path.parent.name == model_id
    assert path.name == "qwen2.5-1.5b-instruct-q4_k_m.gguf"
    assert path.read_bytes() == hub.payload
    assert seen[-1].done_bytes == seen[-1].total_bytes == len(hub.payload)  # the hub's size wins
    sha = hashlib.sha256(hub.payload).hexdigest()
    assert store.verify_model(model_id).sha256 == sha  # the hub's sha256 was recorded

    got = resolve.resolve(None, model_id)  # as the setting names it; no network now
    assert (got.id, got.path, got.title) == (model_id, path, "Qwen2.5-1.5B-Instruct (Q4_K_M)")
    assert got.notice is None
    assert store.verify_before_load(model_id, got.path).sha256 == sha


# --- qwen-aio models list ----------------------------------------------------------------------

def test_models_list_shows_the_ladder_with_size_memory_and_speed(qwen_home: Path) -> None:
    env = {**os.environ, "QWEN_AIO_HOME": str(qwen_home), "HF_HUB_OFFLINE": "1"}
    exe = Path(sys.executable).with_name("qwen-aio")
    cmd = [str(exe)] if exe.is_file() else [sys.executable, "-m", "qwen_aio"]
    out = subprocess.run([*cmd, "models", "list"], env=env, capture_output=True, text=True,
                         encoding="utf-8", timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == len(CATALOG)
    assert lines[0].startswith("* qwen1.5-0.5b-chat") and "[recommended]" in lines[0]
    assert "~388 MB" in lines[0]  # approximate until the hub says
    rows = {line[2:].split()[0]: line for line in lines}
    assert set(rows) == set(CATALOG)
    expected = {  # size, memory, speed (1024-based sizes, as the window shows them)
        "qwen2.5-0.5b-instruct": ("469 MB", "RAM ~670 MB", "~46 tok/s"),
        "qwen2.5-1.5b-instruct": ("1.0 GB", "RAM ~1.3 GB", "~20 tok/s"),
        "qwen3-1.7b": ("1.7 GB", "RAM ~2.2 GB", "~12 tok/s"),
    }
    for model_id, parts in expected.items():
        row = rows[model_id]
        assert "not downloaded" in row and "Hugging Face hub" in row
        for part in parts:
            assert part in row, (part, row)
    for model_id in ("qwen2.5-1.5b-instruct", "qwen3-1.7b"):
        assert "[better replies, needs more memory / slower]" in rows[model_id]
    assert "estimates for a 2-core laptop" in out.stderr
