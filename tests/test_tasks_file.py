"""tasks.toml without the model: fields, merging over built-ins, messages with file and line."""

from __future__ import annotations

from pathlib import Path

from qwen_aio.engine.tasks import SUMMARY, TRANSLATE, resolve_target
from qwen_aio.engine.tasks_file import LIST_GRAMMAR, load_tasks_file


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tasks.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_file_is_no_problem(tmp_path: Path) -> None:
    loaded = load_tasks_file(tmp_path / "nope.toml")
    assert loaded.tasks == [] and loaded.problems == []


def test_a_syntax_error_names_the_line_and_skips_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[tasks.a]\nsystem = "x"\n\n[tasks.b\nsystem = "y"\n')
    loaded = load_tasks_file(path)
    assert loaded.tasks == []
    assert len(loaded.problems) == 1 and f"{path}:4" in loaded.problems[0]
    assert "not valid TOML" in loaded.problems[0]


def test_new_task_and_overrides_merge_over_the_built_in(tmp_path: Path) -> None:
    path = write(tmp_path, '''
[tasks.title]
name = "Title"
system = "Write a title."
max_tokens = 16
temperature = 0.3

[tasks.summary]
max_tokens = 60

[tasks.tags]
system_zh = "列出标签。"
output = "list"

[tasks.translate]
system_en = "Into English, please."
''')
    loaded = load_tasks_file(path)
    assert loaded.problems == []
    tasks = {t.id: t for t in loaded.tasks}
    title = tasks["title"]
    assert (title.name_en, title.name_zh, title.max_tokens) == ("Title", "Title", 16)
    assert title.temperature == 0.3 and title.source == f"{path}:2" and not title.builtin
    summary = tasks["summary"]
    assert summary.max_tokens == 60 and summary.variants == SUMMARY.variants
    assert summary.max_sentences == 3 and summary.name_zh == "摘要"
    tags = tasks["tags"]
    assert tags.structured and tags.grammar == LIST_GRAMMAR and tags.prompt.system == "列出标签。"
    translate = tasks["translate"]
    assert translate.prompt_for("en").system == "Into English, please."
    assert translate.prompt_for("zh") == TRANSLATE.prompt_for("zh")


def test_each_bad_task_is_skipped_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, '''[tasks.ok]
system = "Fine."

[tasks.mood]
system = "Be happy."

[tasks.nosystem]
max_tokens = 5

[tasks.typo]
system = "x"
max_tokenz = 5

[tasks.hot]
system = "x"
temperature = "warm"

[tasks.ex]
system = "x"
examples = [["only one"]]

[tasks."Bad Id"]
system = "x"
''')
    loaded = load_tasks_file(path)
    assert [t.id for t in loaded.tasks] == ["ok"]
    text = "\n".join(loaded.problems)
    for line, words in ((4, "mood pass"), (7, "system prompt"), (12, "max_tokenz"),
                        (16, "temperature"), (20, "examples"), (22, "id")):
        assert any(p.startswith(f"{path}:{line}:") and words in p for p in loaded.problems), (
            line, text)
    assert all("skipped" in p for p in loaded.problems)


def test_targets_and_limits() -> None:
    assert resolve_target("今天很好", None) == "en"
    assert resolve_target("Nice day", None) == "zh"
    assert resolve_target("Nice day", "English") == "en"
    assert TRANSLATE.limit(10) == 36 and TRANSLATE.limit(10_000) == TRANSLATE.max_tokens
    assert SUMMARY.variant("今天天气很好") == "zh" and SUMMARY.variant("hello") == "en"


def test_the_readme_example_loads_without_problems(tmp_path: Path) -> None:
    import re

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```toml\n(.*?)```", readme, re.S)
    assert block is not None
    loaded = load_tasks_file(write(tmp_path, block.group(1)))
    assert loaded.problems == []
    assert [t.id for t in loaded.tasks] == ["title", "polite", "yesno", "tags", "summary"]
