"""The Qt boundary of the alarm engine: its updates on the GUI thread, its actions for one user.

The engine calls :meth:`AlarmBridge._on_engine_update` on its own thread; that only
stores the update under a lock (the newest alarm list and flood set win; changed
alarms are merged by id, newest snapshot wins). A timer on the GUI thread emits what
arrived as one ``alarms_changed`` signal, so a burst of alarms costs one repaint.
Operator actions (acknowledge, shelve) go to the engine in the name of the
workstation's user; the engine asks its permission check and refuses with
:class:`~app.alarms.AlarmPermissionError`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import NamedTuple

from PySide6.QtCore import QObject, QTimer, Signal

from app.alarms import Alarm, AlarmEngine, AlarmPermissionError, AlarmState, AlarmUpdate, UnknownAlarmError

#: States that need an acknowledgement.
UNACKNOWLEDGED = frozenset({AlarmState.UNACK_ACTIVE, AlarmState.UNACK_RTN})
#: States shown to the operator as annunciated (not hidden by shelving, suppression or maintenance).
ANNUNCIATED = frozenset({AlarmState.UNACK_ACTIVE, AlarmState.ACK_ACTIVE, AlarmState.UNACK_RTN})


class AckResult(NamedTuple):
    """Outcome of acknowledging several alarms.

    Attributes
    ----------
    acknowledged : list of str
        Ids acknowledged now.
    refused : list of str
        Ids the permission check refused for this user.
    """

    acknowledged: list[str]
    refused: list[str]


class AlarmBridge(QObject):
    """Coalesced GUI-thread delivery of alarm updates, and operator actions for one user.

    Parameters
    ----------
    engine : AlarmEngine
        Source of alarms and target of actions.
    user : str
        Who acts from this workstation (the permission check's ``user``).
    interval_ms : int
        Flush period; 100 ms gives at most 10 updates per second.
    parent : QObject, optional

    Signals
    -------
    alarms_changed(object)
        An :class:`~app.alarms.AlarmUpdate`: alarms changed since the last emission,
        the current alarm list (most urgent first, newest first within a priority) and
        the areas in flood.
    """

    alarms_changed = Signal(object)

    def __init__(self, engine: AlarmEngine, user: str = "", interval_ms: int = 100,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.user = user
        self._lock = threading.Lock()
        self._changed: dict[str, Alarm] = {}
        self._latest: AlarmUpdate | None = None
        self._current = AlarmUpdate((), (), frozenset())
        self._unsubscribe: Callable[[], None] | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._on_timer_timeout)

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        """Subscribe to the engine (which replays its current list) and start flushing."""
        if self._unsubscribe is None:
            self._unsubscribe = self.engine.subscribe(self._on_engine_update)
        self._timer.start()
        self._on_timer_timeout()

    def stop(self) -> None:
        """Unsubscribe and stop flushing (idempotent)."""
        self._timer.stop()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    # -- state on the GUI thread --------------------------------------------------------------
    def alarms(self) -> tuple[Alarm, ...]:
        """Alarms not in NORMAL as last emitted, most urgent first."""
        return self._current.alarms

    def floods(self) -> frozenset[str]:
        """Areas in alarm flood as last emitted."""
        return self._current.floods

    # -- actions ------------------------------------------------------------------------------
    def ack(self, alarm_id: str) -> bool:
        """Acknowledge one alarm as :attr:`user`.

        Returns
        -------
        bool
            False if it needed no acknowledgement.

        Raises
        ------
        AlarmPermissionError
            The user may not acknowledge it.
        UnknownAlarmError
            No such alarm.
        """
        return self.engine.ack(alarm_id, self.user)

    def ack_many(self, alarm_ids: Iterable[str]) -> AckResult:
        """Acknowledge each of ``alarm_ids`` (those needing it) as :attr:`user`.

        Alarms gone from the engine are skipped; refusals are collected, not raised.
        """
        done: list[str] = []
        refused: list[str] = []
        for alarm_id in alarm_ids:
            try:
                if self.engine.ack(alarm_id, self.user):
                    done.append(alarm_id)
            except AlarmPermissionError:
                refused.append(alarm_id)
            except UnknownAlarmError:
                continue
        return AckResult(done, refused)

    def may(self, action: str, alarm_id: str) -> bool:
        """Whether :attr:`user` may ``action`` (``ack``, ``shelve``, ``unshelve`` ...) the alarm
        (:meth:`AlarmEngine.may`; an alarm the engine does not know: False)."""
        try:
            return self.engine.may(self.user, action, alarm_id)
        except UnknownAlarmError:
            return False

    def shelve(self, alarm_id: str, duration_s: float, reason: str) -> None:
        """Shelve one alarm as :attr:`user` for ``duration_s`` seconds with a reason.

        Raises
        ------
        ValueError
            Duration out of range or empty reason.
        AlarmPermissionError
        UnknownAlarmError
        """
        self.engine.shelve(alarm_id, self.user, duration_s, reason)

    def unshelve(self, alarm_id: str) -> bool:
        """Unshelve one alarm as :attr:`user`; False if it was not shelved.

        Raises
        ------
        AlarmPermissionError
        UnknownAlarmError
        """
        return self.engine.unshelve(alarm_id, self.user)

    # -- internals ----------------------------------------------------------------------------
    def _on_engine_update(self, update: AlarmUpdate) -> None:
        # engine thread: never block, never touch Qt objects
        with self._lock:
            for alarm in update.changed:
                self._changed[alarm.id] = alarm
            self._latest = update

    def _on_timer_timeout(self) -> None:
        with self._lock:
            latest, self._latest = self._latest, None
            changed, self._changed = self._changed, {}
        if latest is None:
            return
        self._current = AlarmUpdate(tuple(changed.values()), latest.alarms, latest.floods)
        self.alarms_changed.emit(self._current)
