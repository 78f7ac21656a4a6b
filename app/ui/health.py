"""Health of what the workstation shows: devices online and the historian database.

Read from in-memory state only (device status dict, historian counters), so it is
safe to call on the GUI thread every second.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from app.ui.services import UiServices


class DbState(str, enum.Enum):
    """State of the historian database as the operator sees it."""

    OK = "ok"                  # last operation succeeded
    CONNECTING = "connecting"  # nothing tried yet (just started)
    DOWN = "down"              # last operation failed: samples are buffered


@dataclass(frozen=True)
class Health:
    """One snapshot of site communication health.

    Attributes
    ----------
    devices_online, devices_total : int
    offline : tuple[str, ...]
        Ids of devices that are not online, in site order.
    db : DbState
    buffered : int
        Samples waiting for the database (memory + disk spool).
    db_error : str
        Last database error, ``""`` if none.
    """

    devices_online: int
    devices_total: int
    offline: tuple[str, ...]
    db: DbState
    buffered: int
    db_error: str

    @property
    def degraded(self) -> bool:
        """Some device offline or the database not OK."""
        return self.devices_online < self.devices_total or self.db is not DbState.OK


def health(services: UiServices) -> Health:
    """Current :class:`Health` of ``services`` (devices without a status count as offline)."""
    status = services.device_status()
    ids = [d.id for d in services.site.devices]
    offline = tuple(i for i in ids if not (i in status and status[i].online))
    stats = services.historian.stats()
    if stats.db_ok:
        db = DbState.OK
    elif stats.last_error:
        db = DbState.DOWN
    else:
        db = DbState.CONNECTING
    return Health(devices_online=len(ids) - len(offline), devices_total=len(ids), offline=offline,
                  db=db, buffered=stats.queued_memory + stats.spooled, db_error=stats.last_error)
