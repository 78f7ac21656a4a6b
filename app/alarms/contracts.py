"""What the alarm engine hands out: journal events, alarm snapshots, updates, and the
callables it accepts (journal sink, subscriber, permission check, baseline provider)."""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple

from app.alarms.states import AlarmState


class EventKind(str, enum.Enum):
    """Kind of a journal event (the historian's ``events.kind``)."""

    RAISED = "alarm_raised"
    CLEARED = "alarm_cleared"
    ACKED = "alarm_acked"
    SHELVED = "alarm_shelved"
    UNSHELVED = "alarm_unshelved"
    SHELF_EXPIRED = "alarm_shelf_expired"
    SUPPRESSED = "alarm_suppressed"
    UNSUPPRESSED = "alarm_unsuppressed"
    REMOVED = "alarm_out_of_service"
    RESTORED = "alarm_returned_to_service"
    FLOOD_BEGAN = "alarm_flood_began"
    FLOOD_ENDED = "alarm_flood_ended"
    NOTIFIED = "alarm_notified"          # a notification handed to channels (``notice`` says which)


class AlarmText(NamedTuple):
    """What an alarm's operator text is made of, in no language yet.

    :func:`app.alarms.messages.compose` words it in a language (the site's, for the
    journal and notifications; the UI words it in the workstation's language).

    Attributes
    ----------
    source_name : str
        The device's name (device and point rules; its id when it has no name) or the
        area's name (area rules), as configured: shown as written.
    point : str
        Point name for per-point rules (``"Ua"``), else empty.
    point_description, point_description_zh : str
        The point's description in English and in Chinese (either may be empty).
    rule_type : str
        :class:`app.config.RuleType` value (``"high"``, ``"trip"``, ...).
    rule_description, rule_description_zh : str
        The rule's description in English and in Chinese; both empty lets the rule
        type name the alarm.
    level : str
        ``"warning"`` (预警), ``"alarm"`` (报警) or ``""`` for single-level rules.
    unit : str
        Unit of the alarm's value and limit (the point's unit; ``"%"`` for imbalance;
        empty for states, trips and counts).
    """

    source_name: str = ""
    point: str = ""
    point_description: str = ""
    point_description_zh: str = ""
    rule_type: str = ""
    rule_description: str = ""
    rule_description_zh: str = ""
    level: str = ""
    unit: str = ""


class AlarmEvent(NamedTuple):
    """One journal record: an alarm transition, an operator action on an alarm, or a flood.

    Attributes
    ----------
    ts : float
        UTC epoch seconds (the value's time for raise/clear, the clock's for actions).
    kind : EventKind
    alarm_id : str
        Empty for flood events.
    source : str
        Tag (per-point alarms), device id (device alarms) or area id (area alarms, floods).
    area : str
    priority : int
        1..4; 0 for flood events.
    state : AlarmState | None
        State after the event (``None`` for flood events).
    message : str
        The alarm's text in the site's language (:attr:`SiteConfig.language`).
    value : float | None
        The value that raised or cleared the alarm, in the point's unit (imbalance: %).
    limit : float | None
        The limit crossed.
    user, workstation : str
        Who acted (empty for events of the process).
    reason : str
        Shelving / out-of-service reason, trip cause, suppression cause.
    cause : str
        Id of the alarm this one is a consequence of (a breaker trip), else empty.
    text : AlarmText
        What the message is made of, to word it in another language (empty for floods).
    cause_code, cause_label
        Trips: the trip cause code read from the breaker and its configured (English)
        state label (``2``, ``"short circuit"``); ``None``/empty when unknown or not a trip.
    until : float | None
        ``alarm_shelved`` events: when the shelving expires (UTC epoch s).
    notice : dict | None
        ``alarm_notified`` events: ``{"route", "step", "channels", "returned", "raised_ts"}`` —
        route id, 0 for the first notice or the escalation step n, channel ids, whether it
        told the return to normal, the raise it is about (UTC epoch s).
    """

    ts: float
    kind: EventKind
    alarm_id: str
    source: str
    area: str
    priority: int
    state: AlarmState | None
    message: str
    value: float | None = None
    limit: float | None = None
    user: str = ""
    workstation: str = ""
    reason: str = ""
    cause: str = ""
    text: AlarmText = AlarmText()
    cause_code: int | None = None
    cause_label: str = ""
    until: float | None = None
    notice: dict[str, Any] | None = None

    def to_row(self) -> dict[str, Any]:
        """The event as a row of the historian's ``events`` table (``ts`` in ms UTC)."""
        return {
            "ts": int(round(self.ts * 1000)), "kind": self.kind.value, "source": self.source,
            "area": self.area, "priority": self.priority, "message": self.message,
            "user": self.user, "workstation": self.workstation,
            "data": {"alarm_id": self.alarm_id, "state": self.state.value if self.state else None,
                     "value": self.value, "limit": self.limit, "reason": self.reason,
                     "cause": self.cause, "text": self.text._asdict(), "cause_code": self.cause_code,
                     "cause_label": self.cause_label,
                     **({"until": self.until} if self.until is not None else {}),
                     **({"notice": self.notice} if self.notice is not None else {})},
        }


class Alarm(NamedTuple):
    """Snapshot of one alarm, as lists and banners show it.

    Attributes
    ----------
    id : str
        ``"<tag>:<rule>[:<level>]"``, ``"<device>:<rule>[:<level>]"`` or ``"<area>:<rule>:<level>"``.
    rule : str
        Rule id.
    type : str
        Rule type (``high``, ``trip``, ...).
    level : str
        ``"warning"`` (预警), ``"alarm"`` (报警) or ``""`` for single-level rules.
    source, device, area : str
        Tag / device id / area id; device is empty for area rules.
    priority : int
        1 (most urgent) .. 4.
    state : AlarmState
    active : bool
        The process condition.
    message : str
        The alarm's text in the site's language; views word :attr:`text` in theirs.
    value, limit : float | None
        Last value evaluated and the limit, in the point's unit (``text.unit``).
    raised_ts, state_ts : float
        UTC epoch seconds of the last raise and of the last state change (0: never).
    acked_by : str
    shelved_until : float | None
        UTC epoch seconds at which shelving expires.
    shelved_by, note : str
        Who shelved or removed from service, and why (operator text, shown as written).
    cause : str
        Id of the cause alarm (a breaker trip) this alarm is grouped under, else empty.
    text : AlarmText
        What the message is made of, to word it in any language.
    cause_code : int | None
        Trips: the trip cause code read from the breaker (None until read, or not a trip).
    cause_label : str
        Trips: the configured (English) state label of ``cause_code`` (``"short circuit"``),
        empty when the cause point has no label for it.
    """

    id: str
    rule: str
    type: str
    level: str
    source: str
    device: str
    area: str
    priority: int
    state: AlarmState
    active: bool
    message: str
    value: float | None
    limit: float | None
    raised_ts: float
    state_ts: float
    acked_by: str
    shelved_until: float | None
    shelved_by: str
    note: str
    cause: str
    text: AlarmText = AlarmText()
    cause_code: int | None = None
    cause_label: str = ""


class AlarmUpdate(NamedTuple):
    """What a subscriber receives after every batch of changes.

    Attributes
    ----------
    changed : tuple[Alarm, ...]
        Alarms whose state, value of interest, cause or note changed.
    alarms : tuple[Alarm, ...]
        Every alarm not in NORMAL (annunciated, shelved, suppressed, out of service),
        most urgent first, newest first within a priority.
    floods : frozenset[str]
        Areas in alarm flood now.
    """

    changed: tuple[Alarm, ...]
    alarms: tuple[Alarm, ...]
    floods: frozenset[str]


class DayType(str, enum.Enum):
    """Day type of a consumption baseline."""

    WORKDAY = "workday"
    WEEKEND = "weekend"


#: Receives every journal event, on the engine thread; must not block (queue it).
JournalSink = Callable[[AlarmEvent], None]
#: ``read_events(t0, t1, *, kinds=..., limit=...) -> rows`` newest first: the historian's journal
#: read (:meth:`db.historian.Historian.read_events`); rows as :meth:`AlarmEvent.to_row` shapes them.
JournalRead = Callable[..., list[dict[str, Any]]]
#: Receives every update, on the engine thread; must not block.
AlarmSubscriber = Callable[[AlarmUpdate], None]
#: ``(user, action, alarm) -> allowed``; action is ``ack``, ``shelve``, ``unshelve``,
#: ``remove`` or ``restore``.
PermissionCheck = Callable[[str, str, Alarm], bool]
#: ``(tag, local start of the interval, interval seconds, day type) -> expected consumption``
#: of that interval in the accumulator's unit, or ``None`` while no baseline is known.
BaselineProvider = Callable[[str, datetime, int, DayType], float | None]
#: ``(tag, interval start, now) -> reading`` (UTC epoch seconds): the accumulator's first
#: GOOD reading at or after the start of the interval (a day, for ``daily_energy``) and
#: before ``now``, in its unit, or ``None`` if none is stored. Asked once per accumulator,
#: at its first reading after a (re)start, so consumption counts from the interval's
#: opening, not from the restart (see :func:`app.alarms.opening.historian_opening`).
OpeningProvider = Callable[[str, float, float], float | None]
