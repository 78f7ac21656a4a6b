"""``wattdesk discover``: find what a BACnet device or an OPC UA server offers and write it as
device entries for a site file.

``wattdesk discover bacnet [ADDRESS] --local-address IP/PREFIX:PORT --area AREA``
    Who-Is (broadcast on the local network, or directed to ``ADDRESS``), then each
    answering device's objects: one point per analog, binary and multi-state object.
``wattdesk discover opcua ENDPOINT --area AREA [--security ... --username ...]``
    Browse the server from the Objects folder: one point per numeric or Boolean variable;
    the security and identity used are written into the entry.

The result is a YAML list of devices to put under ``devices:`` of a site file. Each point
has a name (from the object name or browse path), the description and unit the device gives,
a kind (commandable/writable -> ``telecontrol``; energy and volume counters -> ``accumulator``;
binary and multi-state -> ``teleindication``; other analogs -> ``telemetry``) and its address
(``object`` / ``node``). The entries are validated by the site loader before they are written.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import re
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from app.config import ConfigError, load_site
from drivers.bacnet.discovery import DiscoveredDevice, DiscoveryError, discover, find_devices, unit_symbol
from drivers.bacnet.network import BacnetNetwork, quiet_bacpypes_logging
from drivers.opcua.browse import BrowsedVariable, browse_variables
from drivers.opcua.session import SessionFault
from drivers.opcua.spec import OpcUaParams, SecurityMode

__all__ = ["bacnet_entry", "opcua_entry", "register_discover_commands", "render_devices"]

#: units of quantities that only grow (energy, volume): their points are accumulators
ACCUMULATED_UNITS = frozenset({"Wh", "kWh", "MWh", "kvarh", "kJ", "MJ", "GJ", "m³", "l"})
#: OPC UA variant types read as numbers (Boolean as 0/1)
OPCUA_NUMERIC = frozenset({"Boolean", "SByte", "Byte", "Int16", "UInt16", "Int32", "UInt32", "Int64", "UInt64",
                           "Float", "Double"})
_BACNET_PORT = 47808


class _Flow(dict):  # type: ignore[type-arg]
    """A mapping written on one line (a point, a state table)."""


class _Dumper(yaml.SafeDumper):
    """Block style for devices, one line per point."""


_Dumper.add_representer(_Flow, lambda dumper, data: dumper.represent_mapping(
    "tag:yaml.org,2002:map", data.items(), flow_style=True))


def _ident(text: str) -> str:
    """``text`` as an id (letters, digits, ``_``, ``-``)."""
    return re.sub(r"[^A-Za-z0-9_\-]+", "_", text).strip("_") or "point"


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}_{n}", n + 1
    taken.add(candidate)
    return candidate


def _kind(unit: str, numeric: bool, writable: bool) -> str:
    if writable:
        return "telecontrol"
    if not numeric:
        return "teleindication"
    return "accumulator" if unit in ACCUMULATED_UNITS else "telemetry"


def bacnet_entry(device: DiscoveredDevice, area: str, local_address: str, device_id: str | None = None
                 ) -> dict[str, Any]:
    """The site-file entry of a discovered BACnet/IP device.

    Parameters
    ----------
    device : DiscoveredDevice
    area : str
        Id of the area the device goes in.
    local_address : str
        Our BACnet/IP port (``"ip/prefix:port"``) the device was found from.
    device_id : str, optional
        The device's id; by default made from its object name.

    Returns
    -------
    dict
        Fields of :class:`app.config.Device`, points as one-line mappings.
    """
    host, _, port = device.address.rpartition(":")
    if not host or not port.isdigit():   # bacpypes3 leaves out the standard port
        host, port = device.address, str(_BACNET_PORT)
    entry: dict[str, Any] = {"id": device_id or _ident(device.name), "name": device.name, "area": area,
                             "protocol": "bacnet_ip", "host": host}
    if int(port) != _BACNET_PORT:
        entry["port"] = int(port)
    entry["device_instance"] = device.instance
    if local_address != "0.0.0.0/0:47808":
        entry["local_address"] = local_address
    taken: set[str] = set()
    points = []
    for obj in device.objects:
        unit = unit_symbol(obj.units)
        point = _Flow(name=_unique(_ident(obj.name), taken), description=obj.description or obj.name)
        if unit:
            point["unit"] = unit
        point["kind"] = _kind(unit, obj.object_type.kind == "analog", obj.commandable)
        point["object"] = f"{obj.object_type.value}:{obj.instance}"
        if obj.states:
            point["states"] = _Flow(obj.states)
        points.append(point)
    entry["points"] = points
    return entry


def opcua_entry(variables: Sequence[BrowsedVariable], endpoint: str, area: str, device_id: str, name: str = "",
                connection: Mapping[str, Any] | None = None) -> tuple[dict[str, Any], list[BrowsedVariable]]:
    """The site-file entry of an OPC UA server's browsed variables.

    Parameters
    ----------
    variables : sequence of BrowsedVariable
        From :func:`drivers.opcua.browse.browse_variables`.
    endpoint : str
        ``opc.tcp://host:port/path`` browsed.
    area, device_id, name : str
        Area id, device id and display name of the device.
    connection : mapping, optional
        Security and identity fields of the device (``security``, ``certificate``,
        ``username``, ``password`` ...), written after the endpoint.

    Returns
    -------
    tuple of (dict, list of BrowsedVariable)
        The entry (points named by their browse path below the variables' common parent,
        node ids by namespace URI), and the variables left out because their type is not
        a number (strings, dates ...).
    """
    numeric = [v for v in variables if v.data_type in OPCUA_NUMERIC]
    skipped = [v for v in variables if v.data_type not in OPCUA_NUMERIC]
    parents = [v.path.split("/")[:-1] for v in numeric]
    common = 0
    while parents and all(len(p) > common and p[common] == parents[0][common] for p in parents):
        common += 1
    taken: set[str] = set()
    points = []
    for variable in numeric:
        relative = variable.path.split("/")[common:]
        point = _Flow(name=_unique(_ident("_".join(relative)), taken),
                      description=variable.description or " ".join(relative))
        if variable.unit:
            point["unit"] = variable.unit
        point["kind"] = _kind(variable.unit, variable.data_type != "Boolean", variable.writable)
        point["node"] = variable.node_id_by_uri
        points.append(point)
    entry = {"id": device_id, "name": name or device_id, "area": area, "protocol": "opc_ua", "endpoint": endpoint,
             **(connection or {}), "points": points}
    return entry, skipped


def render_devices(entries: Iterable[Mapping[str, Any]], comments: Iterable[str]) -> str:
    """YAML text of device entries under ``comments`` (one ``#`` line each)."""
    header = "".join(f"# {line}\n" for line in comments)
    body = yaml.dump([dict(e) for e in entries], Dumper=_Dumper, allow_unicode=True, sort_keys=False,
                     default_flow_style=False, width=4096)
    return header + body


def _check(entries: Sequence[Mapping[str, Any]], area: str) -> None:
    """Load the entries in a one-area site; ConfigError lists what the site loader refuses."""
    site = {"site": {"name": "discovered", "timezone": "UTC"}, "areas": [{"id": area, "name": area, "kind": "zone"}],
            "devices": [dict(e) for e in entries]}
    with tempfile.TemporaryDirectory(prefix="wattdesk-discover-") as folder:
        path = Path(folder) / "site.yaml"
        path.write_text(yaml.dump(site, Dumper=_Dumper, allow_unicode=True, sort_keys=False), encoding="utf-8")
        load_site(path)


def _write(text: str, entries: Sequence[Mapping[str, Any]], args: argparse.Namespace) -> int:
    try:
        _check(entries, args.area)
    except ConfigError as err:
        print(f"wattdesk: the discovered devices do not make a valid configuration:\n{err}", file=sys.stderr)
        return 2
    if args.output is None:
        sys.stdout.write(text)
        return 0
    if args.output.exists() and not args.force:
        print(f"wattdesk: {args.output} exists; give --force to replace it", file=sys.stderr)
        return 2
    args.output.write_text(text, encoding="utf-8")
    points = sum(len(e["points"]) for e in entries)
    print(f"wattdesk: wrote {len(entries)} device(s), {points} points to {args.output}")
    return 0


def _stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


async def _bacnet_devices(args: argparse.Namespace) -> list[DiscoveredDevice]:
    quiet_bacpypes_logging()
    network = BacnetNetwork(args.local_address, args.local_instance, name="WattDesk discovery")
    try:
        found = await find_devices(network, args.address, args.timeout,
                                   *(args.range if args.range else (None, None)))
        return [await discover(network, device.address, args.timeout) for device in found]
    finally:
        network.close()


def cmd_discover_bacnet(args: argparse.Namespace) -> int:
    """``wattdesk discover bacnet``: exit 0 with the entries written, 1 if nothing answered or a
    read failed, 2 on bad arguments or an entry the site loader refuses."""
    if args.id and args.address is None:
        print("wattdesk: --id needs an ADDRESS (a broadcast may find several devices)", file=sys.stderr)
        return 2
    try:
        devices = asyncio.run(_bacnet_devices(args))
    except (DiscoveryError, OSError) as exc:
        print(f"wattdesk: BACnet discovery failed: {exc}", file=sys.stderr)
        return 1
    if not devices:
        where = args.address or f"the network of {args.local_address} (broadcast)"
        print(f"wattdesk: no BACnet device answered Who-Is on {where} within {args.timeout:g} s", file=sys.stderr)
        return 1
    entries = [bacnet_entry(d, args.area, args.local_address, args.id) for d in devices]
    comments = [f"wattdesk discover bacnet {args.address or '(broadcast)'} from {args.local_address}, {_stamp()}:"]
    comments += [f"  device {d.instance} {d.name!r} at {d.address}: {len(d.objects)} objects" for d in devices]
    comments.append("Put these entries under `devices:` of a site file; review names, kinds and units.")
    return _write(render_devices(entries, comments), entries, args)


def _opcua_connection(args: argparse.Namespace) -> tuple[OpcUaParams, dict[str, Any]]:
    """Browse parameters and the device fields that say the same (paths made absolute).

    Raises
    ------
    ValueError
        Security without certificate and key, a password entry without a user, or a password
        the secret store does not have (the message says which).
    """
    security = SecurityMode(args.security)
    if security is not SecurityMode.NONE and not (args.certificate and args.private_key):
        raise ValueError(f"--security {security.value} needs --certificate and --private-key")
    if args.password_service and not args.username:
        raise ValueError("--password-service needs --username")
    password = None
    fields: dict[str, Any] = {}
    if security is not SecurityMode.NONE:
        fields["security"] = security.value
    for name in ("certificate", "private_key", "server_certificate"):
        if getattr(args, name):
            fields[name] = str(getattr(args, name).resolve())
    if args.application_uri != "urn:wattdesk:client":
        fields["application_uri"] = args.application_uri
    if args.username:
        fields["username"] = args.username
    if args.password_service:
        from app.alarms.secrets import CredentialError, keyring_secret
        from app.config.notifications import KeyringRef

        ref = KeyringRef(service=args.password_service, username=args.username)
        try:
            password = keyring_secret(ref)
        except CredentialError as exc:
            raise ValueError(f"password of {args.username!r}: {exc}") from None
        fields["password"] = _Flow(service=ref.service, username=ref.username)
    params = OpcUaParams("discover", args.endpoint, security=security, certificate=args.certificate,
                         private_key=args.private_key, server_certificate=args.server_certificate,
                         application_uri=args.application_uri, username=args.username, password=password,
                         timeout_s=args.timeout)
    return params, fields


def cmd_discover_opcua(args: argparse.Namespace) -> int:
    """``wattdesk discover opcua``: exit codes as :func:`cmd_discover_bacnet`."""
    try:
        params, connection = _opcua_connection(args)
    except ValueError as exc:
        print(f"wattdesk: {exc}", file=sys.stderr)
        return 2
    try:
        variables = asyncio.run(browse_variables(params, args.start, args.depth))
    except SessionFault as exc:
        print(f"wattdesk: OPC UA browse failed: {exc.reason}", file=sys.stderr)
        return 1
    entry, skipped = opcua_entry(variables, args.endpoint, args.area, args.id, args.name, connection)
    if not entry["points"]:
        print(f"wattdesk: no numeric or Boolean variable below {args.start} on {args.endpoint}", file=sys.stderr)
        return 1
    comments = [f"wattdesk discover opcua {args.endpoint} from {args.start}, {_stamp()}: "
                f"{len(entry['points'])} variables"]
    if skipped:
        comments.append("left out (not numbers): " + ", ".join(f"{v.path} ({v.data_type})" for v in skipped))
    comments.append("Put this entry under `devices:` of a site file; review names, kinds and units.")
    return _write(render_devices([entry], comments), [entry], args)


def _common(parser: argparse.ArgumentParser) -> None:
    from app.cli import _positive_seconds   # app.cli imports this module: import when its parser is built

    parser.add_argument("--area", required=True, help="id of the site area the device(s) go in")
    parser.add_argument("--timeout", type=_positive_seconds, default=3.0, help="seconds per request (default 3)")
    parser.add_argument("-o", "--output", type=Path, default=None, help="YAML file to write (default: print)")
    parser.add_argument("--force", action="store_true", help="replace --output if it exists")


def register_discover_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``discover bacnet`` and ``discover opcua`` to the ``wattdesk`` parser."""
    discover_parser = sub.add_parser("discover", help="find a device's points and write them as site-file YAML")
    kinds = discover_parser.add_subparsers(dest="discover_command", required=True)

    bacnet = kinds.add_parser("bacnet", help="BACnet/IP: Who-Is, then each device's objects")
    bacnet.add_argument("address", nargs="?", default=None,
                        help="host:port of one device (directed Who-Is); none: broadcast on the local network")
    bacnet.add_argument("--local-address", required=True,
                        help="our BACnet/IP port, ip/prefix:port (e.g. 192.168.1.10/24:47808); "
                             "the prefix gives the broadcast address")
    bacnet.add_argument("--local-instance", type=int, default=4194301, help="our device instance (default 4194301)")
    bacnet.add_argument("--range", type=int, nargs=2, metavar=("LOW", "HIGH"), help="device instances to ask for")
    bacnet.add_argument("--id", default=None, help="device id (default: from the device name)")
    _common(bacnet)
    bacnet.set_defaults(func=cmd_discover_bacnet)

    opcua = kinds.add_parser("opcua", help="OPC UA: browse a server's variables")
    opcua.add_argument("endpoint", help="opc.tcp://host:port/path")
    opcua.add_argument("--id", required=True, help="device id")
    opcua.add_argument("--name", default="", help="display name (default: the id)")
    opcua.add_argument("--start", default="i=85", help="node to browse from (default: Objects, i=85)")
    opcua.add_argument("--depth", type=int, default=8, help="levels to follow (default 8)")
    opcua.add_argument("--security", choices=[m.value for m in SecurityMode], default="none",
                       help="none (lab use), or Basic256Sha256 sign / sign_and_encrypt")
    opcua.add_argument("--certificate", type=Path, help="client certificate (DER or PEM) for sign*")
    opcua.add_argument("--private-key", type=Path, help="PEM private key of the certificate")
    opcua.add_argument("--server-certificate", type=Path, help="pin the server's certificate")
    opcua.add_argument("--application-uri", default="urn:wattdesk:client",
                       help="our application URI (the certificate's subject alternative name)")
    opcua.add_argument("--username", help="user identity (anonymous without it)")
    opcua.add_argument("--password-service", help="secret-store service holding the user's password "
                       "(as the site file's password: {service, username})")
    _common(opcua)
    opcua.set_defaults(func=cmd_discover_opcua)
