"""The other end of the wire: the demo plant's devices as real Modbus TCP servers.

* :mod:`~drivers.sim.profiles` — BDEW standard load profiles and the TRY reference
  weather year from ``demandlib``;
* :mod:`~drivers.sim.electrical`, :mod:`~drivers.sim.breaker`, :mod:`~drivers.sim.model` —
  the physics (pure: a function of time and state);
* :mod:`~drivers.sim.server` — one pymodbus server per device serving its template's
  register map;
* :mod:`~drivers.sim.plant` — :class:`DemoPlant` (in-process) and :class:`PlantProcess`
  (child process) with incidents for demonstrations and tests.

Run standalone with ``python -m drivers.sim [--base-port N]``.
"""

from drivers.sim.plant import DEMO_SIM, INCIDENTS, DemoPlant, PlantProcess, move_ports

__all__ = ["DEMO_SIM", "INCIDENTS", "DemoPlant", "PlantProcess", "move_ports"]
