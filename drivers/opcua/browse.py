"""Browse an OPC UA server's address space to pick nodes into the configuration.

Objects and variables are followed by hierarchical references other than
HasProperty: a variable's properties (such as ``EngineeringUnits``) describe it and
are not listed themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

from asyncua import Node, ua

from drivers.opcua.session import SessionFault, close_client, describe, open_client
from drivers.opcua.spec import OpcUaParams

__all__ = ["BrowsedVariable", "browse_variables"]

_HAS_PROPERTY = ua.NodeId(ua.ObjectIds.HasProperty)
_SERVER = ua.NodeId(ua.ObjectIds.Server)
_ENGINEERING_UNITS = ua.QualifiedName("EngineeringUnits", 0)


@dataclass(frozen=True, slots=True)
class BrowsedVariable:
    """A variable node found by :func:`browse_variables`.

    Attributes
    ----------
    node_id : str
        ``"ns=2;s=PumpStation.Pump1.Power"`` form, for :attr:`OpcUaPoint.node_id`.
    path : str
        Browse names from the start node, joined by ``/`` (e.g. ``"PumpStation/Pump1/Power"``).
    data_type : str
        Variant type name (``"Double"``, ``"Boolean"`` ...).
    writable : bool
        The CurrentWrite bit of the node's UserAccessLevel.
    unit : str
        Display name of the variable's ``EngineeringUnits`` property (EUInformation,
        OPC 10000-8, 5.6.3), e.g. ``"kW"``; ``""`` when it has none.
    description : str
        The node's Description attribute, ``""`` when it has none.
    namespace_uri : str
        URI of the node id's namespace (``""`` for namespace 0).
    """

    node_id: str
    path: str
    data_type: str
    writable: bool
    unit: str = ""
    description: str = ""
    namespace_uri: str = ""

    @property
    def node_id_by_uri(self) -> str:
        """The node id with its namespace named by URI (``"nsu=urn:x;s=Pump1.Power"``), which
        stays right when the server's namespace indexes change; namespace 0 as :attr:`node_id`."""
        if not self.namespace_uri:
            return self.node_id
        return f"nsu={self.namespace_uri};{self.node_id.split(';', 1)[1]}"


async def browse_variables(
    params: OpcUaParams, start: str = "i=85", max_depth: int = 8,
) -> list[BrowsedVariable]:
    """Every variable below ``start`` (Objects by default), depth-first.

    Parameters
    ----------
    params : OpcUaParams
        How to connect (security, identity).
    start : str
        Node id to start from.
    max_depth : int
        Levels of hierarchical references followed.

    Returns
    -------
    list of BrowsedVariable
        In browse order; the Server object (``i=2253``) is skipped.

    Raises
    ------
    SessionFault
        Cannot connect, or a browse or read failed (the reason says which node).
    """
    client = await open_client(params)
    found: list[BrowsedVariable] = []
    try:
        try:
            namespaces = await client.get_namespace_array()
        except Exception as exc:  # noqa: BLE001 - becomes the reason
            raise SessionFault(f"reading the namespace array failed: {describe(exc, params.timeout_s)}") from None
        await _walk(client.get_node(start), "", max_depth, found, params.timeout_s, namespaces)
    finally:
        await close_client(client)
    return found


async def _walk(node: Node, path: str, depth: int, found: list[BrowsedVariable], timeout_s: float,
                namespaces: list[str]) -> None:
    if depth < 0:
        return
    try:
        references = await node.get_references(ua.ObjectIds.HierarchicalReferences, ua.BrowseDirection.Forward)
    except Exception as exc:  # noqa: BLE001 - becomes the reason
        raise SessionFault(f"browse of {node.nodeid.to_string()} failed: {describe(exc, timeout_s)}") from None
    for reference in references:
        if reference.ReferenceTypeId == _HAS_PROPERTY or reference.NodeId == _SERVER:
            continue
        child = Node(node.session, reference.NodeId)
        node_class = reference.NodeClass
        child_path = f"{path}/{reference.BrowseName.Name}" if path else reference.BrowseName.Name
        if node_class == ua.NodeClass.Variable:
            try:
                variant = await child.read_data_type_as_variant_type()
                access = await child.read_attribute(ua.AttributeIds.UserAccessLevel)
                unit = await _unit(child)
                description = (await child.read_description()).Text or ""
            except Exception as exc:  # noqa: BLE001 - becomes the reason
                raise SessionFault(f"reading {child.nodeid.to_string()} failed: {describe(exc, timeout_s)}") from None
            writable = bool(access.Value.Value & ua.AccessLevel.CurrentWrite.mask)
            index = child.nodeid.NamespaceIndex
            uri = namespaces[index] if 0 < index < len(namespaces) else ""
            found.append(BrowsedVariable(child.nodeid.to_string(), child_path, variant.name, writable, unit,
                                         description, uri))
        if node_class in (ua.NodeClass.Object, ua.NodeClass.Variable):
            await _walk(child, child_path, depth - 1, found, timeout_s, namespaces)


async def _unit(variable: Node) -> str:
    """Display name of the variable's EngineeringUnits property, or ``""``."""
    try:
        prop = await variable.get_child(_ENGINEERING_UNITS)
    except ua.UaStatusCodeError:
        return ""   # BadNoMatch: no such property
    value = await prop.read_value()
    return (value.DisplayName.Text or "") if isinstance(value, ua.EUInformation) else ""
