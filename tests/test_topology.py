"""Topology graph and energisation (pure, no Qt): breakers, bus tie, unknown positions."""

from __future__ import annotations

import pytest

from app.config import load_site
from app.config.site import NodeKind, TopologyNode
from app.points import PointValue, Quality
from app.topology import Energisation, Topology
from resources import DEMO_SITE

LIVE, DEAD, UNKNOWN = Energisation.LIVE, Energisation.DEAD, Energisation.UNKNOWN


def node(id_: str, kind: str, *up: str, normally_open: bool = False) -> TopologyNode:
    return TopologyNode(id=id_, kind=NodeKind(kind), upstream=up, normally_open=normally_open)


def two_incomer_board() -> Topology:
    """Two incoming lines, each through an incomer breaker to its own busbar; a bus tie;
    one feeder and load per busbar."""
    nodes = [
        node("IL1", "incoming_line"), node("IL2", "incoming_line"),
        node("Q1", "breaker", "IL1"), node("Q2", "breaker", "IL2"),
        node("B1", "busbar", "Q1"), node("B2", "busbar", "Q2"),
        node("TIE", "bus_tie", "B1", "B2", normally_open=True),
        node("F1", "feeder", "B1"), node("L1", "load", "F1"),
        node("F2", "feeder", "B2"), node("M2", "meter", "F2"), node("L2", "load", "M2"),
    ]
    tags = {s: f"{s}_DEV.state" for s in ("Q1", "Q2", "TIE", "F1", "F2")}
    return Topology(nodes, tags)


NORMAL = {"Q1": True, "Q2": True, "TIE": False, "F1": True, "F2": True}


def test_normal_operation_everything_live_tie_open():
    topo = two_incomer_board()
    e = topo.energisation(NORMAL)
    assert all(state is LIVE for state in e.nodes.values())
    assert e.outputs["TIE"] is DEAD          # open tie: nothing leaves it
    assert e.outputs["B1"] is LIVE


def test_opening_a_feeder_greys_only_its_downstream():
    topo = two_incomer_board()
    e = topo.energisation({**NORMAL, "F2": False})
    assert e.nodes["F2"] is LIVE and e.outputs["F2"] is DEAD     # line side still live
    assert e.nodes["M2"] is DEAD and e.nodes["L2"] is DEAD
    assert e.nodes["L1"] is LIVE and e.nodes["B2"] is LIVE


def test_closed_bus_tie_feeds_the_other_bus_after_its_incomer_opens():
    topo = two_incomer_board()
    lost = topo.energisation({**NORMAL, "Q2": False})
    assert lost.nodes["B2"] is DEAD and lost.nodes["L2"] is DEAD and lost.nodes["L1"] is LIVE
    fed = topo.energisation({**NORMAL, "Q2": False, "TIE": True})
    assert fed.nodes["B2"] is LIVE and fed.nodes["L2"] is LIVE
    assert topo.supply_path("L2", {**NORMAL, "Q2": False, "TIE": True}) == \
        ["IL1", "Q1", "B1", "TIE", "B2", "F2", "M2", "L2"]
    # and the other way round: B1 fed from B2 through the tie
    back = topo.energisation({**NORMAL, "Q1": False, "TIE": True})
    assert back.nodes["L1"] is LIVE and back.nodes["Q1"] is LIVE and back.outputs["Q1"] is DEAD


def test_a_dead_source_is_backed_up_by_the_tie():
    topo = two_incomer_board()
    assert topo.energisation(NORMAL, dead_sources={"IL2"}).nodes["L2"] is DEAD
    assert topo.energisation({**NORMAL, "TIE": True}, dead_sources={"IL2"}).nodes["L2"] is LIVE
    assert topo.energisation(NORMAL, dead_sources={"IL1", "IL2"}).nodes["B1"] is DEAD


def test_unknown_position_gives_unknown_downstream_never_live_or_dead():
    topo = two_incomer_board()
    e = topo.energisation({**NORMAL, "F2": None})
    assert e.nodes["F2"] is LIVE
    assert e.outputs["F2"] is UNKNOWN and e.nodes["L2"] is UNKNOWN
    assert e.nodes["L1"] is LIVE
    # a missing entry counts as unknown too
    partial = dict(NORMAL)
    del partial["Q2"]
    assert topo.energisation(partial).nodes["B2"] is UNKNOWN
    # an unknown tie with a dead incomer behind it: the bus may or may not be fed
    assert topo.energisation({**NORMAL, "Q2": False, "TIE": None}).nodes["B2"] is UNKNOWN


def test_switch_without_state_tag_keeps_its_normal_position():
    nodes = [node("IL", "incoming_line"), node("B1", "busbar", "IL"), node("B2", "busbar", "IL"),
             node("T", "bus_tie", "B1", "B2", normally_open=True), node("F", "feeder", "B1"),
             node("L", "load", "F")]
    topo = Topology(nodes)
    e = topo.energisation({})
    assert e.outputs["T"] is DEAD and e.outputs["F"] is LIVE and e.nodes["L"] is LIVE
    assert topo.deenergised_by_opening("F", {}) == ["L"]


def test_positions_from_point_values_only_trust_good_quality():
    topo = two_incomer_board()
    values = {
        "Q1_DEV.state": PointValue("Q1_DEV.state", 1.0, Quality.GOOD, 1.0),
        "Q2_DEV.state": PointValue("Q2_DEV.state", 0.0, Quality.GOOD, 1.0),
        "F1_DEV.state": PointValue("F1_DEV.state", 1.0, Quality.BAD, 1.0, "timeout"),
        "F2_DEV.state": PointValue("F2_DEV.state", 1.0, Quality.UNCERTAIN, 1.0, "stale"),
    }
    assert topo.positions(values) == {"Q1": True, "Q2": False, "TIE": None, "F1": None, "F2": None}
    assert topo.switch_of_tag("F2_DEV.state") == "F2" and topo.switch_of_tag("F2_DEV.P") is None


def test_deenergised_by_opening_follows_the_tie():
    topo = two_incomer_board()
    assert topo.deenergised_by_opening("F2", NORMAL) == ["M2", "L2"]
    tie_feeding = {**NORMAL, "Q2": False, "TIE": True}
    assert topo.deenergised_by_opening("TIE", tie_feeding) == ["B2", "F2", "M2", "L2"]
    assert topo.deenergised_by_opening("TIE", NORMAL) == []      # open already: nothing to cut
    # with the tie closed and both incomers in, opening one incomer cuts nothing off
    assert topo.deenergised_by_opening("Q2", {**NORMAL, "TIE": True}) == []
    with pytest.raises(ValueError, match="busbar, not a switch"):
        topo.deenergised_by_opening("B1", NORMAL)


def test_structure_walks():
    topo = two_incomer_board()
    assert topo.downstream("B2") == ["TIE", "F2", "M2", "L2"]
    assert topo.downstream("TIE") == []                # a tie feeds nothing by wiring
    assert topo.ancestors("L2") == ["M2", "F2", "B2", "Q2", "IL2"]
    assert topo.ancestors("TIE") == ["B1", "B2", "Q1", "Q2", "IL1", "IL2"]
    assert topo.sources() == ["IL1", "IL2"]
    assert topo.children("B1") == ("TIE", "F1")
    with pytest.raises(KeyError, match="no node 'X'"):
        topo.downstream("X")


def test_bad_graphs_are_refused_with_the_node_named():
    with pytest.raises(ValueError, match="'F' lists unknown upstream node 'B9'"):
        Topology([node("IL", "incoming_line"), node("F", "feeder", "B9")])
    with pytest.raises(ValueError, match="duplicate node id 'IL'"):
        Topology([node("IL", "incoming_line"), node("IL", "incoming_line")])
    with pytest.raises(ValueError, match="'IL' is not a switch"):
        Topology([node("IL", "incoming_line")], {"IL": "X.state"})


def test_demo_site_tie_and_feeders():
    site = load_site(DEMO_SITE)
    topo = Topology.from_site(site)
    assert topo.state_tags["TIE"] == "QF_TIE.state" and topo.state_tags["F1_05"] == "QF1_05.state"
    assert len(topo.state_tags) == 24           # 23 feeders + the tie
    closed = {n: True for n in topo.state_tags} | {"TIE": False}
    e = topo.energisation(closed)
    loads = [n for n, nd in topo.nodes.items() if nd.kind is NodeKind.LOAD]
    assert len(loads) == 23 and all(e.nodes[n] is LIVE for n in loads)
    # the monitoring centre feeder trips: its meter, the UPS sub-meter and its load go dead
    assert topo.deenergised_by_opening("F1_05", closed) == ["M1_05", "L1_05", "M_UPS"]
    tripped = topo.energisation({**closed, "F1_05": False})
    assert {n for n, s in tripped.nodes.items() if s is DEAD} == {"M1_05", "L1_05", "M_UPS"}
