"""Register-map checks across the points of one device or template."""

from __future__ import annotations

from collections.abc import Sequence

from app.config.drafts import Draft
from app.config.point import Point
from app.config.problems import Problem


def _clash(a: Point, b: Point) -> bool:
    """True if two points on the same table use the same register, coil or register bit."""
    if a.address > b.end_address or b.address > a.end_address:
        return False
    if a.bit is not None and b.bit is not None:
        return a.bit == b.bit
    return True


def _span(p: Point) -> str:
    where = f"{p.address}" if p.registers == 1 else f"{p.address}..{p.end_address}"
    return f"{where} bit {p.bit}" if p.bit is not None else where


def register_problems(points: Sequence[tuple[Point, Draft]]) -> list[Problem]:
    """Duplicate point names and overlapping Modbus registers in one device's points.

    Parameters
    ----------
    points : Sequence[tuple[Point, Draft]]
        The validated points of one device (or template) with their drafts.

    Returns
    -------
    list[Problem]
        One problem per point that reuses an earlier point's name, and one per overlap of
        two points on the same table, reported at the point that comes later in
        ``points`` (bits of one register may be shared by points on different bits).
    """
    problems: list[Problem] = []
    seen: dict[str, Point] = {}
    for point, draft in points:
        if point.name in seen:
            problems.append(draft.problem(("name",), f"duplicate point name {point.name!r}"))
        seen.setdefault(point.name, point)
    order = {id(draft): n for n, (_, draft) in enumerate(points)}
    modbus = [(p, d) for p, d in points if p.table is not None and p.address is not None]
    ordered = sorted(modbus, key=lambda pd: (pd[0].table.value, pd[0].address))
    active: list[tuple[Point, Draft]] = []
    for point, draft in ordered:
        active = [(a, d) for a, d in active if a.table is point.table and a.end_address >= point.address]
        for earlier, earlier_draft in active:
            if _clash(earlier, point):
                # Report at the point defined later (device points come after template points).
                (p1, _), (p2, d2) = sorted([(earlier, earlier_draft), (point, draft)],
                                           key=lambda pd: order[id(pd[1])])
                problems.append(d2.problem(("address",), (
                    f"{p2.table.value} {_span(p2)} of point {p2.name!r} overlaps "
                    f"point {p1.name!r} at {_span(p1)}")))
                break
        active.append((point, draft))
    return problems
