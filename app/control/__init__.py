"""Control of breakers and switched loads: select-before-operate, interlocks, audit (Qt-free).

See :mod:`app.control.service` for the steps and docs/control.md for the rules.
"""

from app.control.contracts import (
    AuditAction, AuditRecord, AuditSink, Command, CommandNotice, ControlRefused, ControlResult, Outcome,
    PasswordCheck, PermissionCheck, PointSource, PointWriter, Refusal, RefusalCode, Selection,
)
from app.control.interlocks import check_command, freshness_limit_s, is_protective_trip
from app.control.selections import LocalSelectionRegistry, SelectionRegistry
from app.control.service import CONTROL, ControlService
from app.control.targets import CLOSE, OPEN, ControlTarget, Mode, control_targets

__all__ = [
    "AuditAction", "AuditRecord", "AuditSink", "CLOSE", "CONTROL", "Command", "CommandNotice", "ControlRefused",
    "ControlResult", "ControlService", "ControlTarget", "LocalSelectionRegistry", "Mode", "OPEN", "Outcome",
    "PasswordCheck", "PermissionCheck", "PointSource", "PointWriter", "Refusal", "RefusalCode", "Selection",
    "SelectionRegistry", "check_command", "control_targets", "freshness_limit_s", "is_protective_trip",
]
