"""`qwen-aio eval --sheet DIR`: replies from several configurations, shuffled into blind sheets.

Replies are judged by reading them (shared/REPLIES.md). This writes what a reader needs and
nothing more: each item is a message (with the earlier turns of its conversation), the mood
label shown to the person, and the reply, under a random id; which configuration made it is
only in ``key.json``. A reader returns one line per item (``id score tags why``) in
``scores-*.txt``; `qwen-aio eval --scores DIR` joins them with the key (reply_scores.py).

Configurations:
- ``free``: the reply sampled freely after the hint (the chat pass before the reply plan);
- ``planned``: the shipped chat pass (opener agreed with the mood pass, candidates, checks).
"""

from __future__ import annotations

import csv
import json
import logging
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qwen_aio.bench.common import open_engine
from qwen_aio.engine.engine import Engine
from qwen_aio.engine.types import Message

log = logging.getLogger(__name__)

CONFIGS: dict[str, dict[str, Any]] = {
    "free": {"plan": False},
    "planned": {"plan": True},
    # variants tried while tuning (docs/replies/README.md)
    "planned-p1.1": {"plan": True, "penalty": 1.1},
    "planned-4": {"plan": True, "candidates": 4},
    # earlier readings' plans, re-read beside the next (their replies copied, not remade)
    "planned-v1": {"plan": True},
    "planned-v2": {"plan": True},
    "planned-v3": {"plan": True},
}
PER_SHEET = 130  # items per reader's sheet: one sitting of careful reading


@dataclass
class Item:
    """One reply to judge, and what the key knows about it."""

    config: str
    source: str  # message id, or conversation id and turn
    lang: str
    category: str
    feeling: str  # the writer's feeling as the set records it (Negative/Positive/Mixed)
    message: str
    earlier: list[tuple[str, str]] = field(default_factory=list)  # (role, text)
    label: str = ""
    confidence: float = 0.0
    reply: str = ""
    stop_reason: str = ""
    fallback: bool = False  # the body is a written line (ReplyStats.written), not sampled text
    ttft_ms: float = 0.0
    generated_tokens: int = 0
    candidates: list[tuple[str, list[str]]] = field(default_factory=list)


def read_messages(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def read_conversations(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def _reply(engine: Engine, history: Sequence[Message], text: str, config: str,
           max_tokens: int, item: Item) -> Item:
    from qwen_aio.engine.candidates import CANDIDATES
    from qwen_aio.engine.chat import PENALTY_REPEAT

    options = dict(CONFIGS[config])
    engine._chat.penalty = options.pop("penalty", PENALTY_REPEAT)
    engine._chat.candidates = options.pop("candidates", CANDIDATES)
    mood = engine.mood(text)
    stream = engine.chat(history, text, max_tokens=max_tokens, mood=mood.label,
                         confidence=mood.confidence, **options)
    item.reply = "".join(stream).strip()
    st = stream.stats
    item.label, item.confidence = mood.label, round(mood.confidence, 3)
    item.stop_reason, item.fallback = st.stop_reason, st.written
    item.ttft_ms, item.generated_tokens = round(st.ttft_ms, 1), st.generated_tokens
    item.candidates = st.candidates
    return item


def generate(engine: Engine, configs: Sequence[str], messages: Sequence[dict[str, str]],
             conversations: Sequence[dict[str, Any]], max_tokens: int) -> Iterator[Item]:
    """Every message, then every conversation turn, once per configuration (a conversation's
    history holds that configuration's own replies)."""
    for config in configs:
        for row in messages:
            item = Item(config, row["id"], row["lang"], row["category"], row["feeling"],
                        row["text"])
            yield _reply(engine, [], row["text"], config, max_tokens, item)
        for conv in conversations:
            history: list[Message] = []
            for n, text in enumerate(conv["turns"], start=1):
                item = Item(config, f"{conv['id']}#{n}", conv["lang"], "conversation",
                            conv.get("feeling", ""), text,
                            earlier=[(m.role, m.content) for m in history])
                item = _reply(engine, history, text, config, max_tokens, item)
                yield item
                history += [Message("user", text), Message("assistant", item.reply)]


def _sheet_entry(sid: str, item: Item) -> str:
    lines = [f"### {sid}"]
    for role, text in item.earlier:
        who = "Person" if role == "user" else "Reply"
        lines.append(f"> earlier, {who}: {text}")
    emoji = {"Positive": "😄", "Negative": "😞"}.get(item.label, "")
    lines += [f"**Message:** {item.message}", f"**Label shown:** {emoji} {item.label}",
              f"**Reply:** {item.reply}", ""]
    return "\n".join(lines)


def write_sheets(items: Sequence[Item], out: Path, seed: int = 7) -> list[Path]:
    """Shuffle ``items`` into blind sheets; the key (id -> item) goes to ``key.json``."""
    rng = random.Random(seed)
    order = list(items)
    rng.shuffle(order)
    ids = rng.sample(range(1000, 10000), len(order))
    key = {}
    sheets: list[Path] = []
    header = ("# Replies to judge\n\nScore each reply with ../../../shared/REPLIES.md (1-5, "
              "tags on 1-3). Earlier turns of a conversation come first. Answer one line per "
              "id: `id score tags why`.\n\n")
    for part, start in enumerate(range(0, len(order), PER_SHEET), start=1):
        chunk = order[start:start + PER_SHEET]
        body = []
        for item, sid in zip(chunk, ids[start:start + PER_SHEET], strict=True):
            key[str(sid)] = item.__dict__
            body.append(_sheet_entry(str(sid), item))
        path = out / f"sheet-{part}.md"
        path.write_text(header + "\n".join(body), encoding="utf-8")
        sheets.append(path)
    (out / "key.json").write_text(json.dumps(key, ensure_ascii=False, indent=1),
                                  encoding="utf-8")
    return sheets


def run_sheet(args: Any) -> int:
    """Generate (or reuse ``replies.jsonl``) and write the blind sheets into ``args.sheet``."""
    out: Path = args.sheet
    out.mkdir(parents=True, exist_ok=True)
    replies = out / "replies.jsonl"
    configs = [c for c in args.configs.split(",") if c]
    unknown = [c for c in configs if c not in CONFIGS]
    if unknown:
        raise SystemExit(f"error: unknown configuration(s) {', '.join(unknown)}; known: "
                         f"{', '.join(CONFIGS)}")
    if not replies.exists():
        messages = read_messages(args.messages)[:args.limit or None]
        conversations = (read_conversations(args.conversations)[:args.limit_conversations
                                                                or None]
                         if args.conversations else [])
        engine, _ = open_engine(args)
        with engine, replies.open("w", encoding="utf-8") as f:
            for n, item in enumerate(generate(engine, configs, messages, conversations,
                                              args.max_tokens), start=1):
                f.write(json.dumps(item.__dict__, ensure_ascii=False) + "\n")
                f.flush()
                if args.progress and n % 20 == 0:
                    log.warning("%d replies", n)
    items = [Item(**json.loads(line)) for line in replies.read_text(encoding="utf-8")
             .splitlines() if line.strip()]
    sheets = write_sheets(items, out)
    print(f"{len(items)} replies in {len(sheets)} blind sheet(s): "
          + ", ".join(str(p) for p in sheets))
    return 0
