"""The alarm banner: one line, always on screen, that says what needs the operator now.

It shows the newest of the most urgent unacknowledged alarms (priority badge, time,
source, message), the number of alarms per priority, the areas in alarm flood, and
buttons to acknowledge that alarm or all alarms shown, and to silence the horn.
Unacknowledged alarms flash (the badge and its priority's count, 2 Hz) until they are
acknowledged; everything else stays calm grey (ISA-101). Each priority has its colour
*and* its number, so the banner reads the same to a colour-blind operator.

The widget knows nothing of alarm engines: a view gives it plain values
(:class:`BannerAlarm`, counts) and listens to its signals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QWidget

#: Priorities shown, 1 the most urgent.
PRIORITIES = (1, 2, 3, 4)
#: Fill colour per priority (ISA-101 alarm colours: red, orange, yellow, magenta); used
#: for nothing else on the workstation.
PRIORITY_COLOURS: dict[int, str] = {1: "#e02828", 2: "#f07820", 3: "#e8c820", 4: "#c060d0"}
#: Text colour on each priority's fill.
PRIORITY_TEXT: dict[int, str] = {1: "#ffffff", 2: "#101010", 3: "#101010", 4: "#101010"}
#: Milliseconds per flash phase: 500 ms filled, 500 ms outlined (a calm 1 Hz blink).
FLASH_MS = 500

_CJK_FAMILY = "Noto Sans CJK SC"
_GREYS = {True: ("#313131", "#5a5a5a", "#dcdcdc", "#8c8c8c"),    # dark: panel, outline, text, muted
          False: ("#e4e4e4", "#9a9a9a", "#161616", "#5a5a5a")}   # light


@dataclass(frozen=True)
class BannerAlarm:
    """What the banner shows of one alarm.

    Attributes
    ----------
    id : str
        Alarm id, echoed by the banner's signals.
    priority : int
        1 (most urgent) .. 4.
    time : str
        When it was raised, already formatted in the site's time zone.
    source : str
        Where (area, device or point), already formatted.
    message : str
        Operator text.
    unacknowledged : bool
        Flashes while True.
    acknowledgeable : bool
        The operator may acknowledge it (else the acknowledge button is disabled).
    """

    id: str
    priority: int
    time: str
    source: str
    message: str
    unacknowledged: bool = True
    acknowledgeable: bool = True


class PriorityBadge(QWidget):
    """A small box in a priority's colour holding a number or text; flashes on demand.

    Flashing alternates a filled box and an outlined one, so the text stays readable
    in both phases.
    """

    def __init__(self, priority: int, dark: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.priority = priority
        self.text = ""
        self.filled = True
        self.active = False
        self._dark = dark
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    def set_dark(self, dark: bool) -> None:
        """Use the dark (True) or light theme's greys."""
        self._dark = dark
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        width = max(34, self.fontMetrics().horizontalAdvance(self.text) + 14)
        return QSize(width, self.fontMetrics().height() + 8)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(1, 1, -1, -1)
        panel, outline, text, muted = _GREYS[self._dark]
        colour = QColor(PRIORITY_COLOURS[self.priority])
        if not self.active:                       # nothing of this priority: calm grey
            painter.setPen(QPen(QColor(outline), 1))
            painter.setBrush(QColor(panel))
            fg = QColor(muted)
        elif self.filled:
            painter.setPen(QPen(colour, 2))
            painter.setBrush(colour)
            fg = QColor(PRIORITY_TEXT[self.priority])
        else:
            painter.setPen(QPen(colour, 2))
            painter.setBrush(QColor(panel))
            fg = QColor(text)
        painter.drawRoundedRect(rect, 3, 3)
        painter.setPen(fg)
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, self.text)
        painter.end()

    def set_text(self, text: str) -> None:
        if text != self.text:
            self.text = text
            self.updateGeometry()
            self.update()


class _ClickableLabel(QLabel):
    """A label that reports a left click."""

    clicked = Signal()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit()
            event.accept()
            return
        super().mousePressEvent(event)


class AlarmBanner(QWidget):
    """One-line alarm banner.

    Parameters
    ----------
    dark : bool
        Dark theme greys (True) or light.
    parent : QWidget, optional

    Signals
    -------
    ack_requested(str)
        Acknowledge the alarm shown (its id).
    ack_all_requested()
        Acknowledge every alarm the banner counts.
    opened(str)
        The operator clicked the alarm shown (its id) or a priority count
        (``"priority:<n>"``), or the empty banner (``""``): open the alarm list there.
    silence_requested()
        Silence the horn.
    """

    ack_requested = Signal(str)
    ack_all_requested = Signal()
    opened = Signal(str)
    silence_requested = Signal()

    def __init__(self, dark: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("alarmBanner")
        self._dark = dark
        self._alarm: BannerAlarm | None = None
        self._counts: dict[int, int] = {p: 0 for p in PRIORITIES}
        self._unacked: dict[int, int] = {p: 0 for p in PRIORITIES}
        self._floods: tuple[str, ...] = ()
        self._sounding = False
        self._phase = True

        font = QFont(_CJK_FAMILY)
        self.setFont(font)
        bold = QFont(font)
        bold.setBold(True)

        self._badge = PriorityBadge(1, dark, self)
        self._badge.setFont(bold)
        self._time = QLabel(self)
        self._source = QLabel(self)
        self._source.setFont(bold)
        self._message = _ClickableLabel(self)
        self._message.setCursor(Qt.CursorShape.PointingHandCursor)
        self._message.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._message.setMinimumWidth(120)
        self._message.clicked.connect(self._on_message_clicked)
        self._counts_badges: dict[int, PriorityBadge] = {}
        self._flood = QLabel(self)
        self._flood.setFont(bold)
        self._ack = QPushButton(self)
        self._ack.clicked.connect(self._on_ack_clicked)
        self._ack_all = QPushButton(self)
        self._ack_all.clicked.connect(self.ack_all_requested)
        self._silence = QPushButton(self)
        self._silence.clicked.connect(self.silence_requested)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(self._badge)
        layout.addWidget(self._time)
        layout.addWidget(self._source)
        layout.addWidget(self._message, 1)
        layout.addWidget(self._flood)
        for p in PRIORITIES:
            badge = PriorityBadge(p, dark, self)
            badge.setFont(bold)
            badge.setCursor(Qt.CursorShape.PointingHandCursor)
            badge.installEventFilter(self)
            self._counts_badges[p] = badge
            layout.addWidget(badge)
        layout.addSpacing(8)
        layout.addWidget(self._ack)
        layout.addWidget(self._ack_all)
        layout.addWidget(self._silence)

        self._timer = QTimer(self)
        self._timer.setInterval(FLASH_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._retranslate()
        self._refresh()

    # -- public -------------------------------------------------------------------------------
    def set_alarm(self, alarm: BannerAlarm | None) -> None:
        """Show ``alarm`` (the newest most urgent unacknowledged one), or none."""
        self._alarm = alarm
        self._refresh()

    def set_counts(self, counts: Mapping[int, int], unacknowledged: Mapping[int, int]) -> None:
        """Alarms per priority (annunciated: unacknowledged or active) and how many of them
        are unacknowledged; a priority with unacknowledged alarms flashes its count."""
        self._counts = {p: int(counts.get(p, 0)) for p in PRIORITIES}
        self._unacked = {p: int(unacknowledged.get(p, 0)) for p in PRIORITIES}
        self._refresh()

    def set_floods(self, areas: Sequence[str]) -> None:
        """Names of the areas in alarm flood (empty: none)."""
        self._floods = tuple(areas)
        self._refresh()

    def set_sounding(self, sounding: bool) -> None:
        """The horn sounds (enables the silence button)."""
        self._sounding = sounding
        self._refresh()

    def set_dark(self, dark: bool) -> None:
        """Use the dark (True) or light theme's greys."""
        self._dark = dark
        for badge in (self._badge, *self._counts_badges.values()):
            badge.set_dark(dark)
        self._refresh()

    def alarm(self) -> BannerAlarm | None:
        """The alarm shown."""
        return self._alarm

    def counts(self) -> dict[int, int]:
        """Alarms per priority, as shown."""
        return dict(self._counts)

    def flashing(self) -> bool:
        """True while something on the banner flashes (an unacknowledged alarm)."""
        return self._timer.isActive()

    def texts(self) -> dict[str, str]:
        """What the banner says, by part: ``badge``, ``time``, ``source``, ``message``,
        ``flood`` and ``count<priority>``."""
        out = {"badge": self._badge.text, "time": self._time.text(), "source": self._source.text(),
               "message": self._message.text(), "flood": self._flood.text()}
        out.update({f"count{p}": b.text for p, b in self._counts_badges.items()})
        return out

    def buttons(self) -> dict[str, QPushButton]:
        """The buttons by name: ``ack``, ``ack_all``, ``silence``."""
        return {"ack": self._ack, "ack_all": self._ack_all, "silence": self._silence}

    # -- Qt overrides -------------------------------------------------------------------------
    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def eventFilter(self, watched, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.MouseButtonPress and isinstance(watched, PriorityBadge) \
                and watched in self._counts_badges.values():
            self.opened.emit(f"priority:{watched.priority}")
            return True
        return super().eventFilter(watched, event)

    # -- internals ----------------------------------------------------------------------------
    def _retranslate(self) -> None:
        self._ack.setText(self.tr("Acknowledge"))
        self._ack.setToolTip(self.tr("Acknowledge the alarm shown"))
        self._ack_all.setText(self.tr("Acknowledge all"))
        self._ack_all.setToolTip(self.tr("Acknowledge every unacknowledged alarm"))
        self._silence.setText(self.tr("Silence"))
        self._silence.setToolTip(self.tr("Silence the horn until a new alarm comes"))
        self._refresh()

    def _refresh(self) -> None:
        alarm = self._alarm
        panel, outline, text, muted = _GREYS[self._dark]
        if alarm is None:
            self._badge.hide()
            self._time.setText("")
            self._source.setText("")
            self._message.setText(self.tr("No unacknowledged alarms"))
            self._message.setStyleSheet(f"color: {muted};")
            self._message.setToolTip(self.tr("Click to open the alarm list"))
        else:
            self._badge.priority = alarm.priority
            self._badge.set_text(str(alarm.priority))
            self._badge.active = True
            self._badge.show()
            self._badge.setToolTip(self.tr("Priority %1").replace("%1", str(alarm.priority)))
            self._time.setText(alarm.time)
            self._source.setText(alarm.source)
            self._message.setText(alarm.message)
            self._message.setStyleSheet(f"color: {text};")
            self._message.setToolTip(self.tr("%1 — click to show it in the alarm list")
                                     .replace("%1", alarm.id))
        for p, badge in self._counts_badges.items():
            badge.set_text(str(self._counts[p]))
            badge.active = self._counts[p] > 0
            badge.setToolTip(self.tr("Priority %1: %2 alarms, %3 unacknowledged")
                             .replace("%1", str(p)).replace("%2", str(self._counts[p]))
                             .replace("%3", str(self._unacked[p])))
        if self._floods:
            self._flood.setText(self.tr("FLOOD: %1").replace("%1", ", ".join(self._floods)))
            self._flood.setToolTip(self.tr("More alarms than an operator can handle are being raised "
                                           "in these areas"))
            self._flood.setStyleSheet(f"color: {PRIORITY_COLOURS[2]};")
            self._flood.show()
        else:
            self._flood.hide()
        self._ack.setEnabled(alarm is not None and alarm.unacknowledged and alarm.acknowledgeable)
        self._ack_all.setEnabled(any(self._unacked.values()))
        self._silence.setEnabled(self._sounding)
        flashing = (alarm is not None and alarm.unacknowledged) or any(self._unacked.values())
        if flashing and not self._timer.isActive():
            self._phase = True
            self._timer.start()
        elif not flashing:
            self._timer.stop()
            self._phase = True
        self._paint_phase()

    def _paint_phase(self) -> None:
        alarm = self._alarm
        self._badge.filled = self._phase or alarm is None or not alarm.unacknowledged
        self._badge.update()
        for p, badge in self._counts_badges.items():
            badge.filled = self._phase or self._unacked[p] == 0
            badge.update()

    def _on_timer_timeout(self) -> None:
        self._phase = not self._phase
        self._paint_phase()

    def _on_message_clicked(self) -> None:
        self.opened.emit(self._alarm.id if self._alarm is not None else "")

    def _on_ack_clicked(self) -> None:
        if self._alarm is not None:
            self.ack_requested.emit(self._alarm.id)
