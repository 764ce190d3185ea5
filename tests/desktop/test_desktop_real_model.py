"""End to end with the real GGUF model (the session fixture `model_path` from tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from desktop_fakes import make_recorder

from qwen_aio.desktop.backend import ResolvedModel
from qwen_aio.foundation.settings import Settings


def test_real_model_chip_then_stream_then_stop_then_next(qtbot: Any, make_app: Any,
                                                        model_path: Path) -> None:
    settings = Settings(threads=2, n_ctx=1024)
    settings.reply_tokens = {"short": 24, "normal": 48, "long": 400}
    settings.reply_length = "short"
    settings.save()
    app = make_app(resolver=lambda s, r: ResolvedModel(None, model_path, "Qwen2.5-Coder-0.5B"))
    win = app.window
    assert win.isVisible() and "Loading model" in win.state_label.text()
    qtbot.waitUntil(lambda: app.client.model_loaded, timeout=120_000)
    assert win.status_model.text() == "Model: Qwen2.5-Coder-0.5B"

    rec = make_recorder(app.client.worker, win.chat.chips)
    with qtbot.waitSignal(win.turnFinished, timeout=120_000) as done:
        win.input.setPlainText("I just got my dream job and I am so happy!")
        win.send()
    _, text, stats = done.args
    assert stats is not None, win.state_label.text()  # None: the turn failed
    # the recorder's queued slot for replyDone runs after the window's own
    qtbot.waitUntil(lambda: bool(rec.events) and rec.events[-1][0] == "done", timeout=10_000)
    kinds = [kind for kind, _ in rec.events]
    assert kinds[0] == "mood" and kinds[1] == "token" and kinds[-1] == "done"
    assert rec.events[1][1].startswith("😄 Positive")  # chip shown before the first token
    assert text.strip() and stats.stop_reason in ("end", "sentence", "limit")
    assert win.chat.bubbles[-1].text == text
    assert win.status_mood.text().startswith("Mood: ")
    assert win.status_speed.text().startswith("Reply: ")

    # Stop a long reply once it has started; the next message still works.
    win.length_box.setCurrentIndex(2)
    rec.events.clear()
    with qtbot.waitSignal(win.turnFinished, timeout=120_000) as done:
        win.input.setPlainText("Tell me a long, detailed story about a lighthouse keeper.")
        win.send()
        qtbot.waitUntil(lambda: any(kind == "token" for kind, _ in rec.events),
                        timeout=120_000)
        win.stop_button.click()
    _, stopped_text, stats = done.args
    assert stats.stop_reason == "cancelled"
    assert stats.generated_tokens < settings.reply_tokens["long"]
    assert win.chat.bubbles[-1].stopped
    assert win.chat.bubbles[-1].meta_label.text() == "Qwen2.5-Coder-0.5B · stopped"

    win.length_box.setCurrentIndex(0)
    with qtbot.waitSignal(win.turnFinished, timeout=120_000) as done:
        win.input.setPlainText("My cat is sick and I feel awful.")
        win.send()
    _, text, stats = done.args
    assert stats.stop_reason in ("end", "sentence", "limit") and text.strip()
    assert win.chat.chips()[-1].startswith("😞 Negative")

    # The tray's quick check: a label, and nothing stored.
    saved = app.store.message_count()
    with qtbot.waitSignal(app.quick.moodChecked, timeout=60_000) as checked:
        app.quick.input.setText("What a wonderful surprise, thank you!")
        app.quick.check()
    assert checked.args[0].label == "Positive"
    assert app.quick.result.text().startswith("😄 Positive")
    assert app.store.message_count() == saved == 6


def test_real_model_uses_a_corrected_chip(qtbot: Any, make_app: Any, model_path: Path) -> None:
    """Click the chip; the same words then get the person's label, also in the tray's check."""
    settings = Settings(threads=2, n_ctx=1024)
    settings.reply_tokens = {"short": 12, "normal": 12, "long": 12}
    settings.save()
    app = make_app(resolver=lambda s, r: ResolvedModel(None, model_path, "Qwen2.5-Coder-0.5B"))
    win = app.window
    worker = app.client.worker
    with qtbot.waitSignal(worker.correctionsSet, timeout=120_000):  # sent on load: none yet
        qtbot.waitUntil(lambda: app.client.model_loaded, timeout=120_000)

    text = "The package arrived two days after the date they promised."
    with qtbot.waitSignal(win.turnFinished, timeout=120_000) as done:
        win.input.setPlainText(text)
        win.send()
    assert done.args[2] is not None, win.state_label.text()
    bubble = [b for b in win.chat.bubbles if b.role == "user"][-1]
    first = bubble.mood_label
    assert first in ("Positive", "Negative") and not bubble.mood_corrected
    wanted = "Negative" if first == "Positive" else "Positive"

    with qtbot.waitSignal(worker.correctionsSet, timeout=120_000) as applied:
        assert bubble.chip is not None
        bubble.chip.click()
    assert applied.args[0] == 1
    assert bubble.mood_label == wanted and bubble.mood_corrected
    assert app.store.corrections() == [(text, wanted)]

    with qtbot.waitSignal(app.quick.moodChecked, timeout=60_000) as checked:
        app.quick.input.setText("  " + text.upper())  # the same words, other spacing and case
        app.quick.check()
    mood = checked.args[0]
    assert (mood.label, mood.corrected) == (wanted, True)
    assert app.quick.result.text().endswith("· corrected")
