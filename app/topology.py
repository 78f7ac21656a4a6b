"""The site's electrical topology as a graph: who feeds whom, and what is energised.

Built from the validated ``topology:`` nodes of a site (:class:`app.config.TopologyNode`).
An edge runs from each node to every node that lists it in ``upstream``. Switching
nodes (feeder, breaker, bus tie) conduct only when closed; every other node conducts.
A bus tie lists its two busbars as ``upstream``; when closed it feeds each side from
the other, so a closed tie keeps a busbar live after its own transformer is lost.

Energisation is three-valued, so a breaker whose position is not known (bad quality,
never read) never paints its downstream as certainly live or certainly dead:

* ``LIVE`` — fed from a live source through closed switches only;
* ``DEAD`` — not fed even if every switch of unknown position were closed;
* ``UNKNOWN`` — fed only if some switch of unknown position is closed.

Qt-free: the diagram view colours lines with it, the alarm engine groups consequential
alarms under a trip with :meth:`Topology.deenergised_by_opening`, the control dialog lists
the loads an opening will cut off.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from app.config import SiteConfig
from app.config.site import NodeKind, TopologyNode
from app.points import PointValue, Quality

#: node kinds that open and close; their position comes from the device's ``state`` point
SWITCH_KINDS = frozenset({NodeKind.FEEDER, NodeKind.BREAKER, NodeKind.BUS_TIE})
#: name of the teleindication point giving a switch's position (1 closed, 0 open)
STATE_POINT = "state"


class Energisation(str, enum.Enum):
    """Whether a node (or the supply leaving it) is energised."""

    LIVE = "live"
    DEAD = "dead"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class EnergisationMap:
    """Energisation of every node, on its supply side and on its output side.

    Attributes
    ----------
    nodes : Mapping[str, Energisation]
        Supply side of each node (a breaker's line side, a busbar, a load).
    outputs : Mapping[str, Energisation]
        What leaves each node: its supply side, and for a switch also its position
        (an open breaker's load side is DEAD). The line drawn from ``u`` to a node it
        feeds is energised as ``outputs[u]``.
    """

    nodes: Mapping[str, Energisation]
    outputs: Mapping[str, Energisation]


class Topology:
    """Graph of the site's topology nodes.

    Parameters
    ----------
    nodes : Iterable[TopologyNode]
        Validated nodes (unique ids, known upstream ids, no cycles; see
        :func:`app.config.topology.topology_problems`), in file order.
    state_tags : Mapping[str, str] or None
        Switch node id -> tag of its position point. A switch with no tag is assumed in
        its normal position (closed unless ``normally_open``).

    Raises
    ------
    ValueError
        A node lists an upstream node that does not exist, or two nodes share an id.
    """

    def __init__(self, nodes: Iterable[TopologyNode], state_tags: Mapping[str, str] | None = None) -> None:
        self._nodes: dict[str, TopologyNode] = {}
        for node in nodes:
            if node.id in self._nodes:
                raise ValueError(f"topology: duplicate node id {node.id!r}")
            self._nodes[node.id] = node
        self._children: dict[str, list[str]] = {n: [] for n in self._nodes}
        for node in self._nodes.values():
            for up in node.upstream:
                if up not in self._nodes:
                    raise ValueError(f"topology: node {node.id!r} lists unknown upstream node {up!r}")
                self._children[up].append(node.id)
        self._feeds: dict[str, tuple[str, ...]] = {
            n: tuple(self._children[n]) + (node.upstream if node.kind is NodeKind.BUS_TIE else ())
            for n, node in self._nodes.items()}
        self.state_tags: dict[str, str] = dict(state_tags or {})
        for node_id in self.state_tags:
            if not self.is_switch(node_id):
                raise ValueError(f"topology: {node_id!r} is not a switch but has a state tag")
        self._switch_by_tag = {tag: node_id for node_id, tag in self.state_tags.items()}

    @classmethod
    def from_site(cls, site: SiteConfig) -> "Topology":
        """The topology of ``site``, each switch's position read from its device's ``state`` point.

        A switch whose device has no ``state`` point (or no device) keeps its normal position.
        """
        tags: dict[str, str] = {}
        for node in site.topology:
            if node.kind in SWITCH_KINDS and node.device is not None:
                device = site.device(node.device)
                if any(p.name == STATE_POINT for p in device.points):
                    tags[node.id] = device.tag(STATE_POINT)
        return cls(site.topology, tags)

    # ------------------------------------------------------------------ structure
    @property
    def nodes(self) -> Mapping[str, TopologyNode]:
        """Every node by id, in file order."""
        return self._nodes

    def node(self, node_id: str) -> TopologyNode:
        """The node ``node_id``.

        Raises
        ------
        KeyError
            No such node.
        """
        try:
            return self._nodes[node_id]
        except KeyError:
            raise KeyError(f"topology has no node {node_id!r}") from None

    def children(self, node_id: str) -> tuple[str, ...]:
        """Nodes listing ``node_id`` as upstream, in file order."""
        self.node(node_id)
        return tuple(self._children[node_id])

    def sources(self) -> list[str]:
        """Incoming lines (and any other node with no upstream that is not a bus tie)."""
        return [n for n, node in self._nodes.items() if not node.upstream]

    def is_switch(self, node_id: str) -> bool:
        """True for a feeder, breaker or bus tie."""
        return self.node(node_id).kind in SWITCH_KINDS

    def switch_of_tag(self, tag: str) -> str | None:
        """The switch node whose position ``tag`` gives, or None."""
        return self._switch_by_tag.get(tag)

    def downstream(self, node_id: str) -> list[str]:
        """Every node fed, directly or not, through ``node_id`` by the wiring alone.

        A bus tie feeds nothing by wiring (its sides are its upstream), so the result
        does not depend on switch positions; use :meth:`deenergised_by_opening` for
        what an opening actually cuts off.

        Returns
        -------
        list[str]
            Node ids in breadth-first order, ``node_id`` itself excluded.
        """
        self.node(node_id)
        seen: dict[str, None] = {}
        queue = deque(self._children[node_id])
        while queue:
            n = queue.popleft()
            if n in seen:
                continue
            seen[n] = None
            queue.extend(self._children[n])
        return list(seen)

    def ancestors(self, node_id: str) -> list[str]:
        """Every node ``node_id`` can be fed from by the wiring, nearest first."""
        seen: dict[str, None] = {}
        queue = deque(self.node(node_id).upstream)
        while queue:
            n = queue.popleft()
            if n in seen:
                continue
            seen[n] = None
            queue.extend(self._nodes[n].upstream)
        return list(seen)

    # ------------------------------------------------------------------ switch positions
    def positions(self, values: Mapping[str, PointValue]) -> dict[str, bool | None]:
        """Switch positions from point values.

        Parameters
        ----------
        values : Mapping[str, PointValue]
            Latest value per tag (a snapshot of the point cache).

        Returns
        -------
        dict[str, bool | None]
            Per switch with a state tag: True closed, False open, None when the value is
            missing, not GOOD, or None.
        """
        out: dict[str, bool | None] = {}
        for node_id, tag in self.state_tags.items():
            pv = values.get(tag)
            if pv is None or pv.quality is not Quality.GOOD or pv.value is None:
                out[node_id] = None
            else:
                out[node_id] = pv.value >= 0.5
        return out

    def _closed(self, node_id: str, positions: Mapping[str, bool | None], unknown_as: bool) -> bool:
        node = self._nodes[node_id]
        if node.kind not in SWITCH_KINDS:
            return True
        if node_id in self.state_tags:
            state = positions.get(node_id)
            return unknown_as if state is None else state
        return not node.normally_open

    def _fed(self, positions: Mapping[str, bool | None], unknown_as: bool,
             dead_sources: Collection[str], held_open: str | None = None) -> set[str]:
        """Nodes reached from the live sources; switches of unknown position count as
        ``unknown_as``; ``held_open`` is treated as open whatever its position."""
        live: set[str] = set()
        queue = deque(s for s in self.sources() if s not in dead_sources)
        while queue:
            n = queue.popleft()
            if n in live:
                continue
            live.add(n)
            if n != held_open and self._closed(n, positions, unknown_as):
                queue.extend(self._feeds[n])
        return live

    # ------------------------------------------------------------------ energisation
    def energisation(self, positions: Mapping[str, bool | None],
                     dead_sources: Collection[str] = ()) -> EnergisationMap:
        """What is energised given the switch positions.

        Parameters
        ----------
        positions : Mapping[str, bool | None]
            Switch node id -> True closed / False open / None unknown (see
            :meth:`positions`). Switches with a state tag missing here are unknown;
            switches without a state tag keep their normal position.
        dead_sources : Collection[str]
            Incoming lines known to be without voltage (all others are live).

        Returns
        -------
        EnergisationMap
            Supply-side and output-side energisation of every node.
        """
        certain = self._fed(positions, False, dead_sources)
        possible = self._fed(positions, True, dead_sources)
        nodes: dict[str, Energisation] = {}
        outputs: dict[str, Energisation] = {}
        for n in self._nodes:
            nodes[n] = _grade(n in certain, n in possible)
            outputs[n] = _grade(n in certain and self._closed(n, positions, False),
                                n in possible and self._closed(n, positions, True))
        return EnergisationMap(nodes, outputs)

    def deenergised_by_opening(self, switch_id: str, positions: Mapping[str, bool | None],
                               dead_sources: Collection[str] = ()) -> list[str]:
        """Nodes live now that opening ``switch_id`` would leave without supply.

        Takes the bus tie into account: opening a tie that feeds the other busbar cuts
        that busbar off; opening a feeder whose busbar stays live cuts off its feeder only.

        Parameters
        ----------
        switch_id : str
            A feeder, breaker or bus tie.
        positions, dead_sources
            As for :meth:`energisation`.

        Returns
        -------
        list[str]
            Node ids in file order (filter by ``kind`` for the loads).

        Raises
        ------
        ValueError
            ``switch_id`` is not a switch.
        """
        if not self.is_switch(switch_id):
            raise ValueError(f"{switch_id!r} is a {self.node(switch_id).kind.value}, not a switch")
        before = self._fed(positions, False, dead_sources)
        after = self._fed(positions, True, dead_sources, held_open=switch_id)
        return [n for n in self._nodes if n in before and n not in after]

    def supply_path(self, node_id: str, positions: Mapping[str, bool | None],
                    dead_sources: Collection[str] = ()) -> list[str] | None:
        """The nodes through which ``node_id`` is fed now, from its source down to itself.

        Returns
        -------
        list[str] or None
            Shortest path through closed switches from a live source; None when the node
            is not certainly live.
        """
        self.node(node_id)
        parent: dict[str, str | None] = {}
        queue: deque[str] = deque()
        for s in self.sources():
            if s not in dead_sources:
                parent[s] = None
                queue.append(s)
        while queue:
            n = queue.popleft()
            if n == node_id:
                path = [n]
                while (p := parent[path[-1]]) is not None:
                    path.append(p)
                return path[::-1]
            if self._closed(n, positions, False):
                for m in self._feeds[n]:
                    if m not in parent:
                        parent[m] = n
                        queue.append(m)
        return None


def _grade(certain: bool, possible: bool) -> Energisation:
    if certain:
        return Energisation.LIVE
    return Energisation.UNKNOWN if possible else Energisation.DEAD
