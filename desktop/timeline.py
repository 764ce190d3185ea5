"""A small QPainter chart of the open conversation's moods: the day's course at a glance."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QHelpEvent, QPainter, QPainterPath, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import QToolTip, QWidget

from qwen_aio.desktop import theme
from qwen_aio.desktop.i18n import Translator
from qwen_aio.engine.types import EMOJI

TIP_CHARS = 80  # a point's tooltip quotes the start of its message


def _excerpt(text: str) -> str:
    line = " ".join(text[: TIP_CHARS * 4].split())  # a 200 KB paste needs only its start
    return line if len(line) <= TIP_CHARS else line[: TIP_CHARS - 1] + "…"


class MoodTimeline(QWidget):
    """Each user message is a dot: up for Positive, down for Negative, distance = confidence.

    Colours come from the palette (theme.py), so the chart reads in light and dark themes;
    it is painted in logical pixels, so a HiDPI screen gets it at its device pixel ratio.
    """

    def __init__(self, tr: Translator, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tr = tr
        self.points: list[tuple[str, float]] = []
        self.texts: list[str] = []
        self.setMinimumHeight(70)
        self.setMouseTracking(True)
        self.set_points([])

    def sizeHint(self) -> QSize:
        return QSize(400, 80)

    def set_points(self, points: list[tuple[str, float]],
                   texts: list[str] | None = None) -> None:
        """The moods in order; ``texts`` (same length) are the messages, for the tooltips."""
        self.points = list(points)
        self.texts = list(texts) if texts is not None and len(texts) == len(points) else []
        self.setToolTip(self.summary())
        self.setAccessibleName(self._tr("win.timeline"))
        self.setAccessibleDescription(self.summary())
        self.update()

    def summary(self) -> str:
        """"12 messages: 8 positive, 4 negative; latest negative" (tooltip, screen readers)."""
        if not self.points:
            return self._tr("timeline.empty")
        pos = sum(1 for label, _ in self.points if label == "Positive")
        latest = "timeline.positive" if self.points[-1][0] == "Positive" else "timeline.negative"
        if len(self.points) == 1:
            return self._tr("timeline.summary_one", latest=self._tr(latest))
        return self._tr("timeline.summary", n=len(self.points), pos=pos,
                        neg=len(self.points) - pos, latest=self._tr(latest))

    def point_tooltip(self, i: int) -> str:
        label, conf = self.points[i]
        text = _excerpt(self.texts[i]) if self.texts else ""
        return self._tr("timeline.point", n=i + 1, mood=self._tr.mood_chip(label, conf),
                        text=text).strip()

    def point_at(self, pos: QPointF, reach: float = 8.0) -> int | None:
        """The index of the dot under ``pos`` (the nearest within ``reach`` pixels)."""
        best: tuple[float, int] | None = None
        for i, (label, conf) in enumerate(self.points):
            pt = self._point(i, label, conf)
            dx, dy = abs(pt.x() - pos.x()), abs(pt.y() - pos.y())
            if dx < reach and dy < reach and (best is None or dx + dy < best[0]):
                best = (dx + dy, i)
        return None if best is None else best[1]

    def retranslate(self, tr: Translator) -> None:
        self._tr = tr
        self.set_points(self.points, self.texts or None)

    def _geometry(self) -> tuple[QRectF, float]:
        r = QRectF(self.rect()).adjusted(28, 8, -12, -8)
        step = r.width() / max(len(self.points) - 1, 1)
        return r, step

    def _point(self, i: int, label: str, conf: float | None) -> QPointF:
        r, step = self._geometry()
        x = r.left() + (i * step if len(self.points) > 1 else r.width() / 2)
        # 50% confidence is "unsure": sits on the midline; 100% reaches the edge.
        strength = max(0.0, min(1.0, (conf - 0.5) * 2)) if conf is not None else 0.5
        half = r.height() / 2
        y = r.center().y() - (1 if label == "Positive" else -1) * (0.15 + 0.85 * strength) * half
        return QPointF(x, y)

    def render_pixmap(self, dpr: float = 1.0) -> QPixmap:
        """The chart as it is painted, at ``dpr`` real pixels per logical one (tests, docs)."""
        pix = QPixmap(round(self.width() * dpr), round(self.height() * dpr))
        pix.setDevicePixelRatio(dpr)
        pix.fill(self.palette().color(self.backgroundRole()))
        self.render(pix)
        return pix

    def paintEvent(self, _event: QPaintEvent) -> None:
        palette = self.palette()
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r, _ = self._geometry()
        p.setPen(QPen(theme.grid(palette), 1, Qt.PenStyle.DashLine))
        p.drawLine(QPointF(r.left(), r.center().y()), QPointF(r.right(), r.center().y()))
        p.setPen(QPen(theme.muted(palette)))
        center = Qt.AlignmentFlag.AlignCenter
        p.drawText(QRectF(0, r.top() - 6, 26, 16), center, EMOJI["Positive"])
        p.drawText(QRectF(0, r.bottom() - 10, 26, 16), center, EMOJI["Negative"])
        if not self.points:
            p.end()
            return
        pts = [self._point(i, label, conf) for i, (label, conf) in enumerate(self.points)]
        path = QPainterPath(pts[0])
        for pt in pts[1:]:
            path.lineTo(pt)
        p.setPen(QPen(theme.muted(palette), 1.5))
        p.drawPath(path)
        for pt, (label, _conf) in zip(pts, self.points, strict=True):
            color = theme.chart_hue(palette, label)
            p.setPen(QPen(theme.mix(color, palette.color(palette.ColorRole.Base), 0.3), 1))
            p.setBrush(color)
            p.drawEllipse(pt, 4.5, 4.5)
        p.end()

    def event(self, e: QEvent) -> bool:
        if e.type() == QEvent.Type.ToolTip and isinstance(e, QHelpEvent):
            i = self.point_at(QPointF(e.pos()))
            if i is not None:
                QToolTip.showText(e.globalPos(), self.point_tooltip(i), self)
                return True
        return super().event(e)

    def tooltip_at(self, pos: QPoint) -> str:
        """What hovering at ``pos`` shows: the point's message, else the summary."""
        i = self.point_at(QPointF(pos))
        return self.point_tooltip(i) if i is not None else self.toolTip()
