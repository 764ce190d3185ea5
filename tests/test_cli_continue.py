"""Continue after a reply that ended at a sentence near its limit ("sentence"), with the real
stand-in model: `engine.continue_reply` goes on from it, and `qwen-aio chat`'s /continue offers
it (it used to answer "Nothing to continue", as it carried on only replies cut mid-sentence).

Greedy sampling (temperature 0) keeps the replies the same from run to run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from qwen_aio.desktop.continuing import can_continue
from qwen_aio.engine.types import Message
from qwen_aio.foundation.settings import Settings

# Lists asked for, with limits they cannot fit: the reply ends at a line or sentence end within
# the last quarter of the limit (engine/chat.py, grace_tokens). Several, so that a change in
# the chat pass's wording still leaves one that stops at a sentence; the first that does is
# used (also for the terminal test, which runs the same model the same way).
CANDIDATES = (("List ten ideas for a rainy weekend, one per line.", 24),
              ("What are the steps to bake bread?", 24),
              ("Give me some tips for sleeping better.", 16),
              ("Explain how a rainbow forms.", 24))


def sentence_reply(engine: Any) -> tuple[str, int, str]:
    """(message, limit, reply) for the first candidate whose reply stops with "sentence",
    made as the window and `qwen-aio chat` make it (with the message's mood)."""
    tried = []
    for asked, limit in CANDIDATES:
        stream = engine.chat([], asked, max_tokens=limit, temperature=0.0,
                             mood=engine.mood(asked).label)
        reply = "".join(stream)
        if stream.stats.stop_reason == "sentence":
            return asked, limit, reply
        tried.append((asked, limit, stream.stats.stop_reason, reply))
    raise AssertionError(f"no reply stopped at a sentence near its limit: {tried}")


def test_a_reply_ended_at_a_sentence_can_be_continued(engine: Any) -> None:
    asked, limit, first = sentence_reply(engine)
    assert can_continue("sentence") and first.strip()

    history = [Message("user", asked), Message("assistant", first)]
    more = engine.continue_reply(history, max_tokens=limit, temperature=0.0)
    added = "".join(more)
    assert more.stats.stop_reason in ("end", "sentence", "limit"), more.stats
    assert added.strip() and more.stats.generated_tokens > 0, (first, added)
    assert not added.lstrip().startswith(first.strip()[:20])  # more of it, not it again


def run_chat(home: Path, model: Path, stdin: str) -> subprocess.CompletedProcess[str]:
    """`qwen-aio chat` as a person runs it (as tests/test_cli.py does), fed `stdin`."""
    env = {**os.environ, "QWEN_AIO_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "qwen_aio", "chat", "--reply", "short",
                           "--threads", "2", "--model", str(model)], input=stdin, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=300)


def test_chat_continue_after_a_reply_ended_at_a_sentence(engine: Any, model_path: Path,
                                                         qwen_home: Path) -> None:
    asked, limit, _ = sentence_reply(engine)
    settings = Settings()
    settings.reply_tokens = {"short": limit, "normal": 128, "long": 512}
    settings.temperature = 0.0
    settings.save()
    out = run_chat(qwen_home, model_path, f"{asked}\n/continue\n/quit\n")
    assert out.returncode == 0, out.stderr
    assert "Nothing to continue" not in out.stderr, (out.stdout, out.stderr)
    replies = out.stdout.split("bot> ")
    assert len(replies) == 3, out.stdout  # the reply, then its continuation
    assert "[…ended early near the limit: /continue for more]" in replies[1], out.stdout
    assert replies[2].startswith("…") and replies[2][1:].strip(), out.stdout
    assert "--reply long" in out.stderr  # a list was asked: the longer preset is suggested
