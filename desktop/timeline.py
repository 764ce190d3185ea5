"""A small QPainter chart of the open conversation's moods: the day's course at a glance."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QToolTip, QWidget

from qwen_aio.desktop.i18n import Translator
from qwen_aio.engine.types import EMOJI

POSITIVE = QColor("#2e7d32")
NEGATIVE = QColor("#c62828")
GRID = QColor("#d6d6d6")


class MoodTimeline(QWidget):
    """Each user message is a dot: up for Positive, down for Negative, distance = confidence."""

    def __init__(self, tr: Translator, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tr = tr
        self.points: list[tuple[str, float]] = []
        self.setMinimumHeight(70)
        self.setMouseTracking(True)

    def sizeHint(self) -> QSize:
        return QSize(400, 80)

    def set_points(self, points: list[tuple[str, float]]) -> None:
        self.points = list(points)
        pos = sum(1 for label, _ in self.points if label == "Positive")
        neg = len(self.points) - pos
        self.setToolTip(f"{self._tr('win.timeline')}: {EMOJI['Positive']} {pos} · "
                        f"{EMOJI['Negative']} {neg}")
        self.update()

    def retranslate(self, tr: Translator) -> None:
        self._tr = tr
        self.set_points(self.points)

    def _geometry(self) -> tuple[QRectF, float]:
        r = QRectF(self.rect()).adjusted(28, 8, -12, -8)
        step = r.width() / max(len(self.points) - 1, 1)
        return r, step

    def _point(self, i: int, label: str, conf: float) -> QPointF:
        r, step = self._geometry()
        x = r.left() + (i * step if len(self.points) > 1 else r.width() / 2)
        # 50% confidence is "unsure": sits on the midline; 100% reaches the edge.
        strength = max(0.0, min(1.0, (conf - 0.5) * 2)) if conf is not None else 0.5
        half = r.height() / 2
        y = r.center().y() - (1 if label == "Positive" else -1) * (0.15 + 0.85 * strength) * half
        return QPointF(x, y)

    def paintEvent(self, _event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r, _ = self._geometry()
        p.setPen(QPen(GRID, 1, Qt.PenStyle.DashLine))
        p.drawLine(QPointF(r.left(), r.center().y()), QPointF(r.right(), r.center().y()))
        p.setPen(QPen(QColor("#777777")))
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
        p.setPen(QPen(QColor("#90a4ae"), 1.5))
        p.drawPath(path)
        for pt, (label, _conf) in zip(pts, self.points, strict=True):
            color = POSITIVE if label == "Positive" else NEGATIVE
            p.setPen(QPen(color.darker(120), 1))
            p.setBrush(color)
            p.drawEllipse(pt, 4.5, 4.5)
        p.end()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        for i, (label, conf) in enumerate(self.points):
            pt = self._point(i, label, conf)
            if abs(pt.x() - pos.x()) < 8 and abs(pt.y() - pos.y()) < 8:
                QToolTip.showText(event.globalPosition().toPoint(),
                                  f"#{i + 1} {self._tr.mood_chip(label, conf)}", self)
                return
        super().mouseMoveEvent(event)
