"""A real OpenAI-compatible server on loopback for the remote tests (issue 13): llama-cpp-python's
own server with the test model. A module of its own (not conftest.py): the test files import it
by a name no other folder's conftest shares."""

from __future__ import annotations

import sys
from pathlib import Path


def server_missing() -> str | None:
    """Why llama-cpp-python's server cannot run here (the `remote`/`test` extra), or None."""
    import importlib.util

    for module in ("fastapi", "uvicorn", "sse_starlette", "starlette_context", "openai"):
        if importlib.util.find_spec(module) is None:
            return (f"{module} is not installed: `bash scripts/setup.sh test` installs "
                    "llama-cpp-python[server] and openai")
    return None


def start_llama_server(model: Path, log_path: Path, n_ctx: int = 2048) -> tuple[object, str]:
    """`python -m llama_cpp.server` with the test model on a free loopback port, once it
    lists its model; returns the process and the API root."""
    import socket
    import subprocess
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(log_path, "w", encoding="utf-8")  # noqa: SIM115 - the process writes it
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", str(n_ctx), "--n_threads", "2",
         "--n_threads_batch", "2"], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 180
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"the test server exited: {log_path.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=2) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"the test server did not start: {log_path.read_text()[-2000:]}")
        time.sleep(0.3)


def stop_llama_server(proc: object) -> None:
    import subprocess

    assert isinstance(proc, subprocess.Popen)
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
