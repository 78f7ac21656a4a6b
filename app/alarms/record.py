"""The engine's mutable record of one alarm: definition, condition, timers and state."""

from __future__ import annotations

from app.alarms.contracts import Alarm, AlarmText
from app.alarms.states import NORMAL, Status


class AlarmRecord:
    """One alarm instance (one rule x point x level) inside the evaluator.

    Only the evaluator thread touches a record; :meth:`snapshot` gives the immutable
    :class:`~app.alarms.contracts.Alarm` handed out.

    Parameters
    ----------
    alarm_id : str
    rule, rule_type, level : str
        Rule id, rule type value, ``"warning"``/``"alarm"``/``""``.
    source, device, area : str
        Tag / device id (empty for area rules) / area id.
    priority : int
        1..4.
    message : str
        Text in the site's language.
    text : AlarmText
        What ``message`` is made of.
    limit : float | None
        Limit in the watched value's unit.
    deadband : float
        Hysteresis, same unit as ``limit``.
    on_delay_s, off_delay_s : float
        Seconds the raw condition must hold before the alarm raises / clears.
    supply_dependent : bool
        Grouped under an upstream trip / suppressed while the upstream breaker is open.
    """

    __slots__ = ("id", "rule", "type", "level", "source", "device", "area", "priority", "message",
                 "limit", "deadband", "on_delay_s", "off_delay_s", "supply_dependent",
                 "status", "raw", "pending_at", "value", "raised_ts", "state_ts", "acked_by",
                 "shelved_until", "shelved_by", "note", "cause", "suppressors", "text", "cause_code",
                 "cause_label")

    def __init__(self, alarm_id: str, rule: str, rule_type: str, level: str, source: str, device: str,
                 area: str, priority: int, message: str, limit: float | None, deadband: float,
                 on_delay_s: float, off_delay_s: float, supply_dependent: bool,
                 text: AlarmText = AlarmText()) -> None:
        self.id = alarm_id
        self.rule = rule
        self.type = rule_type
        self.level = level
        self.source = source
        self.device = device
        self.area = area
        self.priority = priority
        self.message = message
        self.limit = limit
        self.deadband = deadband
        self.on_delay_s = on_delay_s
        self.off_delay_s = off_delay_s
        self.supply_dependent = supply_dependent
        self.status: Status = NORMAL
        self.raw = False                       #: condition before on/off delays
        self.pending_at: float | None = None   #: when the delayed raw condition takes effect
        self.value: float | None = None
        self.raised_ts = 0.0
        self.state_ts = 0.0
        self.acked_by = ""
        self.shelved_until: float | None = None
        self.shelved_by = ""
        self.note = ""
        self.cause = ""
        self.suppressors: set[str] = set()
        self.text = text
        self.cause_code: int | None = None     #: trips: cause code read from the breaker
        self.cause_label = ""                  #: trips: its configured state label

    def snapshot(self) -> Alarm:
        """Immutable copy for subscribers and callers."""
        status = self.status
        return Alarm(self.id, self.rule, self.type, self.level, self.source, self.device, self.area,
                     self.priority, status.state, status.active, self.message, self.value, self.limit,
                     self.raised_ts, self.state_ts, self.acked_by, self.shelved_until, self.shelved_by,
                     self.note, self.cause, self.text, self.cause_code, self.cause_label)
