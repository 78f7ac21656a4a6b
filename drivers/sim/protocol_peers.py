"""The demo plant's devices that speak BACnet/IP, OPC UA, DL/T 645 or MQTT, as real peers.

Each such device of the site is served by the simulator its template names:

============================  ===========  ===============================================
template                      protocol     simulator
============================  ===========  ===============================================
``ahu_controller_bacnet``     bacnet_ip    :class:`~drivers.sim.bacnet_ahu.AhuController` at
                                           ``host:port``, instance ``device_instance``
``pump_station_opcua``        opc_ua       :class:`~drivers.sim.opcua_pump_station.PumpStationServer`
                                           at the endpoint's host and port
``residential_meter_dlt645``  dlt645       one :class:`~drivers.sim.dlt645_meters.MeterGateway` per
                                           ``host:port``, a meter per ``meter`` number behind it
``env_sensor_mqtt``           mqtt         a mosquitto broker per ``host:port``
                                           (:class:`~drivers.sim.mqtt_broker.MosquittoBroker`) and an
                                           :class:`~drivers.sim.mqtt_env_sensor.EnvSensor`
                                           publishing under ``topic_prefix``
============================  ===========  ===============================================

When mosquitto is not installed the MQTT devices run without a broker: :attr:`notes` says
so (and it is logged), and their points stay BAD in the collector.

A device taken :meth:`~ProtocolPeers.offline` stops answering until it is brought
:meth:`~ProtocolPeers.back`: the AHU controller closes its BACnet/IP port and the pump
station its OPC UA server (both restart with their values kept); a meter falls silent
on its gateway (the other meters on it still answer); the environment sensor leaves
the broker and stops publishing (the broker stays up; the driver sees the device's
messages go stale after the device's ``stale_after_s``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from urllib.parse import urlsplit

from app.config import Device, Protocol
from drivers.sim.bacnet_ahu import AhuController
from drivers.sim.dlt645_meters import MeterGateway, ResidentialMeter
from drivers.sim.mqtt_broker import MosquittoBroker, MosquittoMissing
from drivers.sim.mqtt_env_sensor import EnvSensor
from drivers.sim.opcua_pump_station import PumpStationServer

__all__ = ["SIMULATED_TEMPLATES", "ProtocolPeers"]

log = logging.getLogger(__name__)

#: template -> protocol of the devices :class:`ProtocolPeers` can serve
SIMULATED_TEMPLATES: dict[str, Protocol] = {
    "ahu_controller_bacnet": Protocol.BACNET_IP,
    "pump_station_opcua": Protocol.OPC_UA,
    "residential_meter_dlt645": Protocol.DLT645,
    "env_sensor_mqtt": Protocol.MQTT,
}
_AHU_INSTANCE = 3001
_METER_PEAKS_KW = (2.5, 3.5, 3.0, 4.0)   # evening peaks of successive meters on one gateway


def opcua_host_port(endpoint: str) -> tuple[str, int]:
    """Host and port of an ``opc.tcp://host:port/path`` endpoint (port 4840 if absent).

    Raises
    ------
    ValueError
        Not an ``opc.tcp`` URL with a host.
    """
    parts = urlsplit(endpoint)
    if parts.scheme != "opc.tcp" or not parts.hostname:
        raise ValueError(f"not an opc.tcp://host:port/path endpoint: {endpoint!r}")
    return parts.hostname, parts.port or 4840


class ProtocolPeers:
    """The simulators serving ``devices`` (non-Modbus devices of a site).

    Parameters
    ----------
    devices : sequence of Device
        Devices whose protocol is not Modbus.

    Raises
    ------
    ValueError
        A device whose template has no simulator here, or whose protocol does not match it.
    """

    def __init__(self, devices: Sequence[Device]) -> None:
        self.notes: list[str] = []
        self.ahus: dict[str, AhuController] = {}
        self.pump_stations: dict[str, PumpStationServer] = {}
        self.gateways: dict[tuple[str, int], MeterGateway] = {}
        self._brokers: dict[tuple[str, int], list[Device]] = {}
        self._running_brokers: list[MosquittoBroker] = []
        self.sensors: dict[str, EnvSensor] = {}
        self.down: set[str] = set()     # devices taken offline
        self._meter_of: dict[str, tuple[tuple[str, int], str]] = {}   # device -> (gateway, meter number)
        self._mqtt_devices: set[str] = set()
        meters: dict[tuple[str, int], list[ResidentialMeter]] = {}
        for device in devices:
            expected = SIMULATED_TEMPLATES.get(device.template or "")
            if expected is None or expected is not device.protocol:
                raise ValueError(
                    f"device {device.id!r} ({device.protocol.value}, template {device.template!r}): no simulator; "
                    "simulated: " + ", ".join(f"{t} ({p.value})" for t, p in SIMULATED_TEMPLATES.items()))
            host = device.host or "127.0.0.1"
            if device.protocol is Protocol.BACNET_IP:
                prefix = 8 if host.startswith("127.") else 24
                self.ahus[device.id] = AhuController(f"{host}/{prefix}:{device.port}",
                                                     device.device_instance or _AHU_INSTANCE)
            elif device.protocol is Protocol.OPC_UA:
                ua_host, ua_port = opcua_host_port(device.endpoint or "")
                self.pump_stations[device.id] = PumpStationServer(ua_port, ua_host)
            elif device.protocol is Protocol.DLT645:
                on_gateway = meters.setdefault((host, device.port), [])
                number = (device.meter or "").zfill(12)
                on_gateway.append(ResidentialMeter(number=number, version=device.version,
                                                   peak_kw=_METER_PEAKS_KW[len(on_gateway) % len(_METER_PEAKS_KW)]))
                self._meter_of[device.id] = ((host, device.port), number)
            else:
                self._brokers.setdefault((host, device.port), []).append(device)
                self._mqtt_devices.add(device.id)
        self.gateways = {(host, port): MeterGateway(group, port, host) for (host, port), group in meters.items()}

    async def start(self) -> None:
        """Start every simulator (a broker that cannot run leaves its devices without one).

        Raises
        ------
        OSError
            A port could not be bound.
        """
        for ahu in self.ahus.values():
            await ahu.start()
        for station in self.pump_stations.values():
            await station.start()
        for gateway in self.gateways.values():
            await gateway.start()
        for (host, port), devices in self._brokers.items():
            names = ", ".join(d.id for d in devices)
            try:
                broker = MosquittoBroker(port, host)
                await asyncio.to_thread(broker.start)
            except (MosquittoMissing, RuntimeError) as exc:
                note = f"MQTT device(s) {names} run without a broker on {host}:{port}: {exc}"
                self.notes.append(note)
                log.warning("demo plant: %s", note)
                continue
            self._running_brokers.append(broker)
            for device in devices:
                sensor = EnvSensor(host, port, prefix=device.topic_prefix or f"wattdesk/{device.id}")
                sensor.start()
                self.sensors[device.id] = sensor

    def serves(self, device_id: str) -> bool:
        """True if ``device_id`` is one of the devices served here."""
        return (device_id in self.ahus or device_id in self.pump_stations or device_id in self._meter_of
                or device_id in self._mqtt_devices)

    async def offline(self, device_id: str) -> None:
        """The device stops answering (see the module docstring); idempotent.

        Raises
        ------
        ValueError
            Not a device served here, or an MQTT device running without a broker.
        """
        await self._switch(device_id, up=False)

    async def back(self, device_id: str) -> None:
        """The device answers again after :meth:`offline`; idempotent.

        Raises
        ------
        ValueError
            As :meth:`offline`.
        OSError
            The port cannot be bound again.
        """
        await self._switch(device_id, up=True)

    async def _switch(self, device_id: str, up: bool) -> None:
        if not self.serves(device_id):
            raise ValueError(f"unknown device {device_id!r}")
        if device_id in self._mqtt_devices and device_id not in self.sensors:
            raise ValueError(f"MQTT device {device_id!r} runs without a broker: it is offline already")
        if up == (device_id not in self.down):
            return
        if device_id in self.ahus:
            await (self.ahus[device_id].start() if up else self.ahus[device_id].stop())
        elif device_id in self.pump_stations:
            await (self.pump_stations[device_id].start() if up else self.pump_stations[device_id].stop())
        elif device_id in self._meter_of:
            gateway, number = self._meter_of[device_id]
            if up:
                self.gateways[gateway].faults.pop(number, None)
            else:
                self.gateways[gateway].faults[number] = "silent"
        else:
            sensor = self.sensors[device_id]
            await asyncio.to_thread(sensor.start if up else sensor.stop)
        if up:
            self.down.discard(device_id)
        else:
            self.down.add(device_id)

    async def stop(self) -> None:
        """Stop every simulator; idempotent."""
        for sensor in self.sensors.values():
            await asyncio.to_thread(sensor.stop)
        self.sensors.clear()
        for broker in self._running_brokers:
            broker.stop()
        self._running_brokers.clear()
        for gateway in self.gateways.values():
            await gateway.stop()
        for station in self.pump_stations.values():
            await station.stop()
        for ahu in self.ahus.values():
            await ahu.stop()
        self.down.clear()
