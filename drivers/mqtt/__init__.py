"""MQTT driver (paho-mqtt 2.x): JSON payloads mapped to points by path.

Layers: :mod:`.spec` (typed parameters and points), :mod:`.payload` (JSON path ->
number, pure), :mod:`.driver` (:class:`MqttDriver`).
"""

from drivers.mqtt.driver import MqttDriver

__all__ = ["MqttDriver"]
