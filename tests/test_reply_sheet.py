"""The blind-reading loop: sheets that hide which configuration made a reply, and the table
made from the readers' scores."""

from __future__ import annotations

import json
from pathlib import Path

from test_cli import run

from qwen_aio.bench.reply_scores import format_table, read_scores, tabulate
from qwen_aio.bench.reply_sheet import CONFIGS, Item, write_sheets

DEV = Path(__file__).resolve().parents[1] / "docs" / "replies" / "dev"


def _items() -> list[Item]:
    items = []
    for config in ("free", "planned"):
        items.append(Item(config, "en-001", "en", "loss", "Negative", "My dog died.",
                          label="Negative", confidence=0.9, reply=f"reply by {config}"))
        items.append(Item(config, "conv-01#2", "zh", "conversation", "", "后来呢",
                          earlier=[("user", "我今天面试了"), ("assistant", "怎么样？")],
                          label="Positive", reply=f"回复 {config}"))
    return items


def test_sheets_are_blind_and_the_key_knows_every_id(tmp_path: Path) -> None:
    sheets = write_sheets(_items(), tmp_path)
    text = "".join(p.read_text(encoding="utf-8") for p in sheets)
    key = json.loads((tmp_path / "key.json").read_text(encoding="utf-8"))
    assert len(key) == 4
    for config in CONFIGS:
        assert f"config: {config}" not in text and f'"{config}"' not in text
    for sid, item in key.items():
        assert f"### {sid}" in text
        assert item["config"] in ("free", "planned")
    assert "> earlier, Person: 我今天面试了" in text and "> earlier, Reply: 怎么样？" in text
    assert text.count("**Label shown:** 😞 Negative") == 2


def test_scores_make_a_table_per_configuration_and_language(tmp_path: Path) -> None:
    write_sheets(_items(), tmp_path)
    key = json.loads((tmp_path / "key.json").read_text(encoding="utf-8"))
    by = {(v["config"], v["lang"]): k for k, v in key.items()}
    (tmp_path / "scores-1.txt").write_text(
        f"{by['free', 'en']}\t1\topposite,generic\tcheer to a death\n"
        f"{by['planned', 'en']}\t4\t-\tkind\n"
        f"{by['free', 'zh']} 3 generic stock line\n"
        "not a score line\n", encoding="utf-8")
    scores = read_scores(tmp_path)
    assert len(scores) == 3
    rows = tabulate(key, scores)
    free_en, planned_en = rows["free", "en"], rows["planned", "en"]
    assert (free_en.n, free_en.not_wrong, free_en.tags["opposite"]) == (1, 0, 1)
    assert (planned_en.acceptable, planned_en.neg_n, planned_en.neg_not_wrong) == (1, 1, 1)
    assert rows["free", "zh"].tags["generic"] == 1
    table = format_table(rows)
    assert "| planned | en | 1 | 100% | 100% | 4.00 | 100% (1) |" in table


def test_eval_sheet_and_scores_from_the_command_line(tmp_path: Path, qwen_home: Path,
                                                     model_path: Path) -> None:
    out = tmp_path / "round"
    done = run("eval", "--sheet", str(out), "--messages", str(DEV / "messages.tsv"),
               "--limit", "2", "--conversations", str(DEV / "conversations.jsonl"),
               "--limit-conversations", "1", "--max-tokens", "48", "--model", str(model_path),
               home=qwen_home)
    assert done.returncode == 0, done.stderr
    replies = [json.loads(line) for line in (out / "replies.jsonl").read_text(
        encoding="utf-8").splitlines()]
    turns = len(json.loads((DEV / "conversations.jsonl").read_text(
        encoding="utf-8").splitlines()[0])["turns"])
    assert len(replies) == 2 * (2 + turns)
    assert {r["config"] for r in replies} == {"free", "planned"}
    assert all(r["reply"] for r in replies)
    key = json.loads((out / "key.json").read_text(encoding="utf-8"))
    (out / "scores-a.txt").write_text("".join(f"{sid}\t3\tgeneric\t-\n" for sid in key),
                                      encoding="utf-8")
    table = run("eval", "--scores", str(out), home=qwen_home)
    assert table.returncode == 0, table.stderr
    assert "| free | all |" in table.stdout and (out / "table.md").exists()
    bad = run("eval", "--sheet", str(tmp_path / "x"), "--configs", "nope", "--model",
              str(model_path), home=qwen_home)
    assert bad.returncode != 0 and "unknown configuration" in bad.stderr
