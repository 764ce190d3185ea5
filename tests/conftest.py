"""Shared fixtures: a private app folder per test, and the real model fetched once and cached."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from loopback_server import server_missing, start_llama_server, stop_llama_server

from qwen_aio.models.catalog import FALLBACK_MODEL_ID

TEST_MODEL_ID = FALLBACK_MODEL_ID  # qwen2.5-coder-0.5b-instruct: PyPI-hosted, same family
SECOND_MODEL_ID = "smollm2-135m-instruct"


def model_cache_root() -> Path:
    """Models for tests live outside tmp dirs so they are fetched once per machine."""
    default = Path.home() / ".cache" / "qwen-aio-test-models"
    return Path(os.environ.get("QWEN_AIO_TEST_MODELS", default))


def _fetch(model_id: str) -> Path:
    from qwen_aio.models.download import download
    from qwen_aio.models.store import is_present, model_path, verify_model

    root = model_cache_root()
    if not is_present(model_id, root):
        download(model_id, root=root)
    verify_model(model_id, root=root, full=False)
    return model_path(model_id, root)


@pytest.fixture(scope="session", autouse=True)
def _no_old_top_level_names() -> Iterator[None]:
    """`python -m pytest` puts the repository on sys.path, where engine/ (say) is importable as
    `engine`: fail the run if anything used that instead of qwen_aio.engine."""
    yield
    old = sorted(n for n in sys.modules if n.split(".")[0] in ("engine", "models", "desktop"))
    assert not old, f"imported by the old top-level names: {old}"


@pytest.fixture(autouse=True)
def qwen_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep every test away from the user's real settings, models and conversations."""
    home = tmp_path / "qwen-home"
    monkeypatch.setenv("QWEN_AIO_HOME", str(home))
    monkeypatch.delenv("QWEN_AIO_MODEL", raising=False)
    return home


@pytest.fixture(scope="session")
def model_path() -> Path:
    return _fetch(TEST_MODEL_ID)


@pytest.fixture(scope="session")
def second_model_path() -> Path:
    return _fetch(SECOND_MODEL_ID)


@pytest.fixture(scope="session")
def engine(model_path: Path) -> Iterator[object]:
    """One real engine for the read-mostly tests (loading takes about a second)."""
    from qwen_aio.engine import Engine

    eng = Engine.load(model_path, threads=2, n_ctx=2048, name="test-model")
    yield eng
    eng.close()


# -- a real OpenAI-compatible server on loopback (issue 13): see loopback_server.py --------------

@pytest.fixture(scope="session")
def llama_server(model_path: Path,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """One loopback server for the read-mostly remote tests: {"url", "log", "proc"}."""
    reason = server_missing()
    if reason:
        pytest.skip(reason)
    log_path = tmp_path_factory.mktemp("server") / "server.log"
    proc, url = start_llama_server(model_path, log_path)
    yield {"url": url, "log": log_path, "proc": proc}
    stop_llama_server(proc)
