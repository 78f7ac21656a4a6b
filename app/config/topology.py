"""Checks on the topology graph: references, the shape of special nodes, and cycles."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from app.config.problems import Problem
from app.config.site import NodeKind, TopologyNode
from app.config.yaml_source import YamlDocument


def topology_problems(nodes: Sequence[tuple[int, TopologyNode]], device_ids: Collection[str],
                      doc: YamlDocument) -> list[Problem]:
    """Problems of the validated topology nodes.

    Parameters
    ----------
    nodes : Sequence[tuple[int, TopologyNode]]
        (index in the ``topology`` list, node) for every node that passed validation.
    device_ids : Collection[str]
        Ids of the site's devices.
    doc : YamlDocument
        The site file, for line numbers.

    Returns
    -------
    list[Problem]
        Duplicate ids, unknown upstream nodes or devices, an incoming line with an
        upstream, a bus tie without exactly two sides, and every cycle (reported once,
        at the node of the cycle that comes first in the file).
    """
    problems: list[Problem] = []
    by_id: dict[str, tuple[int, TopologyNode]] = {}
    for index, node in nodes:
        if node.id in by_id:
            problems.append(doc.problem(("topology", index, "id"), f"duplicate node id {node.id!r}"))
            continue
        by_id[node.id] = (index, node)
    for index, node in nodes:
        for k, up in enumerate(node.upstream):
            if up == node.id:
                problems.append(doc.problem(("topology", index, "upstream", k),
                                            f"node {node.id!r} cannot feed itself"))
            elif up not in by_id:
                problems.append(doc.problem(("topology", index, "upstream", k),
                                            f"unknown upstream node {up!r}"))
        if len(set(node.upstream)) != len(node.upstream):
            problems.append(doc.problem(("topology", index, "upstream"), "upstream lists a node twice"))
        if node.device is not None and node.device not in device_ids:
            problems.append(doc.problem(("topology", index, "device"), f"unknown device {node.device!r}"))
        if node.kind is NodeKind.INCOMING_LINE and node.upstream:
            problems.append(doc.problem(("topology", index, "upstream"),
                                        "an incoming line is a source: it has no upstream"))
        if node.kind is NodeKind.BUS_TIE and len(node.upstream) != 2:
            problems.append(doc.problem(("topology", index, "upstream"),
                                        f"a bus tie joins two sides: upstream needs exactly 2 nodes, "
                                        f"got {len(node.upstream)}"))
    problems.extend(_cycles(by_id, doc))
    return problems


def _cycles(by_id: dict[str, tuple[int, TopologyNode]], doc: YamlDocument) -> list[Problem]:
    """One problem per distinct cycle of the upstream relation (iterative depth-first search)."""
    problems: list[Problem] = []
    state: dict[str, int] = {}          # 1 = on the current path, 2 = finished
    reported: set[frozenset[str]] = set()
    for start in by_id:
        if start in state:
            continue
        path: list[str] = [start]
        pending: list[list[str]] = [[u for u in by_id[start][1].upstream if u in by_id and u != start]]
        state[start] = 1
        while path:
            if not pending[-1]:
                state[path.pop()] = 2
                pending.pop()
                continue
            nxt = pending[-1].pop()
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt):]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    first = min(cycle, key=lambda n: by_id[n][0])
                    turn = cycle.index(first)
                    ring = cycle[turn:] + cycle[:turn] + [first]
                    problems.append(doc.problem(("topology", by_id[first][0], "upstream"),
                                                "topology cycle: " + " -> ".join(ring)
                                                + " (each fed by the next)"))
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                pending.append([u for u in by_id[nxt][1].upstream if u in by_id and u != nxt])
    return problems
