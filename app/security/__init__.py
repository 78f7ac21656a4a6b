"""Users, roles and permissions, sessions with idle lock, the hash-chained audit log, secrets.

Qt-free; the login and lock screens are in :mod:`app.ui.login` and :mod:`app.ui.lock_screen`.
"""

from app.security.audit import AuditLog, AuditProblem, AuditRecord, AuditStorage, AuditStoreError, VerifyReport
from app.security.passwords import PasswordPolicyError
from app.security.permissions import ALL_AREAS, Grant, Permission, PermissionModel, Role
from app.security.service import Account, PermissionDenied, SecurityService
from app.security.session import DEFAULT_IDLE_TIMEOUT_S, Session
from app.security.users import AuthError, UserError, UserInfo, UserStore

__all__ = [
    "ALL_AREAS", "Account", "AuditLog", "AuditProblem", "AuditRecord", "AuditStorage", "AuditStoreError", "AuthError",
    "DEFAULT_IDLE_TIMEOUT_S", "Grant", "PasswordPolicyError", "Permission", "PermissionDenied",
    "PermissionModel", "Role", "SecurityService", "Session", "UserError", "UserInfo", "UserStore", "VerifyReport",
]
