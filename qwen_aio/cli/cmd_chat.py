"""`qwen-aio chat`: the mood, then the reply, in the terminal; or one turn per line of a file."""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qwen_aio.cli.common import (
    EXIT_OK,
    EXIT_UNAVAILABLE,
    err,
    input_lines,
    json_line,
    open_any_engine,
    terminal_text,
)
from qwen_aio.desktop.continuing import can_continue, offer_longer
from qwen_aio.engine.types import EMOJI, CancelToken, Message
from qwen_aio.foundation.errors import QwenAioError
from qwen_aio.foundation.settings import Settings

if TYPE_CHECKING:
    from qwen_aio.engine.api import EngineAPI as Engine

log = logging.getLogger(__name__)

# What the terminal says after a reply that stopped for its limit (continuing.py decides which)
ENDINGS = {"limit": " […cut at the limit: /continue]",
           "sentence": " […ended early near the limit: /continue for more]"}


@dataclass
class ChatState:
    """Between turns of the terminal chat: whether /continue has a reply to carry on."""

    preset: str  # the reply length in use (short/normal/long)
    stopped: bool = False  # the last reply stopped for its limit ("limit" or "sentence")
    asked: str = ""  # the person's last message, for the longer-preset hint


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--reply", choices=["short", "normal", "long"], default=None,
                   help="reply length (default: the setting, normal)")
    p.add_argument("--file", metavar="PATH", help="one message per line, each its own one-turn "
                   "conversation (no history); - for standard input")
    p.add_argument("--json", action="store_true", help="with --file: one JSON object per line")


def _chat_file(args: argparse.Namespace, engine: Engine, settings: Settings, preset: str,
               limit: int) -> int:
    """Each line is its own one-turn conversation: mood, then the reply; one result a line."""
    for text in input_lines(args):
        row: dict[str, Any] = {"text": text, "preset": preset, "max_tokens": limit}
        try:
            mood = engine.mood(text)
            stream = engine.chat([], text, max_tokens=limit,
                                 system_prompt=settings.system_prompt, mood=mood.label,
                                 confidence=mood.confidence)
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
            print(json_line(row), flush=True)
        elif row["reply"] is None:
            print(f"you> {terminal_text(text)}\n⚠️  {row['error']}\n", flush=True)
        else:
            cut = "  [stopped at the limit: /continue in a chat]" \
                if can_continue(row["stop_reason"]) else ""
            print(f"you> {terminal_text(text)}\n{EMOJI[row['label']]} {row['label']} "
                  f"{row['confidence']:.2f}\nbot> {terminal_text(row['reply'])}{cut}\n",
                  flush=True)
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    if args.file not in (None, "-") and not Path(args.file).is_file():
        err(f"No such file: {args.file}")
        return EXIT_UNAVAILABLE
    settings = Settings.load()
    engine, title = open_any_engine(args, settings)
    preset = args.reply or settings.reply_length
    limit = settings.reply_limit(args.reply)
    if args.file is not None:
        try:
            return _chat_file(args, engine, settings, preset, limit)
        finally:
            engine.close()
    history: list[Message] = []
    cancel = CancelToken()
    state = ChatState(preset)
    err(f"Chatting with {title}; replies up to {limit} tokens. "
         "Ctrl+C stops a reply; /continue goes on with a reply stopped at the limit; "
         "/reset clears the history; /quit or Ctrl+D leaves.")
    try:
        while True:
            try:
                text = input("you> ")
            except (EOFError, KeyboardInterrupt):
                print()
                break
            command = text.strip()
            if command in ("/quit", "/exit"):
                break
            if command == "/reset":
                history.clear()
                state.stopped = False
                continue
            if not command:
                continue
            cancel.reset()
            try:
                _turn(engine, settings, history, text, limit, cancel, state)
            except KeyboardInterrupt:  # Ctrl+C before the reply started: this turn only
                print(" [stopped]", flush=True)
            except QwenAioError as exc:  # one failed turn must not end the chat
                print(flush=True)
                err(f"⚠️  {exc}")
            except Exception as exc:  # anything else too: said, logged, and the chat goes on
                log.exception("A chat turn failed")
                print(flush=True)
                err(f"⚠️  This message failed ({type(exc).__name__}: {exc}). Try again, or "
                    "/reset to start over; details are in the log.")
    finally:
        engine.close()
    return EXIT_OK


def _turn(engine: Engine, settings: Settings, history: list[Message], text: str, limit: int,
          cancel: CancelToken, state: ChatState) -> None:
    """One exchange in the terminal: the mood, then the reply streamed (or more of one that
    stopped for its limit)."""
    command = text.strip()
    if command == "/continue":
        if not state.stopped:
            err("Nothing to continue: /continue goes on with a reply stopped at the limit.")
            return
        stream = engine.continue_reply(history, max_tokens=limit,
                                       system_prompt=settings.system_prompt, cancel=cancel)
        print("bot> …", end="", flush=True)
    else:
        mood = engine.mood(text)
        print(f"{mood.emoji} {mood.label} {mood.confidence:.2f}", flush=True)
        stream = engine.chat(history, text, max_tokens=limit,
                             system_prompt=settings.system_prompt, cancel=cancel,
                             mood=mood.label, confidence=mood.confidence)
        print("bot> ", end="", flush=True)
        state.asked = text
    try:
        for piece in stream:
            print(terminal_text(piece), end="", flush=True)
    except KeyboardInterrupt:
        cancel.cancel()
        print(" [stopped]", end="")
    reason = stream.stats.stop_reason
    state.stopped = can_continue(reason)
    print(ENDINGS.get(reason, "") if state.stopped else "", flush=True)
    if offer_longer(state.asked, reason, state.preset):
        err("Tip: for a list or a long answer, /continue, or start the chat with --reply long.")
    for notice in stream.stats.notices:
        err(f"Note: {notice}")
    if command == "/continue":
        history[-1] = Message("assistant", history[-1].content + stream.text)
    else:
        history += [Message("user", text), Message("assistant", stream.text)]
