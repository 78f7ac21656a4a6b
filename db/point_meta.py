"""Descriptive fields of a point as the historian stores them (the ``points`` table)."""

from __future__ import annotations

from dataclasses import dataclass

#: Values of :attr:`PointMeta.kind`.
KINDS = ("telemetry", "teleindication", "telecontrol", "accumulator")

#: Longest text per field, as in the ``points`` table (db/schema.py).
_LENGTHS = {"tag": 128, "device": 64, "name": 64, "unit": 16, "kind": 16, "category": 32,
            "medium": 32, "area": 64, "description": 10_000}


@dataclass(frozen=True, slots=True)
class PointMeta:
    """One point's row in the ``points`` table.

    Attributes
    ----------
    tag : str
        ``"<device id>.<point name>"``, unique.
    device, name : str
        The two halves of the tag.
    description, unit : str
        Free text; unit as shown, e.g. ``"kW"``, ``"kWh"``, ``"m³"``.
    kind : str
        One of :data:`KINDS`. Accumulators (kWh, m³ meter readings) get consumption
        rollups.
    category, medium, area : str
        Classification used by reports (e.g. ``"lighting"``, ``"electricity"``, ``"B1"``).
    rollover : float | None
        An accumulator's wrap value in its unit (the reading after ``rollover - ε`` is
        ``0``); ``None`` when the register never wraps.
    """

    tag: str
    device: str
    name: str
    description: str = ""
    unit: str = ""
    kind: str = "telemetry"
    category: str = ""
    medium: str = ""
    area: str = ""
    rollover: float | None = None

    def __post_init__(self) -> None:
        for field, limit in _LENGTHS.items():
            text = getattr(self, field)
            if not isinstance(text, str) or len(text) > limit:
                raise ValueError(f"point {self.tag!r}: {field} must be text of at most {limit} characters, "
                                 f"got {text!r}")
        if not self.tag or self.tag != f"{self.device}.{self.name}":
            raise ValueError(f"point {self.tag!r}: tag must be '<device>.<name>' "
                             f"(device {self.device!r}, name {self.name!r})")
        if self.kind not in KINDS:
            raise ValueError(f"point {self.tag!r}: kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.rollover is not None and not self.rollover > 0:
            raise ValueError(f"point {self.tag!r}: rollover must be > 0, got {self.rollover!r}")

    @classmethod
    def from_tag(cls, tag: str) -> PointMeta:
        """Minimal metadata for a tag the historian received without registration.

        Raises
        ------
        ValueError
            If ``tag`` has no ``"."`` separating device and point name.
        """
        if not isinstance(tag, str):
            raise ValueError(f"tag {tag!r} is not text")
        device, sep, name = tag.partition(".")
        if not sep or not device or not name:
            raise ValueError(f"tag {tag!r} is not '<device>.<name>'")
        return cls(tag=tag, device=device, name=name)

    def row(self) -> dict[str, object]:
        """The ``points`` row (without ``id``) as a column → value mapping."""
        return {
            "tag": self.tag, "device": self.device, "name": self.name,
            "description": self.description, "unit": self.unit, "kind": self.kind,
            "category": self.category, "medium": self.medium, "area": self.area,
            "rollover": self.rollover,
        }
