"""`qwen-aio`: mood labels, a terminal chat, model management; no subcommand opens the window.

Subcommands are loaded by name, and only the one that runs: `qwen-aio --help` and the window
import neither llama.cpp nor the benchmark.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from qwen_aio.cli.common import EXIT_UNAVAILABLE, err
from qwen_aio.desktop.options import add_window_options
from qwen_aio.foundation import __version__
from qwen_aio.foundation.errors import QwenAioError
from qwen_aio.foundation.logs import setup_logging

# name -> (module with configure(parser) and run(args), one line of help)
COMMANDS: dict[str, tuple[str, str]] = {
    "mood": ("qwen_aio.cli.cmd_mood", "label the mood of texts"),
    "chat": ("qwen_aio.cli.cmd_chat", "chat in the terminal"),
    "task": ("qwen_aio.cli.cmd_task",
             "summary, keywords, fix, translate or your own task (`task list`)"),
    "models": ("qwen_aio.cli.cmd_models", "list, download, verify models"),
    "install-desktop": ("qwen_aio.cli.cmd_desktop", "add the app to the desktop menu (Linux)"),
    "bench": ("qwen_aio.bench.benchmark",
              "side-by-side speed benchmark (--startup: start-up time)"),
    "eval": ("qwen_aio.bench.evaluate", "mood accuracy on a TSV file"),
}
ALL = "*"  # build_parser(ALL): every subcommand configured (tests, documentation)


def _common(parser: argparse.ArgumentParser, *, top: bool) -> None:
    # Subcommands repeat the options with SUPPRESS defaults, so `qwen-aio --model X mood` and
    # `qwen-aio mood --model X` both work (a subparser's own default would overwrite X).
    default = (lambda value: value) if top else (lambda value: argparse.SUPPRESS)
    parser.add_argument("--model", metavar="ID|PATH", default=default(None),
                        help="catalogue id or path to a .gguf (default: $QWEN_AIO_MODEL, the "
                        "setting, then qwen1.5-0.5b-chat)")
    parser.add_argument("--backend", metavar="URL", default=default(None),
                        help="an OpenAI-compatible inference server (llama-server, "
                        "`python -m llama_cpp.server`, vLLM), e.g. http://127.0.0.1:8000/v1, "
                        "instead of the local model (default: the backend_url setting; "
                        "`--backend local` forces the local model); API key from "
                        "$QWEN_AIO_API_KEY or $OPENAI_API_KEY; with it, --model names the "
                        "server's model")
    parser.add_argument("--threads", type=int, metavar="N", default=default(None),
                        help="CPU threads for llama.cpp (default: physical cores)")
    parser.add_argument("-v", "--verbose", action="count", default=default(0),
                        help="more log output on stderr (-vv for llama.cpp's own)")


def _unavailable(name: str, exc: ImportError) -> Callable[[argparse.Namespace], int]:
    def run(_args: argparse.Namespace) -> int:
        err(f"`qwen-aio {name}` is not part of this build ({exc}); it needs the project "
            "installed with pip (see the README).")
        return EXIT_UNAVAILABLE

    return run


def build_parser(command: str | None = ALL) -> argparse.ArgumentParser:
    """The parser; only `command`'s module is imported (every one for ALL, none for None)."""
    common = argparse.ArgumentParser(add_help=False)
    _common(common, top=False)
    parser = argparse.ArgumentParser(
        prog="qwen-aio",
        description="A local assistant: one small model labels the mood of each message and "
        "replies with empathy. Without a subcommand, opens the desktop window.")
    _common(parser, top=True)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    add_window_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, helptext) in COMMANDS.items():
        chosen = command in (ALL, name)
        p = sub.add_parser(name, parents=[common], help=helptext, add_help=chosen)
        if not chosen:
            continue
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:  # a frozen build leaves the benchmark out
            if not (exc.name and module.startswith(exc.name)):
                raise
            p.set_defaults(func=_unavailable(name, exc))
            continue
        mod.configure(p)
        p.set_defaults(func=mod.run)
    return parser


def chosen_command(argv: Sequence[str]) -> str | None:
    """The subcommand in `argv`, found without importing any (top-level --help exits here)."""
    args, _ = build_parser(None).parse_known_args(list(argv))
    return args.command


def main(argv: Sequence[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(chosen_command(argv)).parse_args(argv)
    setup_logging(args.verbose)
    func = getattr(args, "func", None)
    if func is None:
        from qwen_aio.cli.cmd_desktop import open_window as func
    try:
        return int(func(args))
    except QwenAioError as exc:
        err(f"Error: {exc}")
        return EXIT_UNAVAILABLE
    except KeyboardInterrupt:
        err("Interrupted.")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
