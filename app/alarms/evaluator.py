"""The single-threaded core of the alarm engine: readings in, alarm transitions and
journal events out.

:class:`AlarmEvaluator` owns every :class:`~app.alarms.record.AlarmRecord`. It applies
on/off delays to the watchers' raw conditions, drives the state machine
(:func:`app.alarms.states.step`), groups consequential alarms under a breaker trip,
suppresses supply-dependent alarms while a breaker is open by command, expires
shelving and flags alarm floods. It has no thread and no clock of its own: callers
pass the time, so tests drive it deterministically. Not thread-safe; the engine
serialises access.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence

from app.alarms.catalog import build_catalog, devices_of
from app.alarms.contracts import Alarm, AlarmEvent, BaselineProvider, EventKind, OpeningProvider
from app.alarms.messages import flood_text, translator
from app.alarms.record import AlarmRecord
from app.alarms.states import AlarmState, Trigger, step
from app.config import SiteConfig
from app.points import PointValue

_EVENT_OF = {
    Trigger.ACTIVATE: EventKind.RAISED, Trigger.CLEAR: EventKind.CLEARED, Trigger.ACK: EventKind.ACKED,
    Trigger.SHELVE: EventKind.SHELVED, Trigger.UNSHELVE: EventKind.UNSHELVED,
    Trigger.SHELF_EXPIRE: EventKind.SHELF_EXPIRED, Trigger.SUPPRESS: EventKind.SUPPRESSED,
    Trigger.UNSUPPRESS: EventKind.UNSUPPRESSED, Trigger.REMOVE: EventKind.REMOVED,
    Trigger.RESTORE: EventKind.RESTORED,
}
UNACKED = (AlarmState.UNACK_ACTIVE, AlarmState.UNACK_RTN)
#: Journal event kinds :meth:`AlarmEvaluator.resume` replays, and their triggers.
_RESUMED = {
    EventKind.RAISED.value: Trigger.ACTIVATE, EventKind.CLEARED.value: Trigger.CLEAR,
    EventKind.ACKED.value: Trigger.ACK,
    EventKind.SHELVED.value: Trigger.SHELVE, EventKind.UNSHELVED.value: Trigger.UNSHELVE,
    EventKind.SHELF_EXPIRED.value: Trigger.SHELF_EXPIRE, EventKind.REMOVED.value: Trigger.REMOVE,
    EventKind.RESTORED.value: Trigger.RESTORE,
}
RESUMED_KINDS = tuple(_RESUMED)


class UnknownAlarmError(KeyError):
    """No alarm has the given id."""


class AlarmEvaluator:
    """Alarm state of a whole site.

    Parameters
    ----------
    site : SiteConfig
        Rules come from ``device.alarms`` and ``site.alarms``; areas and topology from the site.
    baseline : BaselineProvider, optional
        Expected consumption per interval for ``consumption_surge`` rules.
    opening : OpeningProvider, optional
        Opening readings of accumulators (the historian's), so consumption rules count
        from the start of the interval after a restart within it.
    flood_count : int
        An area is in flood when more than this many alarms were raised in it ...
    flood_window_s : float
        ... within this many seconds (ISA-18.2: 10 per 10 minutes per operator).
    grouping_window_s : float
        Supply-dependent alarms raised up to this many seconds before a breaker trip was
        seen are grouped under it too (their device may be scanned before the breaker).
    """

    def __init__(self, site: SiteConfig, baseline: BaselineProvider | None = None, *,
                 opening: OpeningProvider | None = None, flood_count: int = 10, flood_window_s: float = 600.0,
                 grouping_window_s: float = 30.0) -> None:
        catalog = build_catalog(site, baseline, opening)
        self.records = catalog.records
        self._early = catalog.early
        self._late = catalog.late
        self._timed = catalog.timed
        self._fed = catalog.fed_records
        self._device_records = catalog.device_records
        self._trip_alarm = catalog.trip_alarm
        self._topology = catalog.topology
        self._breaker_node = catalog.breaker_node
        self._positions = catalog.positions
        self._cut_off: dict[str, frozenset[str]] = {}    # tripped breaker -> devices its trip cut off
        self._area_names = {a.id: a.name or a.id for root in site.areas for a in root.walk()}
        self._translate = translator(site.language)
        self._flood_count = flood_count
        self._flood_window_s = flood_window_s
        self._grouping_window_s = grouping_window_s
        self._pending: set[AlarmRecord] = set()
        self._shelved: set[AlarmRecord] = set()
        self._shown: set[AlarmRecord] = set()
        self._open: dict[str, tuple[bool, float]] = {}   # breaker -> (commanded, since)
        self._commands: dict[str, float] = {}
        self._raises: dict[str, deque[float]] = {}
        self.floods: set[str] = set()
        self._events: list[AlarmEvent] = []
        self._changed: dict[str, AlarmRecord] = {}
        self._floods_changed = False

    # ----------------------------------------------------------------- readings
    def feed(self, values: Sequence[PointValue]) -> None:
        """Evaluate one batch of readings (communication loss first, then every other rule)."""
        early = self._early
        late = self._late
        for pv in values:
            watchers = early.get(pv.tag)
            if watchers is not None:
                for watcher, index in watchers:
                    watcher.update(pv, index, self)
        for pv in values:
            watchers = late.get(pv.tag)
            if watchers is not None:
                for watcher, index in watchers:
                    watcher.update(pv, index, self)

    def tick(self, now: float) -> None:
        """Let time pass: fire due on/off delays, expire shelving, end intervals and floods."""
        if self._pending:
            for record in [r for r in self._pending if r.pending_at is not None and r.pending_at <= now]:
                self._fire(record, record.pending_at or now)
        if self._shelved:
            for record in [r for r in self._shelved if r.shelved_until is not None and r.shelved_until <= now]:
                self._transition(record, Trigger.SHELF_EXPIRE, now)
        for watcher in self._timed:
            watcher.tick(now, self)
        for area in list(self.floods):
            self._count_flood(area, now)

    # ------------------------------------------------------- watcher callbacks
    def condition(self, record: AlarmRecord, raw: bool, ts: float, value: float | None) -> None:
        """Raw condition of ``record`` from a watcher; applies on/off delays."""
        record.value = value
        if record.pending_at is not None and ts >= record.pending_at:
            self._fire(record, record.pending_at)
        if raw == record.raw:
            return
        record.raw = raw
        if raw == record.status.active:
            record.pending_at = None
            self._pending.discard(record)
            return
        delay = record.on_delay_s if raw else record.off_delay_s
        if delay <= 0.0:
            self._fire(record, ts)
        else:
            record.pending_at = ts + delay
            self._pending.add(record)

    def touch(self, record: AlarmRecord) -> None:
        """Publish a change of ``record`` outside a transition (the trip cause read after the trip)."""
        self._changed[record.id] = record

    def last_command(self, device: str) -> float | None:
        """When a command was last sent to ``device`` (see :meth:`note_command`)."""
        return self._commands.get(device)

    def breaker(self, device: str, is_open: bool, commanded: bool, ts: float) -> None:
        """A breaker opened or closed: suppress or group the alarms of what it feeds."""
        fed = self._fed.get(device, ())
        if not is_open:
            self._open.pop(device, None)
            self._cut_off.pop(device, None)
            for record in fed:
                self._unsuppress(record, f"breaker {device} open", ts)
            return
        self._open[device] = (commanded, ts)
        if commanded:
            for record in fed:
                self._suppress(record, f"breaker {device} open", ts)
            return
        trip = self._trip_alarm[device]
        cut_off = self._cut_off[device] = self._cut_off_by_trip(device)
        for d in cut_off:
            for record in self._device_records.get(d, ()):
                if (record.status.active and not record.cause and record.id != trip
                        and record.raised_ts >= ts - self._grouping_window_s):
                    record.cause = trip
                    self._changed[record.id] = record

    def _cut_off_by_trip(self, device: str) -> frozenset[str]:
        """Devices that lost supply when breaker ``device`` tripped.

        Those :meth:`Topology.deenergised_by_opening` finds with the switch positions as
        they were just before (the tripped breaker closed; a switch of unknown position
        counted closed, so its downstream is not left out), which follows a closed bus tie.
        A breaker not at a switch node cuts off what is wired downstream of it.
        """
        node = self._breaker_node.get(device)
        if node is None or self._topology is None:
            return frozenset(r.device for r in self._fed.get(device, ()))
        before = {n: True if p is None else p for n, p in self._positions.items()}
        before[node] = True
        return frozenset(devices_of(self._topology, self._topology.deenergised_by_opening(node, before), device))

    def note_command(self, device: str, ts: float) -> None:
        """A close/open command was sent to ``device`` at ``ts``: its next opening is not a trip."""
        self._commands[device] = ts

    # --------------------------------------------------------------- actions
    def record(self, alarm_id: str) -> AlarmRecord:
        """The record of ``alarm_id``.

        Raises
        ------
        UnknownAlarmError
        """
        try:
            return self.records[alarm_id]
        except KeyError:
            raise UnknownAlarmError(f"no alarm {alarm_id!r}") from None

    def ack(self, alarm_id: str, user: str, workstation: str, now: float) -> bool:
        """Acknowledge; False if the alarm needed no acknowledgement."""
        return self._transition(self.record(alarm_id), Trigger.ACK, now, user, workstation)

    def shelve(self, alarm_id: str, user: str, workstation: str, now: float, duration_s: float,
               reason: str) -> None:
        """Shelve until ``now + duration_s``; shelving a shelved alarm sets a new expiry."""
        record = self.record(alarm_id)
        record.shelved_until = now + duration_s
        record.shelved_by = user
        record.note = reason
        self._shelved.add(record)
        if not self._transition(record, Trigger.SHELVE, now, user, workstation, reason):
            self._emit(record, EventKind.SHELVED, now, user, workstation, reason)
            self._changed[record.id] = record

    def unshelve(self, alarm_id: str, user: str, workstation: str, now: float) -> bool:
        """Unshelve; False if it was not shelved."""
        return self._transition(self.record(alarm_id), Trigger.UNSHELVE, now, user, workstation)

    def remove(self, alarm_id: str, user: str, workstation: str, now: float, reason: str) -> bool:
        """Take out of service; False if it already was."""
        record = self.record(alarm_id)
        done = self._transition(record, Trigger.REMOVE, now, user, workstation, reason)
        if done:
            record.note = reason
            record.shelved_by = user
        return done

    def restore(self, alarm_id: str, user: str, workstation: str, now: float) -> bool:
        """Return to service; False if it was in service."""
        return self._transition(self.record(alarm_id), Trigger.RESTORE, now, user, workstation)

    def suppress(self, alarm_id: str, reason: str, now: float) -> None:
        """Suppress by design for ``reason`` (one of possibly several reasons)."""
        self._suppress(self.record(alarm_id), reason, now)

    def unsuppress(self, alarm_id: str, reason: str, now: float) -> None:
        """Withdraw suppression ``reason``; the alarm shows again when no reason is left."""
        self._unsuppress(self.record(alarm_id), reason, now)

    def resume(self, rows: Iterable[dict]) -> int:
        """Take up the annunciation of the previous run from its journal, before any reading.

        Replays raises, clears, acknowledgements, shelving and out of service (oldest
        first) through the state machine, silently: the journal already holds them. An
        alarm left unacknowledged or active keeps its raise time, value and cause, so the
        first readings continue it — a condition still present raises nothing new (and is
        not notified again), one gone clears it to *returned, unacknowledged*. A shelving
        keeps its expiry (one past meanwhile expires at the first tick); suppression by
        design is not replayed but re-derived from the breakers' positions. Rows of
        unknown alarms (rules since removed) are skipped, and so are shelving rows
        without an expiry (written before the journal kept it).

        Parameters
        ----------
        rows : iterable of dict
            Journal rows (:meth:`AlarmEvent.to_row` form) of the kinds in
            :data:`RESUMED_KINDS`, oldest first.

        Returns
        -------
        int
            Alarms shown (not NORMAL) after the replay.
        """
        touched: set[AlarmRecord] = set()
        for row in rows:
            data = row.get("data") or {}
            record = self.records.get(str(data.get("alarm_id") or ""))
            trigger = _RESUMED.get(row.get("kind", ""))
            if record is None or trigger is None or (trigger is Trigger.SHELVE and data.get("until") is None):
                continue
            new = step(record.status, trigger)
            if new is record.status and trigger is not Trigger.SHELVE:    # a re-shelving sets a new expiry
                continue
            ts = row["ts"] / 1000.0
            user, reason = str(row.get("user") or ""), str(data.get("reason") or "")
            record.status, record.state_ts = new, ts
            if trigger is Trigger.ACTIVATE:
                record.raised_ts = ts
                record.value = data.get("value")
                record.cause = str(data.get("cause") or "")
                record.cause_code = data.get("cause_code")
                record.cause_label = str(data.get("cause_label") or "")
            elif trigger is Trigger.ACK:
                record.acked_by = user
            elif trigger is Trigger.SHELVE:
                record.shelved_until, record.shelved_by, record.note = float(data["until"]), user, reason
                self._shelved.add(record)
            elif trigger in (Trigger.UNSHELVE, Trigger.SHELF_EXPIRE):
                record.shelved_until, record.shelved_by = None, ""
                self._shelved.discard(record)
            elif trigger is Trigger.REMOVE:
                record.shelved_by, record.note = user, reason
            elif trigger is Trigger.RESTORE:
                record.shelved_by = ""
            if trigger in (Trigger.UNSHELVE, Trigger.SHELF_EXPIRE, Trigger.RESTORE) and not new.hidden:
                record.note = ""
            touched.add(record)
        for record in touched:
            record.raw = record.status.active
            if record.status.state is AlarmState.NORMAL:
                record.cause = record.acked_by = ""
                self._shown.discard(record)
            else:
                self._shown.add(record)
        return len(self._shown)

    # ---------------------------------------------------------------- output
    def shown(self) -> tuple[Alarm, ...]:
        """Every alarm not in NORMAL, most urgent first, newest first within a priority."""
        records = sorted(self._shown, key=lambda r: (r.priority, -r.raised_ts, r.id))
        return tuple(r.snapshot() for r in records)

    def take(self) -> tuple[list[AlarmEvent], tuple[Alarm, ...], bool]:
        """Journal events, changed alarms and whether the flood set changed, since the last call."""
        events, self._events = self._events, []
        changed = tuple(r.snapshot() for r in self._changed.values())
        self._changed = {}
        floods_changed, self._floods_changed = self._floods_changed, False
        return events, changed, floods_changed

    # -------------------------------------------------------------- internals
    def _fire(self, record: AlarmRecord, ts: float) -> None:
        record.pending_at = None
        self._pending.discard(record)
        self._transition(record, Trigger.ACTIVATE if record.raw else Trigger.CLEAR, ts)

    def _suppress(self, record: AlarmRecord, reason: str, ts: float) -> None:
        record.suppressors.add(reason)
        self._transition(record, Trigger.SUPPRESS, ts, reason=reason)

    def _unsuppress(self, record: AlarmRecord, reason: str, ts: float) -> None:
        record.suppressors.discard(reason)
        if not record.suppressors:
            self._transition(record, Trigger.UNSUPPRESS, ts, reason=reason)

    def _cause_of(self, record: AlarmRecord) -> str:
        """Trip alarm of the most recently tripped breaker whose trip cut ``record``'s device off."""
        best, since = "", float("-inf")
        for breaker, devices in self._cut_off.items():
            commanded, opened = self._open[breaker]
            trip = self._trip_alarm[breaker]
            if not commanded and opened > since and record.device in devices and trip != record.id:
                best, since = trip, opened
        return best

    def _transition(self, record: AlarmRecord, trigger: Trigger, ts: float, user: str = "",
                    workstation: str = "", reason: str = "") -> bool:
        old = record.status
        new = step(old, trigger)
        if new is old:
            return False
        record.status = new
        record.state_ts = ts
        if trigger is Trigger.ACTIVATE:
            record.raised_ts = ts
            if record.supply_dependent and not record.cause:
                record.cause = self._cause_of(record)
        elif trigger is Trigger.ACK:
            record.acked_by = user
        elif trigger in (Trigger.UNSHELVE, Trigger.SHELF_EXPIRE):
            record.shelved_until = None
            record.shelved_by = ""
            self._shelved.discard(record)
        elif trigger is Trigger.RESTORE:
            record.shelved_by = ""
        if trigger in (Trigger.UNSHELVE, Trigger.SHELF_EXPIRE, Trigger.RESTORE) and not new.hidden:
            record.note = ""
        if new.state is AlarmState.NORMAL:
            record.cause = ""
            record.acked_by = ""
            self._shown.discard(record)
        else:
            self._shown.add(record)
        self._emit(record, _EVENT_OF[trigger], ts, user, workstation, reason or record.note)
        self._changed[record.id] = record
        if trigger is Trigger.ACTIVATE and new.state is AlarmState.UNACK_ACTIVE and not record.cause:
            self._count_raise(record.area, ts)
        return True

    def _emit(self, record: AlarmRecord, kind: EventKind, ts: float, user: str, workstation: str,
              reason: str) -> None:
        self._events.append(AlarmEvent(
            ts, kind, record.id, record.source, record.area, record.priority, record.status.state,
            record.message, record.value, record.limit, user, workstation, reason, record.cause,
            record.text, record.cause_code, record.cause_label,
            record.shelved_until if kind is EventKind.SHELVED else None))

    def _count_raise(self, area: str, ts: float) -> None:
        raises = self._raises.get(area)
        if raises is None:
            raises = self._raises[area] = deque()
        raises.append(ts)
        self._count_flood(area, ts)

    def _count_flood(self, area: str, now: float) -> None:
        raises = self._raises.get(area)
        if raises is None:
            return
        while raises and raises[0] <= now - self._flood_window_s:
            raises.popleft()
        flooded = len(raises) > self._flood_count
        if flooded == (area in self.floods):
            return
        if flooded:
            self.floods.add(area)
        else:
            self.floods.discard(area)
        self._floods_changed = True
        kind = EventKind.FLOOD_BEGAN if flooded else EventKind.FLOOD_ENDED
        message = flood_text(self._area_names.get(area, area), len(raises), self._flood_window_s / 60,
                             self._translate)
        self._events.append(AlarmEvent(now, kind, "", area, area, 0, None, message, float(len(raises)),
                                       float(self._flood_count)))

    def alarm_ids(self, area: str | None = None) -> Iterable[str]:
        """Ids of every alarm, or of those of ``area``."""
        return (r.id for r in self.records.values() if area is None or r.area == area)
