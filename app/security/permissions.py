"""Roles and what they may do: the permission model an administrator can adjust.

Roles (seed 000): administrator (everything), operator (view, control, acknowledge),
viewer (view only). Each grant is a :class:`Permission` within a scope: an area id,
or ``"*"`` for every area (and for permissions that have no area). The administrator
may always do everything, so no adjustment can lock the last administrator out.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

ALL_AREAS = "*"
#: An area id as the site configuration writes it (``app.config`` ``IDENT_PATTERN``), at most 64 characters.
AREA_ID = re.compile(r"[A-Za-z0-9_\-]{1,64}")


class Role(str, enum.Enum):
    """A user's role."""

    ADMIN = "admin"
    OPERATOR = "operator"
    VIEWER = "viewer"


class Permission(str, enum.Enum):
    """Something a user may be allowed to do.

    ``control``, ``acknowledge`` and ``shelve`` are granted per area; the others
    only with scope ``"*"``.
    """

    VIEW = "view"
    CONTROL = "control"
    ACKNOWLEDGE = "acknowledge"
    SHELVE = "shelve"
    EDIT_SETTINGS = "edit_settings"
    MANAGE_USERS = "manage_users"
    EXPORT_REPORTS = "export_reports"


#: Permissions granted per area.
AREA_PERMISSIONS = frozenset({Permission.CONTROL, Permission.ACKNOWLEDGE, Permission.SHELVE})


def parse_permission(text: str) -> Permission:
    """The :class:`Permission` named ``text`` (``view``, ``control``, ...).

    Raises
    ------
    ValueError
        Unknown permission, with the known ones.
    """
    try:
        return Permission(text)
    except ValueError:
        raise ValueError(f"unknown permission {text!r}; permissions are "
                         f"{', '.join(p.value for p in Permission)}") from None


def parse_role(text: str) -> Role:
    """The :class:`Role` named ``text`` (``admin``, ``operator``, ``viewer``).

    Raises
    ------
    ValueError
        Unknown role, with the known ones.
    """
    try:
        return Role(text)
    except ValueError:
        raise ValueError(f"unknown role {text!r}; roles are {', '.join(r.value for r in Role)}") from None


@dataclass(frozen=True)
class Grant:
    """One row of the permission model: ``role`` may ``permission`` in ``scope``."""

    role: Role
    permission: Permission
    scope: str = ALL_AREAS

    def __post_init__(self) -> None:
        if self.role is Role.ADMIN:
            raise ValueError("the administrator may do everything; it takes no grants")
        if self.scope != ALL_AREAS and not AREA_ID.fullmatch(self.scope):
            raise ValueError(f"a grant's scope is an area id (1-64 letters, digits, '_' or '-') or '*', "
                             f"got {self.scope!r}")
        if self.scope != ALL_AREAS and self.permission not in AREA_PERMISSIONS:
            raise ValueError(f"{self.permission.value!r} is not granted per area; use scope '*'")


@dataclass(frozen=True)
class PermissionModel:
    """The grants in force: who may do what, where.

    Attributes
    ----------
    grants : frozenset of Grant
    """

    grants: frozenset[Grant] = field(default_factory=frozenset)

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, str]]) -> PermissionModel:
        """Build from ``role_permissions`` rows (``role``, ``permission``, ``scope``).

        Raises
        ------
        ValueError
            A row names an unknown role or permission, or an invalid scope.
        """
        grants = []
        for row in rows:
            try:
                grants.append(Grant(parse_role(row["role"]), Permission(row["permission"]), row["scope"]))
            except ValueError as err:
                raise ValueError(f"role_permissions row {dict(row)!r}: {err}") from None
        return cls(frozenset(grants))

    def allows(self, role: Role, permission: Permission, area: str | None = None) -> bool:
        """Whether ``role`` may ``permission`` (in ``area``, for area permissions).

        ``area=None`` asks about the permission without an area: only a ``"*"`` grant
        (or the administrator) allows it.
        """
        if role is Role.ADMIN:
            return True
        if Grant(role, permission, ALL_AREAS) in self.grants:
            return True
        return (area is not None and permission in AREA_PERMISSIONS
                and Grant(role, permission, area) in self.grants)

    def of(self, role: Role) -> list[Grant]:
        """The grants of ``role``, sorted by permission and scope."""
        return sorted((g for g in self.grants if g.role is role), key=lambda g: (g.permission.value, g.scope))
