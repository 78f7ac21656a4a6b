"""The demo plant's devices of all five protocols come alive through the real acquisition engine.

Real peers on loopback: Modbus TCP servers, a BACnet/IP AHU controller, an OPC UA pump station,
three DL/T 645 meters behind one TCP gateway and an MQTT sensor behind a mosquitto broker.
"""

from __future__ import annotations

import time

import pytest

from app.acquisition import AcquisitionEngine
from app.cache import PointCache
from app.config import Protocol, SiteConfig, load_site
from app.points import Quality
from drivers.base import DriverError
from drivers.sim.mqtt_broker import MosquittoBroker, MosquittoMissing
from drivers.sim.plant import DemoPlant
from resources import DEMO_SITE
from tests.test_sim_plant import free_port_block

SITE = load_site(DEMO_SITE)
SPAN = max(d.port for d in SITE.devices) - min(d.port for d in SITE.devices) + 1
OTHER_PROTOCOLS = ("AHU_ADMIN", "PS_PUMP", "RM_VISIT", "RM_INFIRMARY", "RM_LAUNDRY", "IAQ_MONITOR")
DEVICES = ("QF1_01", "PM1_02", *OTHER_PROTOCOLS)


def _mosquitto_installed() -> bool:
    try:
        MosquittoBroker()
    except MosquittoMissing:
        return False
    return True


def _fast(site: SiteConfig, stale_after_s: float = 30.0) -> SiteConfig:
    """The test's devices, scanned every 0.5 s; the MQTT sensor stale after ``stale_after_s``."""
    devices = tuple(d.model_copy(update={"scan_interval_s": 0.5} | (
        {"stale_after_s": stale_after_s} if d.protocol is Protocol.MQTT else {}))
        for d in site.devices if d.id in DEVICES)
    return type(site)(**{**dict(site), "devices": devices})


def _wait(predicate, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_demo_site_has_a_device_of_every_protocol():
    protocols = {d.protocol for d in SITE.devices}
    assert {Protocol.MODBUS_TCP, Protocol.BACNET_IP, Protocol.OPC_UA, Protocol.DLT645, Protocol.MQTT} <= protocols
    assert {d.template for d in SITE.devices if d.id in OTHER_PROTOCOLS} == {
        "ahu_controller_bacnet", "pump_station_opcua", "residential_meter_dlt645", "env_sensor_mqtt"}


def test_every_protocol_comes_alive_reads_and_writes_through_the_engine():
    plant = DemoPlant(base_port=free_port_block(SPAN), refresh_s=0.25)
    site = _fast(plant.site)
    cache = PointCache({d.tag(p.name): 0.0 for d, p in site.iter_points()})
    engine = AcquisitionEngine(site.devices, cache)
    mqtt = _mosquitto_installed()
    tags = {d.tag(p.name) for d, p in site.iter_points() if mqtt or d.protocol is not Protocol.MQTT}
    plant.start()
    try:
        engine.start()
        if not mqtt:   # the demo runs without a broker and says so; the sensor's points stay BAD
            assert any("mosquitto" in note and "IAQ_MONITOR" in note for note in plant.peers.notes)

        def all_good() -> bool:
            values = cache.snapshot()
            return all(t in values and values[t].quality is Quality.GOOD for t in tags)

        alive = _wait(all_good, 30.0)
        snapshot = cache.snapshot()
        assert alive, {t: (v.quality.name, v.reason) for t, v in snapshot.items() if not v.good}
        assert all(engine.status[d].online for d in DEVICES if mqtt or d != "IAQ_MONITOR")
        value = {t: v.value for t, v in snapshot.items()}
        assert 5 < value["AHU_ADMIN.supply_air_temp"] < 40 and value["AHU_ADMIN.mode"] == 4
        assert value["PS_PUMP.inlet_level"] > 0 and value["PS_PUMP.energy_total"] > 1000
        for meter in ("RM_VISIT", "RM_INFIRMARY", "RM_LAUNDRY"):
            assert 215 < value[f"{meter}.U"] < 245 and value[f"{meter}.Ep_imp"] > 0
            assert 49.9 < value[f"{meter}.F"] < 50.1
        if mqtt:
            assert 300 < value["IAQ_MONITOR.co2"] < 3000 and 10 < value["IAQ_MONITOR.temperature"] < 40
        else:
            assert snapshot["IAQ_MONITOR.co2"].quality is Quality.BAD and snapshot["IAQ_MONITOR.co2"].reason
        assert 215 < value["QF1_01.Ua"] < 245
        # three meters on one gateway share one connection
        (gateway,) = plant.peers.gateways.values()
        assert gateway.connections == 1

        # commands over each protocol that takes them, seen again by the next scans
        engine.write("AHU_ADMIN", "supply_air_setpoint", 18.5).result(10)
        engine.write("PS_PUMP", "pump1_running", 1).result(10)
        if mqtt:
            engine.write("IAQ_MONITOR", "ventilation", 80).result(10)
        assert _wait(lambda: (cache.get("AHU_ADMIN.supply_air_setpoint").value == 18.5
                              and cache.get("PS_PUMP.pump1_running").value == 1
                              and cache.get("PS_PUMP.pump1_speed").value > 0
                              and (not mqtt or cache.get("IAQ_MONITOR.ventilation").value == 80)), 15.0), {
            t: cache.get(t) for t in ("AHU_ADMIN.supply_air_setpoint", "PS_PUMP.pump1_running",
                                      "PS_PUMP.pump1_speed", "IAQ_MONITOR.ventilation")}
        with pytest.raises(DriverError, match="read-only"):
            engine.write("RM_VISIT", "U", 230).result(10)
    finally:
        engine.stop()
        plant.stop()


def test_offline_device_of_each_protocol_goes_bad_with_a_reason_and_comes_back_by_itself():
    """The demo's ``offline`` incident on the AHU, the pump station, one meter of the gateway and
    the MQTT sensor: their points turn BAD with a reason (the other meters stay GOOD); cleared,
    they are read again with no operator action, the controllers' state kept over the restart."""
    mqtt = _mosquitto_installed()
    offline = ("AHU_ADMIN", "PS_PUMP", "RM_VISIT", *(("IAQ_MONITOR",) if mqtt else ()))
    plant = DemoPlant(base_port=free_port_block(SPAN), refresh_s=0.25)
    site = _fast(plant.site, stale_after_s=1.5)
    cache = PointCache({d.tag(p.name): 0.0 for d, p in site.iter_points()})
    engine = AcquisitionEngine(site.devices, cache)
    tags = {d.id: [d.tag(p.name) for p in d.points] for d in site.devices}

    def quality(device_id: str, wanted: Quality) -> bool:
        return all(cache.get(t) is not None and cache.get(t).quality is wanted for t in tags[device_id])

    plant.start()
    try:
        engine.start()
        assert _wait(lambda: all(quality(d, Quality.GOOD) for d in (*offline, "RM_INFIRMARY")), 30.0)
        engine.write("AHU_ADMIN", "supply_air_setpoint", 19.5).result(10)
        engine.write("PS_PUMP", "pump2_running", 1).result(10)
        assert _wait(lambda: cache.get("AHU_ADMIN.supply_air_setpoint").value == 19.5
                     and cache.get("PS_PUMP.pump2_running").value == 1, 10.0)
        energy = cache.get("PS_PUMP.energy_total").value

        for device_id in offline:
            plant.trigger("offline", device_id)
        went_bad = _wait(lambda: all(quality(d, Quality.BAD) for d in offline), 10.0)
        down = {d: cache.get(tags[d][0]) for d in offline}
        assert went_bad, {t: cache.get(t) for d in offline for t in tags[d] if cache.get(t).quality is not Quality.BAD}
        assert all(v.reason for v in down.values()), down
        assert down["RM_VISIT"].reason.startswith(("timeout", "meter not answering", "offline")), down
        if mqtt:
            assert "no message for" in down["IAQ_MONITOR"].reason, down
        assert quality("RM_INFIRMARY", Quality.GOOD), "a silent meter must not take its gateway neighbours down"
        assert not any(engine.status[d].online for d in offline)

        for device_id in offline:
            plant.clear("offline", device_id)
        back = _wait(lambda: all(quality(d, Quality.GOOD) for d in offline), 40.0)
        assert back, {t: cache.get(t) for d in offline for t in tags[d] if not cache.get(t).good}
        assert all(engine.status[d].online for d in offline)
        # a controller restart keeps its state: the setpoint and the run command written before
        assert cache.get("AHU_ADMIN.supply_air_setpoint").value == 19.5
        assert cache.get("PS_PUMP.pump2_running").value == 1
        assert cache.get("PS_PUMP.energy_total").value >= energy
    finally:
        engine.stop()
        plant.stop()
