"""Tasks by prompt with the real model: outputs, limits, reuse, and tasks.toml problems."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from qwen_aio.engine.task_pass import parse_list
from qwen_aio.engine.tasks import KEYWORDS, UnknownTarget, UnknownTask
from qwen_aio.engine.types import CancelToken, Message
from qwen_aio.foundation.errors import EmptyInput, QwenAioError

EN_TEXT = ("The city opened a new public library downtown last week. It holds fifty thousand "
           "books, a cafe and a reading room for children. Officials hope it becomes a meeting "
           "place for the neighbourhood, and the first days brought long queues of visitors. "
           "The building was designed by a local architect and runs mostly on solar power.")
ZH_TEXT = "我们明天早上八点在学校门口见面，然后一起坐公交车去博物馆参观。"


def han_share(text: str) -> float:
    han = sum(0x4E00 <= ord(c) <= 0x9FFF for c in text)
    latin = sum(c.isascii() and c.isalpha() for c in text)
    return han / max(1, han + latin)


@pytest.fixture(scope="module")
def engine(model_path: Path) -> Iterator[Any]:
    """An engine of this module's own: the counts below must not see other tests' work."""
    from qwen_aio.engine import Engine

    eng = Engine.load(model_path, threads=2, n_ctx=2048, name="test-model",
                      adaptive_threads=False)
    yield eng
    eng.close()


def test_keywords_is_a_json_list_of_strings(engine: Any) -> None:
    r = engine.run_task("keywords", "Researchers at the university built a battery that "
                        "charges an electric car in ten minutes.").consume()
    parsed = json.loads(r.text)  # exactly the grammar's JSON, nothing around it
    assert isinstance(parsed, list) and 1 <= len(parsed) <= 8
    assert all(isinstance(k, str) and k.strip() for k in parsed)
    assert r.items == [k.strip() for k in parsed]
    assert r.stop_reason == "end" and r.task == "keywords"
    assert engine.tasks.get("keywords").structured


def test_translate_picks_the_other_language(engine: Any) -> None:
    to_en = engine.run_task("translate", ZH_TEXT).consume()
    assert to_en.target == "en" and to_en.text.strip()
    assert han_share(to_en.text) < 0.2, to_en.text
    to_zh = engine.run_task("translate", "The museum is closed on Mondays, but the park "
                            "next to it is open every day.").consume()
    assert to_zh.target == "zh" and han_share(to_zh.text) > 0.8, to_zh.text
    forced = engine.run_task("translate", "Good morning, everyone.", target="en").consume()
    assert forced.target == "en"
    with pytest.raises(UnknownTarget):
        engine.run_task("translate", "hello", target="fr")


def test_summary_is_shorter_than_its_input(engine: Any) -> None:
    r = engine.run_task("summary", EN_TEXT).consume()
    assert r.text.strip()
    assert len(engine.format.plain(r.text)) < len(engine.format.plain(EN_TEXT))
    assert r.generated_tokens <= engine.tasks.get("summary").limit(
        len(engine.format.plain(EN_TEXT)))


def test_fix_respects_its_limit(engine: Any) -> None:
    text = "She dont like going to school becuase the teacher are very strict with the kids."
    r = engine.run_task("fix", text).consume()
    limit = engine.tasks.get("fix").limit(len(engine.format.plain(text)))
    assert 0 < r.generated_tokens <= limit
    assert "don't" in r.text or "doesn't" in r.text or "does not" in r.text, r.text


def test_fixed_prefix_is_evaluated_once(engine: Any) -> None:
    assert engine.task_prefix_builds("summary", "zh") == 0  # no other test uses it
    first = engine.run_task("summary", "苹果是红的，香蕉是黄的。葡萄是紫的，柠檬又酸又黄。"
                            ).consume()
    prefix = engine.task_prefix_tokens("summary", "zh")
    assert engine.task_prefix_builds("summary", "zh") == 1 and prefix > 20
    assert first.evaluated_tokens == first.prompt_tokens  # the first use paid for the prefix
    for text in ("昨天下了一整天的雨，我们只好待在家里玩桌游。",
                 "周末我去爬山，风景很美，但是很累。"):
        again = engine.run_task("summary", text).consume()
        # only the new input and the template's closing tokens were evaluated
        assert again.evaluated_tokens == again.prompt_tokens - prefix
    assert engine.task_prefix_builds("summary", "zh") == 1


def test_tasks_between_turns_keep_mood_prefix_and_chat_history(engine: Any) -> None:
    history: list[Message] = []
    for text in ("I passed my driving test today!", "Now I want to drive to the sea."):
        engine.mood(text)
        reply = engine.chat(history, text, max_tokens=16, temperature=0.0)
        for _ in reply:
            pass
        history += [Message("user", text), Message("assistant", reply.text)]
    for task_id, text in (("summary", EN_TEXT), ("keywords", EN_TEXT), ("translate", ZH_TEXT),
                          ("fix", "I has a apple."), ("translate", "See you tomorrow.")):
        engine.run_task(task_id, text).consume()
    assert 1 <= len(engine.task_contexts) <= 4  # the least recently used were freed
    before = engine.mood_evaluated_total
    message = "The weather is lovely and I feel great."
    mood = engine.mood(message)
    assert 0 < mood.evaluated_tokens < engine.mood_prefix_tokens
    assert engine.mood_evaluated_total - before == mood.evaluated_tokens
    turn = engine.chat(history, "Which beach should I pick?", max_tokens=8, temperature=0.0)
    for _ in turn:
        pass
    # the history stayed evaluated: only the new message (and its hint) was
    assert turn.stats.evaluated_tokens < turn.stats.prompt_tokens // 2


def test_mood_is_a_task_too(engine: Any) -> None:
    stream = engine.run_task("mood", "I love this song so much!")
    assert list(stream) == ["Positive"]
    assert stream.result.text == "Positive" and stream.result.stop_reason == "end"
    assert stream.result.prompt_tokens > engine.mood_prefix_tokens
    assert [t.id for t in engine.tasks.list()][:5] == ["mood", "summary", "keywords", "fix",
                                                      "translate"]


def test_unknown_task_empty_input_cancel_and_long_input(engine: Any) -> None:
    with pytest.raises(UnknownTask) as info:
        engine.run_task("poem", "roses")
    assert isinstance(info.value, QwenAioError) and "task list" in str(info.value)
    with pytest.raises(EmptyInput):
        engine.run_task("summary", "  \n ")
    cancel = CancelToken()
    stream = engine.run_task("fix", "Ths sentense has many erors in it.", cancel=cancel)
    next(stream)
    cancel.cancel()
    assert stream.consume().stop_reason == "cancelled"
    long = " ".join(["The committee met again to talk about the budget."] * 120)
    r = engine.run_task("keywords", long).consume()
    assert r.notices and "long" in r.notices[0]
    assert isinstance(r.items, list)


def test_tasks_file_problems_and_overrides(model_path: Path, tmp_path: Path) -> None:
    from qwen_aio.engine import Engine

    path = tmp_path / "tasks.toml"
    path.write_text(
        '[tasks.title]\nname_en = "Title"\nname_zh = "标题"\n'
        'system = "Write a title of at most six words for the user\'s text. Output only it."\n'
        "max_tokens = 12\n\n"
        '[tasks.colors]\nsystem = "List the colours."\noutput = "list"\n'
        "grammar = 'root ::= item\\nitem ::= undefined_rule'\n\n"
        "[tasks.fix]\nmax_tokens = 3\n\n"
        "[tasks.summary]\nmax_tokens = -5\n",
        encoding="utf-8")
    with Engine.load(model_path, threads=2, n_ctx=512, tasks_file=path,
                     max_task_contexts=1) as eng:
        problems = eng.tasks.problems
        assert any(f"{path}:10" in p and "colors" in p and "grammar" in p for p in problems)
        assert any(f"{path}:16" in p and "max_tokens" in p for p in problems)
        assert "colors" not in eng.tasks and "title" in eng.tasks
        assert eng.tasks.get("summary").max_tokens == 160  # the bad override was skipped
        title = eng.run_task("title", "We hiked up the mountain at dawn and saw the sun "
                             "rise over the clouds.").consume()
        assert 0 < title.generated_tokens <= 12 and title.text.strip()
        fixed = eng.run_task("fix", "Thiss is a verry long sentense wiht many mistaks "
                             "in it.").consume()
        assert fixed.generated_tokens == 3 and fixed.stop_reason == "limit"
        assert eng.run_task("keywords", "cats and dogs").consume().items  # built-ins work
        assert len(eng.task_contexts) == 1  # at most max_task_contexts kept


def test_parse_list_keeps_whole_items_of_a_cut_array() -> None:
    assert parse_list('["a", "b"]') == ["a", "b"]
    assert parse_list('["a", "b", "c') == ["a", "b", "c"]
    assert parse_list('["a", "b",') == ["a", "b"]
    assert parse_list("nonsense") == []
    assert KEYWORDS.grammar and "{0,7}" in KEYWORDS.grammar  # at most eight
