"""Load a site file: parse, validate, resolve templates, cross-check, and build :class:`SiteConfig`."""

from __future__ import annotations

import re
from urllib.parse import urlsplit
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from app.config.alarm_rules import AlarmRule, RuleType, listed_rule_drafts, point_rule_drafts, resolve_rules
from app.config.device import COMMON_FIELDS, PROTOCOL_FIELDS, Device, Protocol
from app.config.drafts import Draft, resolve_point
from app.config.notifications import CHANNEL_TYPES, NotificationConfig, Route
from app.config.point import ADDRESS_FIELDS, FAMILY_LABELS, IDENT_PATTERN, Point, PointKind, dlt645_point_problem
from app.config.problems import ConfigError, Problem
from app.config.registers import register_problems
from app.config.site import Area, SiteConfig, SiteInfo, TopologyNode
from app.config.templates import Template, TemplateLibrary
from app.config.topology import topology_problems
from app.config.validation import validate_model
from app.config.yaml_source import FieldPath, YamlDocument, read_yaml
from drivers.opcua.spec import SecurityMode

#: what a point of a protocol family is addressed by, in messages (default: the family's first field)
_NEEDS = {"modbus": "table, address, type", "mqtt": "topic, or metric on a Sparkplug B device"}
SECTIONS = ("site", "areas", "template_dirs", "devices", "topology", "alarms", "notifications")


def load_site(path: str | Path) -> SiteConfig:
    """Load and validate a site file and the templates it uses.

    Parameters
    ----------
    path : str | Path
        The site YAML file (sections ``site``, ``areas``, ``template_dirs``,
        ``devices``, ``topology``, ``alarms``; see ``docs/configuration.md`` and
        ``docs/alarms.md``).

    Returns
    -------
    SiteConfig
        Frozen, with template points merged into every device.

    Raises
    ------
    ConfigError
        If anything is wrong; ``.problems`` lists every problem found in the site
        file and in the template files, each with file, line and field path.
    """
    return _SiteLoader(read_yaml(Path(path).resolve())).load()


def _list(doc: YamlDocument, key: str, problems: list[Problem]) -> list[Any]:
    """The list under a top-level key (empty, with a problem, if it is not a list)."""
    value = doc.data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(doc.problem((key,), f"'{key}' must be a list"))
        return []
    return value


def _walk_raw_areas(raw: list[Any], path: FieldPath) -> Iterator[tuple[FieldPath, Any]]:
    """(path, id) of every area entry in a raw area tree, depth first."""
    for index, entry in enumerate(raw):
        if isinstance(entry, dict):
            yield (*path, index), entry.get("id")
            children = entry.get("children")
            if isinstance(children, list):
                yield from _walk_raw_areas(children, (*path, index, "children"))


class _SiteLoader:
    """One run of :func:`load_site` over one parsed site file."""

    def __init__(self, doc: YamlDocument) -> None:
        self.doc = doc
        self.problems: list[Problem] = list(doc.problems)

    def load(self) -> SiteConfig:
        doc = self.doc
        if doc.data is None:
            raise ConfigError(self.problems)
        if not isinstance(doc.data, dict):
            raise ConfigError([*self.problems, doc.problem(
                (), "a site file must be a mapping with sections " + ", ".join(SECTIONS))])
        for key in doc.data:
            if key not in SECTIONS:
                self.problems.append(doc.problem((str(key),), "unknown section (expected one of "
                                                              + ", ".join(SECTIONS) + ")"))
        if "site" not in doc.data:
            self.problems.append(doc.problem((), "required section 'site' is missing"))
        info = validate_model(SiteInfo, doc.data.get("site"), doc, ("site",), self.problems) \
            if "site" in doc.data else None
        areas, area_ids = self._areas()
        library = TemplateLibrary(self._template_dirs())
        devices = self._devices(library, area_ids)
        self.problems.extend(library.problems)
        nodes = [(i, node) for i, raw in enumerate(_list(doc, "topology", self.problems))
                 if (node := validate_model(TopologyNode, raw, doc, ("topology", i), self.problems))]
        device_ids = {d.get("id") for d in _list(doc, "devices", []) if isinstance(d, dict)}
        self.problems.extend(topology_problems(nodes, device_ids, doc))
        alarms = self._site_alarms(devices, area_ids)
        notifications = self._notifications(area_ids)
        if self.problems or info is None or notifications is None:
            raise ConfigError(self.problems)
        return SiteConfig(name=info.name, timezone=info.timezone, language=info.language, areas=tuple(areas),
                          devices=tuple(devices), topology=tuple(n for _, n in nodes),
                          alarms=alarms, notifications=notifications, source=doc.file,
                          template_dirs=library.dirs)

    def _notifications(self, area_ids: set[str]) -> NotificationConfig | None:
        """The ``notifications`` section: channels by type, routes naming known channels and areas."""
        raw = self.doc.data.get("notifications")
        here: FieldPath = ("notifications",)
        if raw is None:
            return NotificationConfig()
        if not isinstance(raw, dict):
            self.problems.append(self.doc.problem(here, "'notifications' must be a mapping "
                                                        "(channels, routes, queue_size, retry_*)"))
            return None
        before = len(self.problems)
        settings = validate_model(NotificationConfig, {k: v for k, v in raw.items()
                                                       if k not in ("channels", "routes")},
                                  self.doc, here, self.problems)
        channels = []
        seen: dict[str, int] = {}
        for i, entry in enumerate(self._sublist(raw, "channels")):
            path: FieldPath = (*here, "channels", i)
            kind = entry.get("type") if isinstance(entry, dict) else None
            model = CHANNEL_TYPES.get(kind) if isinstance(kind, str) else None
            if model is None:
                self.problems.append(self.doc.problem((*path, "type") if isinstance(entry, dict) else path,
                                                      f"a channel needs 'type', one of {', '.join(CHANNEL_TYPES)}"))
                continue
            channel = validate_model(model, entry, self.doc, path, self.problems)
            if channel is None:
                continue
            if channel.id in seen:
                self.problems.append(self.doc.problem((*path, "id"), f"duplicate channel id {channel.id!r} "
                                                      f"(first at line {seen[channel.id]})"))
                continue
            seen[channel.id] = self.doc.line_of((*path, "id"))
            channels.append(channel)
        routes: list[Route] = []
        route_ids: set[str] = set()
        for i, entry in enumerate(self._sublist(raw, "routes")):
            path = (*here, "routes", i)
            route = validate_model(Route, entry, self.doc, path, self.problems)
            if route is None:
                continue
            found = [((*path, "id"), f"duplicate route id {route.id!r}")] if route.id in route_ids else []
            route_ids.add(route.id)
            found += [((*path, "areas"), f"unknown area {a!r}") for a in route.areas if a not in area_ids]
            steps = [((*path, "channels"), route.channels)] + [
                ((*path, "escalation", k, "channels"), step.channels) for k, step in enumerate(route.escalation)]
            found += [(where, f"unknown channel {c!r} (channels: {', '.join(seen) or 'none'})")
                      for where, ids in steps for c in ids if c not in seen]
            self.problems.extend(self.doc.problem(where, message) for where, message in found)
            routes.append(route)
        if settings is None or len(self.problems) > before:
            return None
        return settings.model_copy(update={"channels": tuple(channels), "routes": tuple(routes)})

    def _sublist(self, raw: dict[Any, Any], key: str) -> list[Any]:
        """``notifications.<key>`` as a list (empty, with a problem, if it is something else)."""
        value = raw.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problems.append(self.doc.problem(("notifications", key), f"'{key}' must be a list"))
            return []
        return value

    def _site_alarms(self, devices: list[Device], area_ids: set[str]) -> tuple[AlarmRule, ...]:
        """Area rules of the ``alarms`` section: daily energy of an area over listed tags."""
        points = {device.tag(p.name): p for device in devices for p in device.points}
        rules: list[AlarmRule] = []
        drafts = listed_rule_drafts(self.doc.data.get("alarms"), self.doc, ("alarms",), self.problems)
        for draft in drafts.values():
            resolved = resolve_rules([draft], None, {}, self.problems)
            if not resolved:
                continue
            rule = resolved[0]
            found: list[tuple[str, str]] = []
            if rule.type is not RuleType.DAILY_ENERGY:
                found.append(("type", f"the site's alarms are area rules of type daily_energy; put a "
                                      f"{rule.type.value} rule on a device or template"))
            if rule.area is None:
                found.append(("area", "an area rule needs 'area'"))
            elif rule.area not in area_ids:
                found.append(("area", f"unknown area {rule.area!r}"))
            for tag in rule.points:
                point = points.get(tag)
                if point is None:
                    found.append(("points", f"unknown tag {tag!r} (expected '<device id>.<point name>')"))
                elif point.kind is not PointKind.ACCUMULATOR:
                    found.append(("points", f"{tag!r} is {point.kind.value}; an energy rule sums accumulators"))
            self.problems.extend(draft.problem((field,), message) for field, message in found)
            if not found:
                rules.append(rule)
        return tuple(rules)

    def _areas(self) -> tuple[list[Area], set[str]]:
        """Validated root areas, and every area id written in the file (valid or not)."""
        raw = _list(self.doc, "areas", self.problems)
        areas = [a for i, entry in enumerate(raw)
                 if (a := validate_model(Area, entry, self.doc, ("areas", i), self.problems))]
        ids: set[str] = set()
        for path, area_id in _walk_raw_areas(raw, ("areas",)):
            if isinstance(area_id, str):
                if area_id in ids:
                    self.problems.append(self.doc.problem((*path, "id"), f"duplicate area id {area_id!r}"))
                ids.add(area_id)
        return areas, ids

    def _template_dirs(self) -> list[Path]:
        """Extra template directories, resolved against the site file's directory."""
        dirs: list[Path] = []
        for index, entry in enumerate(_list(self.doc, "template_dirs", self.problems)):
            if not isinstance(entry, str) or not entry:
                self.problems.append(self.doc.problem(("template_dirs", index),
                                                      "a template directory must be a path"))
                continue
            directory = (self.doc.file.parent / entry).resolve()
            if not directory.is_dir():
                self.problems.append(self.doc.problem(("template_dirs", index),
                                                      f"template directory {str(directory)!r} does not exist"))
                continue
            dirs.append(directory)
        return dirs

    def _devices(self, library: TemplateLibrary, area_ids: set[str]) -> list[Device]:
        """Validated, resolved devices; problems for the rest."""
        devices: list[Device] = []
        first_line_of: dict[str, int] = {}
        endpoints: dict[tuple[Any, ...], Device] = {}
        serial_settings: dict[str, Device] = {}
        for index, raw in enumerate(_list(self.doc, "devices", self.problems)):
            here: FieldPath = ("devices", index)
            if not isinstance(raw, dict):
                self.problems.append(self.doc.problem(here, "a device must be a mapping"))
                continue
            device_id = raw.get("id")
            if isinstance(device_id, str):
                if device_id in first_line_of:
                    self.problems.append(self.doc.problem((*here, "id"), f"duplicate device id {device_id!r} "
                                                          f"(first at line {first_line_of[device_id]})"))
                else:
                    first_line_of[device_id] = self.doc.line_of((*here, "id"))
            area = raw.get("area")
            if isinstance(area, str) and area not in area_ids:
                self.problems.append(self.doc.problem((*here, "area"), f"unknown area {area!r}"))
            device = self._device(raw, here, library)
            if device is None:
                continue
            devices.append(device)
            self._check_endpoint(device, here, endpoints, serial_settings)
        return devices

    def _device(self, raw: dict[Any, Any], here: FieldPath, library: TemplateLibrary) -> Device | None:
        """One device with its template merged, or ``None`` after reporting its problems."""
        fields = {k: v for k, v in raw.items() if k not in ("points", "alarms")}
        for key in ("certificate", "private_key", "server_certificate"):
            if isinstance(fields.get(key), str) and fields[key]:
                fields[key] = str((self.doc.file.parent / fields[key]).resolve())
        before = len(self.problems)
        template = None
        name = raw.get("template")
        if isinstance(name, str) and re.fullmatch(IDENT_PATTERN, name):
            if library.find(name) is None:
                self.problems.append(self.doc.problem((*here, "template"), f"unknown template {name!r} "
                                     f"(searched {', '.join(str(d) for d in library.dirs)})"))
                validate_model(Device, fields, self.doc, here, self.problems)
                return None
            template = library.get(name)
            if template is None:
                validate_model(Device, fields, self.doc, here, self.problems)
                return None
            fields.setdefault("category", template.category)
            fields.setdefault("medium", template.medium)
            own = fields.get("ratings")
            if own is None:
                fields["ratings"] = dict(template.ratings)
            elif isinstance(own, dict):
                fields["ratings"] = {**template.ratings, **own}
        shell = validate_model(Device, fields, self.doc, here, self.problems)
        points = self._points(raw.get("points"), here, template)
        listed = listed_rule_drafts(raw.get("alarms"), self.doc, (*here, "alarms"), self.problems,
                                    base=template.alarm_drafts if template is not None else {})
        if shell is not None:
            self._check_connection(shell, here)
            if points is not None:
                self._check_point_protocol(shell, points)
        if shell is None or points is None or len(self.problems) > before:
            return None
        rule_drafts = [r for _, d in points for r in point_rule_drafts(d, self.problems)]
        alarms = resolve_rules([*rule_drafts, *listed.values()], {p.name: p for p, _ in points},
                               shell.ratings, self.problems)
        if len(self.problems) > before:
            return None
        resolved = tuple(p.model_copy(update={"category": p.category or shell.category,
                                              "medium": p.medium or shell.medium}) for p, _ in points)
        return Device.model_validate({**shell.model_dump(exclude={"points", "alarms"}), "points": resolved,
                                      "alarms": alarms})

    def _points(self, raw_points: Any, here: FieldPath,
                template: Template | None) -> list[tuple[Point, Draft]] | None:
        """Template points with this device's overrides, then its own points, with their drafts."""
        drafts: dict[str, Draft] = dict(template.drafts) if template is not None else {}
        extra: list[Draft] = []
        overridden: dict[str, int] = {}
        ok = True
        if raw_points is None:
            raw_points = []
        if not isinstance(raw_points, list):
            self.problems.append(self.doc.problem((*here, "points"), "'points' must be a list"))
            raw_points, ok = [], False
        for k, entry in enumerate(raw_points):
            path = (*here, "points", k)
            if not isinstance(entry, dict):
                self.problems.append(self.doc.problem(path, "a point must be a mapping"))
                ok = False
                continue
            name = entry.get("name")
            if isinstance(name, str) and name in overridden:
                self.problems.append(self.doc.problem((*path, "name"), f"point {name!r} is listed twice "
                                                      f"(first at line {overridden[name]})"))
                ok = False
                continue
            if isinstance(name, str):
                overridden[name] = self.doc.line_of(path)
            if isinstance(name, str) and template is not None and name in template.drafts:
                drafts[name] = drafts[name].overridden(entry, self.doc, path)
            else:
                extra.append(Draft.from_entry(entry, self.doc, path))
        resolved: list[tuple[Point, Draft]] = []
        for draft in [*drafts.values(), *extra]:
            point = resolve_point(draft, self.problems)
            if point is None:
                ok = False
            else:
                resolved.append((point, draft))
        found = register_problems(resolved)
        self.problems.extend(found)
        return resolved if ok and not found else None

    def _check_connection(self, device: Device, here: FieldPath) -> None:
        """Protocol-specific required fields and ranges; fields of another protocol."""
        found: list[tuple[str, str]] = []
        protocol = device.protocol
        allowed = COMMON_FIELDS | PROTOCOL_FIELDS[protocol]
        found += [(f, f"'{f}' does not apply to a {protocol.value} device")
                  for f in sorted(device.model_fields_set - allowed)]
        if protocol in (Protocol.MODBUS_TCP, Protocol.BACNET_IP, Protocol.MQTT) and not device.host:
            found.append(("host", f"{protocol.value} needs 'host'"))
        if protocol is Protocol.MODBUS_RTU:
            if not device.serial_port:
                found.append(("serial_port", "modbus_rtu needs 'serial_port'"))
            if not 1 <= device.unit_id <= 247:
                found.append(("unit_id", f"a Modbus RTU unit id is 1..247 (got {device.unit_id})"))
        if protocol is Protocol.OPC_UA:
            if not device.endpoint:
                found.append(("endpoint", "opc_ua needs 'endpoint' (opc.tcp://host:port/path)"))
            elif (urlsplit(device.endpoint).port or 4840) != device.port:
                found.append(("port", f"port {device.port} differs from the endpoint's port: give the port "
                                      "in 'endpoint' only"))
            if device.security is not SecurityMode.NONE:
                found += [("security", f"security {device.security.value} needs '{f}'")
                          for f in ("certificate", "private_key") if getattr(device, f) is None]
            found += [(f, f"file {getattr(device, f)!r} does not exist")
                      for f in ("certificate", "private_key", "server_certificate")
                      if getattr(device, f) is not None and not Path(getattr(device, f)).is_file()]
        if protocol is Protocol.DLT645:
            if not device.meter:
                found.append(("meter", "dlt645 needs 'meter' (the meter number, 1-12 digits)"))
            if not device.host and not device.serial_port:
                found.append(("host", "dlt645 needs 'host' (a serial-to-TCP gateway) or 'serial_port'"))
            elif device.host and device.serial_port:
                found.append(("serial_port", "give 'host' (gateway) or 'serial_port', not both"))
        if protocol is Protocol.MQTT and device.sparkplug is not None and device.topic_prefix:
            found.append(("topic_prefix", "a Sparkplug B device has no topic_prefix: its topics are spBv1.0/..."))
        if protocol in (Protocol.OPC_UA, Protocol.MQTT) and device.password is not None and not device.username:
            found.append(("password", "a password needs 'username'"))
        self.problems.extend(self.doc.problem((*here, field), message) for field, message in found)

    def _check_point_protocol(self, device: Device, points: list[tuple[Point, Draft]]) -> None:
        """Every point is addressed in the device's protocol; DL/T 645 data identifiers fit the meter."""
        family = device.protocol.family
        for point, draft in points:
            if point.family != family:
                key = ADDRESS_FIELDS[point.family][0] if point.family else ""
                self.problems.append(draft.problem((key,) if key else (), (
                    f"point {point.name!r} has a {FAMILY_LABELS.get(point.family or '', 'no')} address but device "
                    f"{device.id!r} speaks {device.protocol.value} (needs "
                    f"{_NEEDS.get(family, ADDRESS_FIELDS[family][0])})")))
            elif family == "dlt645" and point.di is not None:
                message = dlt645_point_problem(device.version, point.di, point.format)
                if message:
                    self.problems.append(draft.problem(("di",), message))
            elif family == "mqtt" and (device.sparkplug is None) != (point.metric is None):
                self.problems.append(draft.problem(("metric",) if point.metric else ("topic",), (
                    f"point {point.name!r} names a Sparkplug B metric but device {device.id!r} has no 'sparkplug'"
                    if point.metric else
                    f"point {point.name!r} of Sparkplug B device {device.id!r} needs 'metric' (not 'topic')")))

    def _check_endpoint(self, device: Device, here: FieldPath, endpoints: dict[tuple[Any, ...], Device],
                        serial_settings: dict[str, Device]) -> None:
        """Two devices at one address (Modbus unit, BACnet host:port, DL/T 645 meter on one bus);
        clashing serial line settings. OPC UA servers and MQTT brokers may serve many devices."""
        protocol = device.protocol
        key: tuple[Any, ...]
        if protocol in (Protocol.OPC_UA, Protocol.MQTT):
            return
        if protocol is Protocol.BACNET_IP:
            key, where, field = ("bacnet", device.host, device.port), f"{device.host}:{device.port}", "port"
            taken = "already is"
        elif protocol is Protocol.DLT645:
            bus = device.serial_port or f"{device.host}:{device.port}"
            key, where, field = ("dlt645", bus, device.meter), bus, "meter"
            taken = f"already has meter {device.meter} on"
        elif protocol is Protocol.MODBUS_TCP:
            key, where, field = ("tcp", device.host, device.port, device.unit_id), f"{device.host}:{device.port}", \
                "unit_id"
            taken = f"already uses unit id {device.unit_id} on"
        else:
            key, where, field = ("rtu", device.serial_port, device.unit_id), str(device.serial_port), "unit_id"
            taken = f"already uses unit id {device.unit_id} on"
        if device.serial_port and protocol in (Protocol.MODBUS_RTU, Protocol.DLT645):
            line = (device.baudrate, device.parity, device.stopbits, device.bytesize)
            other = serial_settings.setdefault(str(device.serial_port), device)
            if other.protocol is not protocol:
                self.problems.append(self.doc.problem((*here, "serial_port"), (
                    f"{where} is used by {other.protocol.value} device {other.id!r}; one serial line "
                    f"speaks one protocol")))
            elif (other.baudrate, other.parity, other.stopbits, other.bytesize) != line:
                self.problems.append(self.doc.problem((*here, "serial_port"), (
                    f"{where} is used by device {other.id!r} with baudrate/parity/stopbits/bytesize "
                    f"{other.baudrate}/{other.parity}/{other.stopbits}/{other.bytesize}, "
                    f"here {'/'.join(map(str, line))}")))
        if key in endpoints:
            self.problems.append(self.doc.problem((*here, field), f"device {endpoints[key].id!r} {taken} {where}"))
        else:
            endpoints[key] = device
