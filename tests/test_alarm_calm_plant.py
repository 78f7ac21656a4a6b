"""A calm demo plant shows no alarm: no rule's condition stands in normal operation.

The whole demo plant (Modbus, BACnet, OPC UA, DL/T 645 and MQTT devices) is polled once a
second with every process rule's on-delay removed, so a limit that the plant's normal values
cross shows at the first scans instead of after a minute. Communication rules keep their
delays: they exist to ride out the start of a report-by-exception device (MQTT), which is
part of what this test checks — a start must leave no alarm to acknowledge either.
"""

from __future__ import annotations

import time

from app.acquisition import AcquisitionEngine
from app.alarms import AlarmEngine
from app.cache import PointCache
from app.config import RuleType
from app.points import Quality
from drivers.sim.plant import DemoPlant
from tests.test_sim_plant import N_PORTS, free_port_block

COMMUNICATION = (RuleType.COMM_LOSS, RuleType.BAD_QUALITY)


def without_process_delays(site):
    """``site`` with ``on_delay_s = 0`` on every rule but the communication ones."""
    devices = tuple(d.model_copy(update={"alarms": tuple(
        r if r.type in COMMUNICATION else r.model_copy(update={"on_delay_s": 0.0}) for r in d.alarms)})
        for d in site.devices)
    return type(site)(**{**dict(site), "devices": devices})


def test_fresh_demo_plant_has_no_alarm_after_its_first_scans():
    plant = DemoPlant(base_port=free_port_block(N_PORTS))
    site = without_process_delays(plant.site)
    assert sum(r.on_delay_s for d in site.devices for r in d.alarms if r.type not in COMMUNICATION) == 0
    cache = PointCache({d.tag(p.name): p.deadband for d, p in site.iter_points()})
    alarms = AlarmEngine(site, tick_s=0.1)
    acquisition = AcquisitionEngine(list(site.devices), cache)
    tags = [d.tag(p.name) for d, p in site.iter_points()]
    plant.start()
    try:
        alarms.start(cache)
        acquisition.start()
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                values = [cache.get(t) for t in tags]
                if all(v is not None and v.quality is Quality.GOOD for v in values):
                    break
                time.sleep(0.2)
            bad = [t for t in tags if (v := cache.get(t)) is None or v.quality is not Quality.GOOD]
            assert not bad, f"points not read GOOD within 60 s: {bad[:10]}"
            time.sleep(3.0)                  # three more scans of every device
            assert alarms.flush()
            standing = [(a.id, a.state.value, a.value, a.limit) for a in alarms.alarms()
                        if a.active or a.state.value != "normal"]
            assert standing == []
        finally:
            acquisition.stop()
            alarms.stop()
    finally:
        plant.stop()
