"""Colours taken from the application palette, so the window reads well in light and dark themes.

Widgets never hard-code a light colour next to palette text: they ask here, with the palette
they are painted with. `is_dark` follows the window colour: a dark desktop theme, or
`dark_palette()` set on the application (tests, screenshots, a "dark" theme setting).
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette

# Mood hues; mixed into the background so they keep their meaning in either theme.
POSITIVE = QColor("#2e7d32")
NEGATIVE = QColor("#c62828")
ACCENT = QColor("#1565c0")


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def mix(a: QColor, b: QColor, share_of_b: float) -> QColor:
    """``a`` with ``share_of_b`` of ``b`` mixed in (0: a, 1: b)."""
    s = min(max(share_of_b, 0.0), 1.0)
    return QColor(round(a.red() * (1 - s) + b.red() * s),
                  round(a.green() * (1 - s) + b.green() * s),
                  round(a.blue() * (1 - s) + b.blue() * s))


def _base(palette: QPalette) -> QColor:
    return palette.color(QPalette.ColorRole.Base)


def _text(palette: QPalette) -> QColor:
    return palette.color(QPalette.ColorRole.Text)


def readable(hue: QColor, palette: QPalette) -> QColor:
    """A hue as text: lightened on a dark background, as is on a light one."""
    return hue.lighter(170) if is_dark(palette) else hue


def muted(palette: QPalette) -> QColor:
    """Secondary text (hints, timestamps): halfway between the text and its background."""
    return mix(_text(palette), _base(palette), 0.45)


def link(palette: QPalette) -> QColor:
    return readable(ACCENT, palette) if is_dark(palette) else palette.color(QPalette.ColorRole.Link)


def warning(palette: QPalette) -> QColor:
    return readable(QColor("#a15c00"), palette)


def error(palette: QPalette) -> QColor:
    return readable(QColor("#b00020"), palette)


def bubble(palette: QPalette, role: str) -> QColor:
    """The person's bubbles lean to the accent colour, the assistant's to the text colour."""
    if role == "user":
        return mix(_base(palette), palette.color(QPalette.ColorRole.Highlight),
                   0.28 if is_dark(palette) else 0.12)
    return mix(_base(palette), _text(palette), 0.10 if is_dark(palette) else 0.05)


def mood_colors(palette: QPalette, label: str | None) -> tuple[QColor, QColor, QColor]:
    """(background, text, border) of a mood chip; ``None`` is a label not known yet."""
    hue = {"Positive": POSITIVE, "Negative": NEGATIVE}.get(label or "", _text(palette))
    base = _base(palette)
    dark = is_dark(palette)
    background = mix(base, hue, 0.30 if dark else 0.14)
    border = mix(base, hue, 0.55 if dark else 0.40)
    text = readable(hue, palette) if label else muted(palette)
    return background, text, border


def css(color: QColor) -> str:
    return color.name()


def dark_palette() -> QPalette:
    """Qt's usual dark Fusion palette: for a "dark" theme setting, screenshots and tests."""
    p = QPalette()
    window, base, text = QColor(45, 45, 48), QColor(30, 30, 32), QColor(230, 230, 230)
    role = QPalette.ColorRole
    for r, c in ((role.Window, window), (role.WindowText, text), (role.Base, base),
                 (role.AlternateBase, window), (role.ToolTipBase, window),
                 (role.ToolTipText, text), (role.Text, text), (role.Button, window),
                 (role.ButtonText, text), (role.BrightText, QColor("#ff5252")),
                 (role.Link, QColor("#64b5f6")), (role.Highlight, QColor("#3d7dd8")),
                 (role.HighlightedText, QColor("white")),
                 (role.PlaceholderText, QColor(150, 150, 150))):
        p.setColor(r, c)
    for r in (role.Text, role.WindowText, role.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, r, QColor(120, 120, 120))
    return p


# --- issue 11: theme setting, palette-following stylesheets, chart colours ----------------------
# (imported here, not at the top, so blocks others add to this file merge without conflicts)
from collections.abc import Callable  # noqa: E402

from PySide6.QtCore import QEvent, QObject  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from qwen_aio.desktop.options import THEMES  # noqa: E402,F401 (one list of theme names)


def light_palette() -> QPalette:
    """The style's standard palette, unless the style itself is dark (then Qt's light default)."""
    app = QApplication.instance()
    palette = app.style().standardPalette() if isinstance(app, QApplication) else QPalette()
    if is_dark(palette):
        palette = QPalette(QColor(239, 239, 239))  # Qt's generated light palette
    return palette


def apply_theme(app: QApplication, theme: str) -> None:
    """"light", "dark" or "system": the desktop's own palette, still following its changes."""
    if theme == "dark":
        app.setPalette(dark_palette())
    elif theme == "light":
        app.setPalette(light_palette())
    elif app.palette().resolveMask():  # a theme was set before: back to the platform's
        app.setPalette(QPalette())  # (Qt 6: an empty palette resolves to the platform's)


def palette_of(widget: QWidget) -> QPalette:
    """The palette to compute a widget's stylesheet from: the application's (the theme).

    Not ``widget.palette()``: a widget's own stylesheet rewrites that (``color:`` becomes its
    Text role), so colours computed from it would drift with every re-style.
    """
    return QApplication.palette(widget)


def _palette_key(palette: QPalette) -> tuple[int, ...]:
    role = QPalette.ColorRole
    return tuple(palette.color(r).rgba() for r in (role.Window, role.Base, role.Text,
                                                   role.WindowText, role.Highlight, role.Link))


class PaletteFollower(QObject):
    """Runs ``apply`` now and again whenever the application's palette really changes.

    For widgets whose stylesheet is computed from the palette (theme.bubble(), muted()...):
    a stylesheet is a fixed string, so Qt does not recompute it on a theme switch. ``apply``
    should read ``palette_of(widget)``, not ``widget.palette()`` (see there).
    """

    def __init__(self, widget: QWidget, apply: Callable[[], None]) -> None:
        super().__init__(widget)
        self._widget = widget
        self._apply = apply
        self._key = _palette_key(palette_of(widget))
        self._busy = False
        widget.installEventFilter(self)
        # The connection holds this Python object as long as the widget lives: without it,
        # the wrapper (and its eventFilter) can be garbage-collected while Qt still calls it.
        widget.destroyed.connect(lambda *_: self._forget())
        apply()

    def _forget(self) -> None:
        self._apply = _nothing

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Show too: Qt does not pass a palette change on to a window never shown yet.
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange,
                            QEvent.Type.StyleChange, QEvent.Type.Show) and not self._busy:
            key = _palette_key(palette_of(self._widget))
            if key != self._key:  # setStyleSheet can send PaletteChange: no loop, no rework
                self._key = key
                self._busy = True
                try:
                    self._apply()
                finally:
                    self._busy = False
        return False


def _nothing() -> None:
    pass


def follow_palette(widget: QWidget, apply: Callable[[], None]) -> PaletteFollower:
    """``apply()`` now and after each palette change (theme setting, desktop dark mode)."""
    return PaletteFollower(widget, apply)


def style_color(widget: QWidget, pick: Callable[[QPalette], QColor], extra: str = "") -> None:
    """Colour a label's text from its palette, kept right across theme switches."""
    def apply() -> None:
        widget.setStyleSheet(f"color:{css(pick(palette_of(widget)))};{extra}")
    follow_palette(widget, apply)


def grid(palette: QPalette) -> QColor:
    """Chart grid lines: visible on the background, quieter than text."""
    return mix(_base(palette), _text(palette), 0.35)


def chart_hue(palette: QPalette, label: str) -> QColor:
    """A mood dot or line on a chart: the mood hue, made readable on this background."""
    return readable(POSITIVE if label == "Positive" else NEGATIVE, palette)


def contrast(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio (1 to 21) between two colours."""
    def lum(c: QColor) -> float:
        def ch(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
        return 0.2126 * ch(c.redF()) + 0.7152 * ch(c.greenF()) + 0.0722 * ch(c.blueF())
    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)
