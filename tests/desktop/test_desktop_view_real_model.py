"""The conversation view's actions with the real GGUF model and the real SQLite file:
a Markdown reply, Regenerate (the old reply leaves the store and the history), Edit, then more."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qwen_aio.desktop.backend import ResolvedModel
from qwen_aio.desktop.markdown_view import MarkdownView
from qwen_aio.desktop.store import ConversationStore
from qwen_aio.foundation.paths import conversations_db
from qwen_aio.foundation.settings import Settings


def test_real_model_markdown_regenerate_edit(qtbot: Any, make_app: Any,
                                             model_path: Path) -> None:
    settings = Settings(threads=2, n_ctx=1024, temperature=0.8)
    settings.reply_tokens = {"short": 48, "normal": 48, "long": 48}
    settings.save()
    app = make_app(resolver=lambda s, r: ResolvedModel(None, model_path, "Qwen2.5-Coder-0.5B"))
    win = app.window
    qtbot.waitUntil(lambda: app.client.model_loaded, timeout=120_000)

    def turn(action: Any) -> tuple[Any, ...]:
        with qtbot.waitSignal(win.turnFinished, timeout=120_000) as done:
            action()
        assert done.args[2] is not None, win.state_label.text()
        return tuple(done.args)

    def send(text: str) -> tuple[Any, ...]:
        win.input.setPlainText(text)
        return turn(win.send)

    _, first, _ = send("Write a Python function that adds two numbers, in a code block.")
    reply = win.chat.bubbles[-1]
    assert isinstance(reply.body, MarkdownView) and reply.text == first
    if "```" in first:  # the fence marks are not shown: the code is
        assert "```" not in reply.body.text()
    assert reply.meta_label is not None and reply.meta_label.text().startswith("Qwen2.5-Coder")

    _, again, stats = turn(win.turns.regenerate)
    assert again.strip() and stats.stop_reason in ("end", "sentence", "limit")
    saved = app.store.messages(win.current_id)  # type: ignore[arg-type]
    assert [m.role for m in saved] == ["user", "assistant"] and saved[1].content == again
    assert [b.text for b in win.chat.bubbles][1] == again

    _, later, _ = send("Thanks!")
    assert later.strip()
    win.turns.edit_last()
    assert win.input.toPlainText() == "Thanks!"
    assert [m.content for m in app.store.messages(win.current_id)] == [  # type: ignore[arg-type]
        saved[0].content, again]
    _, final, _ = send("Thank you very much!")
    assert final.strip()
    # What is in the file is what the window shows.
    on_disk = ConversationStore(conversations_db())
    try:
        rows = [(m.role, m.content) for m in on_disk.messages(win.current_id)]  # type: ignore[arg-type]
    finally:
        on_disk.close()
    assert rows == [(b.role, b.text) for b in win.chat.bubbles]
    assert rows[1][1] == again and rows[2][1] == "Thank you very much!"
