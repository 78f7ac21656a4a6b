"""An indoor environment sensor publishing JSON to an MQTT broker (paho-mqtt 2.x).

Every ``step_s`` it publishes, retained, to ``<prefix>/state``::

    {"ts": 1767225600.0,
     "temperature": {"value": 24.3, "unit": "degC"},
     "humidity": {"value": 45.2, "unit": "%"},
     "co2": 612, "pm25": "8.5", "occupied": true, "ventilation": 30.0, "status": "ok"}

and follows ``<prefix>/set/ventilation`` (a JSON number, 0-100 %): more
ventilation lowers CO2. Values follow an office day (occupancy 8-18 h, China
Standard Time). CO2 approaches its target with the room's air-exchange time
constant ``co2_tau_s`` over the time between payloads, whatever ``step_s`` is.
"""

from __future__ import annotations

import json
import math
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt

__all__ = ["EnvSensor"]


class EnvSensor:
    """The sensor; ``start``/``stop`` or ``with``.

    Parameters
    ----------
    host, port : str, int
        Broker.
    prefix : str
        Topic prefix, e.g. ``"site/env/room1"``.
    step_s : float
        Publishing interval, seconds.
    co2_tau_s : float
        Air-exchange time constant of the room, seconds (room volume / outdoor-air flow;
        900 s is four air changes an hour).
    """

    def __init__(self, host: str, port: int, prefix: str = "site/env/room1", step_s: float = 1.0,
                 co2_tau_s: float = 900.0) -> None:
        self.host = host
        self.port = port
        self.prefix = prefix
        self.step_s = step_s
        self.co2_tau_s = co2_tau_s
        self.ventilation = 30.0
        self.co2 = 600.0
        self._co2_when: float | None = None
        client_id = f"wattdesk-sim-{prefix.replace('/', '-')}"
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def state_topic(self) -> str:
        return f"{self.prefix}/state"

    @property
    def command_topic(self) -> str:
        return f"{self.prefix}/set/ventilation"

    def start(self) -> None:
        """Connect (paho's thread keeps reconnecting) and start publishing."""
        self._client.connect_async(self.host, self.port, keepalive=30)
        self._client.loop_start()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"env-sensor {self.prefix}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop publishing and disconnect."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._client.disconnect()
        self._client.loop_stop()

    def __enter__(self) -> EnvSensor:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def state(self, when: float) -> dict[str, Any]:
        """The payload at UTC epoch ``when`` (advances CO2, ppm, over the time since the last payload)."""
        hour = (when / 3600.0 + 8.0) % 24.0
        occupied = 8.0 <= hour < 18.0
        target = 450.0 + (700.0 if occupied else 0.0) * (1.0 - self.ventilation / 120.0)
        if self._co2_when is not None and when > self._co2_when:
            self.co2 += (target - self.co2) * (1.0 - math.exp(-(when - self._co2_when) / self.co2_tau_s))
        self._co2_when = when if self._co2_when is None else max(when, self._co2_when)
        temperature = 22.5 + 2.0 * math.sin((hour - 9.0) / 24.0 * 2 * math.pi) + (0.8 if occupied else 0.0)
        return {
            "ts": round(when, 3),
            "temperature": {"value": round(temperature, 2), "unit": "degC"},
            "humidity": {"value": round(48.0 - 4.0 * math.sin((hour - 9.0) / 24.0 * 2 * math.pi), 1), "unit": "%"},
            "co2": round(self.co2),
            "pm25": f"{6.0 + 4.0 * (1.0 - self.ventilation / 100.0):.1f}",
            "occupied": occupied,
            "ventilation": self.ventilation,
            "status": "ok",
        }

    def _run(self) -> None:
        while not self._stop.is_set():
            if self._client.is_connected():
                self._client.publish(self.state_topic, json.dumps(self.state(time.time())), qos=1, retain=True)
            self._stop.wait(self.step_s)

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object,
                    reason_code: mqtt.ReasonCode, properties: object) -> None:
        if not reason_code.is_failure:
            client.subscribe(self.command_topic, qos=1)

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        try:
            value = float(json.loads(message.payload))
        except (ValueError, TypeError):
            return  # a bad command is ignored, as a real sensor would
        self.ventilation = max(0.0, min(100.0, value))
