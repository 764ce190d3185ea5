"""Offline: with the model on disk, the mood pass, the chat pass and the desktop start-up open
no network socket. In this process a guard on Python's socket calls records and refuses any
use that is not AF_UNIX; subprocesses get the same guard (a sitecustomize) and run in their own
empty network namespace (`unshare -n`) when the machine allows it; the window's process has its
open sockets read from /proc while the model is loaded (Qt's C++ sockets included)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from qwen_aio.cli import build_parser
from qwen_aio.models.catalog import FALLBACK_MODEL_ID
from qwen_aio.models.store import model_path as store_path

GUARD = '''
import json, os, socket
_log = os.environ["QWEN_AIO_SOCKET_LOG"]
def _note(call, family, address):
    with open(_log, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"pid": os.getpid(), "call": call, "family": str(family),
                             "address": repr(address)}) + "\\n")
def _guard(name):
    original = getattr(socket.socket, name)
    def guarded(self, address, *rest):
        _note(name, self.family, address)
        if self.family == socket.AF_UNIX:
            return original(self, address, *rest)
        raise OSError(f"offline test: {name} to {address!r} refused")
    setattr(socket.socket, name, guarded)
for _name in ("connect", "connect_ex", "sendto"):
    _guard(_name)
_getaddrinfo = socket.getaddrinfo
def _refuse_lookup(host, *args, **kwargs):
    _note("getaddrinfo", None, host)
    raise socket.gaierror(f"offline test: lookup of {host!r} refused")
socket.getaddrinfo = _refuse_lookup
'''


def _unshare() -> list[str]:
    """`unshare -n` when this machine lets us make a network namespace, else nothing."""
    exe = shutil.which("unshare")
    if exe and subprocess.run([exe, "-n", "true"], capture_output=True,
                              check=False).returncode == 0:
        return [exe, "-n"]
    return []


@pytest.fixture
def seen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The guard in this process and, through PYTHONPATH, in every child; the log of what
    was tried."""
    log = tmp_path / "sockets.jsonl"
    log.touch()
    guard_dir = tmp_path / "guard"
    guard_dir.mkdir()
    (guard_dir / "sitecustomize.py").write_text(GUARD, encoding="utf-8")
    monkeypatch.setenv("QWEN_AIO_SOCKET_LOG", str(log))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(guard_dir), *filter(None, [os.environ.get("PYTHONPATH")])]))
    namespace: dict[str, Any] = {}
    saved = {name: getattr(socket.socket, name) for name in ("connect", "connect_ex", "sendto")}
    saved_lookup = socket.getaddrinfo
    exec(compile(GUARD, "offline-guard", "exec"), namespace)  # noqa: S102 - our own guard
    try:
        yield log
    finally:
        for name, fn in saved.items():
            setattr(socket.socket, name, fn)
        socket.getaddrinfo = saved_lookup


@pytest.fixture
def model_at_home(model_path: Path, qwen_home: Path) -> Path:
    """The PyPI-hosted Qwen model in the app's own models folder, as after a download (the
    default model absent, so the start falls back to it without asking the network)."""
    target = store_path(FALLBACK_MODEL_ID)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.symlink_to(model_path)
    record = model_path.with_name(model_path.name + ".sha256.json")
    if record.exists():
        shutil.copy(record, target.with_name(record.name))
    return target


def tried(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def network(log: Path) -> list[dict[str, Any]]:
    return [t for t in tried(log) if "AF_UNIX" not in t["family"]]


def test_cli_mood_and_chat_in_process_use_no_network(
        seen: Path, model_at_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        report: Callable[[dict[str, Any]], None]) -> None:
    parser = build_parser()
    args = parser.parse_args(["mood", "--json", "I finally passed my exam!"])  # no --model
    assert args.func(args) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["label"] == "Positive"
    lines = tmp_path / "msgs.txt"
    lines.write_text("I got the job!\n今天好累。\n", encoding="utf-8")
    args = parser.parse_args(["chat", "--json", "--reply", "short", "--file", str(lines)])
    assert args.func(args) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 2 and all(r["reply"] for r in rows)
    report({"in_process_socket_calls": tried(seen)})
    assert network(seen) == []


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "QWEN_AIO_HOME": str(home), "QT_QPA_PLATFORM": "offscreen",
            "PYTHONIOENCODING": "utf-8"}


def test_cli_subprocesses_use_no_network(seen: Path, model_at_home: Path, qwen_home: Path,
                                         report: Callable[[dict[str, Any]], None]) -> None:
    prefix = _unshare()
    mood = subprocess.run([*prefix, sys.executable, "-m", "qwen_aio", "mood", "--json",
                           "This is the worst day ever."], env=_env(qwen_home),
                          capture_output=True, text=True, timeout=600, check=False)
    assert mood.returncode == 0, mood.stderr
    assert json.loads(mood.stdout.splitlines()[-1])["label"] == "Negative"
    chat = subprocess.run([*prefix, sys.executable, "-m", "qwen_aio", "chat", "--reply",
                           "short"], input="I passed my exam!\n/quit\n", env=_env(qwen_home),
                          capture_output=True, text=True, timeout=600, check=False)
    assert chat.returncode == 0, chat.stderr
    assert chat.stdout.split("bot> ", 1)[1].strip()
    report({"network_namespace": bool(prefix), "subprocess_socket_calls": tried(seen)})
    assert network(seen) == []


def _sockets_of(pid: int) -> dict[str, int]:
    """The process's open sockets by kind, from /proc (what Qt opens in C++ included)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    kinds = {}
    for kind in ("tcp", "tcp6", "udp", "udp6", "unix"):
        table = Path(f"/proc/{pid}/net/{kind}").read_text(encoding="utf-8").splitlines()[1:]
        column = 6 if kind == "unix" else 9
        kinds[kind] = sum(1 for row in table
                          if len(row.split()) > column and row.split()[column] in inodes)
    return kinds


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_desktop_start_with_the_model_on_disk_uses_no_network(
        seen: Path, model_at_home: Path, qwen_home: Path,
        report: Callable[[dict[str, Any]], None]) -> None:
    """The real start path (`qwen-aio` with no subcommand) until the model is loaded."""
    prefix = _unshare()
    proc = subprocess.Popen([*prefix, sys.executable, "-m", "qwen_aio", "-v", "--no-tray"],
                            env=_env(qwen_home), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, encoding="utf-8")
    lines: list[str] = []
    sockets: dict[str, int] = {}
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 600  # a guard against a hang, not a measurement
        for line in proc.stderr:
            lines.append(line)
            if "Loaded " in line and " threads) in " in line:  # the engine's own line
                sockets = _sockets_of(proc.pid)  # `unshare` execs Python in place: same pid
                break
            assert time.monotonic() < deadline, "".join(lines[-20:])
        else:
            pytest.fail("the window never loaded the model:\n" + "".join(lines[-30:]))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
    report({"network_namespace": bool(prefix), "desktop_socket_calls": tried(seen),
            "desktop_open_sockets": sockets})
    assert network(seen) == []
    assert sockets and sockets["tcp"] == sockets["tcp6"] == 0
    assert sockets["udp"] == sockets["udp6"] == 0



def test_the_guard_records_and_refuses_network_use(seen: Path) -> None:
    """Without this, the tests above could pass with a guard that sees nothing."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock, pytest.raises(OSError):
        sock.connect(("192.0.2.1", 80))
    with pytest.raises(OSError):
        socket.getaddrinfo("example.com", 443)
    child = subprocess.run([sys.executable, "-c", "import urllib.request as u; "
                            "u.urlopen('http://192.0.2.1/', timeout=1)"],
                           capture_output=True, text=True, timeout=120, check=False)
    assert child.returncode != 0
    calls = network(seen)
    assert {c["call"] for c in calls} >= {"connect", "getaddrinfo"}
    assert len({c["pid"] for c in calls}) == 2  # this process and the child
