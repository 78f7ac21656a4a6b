"""BACnet/IP client driver (bacpypes3 0.0.110, async).

Layers: :mod:`.spec` (typed parameters and points), :mod:`.quality` (status
flags, values, errors — pure), :mod:`.network` (the shared local BACnet/IP
port), :mod:`.discovery` (Who-Is and object lists for the configuration),
:mod:`.driver` (:class:`BacnetDriver`).
"""

from drivers.bacnet.driver import BacnetDriver
from drivers.bacnet.network import BacnetNetwork

__all__ = ["BacnetDriver", "BacnetNetwork"]
