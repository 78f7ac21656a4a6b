"""Sheets of the single-line diagram and where each node goes on them (Qt-free).

Sheets
------
When any node names a ``diagram``, the sheets are exactly the named ones (nodes with
no name go on a sheet of their own, id ``diagram:``). Otherwise they are derived from
the topology: an overview (incoming lines, transformers, the main busbars and bus ties)
and one panel per busbar that feeds anything, holding the busbar, what feeds it (for
context), its bus ties and everything below it down to the next busbar.

A wire to a node that is not on the sheet ends in a connector naming the sheet where
that node lives; one connector per (node, target sheet, direction).

Layout
------
A sheet whose nodes all have ``x``/``y`` is drawn at those coordinates (scene px).
Otherwise it is laid out automatically, and the nodes that live on the sheet (not those
drawn there for context, such as a panel's transformer) and have ``x``/``y`` are put at
them; every other node moves with its nearest placed feeder on the sheet (or with the
first placed node), so a circuit keeps its shape under a busbar placed by hand.
The automatic layout is in layers: each node one row below its deepest feeder, loads
on the bottom row, leaves one column apart in file order, every other node centred over
what it feeds, a bus tie in a column of its own beside its busbar.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Literal

from app.config.site import NodeKind
from app.topology import Topology

OVERVIEW = "overview"
COLUMN_PX = 130.0
ROW_PX = 105.0
#: half length of a busbar with nothing below it on the sheet
BUS_HALF_PX = 0.9 * COLUMN_PX
#: gap left between a busbar's end and a bus tie's centre
TIE_GAP_PX = 34.0

Direction = Literal["up", "down", "left", "right"]


@dataclass(frozen=True)
class Connector:
    """An off-sheet connector.

    Attributes
    ----------
    node : str
        On-sheet node the wire leaves from.
    target : str
        Sheet id to navigate to.
    direction : {'up', 'down', 'left', 'right'}
    others : tuple[str, ...]
        The off-sheet nodes it stands for, in file order.
    """

    node: str
    target: str
    direction: Direction
    others: tuple[str, ...]


@dataclass(frozen=True)
class Sheet:
    """One diagram.

    Attributes
    ----------
    id : str
        ``'overview'``, ``'panel:<busbar id>'`` or ``'diagram:<name>'``.
    title : str
        The busbar's or diagram's name; empty for the overview (the view translates it).
    nodes : tuple[str, ...]
        Node ids drawn, file order.
    connectors : tuple[Connector, ...]
    busbar : str | None
        The busbar of a panel sheet.
    own : frozenset[str]
        Nodes that live on this sheet (the rest are drawn for context); their
        coordinates are honoured here.
    """

    id: str
    title: str
    nodes: tuple[str, ...]
    connectors: tuple[Connector, ...] = ()
    busbar: str | None = None
    own: frozenset[str] = frozenset()


@dataclass
class SheetLayout:
    """Positions of a sheet's nodes, scene px.

    Attributes
    ----------
    positions : dict[str, tuple[float, float]]
        Centre of each node's symbol (a busbar: its reference point).
    bus_spans : dict[str, tuple[float, float]]
        Left and right end x of each busbar.
    from_file : bool
        True when the coordinates are the site file's.
    """

    positions: dict[str, tuple[float, float]] = field(default_factory=dict)
    bus_spans: dict[str, tuple[float, float]] = field(default_factory=dict)
    from_file: bool = False


def build_sheets(topo: Topology) -> list[Sheet]:
    """The sheets of ``topo``: named diagrams if any node names one, else overview + panels."""
    nodes = topo.nodes
    if any(n.diagram for n in nodes.values()):
        home = {nid: f"diagram:{n.diagram or ''}" for nid, n in nodes.items()}
        order = list(dict.fromkeys(home.values()))
        members = {sid: [n for n in nodes if home[n] == sid] for sid in order}
        titles = {sid: sid.split(":", 1)[1] for sid in order}
        return [Sheet(sid, titles[sid], tuple(members[sid]), _connectors(topo, sid, members[sid], home),
                      own=frozenset(members[sid])) for sid in order]

    home: dict[str, str] = {n: OVERVIEW for n in nodes}
    panels: list[str] = []
    for bus_id, bus in nodes.items():
        if bus.kind is not NodeKind.BUSBAR:
            continue
        below = _below_busbar(topo, bus_id)
        if not below:
            continue
        panels.append(bus_id)
        home[bus_id] = f"panel:{bus_id}"
        for n in below:
            if home[n] == OVERVIEW:
                home[n] = f"panel:{bus_id}"
    overview = [n for n in nodes if home[n] == OVERVIEW
                or (nodes[n].kind is NodeKind.BUSBAR and any(home[u] == OVERVIEW for u in nodes[n].upstream))]
    sheets = [Sheet(OVERVIEW, "", tuple(overview), _connectors(topo, OVERVIEW, overview, home),
                    own=frozenset(n for n in overview if home[n] == OVERVIEW))]
    for bus_id in panels:
        sid = f"panel:{bus_id}"
        wanted = {bus_id, *nodes[bus_id].upstream}
        wanted.update(n for n in topo.children(bus_id) if nodes[n].kind is NodeKind.BUS_TIE)
        wanted.update(n for n in nodes if home[n] == sid)
        members = [n for n in nodes if n in wanted]
        sheets.append(Sheet(sid, nodes[bus_id].name or bus_id, tuple(members),
                            _connectors(topo, sid, members, home), busbar=bus_id,
                            own=frozenset(n for n in members if home[n] == sid)))
    return sheets


def _below_busbar(topo: Topology, bus_id: str) -> list[str]:
    """Nodes fed by wiring from ``bus_id`` down to (not including) the next busbar or a bus tie."""
    out: list[str] = []
    stack = list(reversed(topo.children(bus_id)))
    seen: set[str] = set()
    while stack:
        n = stack.pop()
        if n in seen or topo.nodes[n].kind in (NodeKind.BUSBAR, NodeKind.BUS_TIE):
            continue
        seen.add(n)
        out.append(n)
        stack.extend(reversed(topo.children(n)))
    return out


def _connectors(topo: Topology, sheet_id: str, members: list[str], home: dict[str, str]) -> tuple[Connector, ...]:
    on_sheet = set(members)
    groups: dict[tuple[str, str, Direction], list[str]] = defaultdict(list)
    for n in members:
        node = topo.nodes[n]
        if node.kind is NodeKind.BUS_TIE:
            for side in node.upstream:
                if side not in on_sheet:
                    direction: Direction = "right" if node.upstream.index(side) == 1 else "left"
                    groups[(n, home[side], direction)].append(side)
            continue
        for up in node.upstream:
            if up not in on_sheet:
                groups[(n, home[up], "up")].append(up)
        for child in topo.children(n):
            if child not in on_sheet and topo.nodes[child].kind is not NodeKind.BUS_TIE:
                groups[(n, home[child], "down")].append(child)
    return tuple(Connector(n, target, direction, tuple(others))
                 for (n, target, direction), others in groups.items() if target != sheet_id)


def layout_sheet(topo: Topology, sheet: Sheet) -> SheetLayout:
    """Positions for ``sheet``: the file's coordinates if every node has them, else automatic
    with the sheet's own nodes that have coordinates put at them (see the module's notes)."""
    nodes = topo.nodes
    placed = {n: (float(nodes[n].x), float(nodes[n].y)) for n in sheet.nodes  # type: ignore[arg-type]
              if nodes[n].x is not None and nodes[n].y is not None}
    if len(placed) == len(sheet.nodes):
        layout = SheetLayout(placed, from_file=True)
    else:
        layout = _auto_layout(topo, sheet)
        own = {n: xy for n, xy in placed.items() if n in sheet.own}
        if own:
            _move_to_file_positions(topo, sheet, layout.positions, own)
    layout.bus_spans = _bus_spans(topo, sheet, layout.positions)
    return layout


def _move_to_file_positions(topo: Topology, sheet: Sheet, positions: dict[str, tuple[float, float]],
                            placed: dict[str, tuple[float, float]]) -> None:
    """Put ``placed`` nodes at their coordinates; shift every other node by the shift of its
    nearest placed feeder on the sheet, else by that of the first placed node."""
    on_sheet = set(sheet.nodes)
    shift = {n: (x - positions[n][0], y - positions[n][1]) for n, (x, y) in placed.items()}
    default = shift[next(n for n in sheet.nodes if n in placed)]

    def nearest_placed_feeder(n: str) -> str | None:
        queue, seen = [n], {n}
        while queue:
            current = queue.pop(0)
            for u in topo.nodes[current].upstream:
                if u in on_sheet and u not in seen:
                    if u in placed:
                        return u
                    seen.add(u)
                    queue.append(u)
        return None

    moved = {}
    for n in sheet.nodes:
        if n in placed:
            moved[n] = placed[n]
            continue
        feeder = nearest_placed_feeder(n)
        dx, dy = shift[feeder] if feeder is not None else default
        moved[n] = (positions[n][0] + dx, positions[n][1] + dy)
    positions.update(moved)


def _auto_layout(topo: Topology, sheet: Sheet) -> SheetLayout:
    nodes = topo.nodes
    on_sheet = set(sheet.nodes)
    ties = [n for n in sheet.nodes if nodes[n].kind is NodeKind.BUS_TIE]
    tree_nodes = [n for n in sheet.nodes if nodes[n].kind is not NodeKind.BUS_TIE]
    parents = {n: [u for u in nodes[n].upstream if u in on_sheet] for n in tree_nodes}
    # rows: longest path from the sheet's roots (file order is a topological order only by luck)
    row: dict[str, int] = {}

    def depth(n: str) -> int:
        if n not in row:
            row[n] = 0  # guards a malformed loop; validated topologies have none
            row[n] = 1 + max((depth(u) for u in parents[n]), default=-1)
        return row[n]

    for n in tree_nodes:
        depth(n)
    bottom = max((row[n] for n in tree_nodes if nodes[n].kind is not NodeKind.LOAD), default=0) + 1
    for n in tree_nodes:
        if nodes[n].kind is NodeKind.LOAD and not topo.children(n):
            row[n] = max(row[n], bottom)
    # columns: leaves in depth-first file order; a node owned by its first on-sheet feeder
    kids: dict[str, list[str]] = {n: [] for n in tree_nodes}
    roots: list[str] = []
    for n in tree_nodes:
        if parents[n]:
            kids[parents[n][0]].append(n)
        else:
            roots.append(n)
    tie_of_bus: dict[str, list[str]] = defaultdict(list)
    for t in ties:
        for side in nodes[t].upstream:
            if side in on_sheet:
                tie_of_bus[side].append(t)
    col: dict[str, float] = {}
    tie_col: dict[str, float] = {}
    next_col = 0.0

    def place(n: str) -> None:
        nonlocal next_col
        if kids[n]:
            for k in kids[n]:
                place(k)
            col[n] = (col[kids[n][0]] + col[kids[n][-1]]) / 2
        else:
            col[n] = next_col
            next_col += 1
        for t in tie_of_bus.get(n, ()):
            if t not in tie_col:
                tie_col[t] = next_col  # a column of its own after the first side's circuits
                next_col += 1

    for r in roots:
        place(r)
    positions = {n: (col[n] * COLUMN_PX, row[n] * ROW_PX) for n in tree_nodes}
    for t in ties:
        sides = [s for s in nodes[t].upstream if s in on_sheet]
        y = min((positions[s][1] for s in sides), default=0.0)
        positions[t] = (tie_col.get(t, next_col) * COLUMN_PX, y)
    return SheetLayout(positions)


def _bus_spans(topo: Topology, sheet: Sheet, positions: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
    """Each busbar spans what it feeds on the sheet (half a column beyond), reaching to its ties."""
    spans: dict[str, tuple[float, float]] = {}
    on_sheet = set(sheet.nodes)
    for b in sheet.nodes:
        if topo.nodes[b].kind is not NodeKind.BUSBAR:
            continue
        bx = positions[b][0]
        xs = [positions[c][0] for c in topo.children(b)
              if c in on_sheet and topo.nodes[c].kind is not NodeKind.BUS_TIE]
        xs += [positions[u][0] for u in topo.nodes[b].upstream if u in on_sheet]
        x0 = min(xs, default=bx) - 0.45 * COLUMN_PX
        x1 = max(xs, default=bx) + 0.45 * COLUMN_PX
        x0, x1 = min(x0, bx - BUS_HALF_PX), max(x1, bx + BUS_HALF_PX)
        for t in topo.children(b):
            if t in on_sheet and topo.nodes[t].kind is NodeKind.BUS_TIE:
                tx = positions[t][0]
                if tx >= bx:
                    x1 = max(tx - TIE_GAP_PX, bx)
                else:
                    x0 = min(tx + TIE_GAP_PX, bx)
        spans[b] = (x0, x1)
    return spans
