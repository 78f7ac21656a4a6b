"""Build the driver of each configured device, sharing what devices share on the wire.

DL/T 645 meters on one serial-to-TCP gateway (``host:port``) or one RS-485 port share one
:class:`~drivers.dlt645.link.Dlt645Bus` (one request at a time on the line); BACnet/IP
devices naming one ``local_address`` share one :class:`~drivers.bacnet.network.BacnetNetwork`
(one UDP port). A shared pipe is closed when the last driver using it closes. Passwords
(OPC UA, MQTT) are read from the OS keyring when the driver is built.
"""

from __future__ import annotations

from app.alarms.secrets import CredentialError, SecretSource, keyring_secret
from app.config import Device, Protocol
from drivers.bacnet.driver import BacnetDriver
from drivers.bacnet.network import BacnetNetwork
from drivers.base import Driver
from drivers.dlt645.driver import Dlt645Driver, bus_for
from drivers.dlt645.link import Dlt645Bus
from drivers.modbus.driver import ModbusDriver
from drivers.mqtt.driver import MqttDriver
from drivers.opcua.driver import OpcUaDriver

__all__ = ["DriverFactory"]


class DriverFactory:
    """Callable ``factory(device) -> Driver`` for one acquisition engine.

    Parameters
    ----------
    secrets : callable, optional
        ``secrets(KeyringRef) -> str``; the OS keyring by default.

    Notes
    -----
    Create one factory per engine: the shared buses and networks it hands out belong to
    the drivers it built.
    """

    def __init__(self, secrets: SecretSource = keyring_secret) -> None:
        self._secrets = secrets
        self._buses: dict[str, Dlt645Bus] = {}
        self._networks: dict[str, BacnetNetwork] = {}

    def __call__(self, device: Device) -> Driver:
        """The driver of ``device``.

        Raises
        ------
        ValueError
            The driver refuses the device's parameters or points, or its password cannot be
            read from the keyring; the message names the device.
        """
        protocol = device.protocol
        if protocol in (Protocol.MODBUS_TCP, Protocol.MODBUS_RTU):
            return ModbusDriver(*device.modbus())
        if protocol is Protocol.DLT645:
            params, points = device.dlt645()
            key = params.serial_port or f"{params.host}:{params.port}"
            bus = self._buses.get(key)
            if bus is None:
                bus = self._buses[key] = bus_for(params)
            return Dlt645Driver(params, points, bus)
        if protocol is Protocol.BACNET_IP:
            params, points = device.bacnet()
            network = self._networks.get(params.local_address)
            if network is None:
                network = self._networks[params.local_address] = BacnetNetwork(
                    params.local_address, params.local_instance)
            return BacnetDriver(params, points, network)
        if protocol is Protocol.OPC_UA:
            return OpcUaDriver(*device.opcua(self._password(device)))
        if protocol is Protocol.MQTT:
            return MqttDriver(*device.mqtt(self._password(device)))
        raise ValueError(f"device {device.id}: no driver for protocol {protocol.value!r}")

    def _password(self, device: Device) -> str | None:
        if device.password is None:
            return None
        try:
            return self._secrets(device.password)
        except CredentialError as exc:
            raise ValueError(f"device {device.id}: password: {exc}") from None
