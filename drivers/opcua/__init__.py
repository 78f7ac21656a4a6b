"""OPC UA client driver (asyncua 2.1).

Layers: :mod:`.spec` (typed parameters and points), :mod:`.quality` (status code
and variant -> quality and number, pure), :mod:`.session` (connect, security,
reasons), :mod:`.certs` (application certificates), :mod:`.browse` (pick nodes
for the configuration), :mod:`.driver` (:class:`OpcUaDriver`).
"""

from drivers.opcua.driver import OpcUaDriver

__all__ = ["OpcUaDriver"]
