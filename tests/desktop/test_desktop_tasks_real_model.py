"""Tasks in the window with the real GGUF model (issue 12): a slash command's result, keywords
as chips parsed from the grammar-bound JSON, a translation in the other script, the chat's
history without the task messages, and a broken tasks.toml said in the status bar while the
built-in tasks still work."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qwen_aio.desktop.backend import ResolvedModel
from qwen_aio.engine.text import language_of
from qwen_aio.foundation.paths import tasks_file
from qwen_aio.foundation.settings import Settings

BROKEN_TASKS = """\
[tasks.shout]
name = "Shout"
system = "Repeat the text in capital letters."
max_tokens = "many"

[tasks.title]
name = "Title"
system = "Give the text a short title."
max_tokens = 16
"""


def test_real_model_tasks_in_the_window(qtbot: Any, make_app: Any, model_path: Path) -> None:
    settings = Settings(threads=2, n_ctx=1024)
    settings.reply_tokens = {"short": 32, "normal": 32, "long": 32}
    settings.save()
    tasks_file().parent.mkdir(parents=True, exist_ok=True)
    tasks_file().write_text(BROKEN_TASKS, encoding="utf-8")
    app = make_app(resolver=lambda s, r: ResolvedModel(None, model_path, "Qwen2.5-Coder-0.5B"))
    win = app.window
    qtbot.waitUntil(lambda: app.client.model_loaded, timeout=120_000)
    qtbot.waitUntil(lambda: bool(win.task_box.tasks), timeout=10_000)
    ids = [t.id for t in win.task_box.tasks]
    assert {"summary", "keywords", "fix", "translate", "title"} <= set(ids)
    assert "shout" not in ids and "mood" not in ids
    assert app.task_problems and "tasks.toml" in app.task_problems[0]
    assert "shout" in app.task_problems[0] or "max_tokens" in app.task_problems[0]
    assert "tasks.toml" in win.statusBar().currentMessage()

    def send(text: str) -> tuple[Any, ...]:
        with qtbot.waitSignal(win.turnFinished, timeout=120_000) as done:
            win.input.setPlainText(text)
            win.send()
        assert done.args[2] is not None, win.state_label.text()
        return tuple(done.args)

    send("I finally finished the project and the whole team went out for dinner.")
    _, raw, _ = send("/keywords The team finished the solar panel project in Berlin after "
                     "two years of work, and the city will install the panels on schools.")
    result = win.chat.bubbles[-1]
    result.flush()
    assert result.keywords is not None and 1 <= len(result.keywords) <= 8, raw
    assert result.task_label is not None and result.task_label.text() == "Keywords"
    user = win.chat.bubbles[-2]
    assert user.mood_label in ("Positive", "Negative")  # the mood pass still ran

    _, translated, _ = send("/translate 今天的天气很好，我们去公园散步了。")
    assert translated.strip() and language_of(translated) == "en", translated

    saved = app.store.messages(win.current_id)  # type: ignore[arg-type]
    assert [m.task for m in saved] == [None, None, "keywords", "keywords", "translate",
                                       "translate"]
    assert [m.content for m in win.turns.history(win.current_id)] == [
        saved[0].content, saved[1].content]
