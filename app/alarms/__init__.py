"""Alarms: ISA-18.2 / IEC 62682 state model, the site's alarm rules, and the engine.

:class:`AlarmEngine` subscribes to the point cache, evaluates every rule of the site
(``device.alarms``, ``site.alarms``) in its own thread, and publishes
:class:`AlarmUpdate` objects to subscribers (the UI bridge) and
:class:`AlarmEvent` records to a journal sink (the historian). See ``docs/alarms.md``.
"""

from app.alarms.contracts import (
    Alarm, AlarmEvent, AlarmSubscriber, AlarmUpdate, BaselineProvider, DayType, EventKind,
    JournalSink, PermissionCheck,
)
from app.alarms.engine import AlarmEngine, AlarmPermissionError, allow_all
from app.alarms.evaluator import AlarmEvaluator, UnknownAlarmError
from app.alarms.states import AlarmState, Priority, Status, Trigger, step

__all__ = [
    "Alarm", "AlarmEngine", "AlarmEvaluator", "AlarmEvent", "AlarmPermissionError", "AlarmState",
    "AlarmSubscriber", "AlarmUpdate", "BaselineProvider", "DayType", "EventKind", "JournalSink",
    "PermissionCheck", "Priority", "Status", "Trigger", "UnknownAlarmError", "allow_all", "step",
]
