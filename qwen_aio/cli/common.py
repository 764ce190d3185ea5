"""What the subcommands share: messages on stderr, download progress, opening the engine."""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
import unicodedata
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TextIO

from qwen_aio.foundation.settings import Settings, clamp_threads

if TYPE_CHECKING:
    from pathlib import Path

    from qwen_aio.engine import Engine
    from qwen_aio.engine.api import EngineAPI
    from qwen_aio.models.download import DownloadProgress
    from qwen_aio.models.resolve import ResolvedModel

EXIT_OK = 0
EXIT_UNAVAILABLE = 2  # bad usage, or the model cannot be had
EXIT_INCOMPLETE = 3  # a run stopped early (e.g. the server went away): the output is partial


def err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class ProgressLine:
    """One updating line on stderr for downloads (only when stderr is a terminal)."""

    def __init__(self, intro: str = "") -> None:
        self._intro = intro
        self._stage = ""
        self._last = 0.0

    def __call__(self, p: DownloadProgress) -> None:
        if self._intro:  # said once, and only if a download really starts
            err(self._intro)
            self._intro = ""
        now = time.monotonic()
        if p.stage == self._stage and now - self._last < 0.5:
            return
        self._last = now
        total = f"/{p.total_bytes / 1e6:.0f} MB" if p.total_bytes else " MB"
        line = (f"  {p.stage}: {p.done_bytes / 1e6:.0f}{total} "
                f"at {p.bytes_per_s / 1e6:.1f} MB/s")
        if sys.stderr.isatty():
            print(f"\r{line:<78}", end="", file=sys.stderr, flush=True)
        elif p.stage != self._stage:
            print(line, file=sys.stderr, flush=True)
        self._stage = p.stage

    def done(self) -> None:
        if self._stage and sys.stderr.isatty():
            print(file=sys.stderr)


def resolve_model(args: argparse.Namespace, settings: Settings) -> ResolvedModel:
    """Find the model (downloading it on first use) and check it before it is ever loaded."""
    from qwen_aio.models.resolve import ensure
    from qwen_aio.models.store import verify_before_load

    bar = ProgressLine(intro="The model is not downloaded yet; fetching it once "
                              "(later runs work offline).")
    try:
        resolved = ensure(args.model, settings.model, progress=bar)
    finally:
        bar.done()
    verify_before_load(resolved.id, resolved.path)
    if resolved.notice:
        err(f"Note: {resolved.notice}")
    return resolved


def open_engine(args: argparse.Namespace, settings: Settings | None = None,
                **engine_options: Any) -> tuple[Engine, ResolvedModel]:
    """Resolve, verify and load the model named by --model/--threads, the env and settings."""
    from qwen_aio.engine import Engine

    settings = settings or Settings.load()
    resolved = resolve_model(args, settings)
    asked = args.threads or 0
    threads = clamp_threads(asked) or settings.threads or None
    if asked > 0 and threads != asked:
        err(f"Note: --threads {asked} is more than this machine's cores; using {threads}.")
    engine = Engine.load(resolved.path, threads=threads, n_ctx=settings.n_ctx,
                         mood_bias=settings.mood_bias, name=resolved.title,
                         temperature=settings.temperature, **engine_options)
    err(f"Model: {resolved.title} ({resolved.path}), {engine.threads} threads")
    return engine, resolved


def backend_url(args: argparse.Namespace, settings: Settings) -> str:
    """The inference server to use: --backend, else the setting; "" for the local model."""
    asked = getattr(args, "backend", None)
    if asked is not None:
        return "" if asked.strip().lower() in ("", "local") else asked.strip()
    return settings.backend_url.strip()


def open_any_engine(args: argparse.Namespace, settings: Settings | None = None, *,
                    tasks_file: Path | None = None,
                    **remote_options: Any) -> tuple[EngineAPI, str]:
    """The engine --backend (or the setting) asks for: a server, else the local model.
    ``tasks_file`` (tasks.toml) goes to either. Returns it and a title for messages."""
    settings = settings or Settings.load()
    url = backend_url(args, settings)
    if not url:
        engine, resolved = open_engine(args, settings, tasks_file=tasks_file)
        return engine, resolved.title
    from qwen_aio.engine.remote import RemoteEngine

    remote = RemoteEngine.connect(url, model=args.model or settings.backend_model or None,
                                  mood_bias=settings.mood_bias, n_ctx=settings.n_ctx,
                                  temperature=settings.temperature, tasks_file=tasks_file,
                                  **remote_options)
    err(f"Server: {remote.url} ({remote.info.title}), model {remote.model}, "
        f"labels constrained by {remote.constraint}")
    return remote, remote.name


def count_lines(path: str) -> int | None:
    """Lines in a file (for a progress bar), or None for standard input."""
    if path == "-":
        return None
    n = 0
    last = b"\n"
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            n += chunk.count(b"\n")
            last = chunk[-1:]
    return n + (last != b"\n")


class ProgressBar:
    """Done/total, a bar and the rate on one stderr line, only when stderr is a terminal."""

    def __init__(self, total: int | None) -> None:
        self.total = total
        self.enabled = sys.stderr.isatty()
        self._last = 0.0

    def __call__(self, done: int, rate: float, final: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not final and now - self._last < 0.2):
            return
        self._last = now
        if self.total:
            share = min(1.0, done / self.total)
            bar = "#" * int(share * 30)
            line = f"  {done}/{self.total} [{bar:<30}] {rate:.1f} labels/s"
        else:
            line = f"  {done} labelled, {rate:.1f} labels/s"
        print(f"\r{line:<78}", end="\n" if final else "", file=sys.stderr, flush=True)


def input_lines(args: argparse.Namespace) -> Iterable[str]:
    """The texts given on the command line, or the lines of --file (- for standard input)."""
    if args.file is None:
        yield from args.text
        return
    # Bad bytes become U+FFFD on standard input too, whatever the locale: one broken line
    # must not end a whole run. Lines end at \n only (U+2028 inside a message stays there).
    fh: TextIO = (io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace",
                                   newline="\n")
                  if args.file == "-" else open(  # noqa: SIM115
                      args.file, encoding="utf-8", errors="replace", newline="\n"))
    try:
        for line in fh:
            yield line.rstrip("\r\n")
    finally:
        if args.file != "-":
            fh.close()


def terminal_text(text: str) -> str:
    """Text fit for a terminal: control characters (escape sequences, carriage returns, C1
    codes) removed, newlines and tabs kept. JSON output needs none of this: it escapes them."""
    if text.isprintable():
        return text
    return "".join(ch for ch in text
                   if ch in "\n\t" or unicodedata.category(ch) != "Cc")


def json_line(row: object) -> str:
    """One JSON object on one line: the line and paragraph separators a line-splitting reader
    would break on (U+2028, U+2029, U+0085) are escaped."""
    text = json.dumps(row, ensure_ascii=False)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").replace(
        "\x85", "\\u0085")
