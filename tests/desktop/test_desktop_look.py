"""Issue 11, look and feel: the tray popup, the theme setting, HiDPI drawing, the timeline's
accessible summary and tooltips."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from desktop_fakes import FakeEngine
from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QSize, Qt
from PySide6.QtGui import QColor, QHelpEvent, QImage, QPalette
from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QToolTip

from qwen_aio.desktop import theme
from qwen_aio.desktop.backend import MoodResult, ResolvedModel
from qwen_aio.desktop.i18n import Translator
from qwen_aio.desktop.icons import app_icon, app_pixmap, mood_icon, mood_pixmap
from qwen_aio.desktop.timeline import MoodTimeline
from qwen_aio.desktop.tray import place_popup
from qwen_aio.foundation.settings import Settings

LONG = ("I finally finished the marathon after months of training and my knees hurt but "
        "I am so proud of myself today")


@pytest.fixture(autouse=True)
def _restore_palette(qapp: QApplication) -> Iterator[None]:
    """A theme test leaves the shared QApplication as it found it."""
    before = QPalette(qapp.palette())
    yield
    qapp.setPalette(before)


def _light() -> QPalette:
    return theme.light_palette()


def _image(widget: Any, dpr: float = 1.0) -> QImage:
    return widget.render_pixmap(dpr).toImage() if hasattr(widget, "render_pixmap") \
        else widget.grab().toImage()


# --- the tray's quick popup -----------------------------------------------------------------

def test_place_popup_sits_by_the_icon_stays_on_screen_and_off_the_status_bar() -> None:
    area = QRect(0, 0, 1280, 770)  # a panel below
    size = QSize(400, 150)
    icon = QRect(1240, 775, 24, 24)  # bottom-right tray, just outside the available area
    # The icon geometry lies outside `area` here (it is on the panel): corner placement.
    pos = place_popup(size, area, icon)
    assert QRect(pos, size).bottomRight().x() <= area.right()
    assert area.contains(QRect(pos, size))
    # An icon inside the area (a tray drawn over it): above it, centred on it, clamped.
    icon = QRect(1000, 740, 24, 24)
    pos = place_popup(size, area, icon)
    assert pos.y() + size.height() <= icon.top()
    assert abs(pos.x() + size.width() // 2 - icon.center().x()) <= 1
    # A tray along the top: below the icon.
    top_icon = QRect(600, 2, 24, 24)
    assert place_popup(size, area, top_icon).y() > top_icon.bottom()
    # No icon geometry: the bottom-right corner of the available area.
    pos = place_popup(size, area, None)
    assert area.contains(QRect(pos, size))
    assert pos.x() + size.width() > 1200 and pos.y() + size.height() > 700
    # A maximised window's status bar along the bottom: the popup goes above it.
    bar = QRect(0, 740, 1280, 30)
    for anchor in (None, QRect(1000, 745, 24, 24)):
        pos = place_popup(size, area, anchor, bar)
        assert not QRect(pos, size).intersects(bar), anchor
        assert area.contains(QRect(pos, size))
    # The status bar at the top of a tiny area: below it, still on screen.
    small = QRect(0, 0, 500, 400)
    bar = QRect(0, 0, 500, 200)
    pos = place_popup(size, small, None, bar)
    assert not QRect(pos, size).intersects(bar)
    assert small.contains(QRect(pos, size))


def test_tray_click_toggles_the_popup_and_esc_closes_it(
        qtbot: Any, make_app: Any, fake_engine: FakeEngine,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: True))
    app = make_app(fake_engine, use_tray=True)
    assert app.tray is not None
    popup = app.quick
    trigger = QSystemTrayIcon.ActivationReason.Trigger
    app.tray._on_activated(trigger)
    assert popup.isVisible()
    app.tray._on_activated(trigger)  # a second click on the icon closes it
    assert not popup.isVisible()
    app.tray._on_activated(trigger)
    qtbot.waitUntil(popup.isVisible)
    qtbot.keyClicks(popup.input, "hello")
    qtbot.keyClick(popup.input, Qt.Key.Key_Escape)  # with the focus in the line edit
    assert not popup.isVisible()
    # The menu's "Quick mood check…" only opens it (twice: still open).
    app.tray.quick_action.trigger()
    app.tray.quick_action.trigger()
    assert popup.isVisible()


def test_the_popup_does_not_cover_the_status_bar(qtbot: Any, make_app: Any,
                                                 fake_engine: FakeEngine) -> None:
    app = make_app(fake_engine)
    win = app.window
    screen = win.screen().availableGeometry()
    win.setGeometry(screen.adjusted(0, 30, 0, 0))  # as good as maximised
    qtbot.waitExposed(win)
    bar = app._status_bar_rect()
    assert bar is not None and bar.height() > 0
    # The icon in the window's bottom-right corner, right on its status bar.
    anchor = QRect(bar.right() - 30, bar.top() + 2, 22, 22)
    app.quick.popup(anchor)
    qtbot.waitUntil(app.quick.isVisible)
    got = app.quick.frameGeometry()
    assert not got.intersects(bar), (got, bar)
    assert screen.contains(got)
    win.hide()  # no window: nothing to avoid
    assert app._status_bar_rect() is None


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_quick_check_changes_the_tray_mood_and_the_popup_says_so(
        qtbot: Any, make_app: Any, fake_engine: FakeEngine, monkeypatch: pytest.MonkeyPatch,
        language: str) -> None:
    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: True))
    app = make_app(fake_engine, use_tray=True, language=language)
    qtbot.waitUntil(lambda: app.client.model_loaded)
    hint = app.quick.hint.text()
    assert hint == Translator(language)("quick.tray_note")
    assert ("tray icon" in hint) if language == "en" else ("托盘图标" in hint)
    assert app.tray.last_label is None
    saved = app.store.message_count()
    app.quick.input.setText("This is an awful, sad day")
    with qtbot.waitSignal(app.quick.moodChecked):
        app.quick.check()
    assert app.tray.last_label == "Negative"  # what the hint promised
    assert app.store.message_count() == saved  # and nothing saved


# --- theme ----------------------------------------------------------------------------------

def _mood_points() -> tuple[list[tuple[str, float]], list[str]]:
    points = [("Positive", 0.9), ("Negative", 0.8), ("Positive", 0.6), ("Negative", 0.95)]
    return points, [LONG, "awful day", "ok I guess", "my cat is sick"]


@pytest.mark.parametrize("dark", [False, True])
def test_timeline_and_popup_read_well_in_both_palettes(qtbot: Any, make_app: Any,
                                                       fake_engine: FakeEngine,
                                                       dark: bool) -> None:
    palette = theme.dark_palette() if dark else _light()
    QApplication.setPalette(palette)
    assert theme.is_dark(palette) == dark
    bg = palette.color(QPalette.ColorRole.Window)

    timeline = MoodTimeline(Translator("en"))
    qtbot.addWidget(timeline)
    timeline.resize(400, 80)
    timeline.set_points(*_mood_points())
    base = timeline.palette().color(timeline.backgroundRole())
    assert theme.contrast(theme.grid(timeline.palette()), base) >= 1.5
    assert theme.contrast(theme.muted(timeline.palette()), base) >= 3.0
    for label in ("Positive", "Negative"):
        assert theme.contrast(theme.chart_hue(timeline.palette(), label), base) >= 3.0
    img = _image(timeline)
    # The rendered grid line (dashed, on the midline) shows against the background.
    mid = img.height() // 2
    row = [QColor(img.pixel(x, mid)) for x in range(30, img.width() - 14)]
    assert max(theme.contrast(c, base) for c in row) >= 1.4
    # The rendered background is the palette's: dark in dark mode.
    assert (QColor(img.pixel(2, 2)).lightness() < 128) == dark

    Settings(theme="dark" if dark else "light").save()  # start() applies the setting
    app = make_app(fake_engine)
    qtbot.waitUntil(lambda: app.client.model_loaded)
    popup = app.quick
    popup.popup()
    app.quick.input.setText("This is an awful, sad day")
    with qtbot.waitSignal(popup.moodChecked):
        popup.check()
    hint_fg = _css_color(popup.hint.styleSheet())
    assert theme.contrast(hint_fg, bg) >= 3.0, popup.hint.styleSheet()
    chip_bg, chip_fg, _ = theme.mood_colors(palette, "Negative")
    assert theme.css(chip_bg) in popup.result.styleSheet()
    assert theme.contrast(chip_fg, chip_bg) >= 3.0
    shot = popup.grab().toImage()
    corner = QColor(shot.pixel(3, shot.height() - 3))
    assert (corner.lightness() < 128) == dark


def _css_color(sheet: str) -> QColor:
    value = sheet.split("color:", 1)[1].split(";", 1)[0].strip()
    color = QColor(value)
    assert color.isValid(), sheet
    return color


def test_palette_followers_restyle_when_the_theme_changes(qtbot: Any, make_app: Any,
                                                         fake_engine: FakeEngine) -> None:
    QApplication.setPalette(_light())
    app = make_app(fake_engine)
    qtbot.waitUntil(lambda: app.client.model_loaded)
    popup = app.quick
    popup._show_result(MoodResult("great", "Positive", 0.9, 1.0, False))
    light_hint = _css_color(popup.hint.styleSheet())
    light_chip = popup.result.styleSheet()
    QApplication.setPalette(theme.dark_palette())
    popup.popup()  # hidden until now: restyled when shown at the latest
    qtbot.waitUntil(lambda: popup.hint.styleSheet() != f"color:{theme.css(light_hint)};")
    dark_hint = _css_color(popup.hint.styleSheet())
    assert dark_hint.lightness() > light_hint.lightness()
    assert popup.result.styleSheet() != light_chip
    bg, _, _ = theme.mood_colors(theme.dark_palette(), "Positive")
    assert theme.css(bg) in popup.result.styleSheet()


def test_follow_palette_runs_once_per_real_change(qtbot: Any) -> None:
    from PySide6.QtWidgets import QLabel

    QApplication.setPalette(_light())
    label = QLabel("x")
    qtbot.addWidget(label)
    calls: list[bool] = []

    def apply() -> None:
        calls.append(theme.is_dark(theme.palette_of(label)))
        label.setStyleSheet(f"color:{theme.css(theme.muted(theme.palette_of(label)))};")

    theme.follow_palette(label, apply)
    assert calls == [False]
    QApplication.setPalette(theme.dark_palette())
    QApplication.processEvents()
    assert calls == [False, True]
    QApplication.setPalette(theme.dark_palette())  # the same colours again: no re-run
    QApplication.processEvents()
    assert calls == [False, True]


def test_theme_setting_saved_applied_at_start_and_on_change(
        qtbot: Any, make_app: Any, fake_engine: FakeEngine, qapp: QApplication) -> None:
    from qwen_aio.desktop.settings_dialog import SettingsDialog

    QApplication.setPalette(_light())
    Settings(theme="dark").save()
    app = make_app(fake_engine)  # start() applies the saved theme
    assert theme.is_dark(qapp.palette())
    qtbot.waitUntil(lambda: theme.is_dark(app.window.timeline.palette()))
    bg = QColor(app.window.timeline.render_pixmap().toImage().pixel(2, 2))
    assert bg.lightness() < 128  # the chart really is painted dark

    dlg = SettingsDialog(app.settings, app.tr, app.window)
    qtbot.addWidget(dlg)
    assert [dlg.theme.itemData(i) for i in range(dlg.theme.count())] == [
        "system", "light", "dark"]
    assert dlg.theme.currentData() == "dark"
    dlg.theme.setCurrentIndex(dlg.theme.findData("light"))
    app.apply_settings(dlg.result_settings())
    assert not theme.is_dark(qapp.palette())
    assert Settings.load().theme == "light"  # saved in the settings file
    # "system": the platform's own palette again (light offscreen), nothing of ours left in it.
    QApplication.setPalette(theme.dark_palette())
    new = Settings.load()
    new.theme = "system"
    app.apply_settings(new)
    assert not theme.is_dark(qapp.palette())
    assert qapp.palette().resolveMask() == 0  # so a desktop dark-mode switch still reaches us
    assert Settings.from_dict({"theme": "purple"}).theme == "system"


def test_theme_option_for_one_run_is_not_saved() -> None:
    import argparse

    from qwen_aio.desktop.options import add_window_options, window_argv

    parser = argparse.ArgumentParser()
    add_window_options(parser)
    args = parser.parse_args(["--theme", "dark"])
    assert args.theme == "dark"
    assert window_argv(args) == ["--theme", "dark"]
    with pytest.raises(SystemExit):
        parser.parse_args(["--theme", "pink"])


# --- HiDPI ------------------------------------------------------------------------------------

def test_icons_are_drawn_at_the_device_pixel_ratio() -> None:
    for dpr in (1.0, 2.0, 1.5):
        pix = app_pixmap(32, dpr)
        assert pix.devicePixelRatio() == dpr
        assert pix.width() == round(32 * dpr)
        assert pix.deviceIndependentSize().width() == pytest.approx(32)
        badge = mood_pixmap("Negative", 32, dpr)
        assert badge.devicePixelRatio() == dpr and badge.width() == round(32 * dpr)
        # The badge is drawn in logical pixels: bottom-right quarter, red, at every ratio.
        c = QColor(badge.toImage().pixel(round(24 * dpr), round(24 * dpr)))
        assert c.red() > 180 and c.green() < 120, (dpr, c.name())
    for icon in (app_icon(), mood_icon("Positive")):
        hi = icon.pixmap(QSize(32, 32), 2.0)
        assert hi.devicePixelRatio() == 2.0 and hi.width() == 64
        # A real 2x image, not the 1x one blown up: the 64-pixel row has more detail.
        assert hi.toImage().width() == 64


def _dot_pixels(img: QImage, hue: QColor) -> int:
    n = 0
    for y in range(img.height()):
        for x in range(img.width()):
            c = QColor(img.pixel(x, y))
            if abs(c.red() - hue.red()) + abs(c.green() - hue.green()) \
                    + abs(c.blue() - hue.blue()) < 40:
                n += 1
    return n


def test_timeline_is_drawn_at_the_device_pixel_ratio(qtbot: Any) -> None:
    QApplication.setPalette(_light())
    timeline = MoodTimeline(Translator("en"))
    qtbot.addWidget(timeline)
    timeline.resize(300, 80)
    timeline.set_points([("Positive", 0.9), ("Negative", 0.9)])
    hue = theme.chart_hue(timeline.palette(), "Positive")
    one, two = timeline.render_pixmap(1.0), timeline.render_pixmap(2.0)
    assert (two.width(), two.height(), two.devicePixelRatio()) == (600, 160, 2.0)
    dots1, dots2 = _dot_pixels(one.toImage(), hue), _dot_pixels(two.toImage(), hue)
    assert dots1 > 10
    assert 3.0 < dots2 / dots1 < 5.0  # the dot drawn with 4x the pixels, not upscaled 1x


def test_with_qt_scale_factor_2_icons_and_timeline_are_2x(tmp_path: Path) -> None:
    script = tmp_path / "hidpi.py"
    script.write_text(
        "from PySide6.QtCore import QSize\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from qwen_aio.desktop.i18n import Translator\n"
        "from qwen_aio.desktop.icons import app_icon, mood_icon, screen_ratio\n"
        "from qwen_aio.desktop.timeline import MoodTimeline\n"
        "t = MoodTimeline(Translator('en')); t.resize(200, 80)\n"
        "t.set_points([('Positive', 0.9)])\n"
        "g = t.grab()\n"
        "p = mood_icon('Positive').pixmap(QSize(32, 32))\n"
        "print(screen_ratio(), g.devicePixelRatio(), g.width(), p.devicePixelRatio(),"
        " p.width(), app_icon().pixmap(QSize(16, 16)).width())\n")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QT_SCALE_FACTOR="2")
    out = subprocess.run([sys.executable, str(script)], env=env, capture_output=True,
                         text=True, timeout=60, check=True).stdout.split()
    assert out == ["2.0", "2.0", "400", "2.0", "64", "32"], out


# --- the timeline's words: accessible summary and per-point tooltips -------------------------

def test_timeline_accessible_description_and_point_tooltips(qtbot: Any) -> None:
    timeline = MoodTimeline(Translator("en"))
    qtbot.addWidget(timeline)
    timeline.resize(400, 80)
    assert timeline.accessibleDescription() == "No messages yet"
    points, texts = _mood_points()
    timeline.set_points(points, texts)
    assert timeline.accessibleName() == "Mood timeline"
    assert timeline.accessibleDescription() == (
        "4 messages: 2 positive, 2 negative; latest negative")
    timeline.set_points(points[:3], texts[:3])
    assert timeline.accessibleDescription().endswith("latest positive")
    timeline.set_points(points, texts)

    first = timeline._point(0, *points[0])
    tip = timeline.tooltip_at(first.toPoint())
    assert tip.startswith("#1 😄 Positive 90%\n")
    quoted = tip.split("\n", 1)[1]
    assert len(quoted) == 80 and quoted.endswith("…") and LONG.startswith(quoted[:-1])
    second = timeline._point(1, *points[1])
    assert timeline.tooltip_at(second.toPoint()) == "#2 😞 Negative 80%\nawful day"
    assert timeline.tooltip_at(QPoint(2, 2)) == timeline.toolTip()  # between points: summary

    # Hovering really shows it (Qt's tooltip event).
    QToolTip.hideText()
    pos = second.toPoint()
    event = QHelpEvent(QEvent.Type.ToolTip, pos, timeline.mapToGlobal(pos))
    timeline.show()
    QApplication.sendEvent(timeline, event)
    qtbot.waitUntil(lambda: QToolTip.text() == "#2 😞 Negative 80%\nawful day")
    QToolTip.hideText()

    zh = MoodTimeline(Translator("zh"))
    qtbot.addWidget(zh)
    zh.set_points(points, texts)
    assert zh.accessibleName() == "情绪时间线"
    assert zh.accessibleDescription() == "4 条消息：2 条正面，2 条负面；最近一条负面"
    assert timeline.point_at(QPointF(-50, -50)) is None
    timeline.set_points(points[1:2], texts[1:2])
    assert timeline.accessibleDescription() == "1 message: negative"


def test_timeline_quotes_the_saved_messages_of_the_open_conversation(
        qtbot: Any, make_app: Any, fake_engine: FakeEngine) -> None:
    """Through the real store (SQLite file in the test's home) and the window's refresh."""
    app = make_app(fake_engine)
    qtbot.waitUntil(lambda: app.client.model_loaded)
    win = app.window
    for text in ("what a great gift", "This is an awful, sad day"):
        with qtbot.waitSignal(win.turnFinished):
            win.input.setPlainText(text)
            win.send()
    qtbot.waitUntil(lambda: len(win.timeline.points) == 2)
    assert win.timeline.texts == ["what a great gift", "This is an awful, sad day"]
    assert win.timeline.accessibleDescription() == (
        "2 messages: 1 positive, 1 negative; latest negative")
    # Reopened from the file: the same words.
    conv = win.current_id
    win.new_conversation()
    assert win.timeline.points == [] and win.timeline.accessibleDescription() == \
        "No messages yet"
    win.open_conversation(conv)
    assert win.timeline.point_tooltip(0).endswith("\nwhat a great gift")


def test_real_model_timeline_and_quick_check_in_dark(qtbot: Any, make_app: Any,
                                                     model_path: Path,
                                                     qapp: QApplication) -> None:
    """The real model: a message's mood reaches the timeline's words; the dark theme holds."""
    settings = Settings(threads=2, n_ctx=1024, theme="dark")
    settings.reply_tokens = {"short": 16, "normal": 16, "long": 16}
    settings.reply_length = "short"
    settings.save()
    app = make_app(resolver=lambda s, r: ResolvedModel(None, model_path, "Qwen2.5-Coder-0.5B"))
    assert theme.is_dark(qapp.palette())
    qtbot.waitUntil(lambda: app.client.model_loaded, timeout=120_000)
    win = app.window
    with qtbot.waitSignal(win.turnFinished, timeout=120_000):
        win.input.setPlainText("I just got my dream job and I am so happy!")
        win.send()
    qtbot.waitUntil(lambda: len(win.timeline.points) == 1, timeout=10_000)
    assert win.timeline.accessibleDescription() == "1 message: positive"
    assert win.timeline.point_tooltip(0).startswith("#1 😄 Positive")
    assert win.timeline.point_tooltip(0).endswith("\nI just got my dream job and I am so happy!")
