"""Device templates: reusable register maps in YAML (``resources/templates/<name>.yaml``).

A template file holds::

    name: iot_breaker            # must equal the file name without .yaml
    description: ...
    category: power              # default energy sub-item of devices using it
    medium: electricity          # default medium
    ratings: {In_A: 63.0}        # nameplate defaults, overridden per device
    points: [ {name: ..., kind: ..., table: ..., address: ..., type: ...,
               alarms: [ {type: high, warning: ..., alarm: ...} ]}, ... ]
    alarms: [ {id: ..., type: ..., points: [...], ...}, ... ]   # rules over several points
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from app.config.alarm_rules import AlarmRule, listed_rule_drafts, point_rule_drafts, resolve_rules
from app.config.device import Ratings
from app.config.drafts import Draft, resolve_point
from app.config.point import IDENT_PATTERN, Category, Medium, Point
from app.config.problems import ConfigError, Problem
from app.config.registers import register_problems
from app.config.validation import validate_model
from app.config.yaml_source import read_yaml
from resources import TEMPLATES_DIR


class TemplateHeader(BaseModel):
    """The fields of a template file other than ``points``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=IDENT_PATTERN)
    description: str = ""
    category: Category = Category.POWER
    medium: Medium = Medium.ELECTRICITY
    ratings: Ratings = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Template:
    """A validated device template.

    Attributes
    ----------
    name, description : str
    category : Category
        Default energy sub-item of devices built from it.
    medium : Medium
        Default medium of devices built from it.
    ratings : Mapping[str, float]
        Nameplate defaults (e.g. ``In_A``, ``Pn_kW``, ``residual_mA``).
    points : tuple[Point, ...]
        The register map, in file order (category/medium left as written).
    source : Path
        The template file.
    drafts : Mapping[str, Draft]
        Raw point entries by name with their file positions, for merging device overrides.
    alarms : tuple[AlarmRule, ...]
        The template's alarm rules (point-level, then listed) resolved against its own
        ratings; a device resolves them again against its ratings.
    alarm_drafts : Mapping[str, Draft]
        Raw entries of the template's ``alarms`` list by rule id, for device overrides.
    """

    name: str
    description: str
    category: Category
    medium: Medium
    ratings: Mapping[str, float]
    points: tuple[Point, ...]
    source: Path
    drafts: Mapping[str, Draft]
    alarms: tuple[AlarmRule, ...]
    alarm_drafts: Mapping[str, Draft]


def parse_template(file: Path, problems: list[Problem]) -> Template | None:
    """Read and validate one template file.

    Parameters
    ----------
    file : Path
        ``<name>.yaml``.
    problems : list[Problem]
        Receives every problem, located in ``file``.

    Returns
    -------
    Template | None
        ``None`` if the file has any problem.
    """
    doc = read_yaml(file)
    found: list[Problem] = list(doc.problems)
    template = None
    if doc.data is not None and not isinstance(doc.data, dict):
        found.append(doc.problem((), "a template must be a mapping with name, points, ..."))
    elif isinstance(doc.data, dict):
        raw = doc.data
        header = validate_model(TemplateHeader, {k: v for k, v in raw.items() if k not in ("points", "alarms")},
                                doc, (), found)
        if header is not None and header.name != file.stem:
            found.append(doc.problem(("name",), f"template name {header.name!r} must equal "
                                                f"the file name {file.stem!r}"))
        raw_points = raw.get("points")
        resolved: list[tuple[Point, Draft]] = []
        if not isinstance(raw_points, list) or not raw_points:
            found.append(doc.problem(("points",), "a template needs a non-empty list of points"))
        else:
            for index, entry in enumerate(raw_points):
                if not isinstance(entry, dict):
                    found.append(doc.problem(("points", index), "a point must be a mapping"))
                    continue
                draft = Draft.from_entry(entry, doc, ("points", index))
                point = resolve_point(draft, found)
                if point is not None:
                    resolved.append((point, draft))
            found.extend(register_problems(resolved))
        alarm_drafts = listed_rule_drafts(raw.get("alarms"), doc, ("alarms",), found)
        if header is not None and not found:
            rule_drafts = [r for _, d in resolved for r in point_rule_drafts(d, found)]
            alarms = resolve_rules([*rule_drafts, *alarm_drafts.values()], {p.name: p for p, _ in resolved},
                                   header.ratings, found)
            if not found:
                template = Template(
                    name=header.name, description=header.description, category=header.category,
                    medium=header.medium, ratings=header.ratings,
                    points=tuple(p for p, _ in resolved), source=file,
                    drafts={p.name: d for p, d in resolved}, alarms=alarms, alarm_drafts=alarm_drafts)
    problems.extend(found)
    return template


def load_template(path: str | Path) -> Template:
    """Load one template file on its own (for simulators, tools and tests).

    Parameters
    ----------
    path : str | Path

    Returns
    -------
    Template

    Raises
    ------
    ConfigError
        Listing every problem in the file.
    """
    problems: list[Problem] = []
    template = parse_template(Path(path).resolve(), problems)
    if template is None:
        raise ConfigError(problems)
    return template


def builtin_template_names() -> list[str]:
    """Names of the templates shipped in ``resources/templates``, sorted."""
    return sorted(p.stem for p in TEMPLATES_DIR.glob("*.yaml"))


class TemplateLibrary:
    """Finds templates by name in an ordered list of directories, loading each file once.

    Parameters
    ----------
    dirs : Sequence[Path]
        Searched in order; the built-in ``resources/templates`` is searched last.
    """

    def __init__(self, dirs: Sequence[Path]) -> None:
        self.dirs: tuple[Path, ...] = (*dirs, TEMPLATES_DIR)
        self.problems: list[Problem] = []
        self._loaded: dict[Path, Template | None] = {}

    def find(self, name: str) -> Path | None:
        """Path of the first ``<name>.yaml`` in the search directories, or ``None``."""
        for directory in self.dirs:
            candidate = directory / f"{name}.yaml"
            if candidate.is_file():
                return candidate
        return None

    def get(self, name: str) -> Template | None:
        """The template called ``name``; ``None`` if missing or faulty.

        A faulty file's problems are added to :attr:`problems` the first time it is read.
        """
        file = self.find(name)
        if file is None:
            return None
        if file not in self._loaded:
            self._loaded[file] = parse_template(file, self.problems)
        return self._loaded[file]
