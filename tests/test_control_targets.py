"""Which telecontrol points of the demo site the control path serves (seed 001 item 11)."""

from __future__ import annotations

from app.config import load_site
from app.control import control_targets
from resources import DEMO_SITE

SITE = load_site(DEMO_SITE)


def test_breakers_fans_and_pumps_are_controllable_with_their_readback():
    targets = control_targets(SITE)
    breaker = targets[("QF1_01", "command")]
    assert breaker.readback.name == "state" and breaker.mode.name == "mode" and breaker.node_id is not None
    fan = targets[("AHU_ADMIN", "fan_command")]        # BACnet binary-output, read back by its binary-input
    assert fan.readback.name == "fan_status" and fan.node_id is None
    assert fan.mode is None                            # the AHU's off/heat/cool/auto is not a mode switch
    for pump in ("pump1_running", "pump2_running"):    # an OPC UA node that is command and state at once
        target = targets[("PS_PUMP", pump)]
        assert target.readback is target.command
    # set-points are not switched through this path
    assert ("AHU_ADMIN", "supply_air_setpoint") not in targets
    assert ("PS_PUMP", "pump1_speed_setpoint") not in targets
    kinds = {SITE.device(d).template for d, _ in targets}
    assert {"iot_breaker", "ahu_controller_bacnet", "pump_station_opcua"} <= kinds
