"""Alarm rules in the site and template files: the YAML schema, merging and resolution.

Rules are written in three places (see ``docs/alarms.md``):

* in a point entry, ``alarms: [{type: high, warning: 250, alarm: 275}]`` — the rule
  watches that point; its id defaults to ``<point>_<type>``;
* in a template's or device's ``alarms:`` list — the rule names its points; its id
  defaults to the type. A device rule whose id equals a template rule's id overrides
  the fields it gives (``{id: over_voltage, alarm: 270}``), ``enabled: false`` drops it;
* in the site's ``alarms:`` list — area rules (daily energy of an area), naming tags.

Limits are numbers in the point's unit or ``"<factor>*<rating>"`` / ``"<rating>"``
relative to the device's ``ratings`` (``"0.8*In_A"``), resolved per device so one
template serves breakers of every size.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

from app.config.drafts import POINT_ALARMS, Draft
from app.config.language import pick
from app.config.point import IDENT_PATTERN, Finite, Point, PointKind
from app.config.problems import Problem
from app.config.validation import describe
from app.config.yaml_source import FieldPath, YamlDocument


class RuleType(str, enum.Enum):
    """What an alarm rule watches."""

    HIGH = "high"                           # value above warning (H, 预警) / alarm (HH, 报警)
    LOW = "low"                             # value below warning (L) / alarm (LL)
    STATE = "state"                         # digital state in ``states`` (water, smoke, door)
    IMBALANCE = "imbalance"                 # three-phase unbalance, % (GB/T 15543)
    PHASE_LOSS = "phase_loss"               # one or two of three phases below ``alarm``
    NO_VOLTAGE = "no_voltage"               # all three phases below ``alarm``
    TRIP = "trip"                           # uncommanded change of a breaker to open
    COMM_LOSS = "comm_loss"                 # every watched point of the device BAD
    BAD_QUALITY = "bad_quality"             # a point's quality not GOOD while the device talks
    CONSUMPTION_SURGE = "consumption_surge"  # interval consumption > factor x baseline
    DAILY_ENERGY = "daily_energy"           # consumption since local midnight above a limit


class ImbalanceMethod(str, enum.Enum):
    """How three-phase unbalance is computed (see ``docs/alarms.md``)."""

    DEVIATION = "deviation"                  # max |x - mean| / mean x 100 %
    NEGATIVE_SEQUENCE = "negative_sequence"  # GB/T 15543 ratio U2/U1 x 100 % from magnitudes


#: Rules whose condition follows from the loss of supply: grouped under an upstream
#: breaker's trip, suppressed by design while it is open by command.
SUPPLY_DEPENDENT = frozenset({RuleType.LOW, RuleType.PHASE_LOSS, RuleType.NO_VOLTAGE,
                              RuleType.IMBALANCE, RuleType.COMM_LOSS, RuleType.BAD_QUALITY})

_LEVELLED = frozenset({RuleType.HIGH, RuleType.LOW, RuleType.IMBALANCE, RuleType.DAILY_ENERGY})
_THREE_PHASE = frozenset({RuleType.IMBALANCE, RuleType.PHASE_LOSS, RuleType.NO_VOLTAGE})
_ACCUMULATING = frozenset({RuleType.CONSUMPTION_SURGE, RuleType.DAILY_ENERGY})
_RELATIVE = re.compile(r"^\s*(?:([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*\*\s*)?([A-Za-z_][A-Za-z0-9_]*)\s*$")

#: Fields that may be written relative to the device's ratings.
_LIMIT_FIELDS = ("warning", "alarm", "min_mean", "deadband")

Priority = Annotated[int, Field(ge=1, le=4)]
LimitText = Annotated[str, Field(min_length=1)]


class _RuleFields(BaseModel):
    """Fields shared by a rule as written and a resolved rule."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=IDENT_PATTERN)
    type: RuleType
    description: str = ""
    description_zh: str = ""
    points: tuple[str, ...] = ()
    area: str | None = Field(default=None, pattern=IDENT_PATTERN)
    on_delay_s: Finite = Field(default=0.0, ge=0.0)
    off_delay_s: Finite = Field(default=0.0, ge=0.0)
    priority: Priority = 2
    warning_priority: Priority = 3
    states: tuple[int, ...] = ()
    cause: str | None = Field(default=None, pattern=IDENT_PATTERN)
    command_window_s: Finite = Field(default=10.0, gt=0.0)
    factor: Finite = Field(default=2.0, gt=0.0)
    interval_s: int = Field(default=3600, ge=60, le=86400)
    method: ImbalanceMethod = ImbalanceMethod.DEVIATION


class AlarmRuleSpec(_RuleFields):
    """A rule as written in YAML: limits may be relative to the device's ratings."""

    warning: Finite | LimitText | None = None
    alarm: Finite | LimitText | None = None
    min_mean: Finite | LimitText | None = None
    deadband: Finite | LimitText = 0.0
    enabled: StrictBool = True


class AlarmRule(_RuleFields):
    """A resolved alarm rule of one device (or of the site, for area rules).

    Attributes
    ----------
    id : str
        Unique within its device (or among the site's rules).
    type : RuleType
    description, description_zh : str
        Operator text in English and in Chinese (``"Over-voltage"``, ``"过压"``); empty
        lets the alarm text name the rule type (see :meth:`describe`).
    points : tuple[str, ...]
        Point names of the device (site rules: tags ``"<device>.<point>"``). One alarm
        per point for per-point types; the three phases A, B, C for three-phase types;
        the breaker state point for ``trip``; empty for ``comm_loss`` means every point.
    area : str | None
        Site rules only: the area the alarm belongs to (device rules: the device's area).
    warning, alarm : float | None
        Pre-warning (预警) and alarm (报警) limits in the point's unit (imbalance: %,
        energy: the accumulator's unit); ``alarm`` is the detection limit of
        ``phase_loss``/``no_voltage``.
    deadband : float
        Hysteresis: an active high alarm clears below ``limit - deadband`` (low: above
        ``limit + deadband``), same unit as the limit.
    on_delay_s, off_delay_s : float
        Seconds the condition must hold before the alarm raises / clears.
    priority, warning_priority : int
        1 (highest) .. 4, of the alarm level and of the pre-warning level.
    states : tuple[int, ...]
        ``state``: codes that raise the alarm; ``trip``: codes meaning open (default 0).
    cause : str | None
        ``trip``: point whose code (and state label) tells the trip cause.
    command_window_s : float
        ``trip``: a change within this many seconds after a command is commanded.
    factor : float
        ``consumption_surge``: k in ``consumption > k x baseline``.
    interval_s : int
        ``consumption_surge``: interval length, seconds, aligned to local midnight.
    min_mean : float | None
        ``imbalance``: no evaluation while the mean of the phases is below this.
    method : ImbalanceMethod
        ``imbalance``: formula.
    """

    warning: Finite | None = None
    alarm: Finite | None = None
    min_mean: Finite | None = None
    deadband: Finite = Field(default=0.0, ge=0.0)

    def describe(self, language: str) -> str:
        """The rule's operator text in ``language`` (``"zh_CN"``/``"en"``); empty if none is set."""
        return pick(self.description, self.description_zh, language)


def relative_limit(value: float | str, ratings: Mapping[str, float]) -> float:
    """A limit as a number: itself, or ``factor * rating`` for ``"<factor>*<rating>"``.

    Parameters
    ----------
    value : float | str
        A number, or text such as ``"0.8*In_A"`` or ``"residual_mA"``.
    ratings : Mapping[str, float]
        The device's nameplate values.

    Raises
    ------
    ValueError
        Text of another form, or a rating the device does not have.
    """
    if not isinstance(value, str):
        return float(value)
    match = _RELATIVE.match(value)
    if match is None:
        raise ValueError(f"limit {value!r} must be a number, '<factor>*<rating>' or '<rating>'")
    factor, rating = match.groups()
    if rating not in ratings:
        known = ", ".join(sorted(ratings)) or "none"
        raise ValueError(f"limit {value!r}: unknown rating {rating!r} (the device has: {known})")
    return (float(factor) if factor is not None else 1.0) * ratings[rating]


def point_rule_drafts(point_draft: Draft, problems: list[Problem]) -> list[Draft]:
    """Drafts of the rules written inside one point entry (its ``alarms`` list).

    Each draft gets ``points: [<point>]`` and, unless it has one, ``id: <point>_<type>``.
    A list that is not a list of mappings is reported in ``problems``.
    """
    raw = point_draft.data.get(POINT_ALARMS)
    if raw is None or POINT_ALARMS not in point_draft.origins:
        return []
    doc, path = point_draft.origins[POINT_ALARMS]
    if not isinstance(raw, list):
        problems.append(doc.problem(path, "'alarms' must be a list of rules"))
        return []
    drafts = []
    name = point_draft.name
    for index, entry in enumerate(raw):
        here = (*path, index)
        if not isinstance(entry, dict):
            problems.append(doc.problem(here, "an alarm rule must be a mapping"))
            continue
        if "points" in entry:
            problems.append(doc.problem((*here, "points"), "a point's own rule watches that point: "
                                                           "leave out 'points'"))
            continue
        implied: dict[str, Any] = {"points": [name]}
        if "id" not in entry:
            implied["id"] = f"{name}_{entry.get('type')}"
        draft = Draft.from_entry(entry, doc, here)
        drafts.append(Draft({**draft.data, **implied}, draft.origins, draft.entry))
    return drafts


def listed_rule_drafts(raw: Any, doc: YamlDocument, path: FieldPath, problems: list[Problem],
                       base: Mapping[str, Draft] | None = None) -> dict[str, Draft]:
    """Merge an ``alarms:`` list of a template, device or site over ``base`` by rule id.

    Parameters
    ----------
    raw : Any
        The list as read (``None`` for no list).
    doc, path
        Where the list is written.
    problems : list[Problem]
        Receives structural problems (not a list, entries not mappings, ids twice).
    base : Mapping[str, Draft], optional
        Rules inherited from the template; an entry with the same id overrides their fields.

    Returns
    -------
    dict[str, Draft]
        Rule id -> merged draft, inherited rules first.
    """
    drafts: dict[str, Draft] = dict(base or {})
    if raw is None:
        return drafts
    if not isinstance(raw, list):
        problems.append(doc.problem(path, "'alarms' must be a list of rules"))
        return drafts
    seen: dict[str, int] = {}
    for index, entry in enumerate(raw):
        here = (*path, index)
        if not isinstance(entry, dict):
            problems.append(doc.problem(here, "an alarm rule must be a mapping"))
            continue
        rule_id = entry.get("id", entry.get("type"))
        key = str(rule_id)
        if key in seen:
            problems.append(doc.problem((*here, "id") if "id" in entry else here,
                                        f"alarm rule id {key!r} is used twice (first at line {seen[key]})"))
            continue
        seen[key] = doc.line_of(here)
        if base is not None and key in base:
            drafts[key] = drafts[key].overridden(entry, doc, here)
        else:
            draft = Draft.from_entry(entry, doc, here)
            if "id" not in entry:
                draft = Draft({**draft.data, "id": rule_id}, draft.origins, draft.entry)
            drafts[key] = draft
    return drafts


def resolve_rules(drafts: Sequence[Draft], points: Mapping[str, Point] | None,
                  ratings: Mapping[str, float], problems: list[Problem]) -> tuple[AlarmRule, ...]:
    """Validate rule drafts and resolve their limits.

    Parameters
    ----------
    drafts : Sequence[Draft]
        Point-level rules first, then listed rules.
    points : Mapping[str, Point] | None
        The device's points by name; ``None`` for site rules, whose ``points`` are tags
        checked by the caller.
    ratings : Mapping[str, float]
        The device's ratings (template defaults merged with its own).
    problems : list[Problem]
        Receives every problem, at the file and line of the faulty field.

    Returns
    -------
    tuple[AlarmRule, ...]
        Enabled rules in order; a faulty rule is left out (its problems reported).
    """
    rules: list[AlarmRule] = []
    seen: dict[str, Draft] = {}
    for draft in drafts:
        try:
            spec = AlarmRuleSpec.model_validate(dict(draft.data))
        except ValidationError as exc:
            problems.extend(draft.problem(tuple(e["loc"]), describe(e)) for e in exc.errors())
            continue
        if spec.id in seen:
            problems.append(draft.problem(("id",), f"alarm rule id {spec.id!r} is used twice"))
            continue
        seen[spec.id] = draft
        found = _rule_problems(spec, points)
        limits: dict[str, float | None] = {}
        for field in _LIMIT_FIELDS:
            value = getattr(spec, field)
            try:
                limits[field] = None if value is None else relative_limit(value, ratings)
            except ValueError as exc:
                found.append((field, str(exc)))
        if (limits.get("deadband") or 0.0) < 0.0:
            found.append(("deadband", f"deadband must be >= 0, got {limits['deadband']:g}"))
        if not found:
            found.extend(_limit_problems(spec, limits))
        problems.extend(draft.problem((field,), message) for field, message in found)
        if not found and spec.enabled:
            rules.append(AlarmRule.model_validate(
                {**spec.model_dump(exclude={"enabled", *_LIMIT_FIELDS}), **limits}))
    return tuple(rules)


def _rule_problems(spec: AlarmRuleSpec, points: Mapping[str, Point] | None) -> list[tuple[str, str]]:
    """Field-level problems of one rule that depend on its type and the device's points."""
    found: list[tuple[str, str]] = []
    kind = spec.type
    count = len(spec.points)
    if kind in _THREE_PHASE and count != 3:
        found.append(("points", f"a {kind.value} rule needs exactly 3 points (phases A, B, C), got {count}"))
    elif kind is RuleType.TRIP and count != 1:
        found.append(("points", f"a trip rule watches exactly 1 point (the breaker state), got {count}"))
    elif kind is not RuleType.COMM_LOSS and count == 0:
        found.append(("points", f"a {kind.value} rule needs at least one point"))
    if kind in _LEVELLED and spec.warning is None and spec.alarm is None:
        found.append(("alarm", f"a {kind.value} rule needs 'warning', 'alarm' or both"))
    if kind in (RuleType.PHASE_LOSS, RuleType.NO_VOLTAGE) and spec.alarm is None:
        found.append(("alarm", f"a {kind.value} rule needs 'alarm', the voltage below which a phase is lost"))
    if kind is RuleType.STATE and not spec.states:
        found.append(("states", "a state rule needs 'states', the codes that raise the alarm"))
    if kind is RuleType.CONSUMPTION_SURGE and 86400 % spec.interval_s:
        found.append(("interval_s", f"interval_s must divide a day (86400 s), got {spec.interval_s}"))
    if points is None:
        return found
    if spec.area is not None:
        found.append(("area", "a device's rule belongs to the device's area: leave out 'area'"))
    for name in spec.points:
        point = points.get(name)
        if point is None:
            found.append(("points", f"unknown point {name!r}"))
        elif kind in _ACCUMULATING and point.kind is not PointKind.ACCUMULATOR:
            found.append(("points", f"a {kind.value} rule needs accumulator points; {name!r} is "
                                    f"{point.kind.value}"))
    if spec.cause is not None and spec.cause not in points:
        found.append(("cause", f"unknown point {spec.cause!r}"))
    return found


def _limit_problems(spec: AlarmRuleSpec, limits: Mapping[str, float | None]) -> list[tuple[str, str]]:
    """Pre-warning and alarm limits in the wrong order."""
    warning, alarm = limits["warning"], limits["alarm"]
    if warning is None or alarm is None:
        return []
    if spec.type is RuleType.LOW and warning <= alarm:
        return [("warning", f"a low rule's pre-warning limit {warning:g} must be above its alarm "
                            f"limit {alarm:g}")]
    if spec.type in (RuleType.HIGH, RuleType.IMBALANCE, RuleType.DAILY_ENERGY) and warning >= alarm:
        return [("warning", f"the pre-warning limit {warning:g} must be below the alarm limit {alarm:g}")]
    return []
