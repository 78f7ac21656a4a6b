"""Drafts: a point's or alarm rule's raw fields together with the file position of each field.

A device point (or alarm rule) may take most fields from a template file and a few
overrides from the site file; a draft remembers which file and line each field came
from so that a problem is reported where the faulty value is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from app.config.point import Point, point_rule_violations
from app.config.problems import Problem
from app.config.validation import describe
from app.config.yaml_source import FieldPath, YamlDocument


@dataclass(frozen=True, slots=True)
class Draft:
    """A point's or alarm rule's raw fields before validation.

    Attributes
    ----------
    data : Mapping[str, Any]
        Field name -> raw value (merged template entry and overrides).
    origins : Mapping[str, tuple[YamlDocument, FieldPath]]
        Field name -> the file and field path its value was read from.
    entry : tuple[YamlDocument, FieldPath]
        Where the point's own list entry is (for missing fields and whole-point problems).
    """

    data: Mapping[str, Any]
    origins: Mapping[str, tuple[YamlDocument, FieldPath]]
    entry: tuple[YamlDocument, FieldPath]

    @classmethod
    def from_entry(cls, raw: Mapping[str, Any], doc: YamlDocument, path: FieldPath) -> Draft:
        """A draft whose every field comes from one list entry at ``path`` in ``doc``."""
        return cls(dict(raw), {f: (doc, (*path, f)) for f in raw}, (doc, path))

    def overridden(self, raw: Mapping[str, Any], doc: YamlDocument, path: FieldPath) -> Draft:
        """This draft with the fields of ``raw`` (an entry at ``path`` in ``doc``) replacing its own."""
        origins = {**self.origins, **{f: (doc, (*path, f)) for f in raw}}
        return Draft({**self.data, **raw}, origins, (doc, path))

    @property
    def name(self) -> str:
        """The raw ``name`` field as text (empty if missing)."""
        value = self.data.get("name")
        return value if isinstance(value, str) else ""

    def problem(self, loc: tuple[str | int, ...], message: str) -> Problem:
        """A problem about field ``loc`` (a pydantic location) of this point."""
        if loc and isinstance(loc[0], str) and loc[0] in self.origins:
            doc, path = self.origins[loc[0]]
            return doc.problem((*path, *loc[1:]), message)
        doc, path = self.entry
        return doc.problem((*path, *loc), message)


#: Key of a point entry holding the point's own alarm rules (resolved by :mod:`app.config.alarm_rules`).
POINT_ALARMS = "alarms"


def resolve_point(draft: Draft, problems: list[Problem]) -> Point | None:
    """Validate a draft into a :class:`Point` and check its cross-field rules.

    The point's own alarm rules (key ``alarms``) are left to :mod:`app.config.alarm_rules`.

    Parameters
    ----------
    draft : Draft
    problems : list[Problem]
        Receives every problem, located in the file that holds the faulty field.

    Returns
    -------
    Point | None
        ``None`` when any problem was found.
    """
    try:
        point = Point.model_validate({k: v for k, v in draft.data.items() if k != POINT_ALARMS})
    except ValidationError as exc:
        problems.extend(draft.problem(tuple(e["loc"]), describe(e)) for e in exc.errors())
        return None
    violations = point_rule_violations(point)
    problems.extend(draft.problem((field,) if field else (), message) for field, message in violations)
    return None if violations else point
