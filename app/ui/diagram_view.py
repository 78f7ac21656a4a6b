"""Single-line diagrams of the site, live (issue 3 §2).

Sheets and positions come from :mod:`app.ui.diagram_layout`; energisation from
:class:`app.topology.Topology`. Every sheet's scene is built once and kept current, so
switching sheets is instant. Live values arrive through the bridge (<= 10 Hz batches);
an update touches only the items of the tags in the batch, and energisation is
recomputed only when a switch position (or a device's communication) changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from PySide6.QtCore import QEvent, QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene, QHBoxLayout, QTabBar, QToolButton, QVBoxLayout, QWidget

from app.alarms.contracts import Alarm, AlarmUpdate
from app.alarms.states import AlarmState
from app.config import Device, SiteConfig
from app.config.site import NodeKind, TopologyNode
from app.points import PointValue, Quality
from app.topology import EnergisationMap, Topology
from app.ui.diagram_layout import OVERVIEW, Connector, Sheet, SheetLayout, build_sheets, layout_sheet
from app.ui.services import UiServices
from widgets.sld import (BreakerItem, BreakerState, BusbarItem, ConnectorItem, IncomingLineItem, LoadItem, MeterItem,
                         NameLabelItem, SldCanvas, SymbolItem, TransformerItem, ValueLabelItem, ValueState,
                         WireItem, sld_palette)

#: values shown beside a node, per node kind: (label, candidate point names in order)
#: (a medium-voltage incoming line is read by its line voltage, as its nominal 10 kV is stated)
P_, I_, U_, E_ = ("P", ("P",)), ("I", ("Ia", "I")), ("U", ("Ua", "U")), ("E", ("Ep_imp", "Ep"))
U_LINE = ("Uab", ("Uab", "Ua", "U"))
SHOWN_VALUES: dict[NodeKind, tuple[tuple[str, tuple[str, ...]], ...]] = {
    NodeKind.INCOMING_LINE: (P_, I_, U_LINE, E_),
    NodeKind.TRANSFORMER: (P_, I_, U_, E_),
    NodeKind.METER: (P_, I_, U_, E_),
    NodeKind.FEEDER: (I_, P_, E_),
    NodeKind.BREAKER: (I_, P_, E_),
    NodeKind.BUS_TIE: (I_, P_),
}
VALUE_LINE_PX = 14.0
DEVICE_POLL_MS = 1000
BREAKER_KINDS = (NodeKind.FEEDER, NodeKind.BREAKER, NodeKind.BUS_TIE)


def format_value(value: float | None, unit: str) -> str:
    """``value`` with its unit for a diagram label: energy whole, >= 1000 whole, else 1 decimal;
    voltages of 1000 V and more in kV with 2 decimals (``10.02 kV``).

    Returns ``'—'`` for a point that never had a value.
    """
    if value is None:
        return "—"
    if unit == "V" and abs(value) >= 1000:
        return f"{value / 1000:.2f} kV"
    decimals = 0 if unit.endswith("h") or abs(value) >= 1000 else 1
    return f"{value:.{decimals}f} {unit}".rstrip()


#: alarm states that frame an element on the diagram (flashing while unacknowledged)
SHOWN_ALARM_STATES = {AlarmState.UNACK_ACTIVE: False, AlarmState.ACK_ACTIVE: True, AlarmState.UNACK_RTN: False}


def alarms_by_device(alarms: Iterable[Alarm]) -> dict[str, tuple[int, bool]]:
    """Per device, the most urgent priority of its annunciated alarms and whether all are acknowledged.

    Shelved, suppressed and out-of-service alarms, and alarms of no device (area rules),
    are left out.
    """
    out: dict[str, tuple[int, bool]] = {}
    for alarm in alarms:
        acked = SHOWN_ALARM_STATES.get(alarm.state)
        if acked is None or not alarm.device:
            continue
        priority, all_acked = out.get(alarm.device, (alarm.priority, True))
        out[alarm.device] = (min(priority, alarm.priority), all_acked and acked)
    return out


@dataclass
class SheetItems:
    """The items of one sheet: symbols by node id, breakers, wires, connectors,
    value labels by tag (with their short label, e.g. ``'P'``) and names."""

    sheet: Sheet
    layout: SheetLayout
    scene: QGraphicsScene
    symbols: dict[str, SymbolItem] = field(default_factory=dict)
    breakers: dict[str, BreakerItem] = field(default_factory=dict)
    wires: list[WireItem] = field(default_factory=list)
    connectors: list[ConnectorItem] = field(default_factory=list)
    values: dict[str, list[tuple[str, ValueLabelItem]]] = field(default_factory=dict)
    names: list[NameLabelItem] = field(default_factory=list)


class DiagramView(QWidget):
    """Live single-line diagrams: an overview and one sheet per LV panel.

    Parameters
    ----------
    services : UiServices
        Site (topology, devices), bridge (live values), device status, settings
        (theme, breaker colour convention).
    parent : QWidget or None

    Signals
    -------
    breaker_clicked(str)
        Device id of a breaker (feeder, breaker or bus tie with a device) the operator clicked.
    sheet_changed(str)
        Id of the sheet now shown.
    """

    breaker_clicked = Signal(str)
    sheet_changed = Signal(str)
    _alarm_update_received = Signal(object)     # AlarmUpdate, queued from the alarm engine's thread

    def __init__(self, services: UiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self._site: SiteConfig = services.site
        self._topo = Topology.from_site(self._site)
        self._sheets = build_sheets(self._topo)
        self._palette = sld_palette(services.settings.theme, services.settings.breaker_colours)
        self._applied = (services.settings.theme, services.settings.breaker_colours)
        self._devices: dict[str, Device] = {d.id: d for d in self._site.devices}
        self._units = {d.tag(p.name): p.unit for d, p in self._site.iter_points()}
        self._values: dict[str, PointValue] = {}
        self._offline: set[str] = set()
        self._alarms: dict[str, tuple[int, bool]] = {}
        self._energisation: EnergisationMap | None = None
        self._switch_devices = {n.device for n in self._site.topology if n.kind in BREAKER_KINDS and n.device}
        self._scenes: dict[str, SheetItems] = {}

        self._tabs = QTabBar(self)
        self._tabs.setExpanding(False)
        self._fit_button = QToolButton(self)
        self.canvas = SldCanvas(self)
        self.canvas.set_tooltip_provider(self._tooltip)
        self.canvas.item_clicked.connect(self._on_canvas_item_clicked)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self._tabs, 1)
        top.addWidget(self._fit_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.canvas, 1)

        for sheet in self._sheets:
            self._tabs.addTab("")
        self._retranslate()
        self._fit_button.clicked.connect(lambda: self.canvas.fit())

        self._tags = self._bound_tags()
        for tag in self._tags:
            pv = services.bridge.value(tag)
            if pv is not None:
                self._values[tag] = pv
        self._offline = self._poll_offline()
        self._build_scenes()
        self._tabs.currentChanged.connect(self._on_tabs_current_changed)
        self.show_sheet(self._sheets[0].id)

        services.bridge.values_changed.connect(self._on_bridge_values_changed)
        self._device_timer = QTimer(self)
        self._device_timer.setInterval(DEVICE_POLL_MS)
        self._device_timer.timeout.connect(self._on_device_timer_timeout)
        self._device_timer.start()

        alarms = services.alarms
        if alarms is not None:
            # an AlarmBridge (GUI thread, coalesced) or the AlarmEngine itself (its thread: queue over)
            self.set_alarms(alarms_by_device(alarms.alarms()))
            if hasattr(alarms, "alarms_changed"):
                alarms.alarms_changed.connect(self._on_alarm_update_received)
            else:
                self._alarm_update_received.connect(self._on_alarm_update_received,
                                                    Qt.ConnectionType.QueuedConnection)
                self.destroyed.connect(alarms.subscribe(self._alarm_update_received.emit))

    # ------------------------------------------------------------------ public
    @property
    def topology(self) -> Topology:
        return self._topo

    @property
    def sheets(self) -> list[Sheet]:
        return list(self._sheets)

    def current_sheet(self) -> str:
        """Id of the sheet shown."""
        return self._sheets[self._tabs.currentIndex()].id

    def sheet_scene(self, sheet_id: str) -> SheetItems:
        """The items of sheet ``sheet_id`` (for tests, benchmarks and screenshots).

        Raises
        ------
        KeyError
            No such sheet.
        """
        try:
            return self._scenes[sheet_id]
        except KeyError:
            raise KeyError(f"no diagram sheet {sheet_id!r}; sheets: {', '.join(self._scenes)}") from None

    def show_sheet(self, sheet_id: str) -> None:
        """Show sheet ``sheet_id`` fitted to the window.

        Raises
        ------
        KeyError
            No such sheet.
        """
        ss = self.sheet_scene(sheet_id)
        index = [s.id for s in self._sheets].index(sheet_id)
        if self._tabs.currentIndex() != index:
            self._tabs.setCurrentIndex(index)   # comes back through _on_tabs_current_changed
            return
        self.canvas.setScene(ss.scene)
        self.canvas.fit()
        self._update_flashing()
        self.sheet_changed.emit(sheet_id)

    def set_alarms(self, alarms: Mapping[str, tuple[int, bool]]) -> None:
        """Active alarms by device id: ``(priority 1..4, acknowledged)``.

        Every symbol of the device's nodes gets a frame in the priority's colour,
        flashing until acknowledged. Bound by itself to ``services.alarms`` when there
        is one (an :class:`app.ui.alarm_bridge.AlarmBridge` or the alarm engine).
        """
        self._alarms = dict(alarms)
        for ss in self._scenes.values():
            for node_id, item in ss.symbols.items():
                device = self._topo.nodes[node_id].device
                priority, acked = self._alarms.get(device, (None, True)) if device else (None, True)
                item.set_alarm(priority, acked)
        self._update_flashing()

    def apply_settings(self) -> None:
        """Rebuild the sheets after a change of theme or breaker colour convention.

        Called by itself when the application's style sheet changes (a theme switch)."""
        settings = self._services.settings
        self._palette = sld_palette(settings.theme, settings.breaker_colours)
        self._applied = (settings.theme, settings.breaker_colours)
        current = self.current_sheet()
        self._build_scenes()
        self.set_alarms(self._alarms)
        self.canvas.setScene(self._scenes[current].scene)
        self.canvas.fit()

    # ------------------------------------------------------------------ building
    def _bound_tags(self) -> set[str]:
        tags: set[str] = set(self._topo.state_tags.values())
        for node in self._site.topology:
            if node.device is None:
                continue
            device = self._devices[node.device]
            names = {p.name for p in device.points}
            for _, candidates in SHOWN_VALUES.get(node.kind, ()):
                shown = next((c for c in candidates if c in names), None)
                if shown is not None:
                    tags.add(device.tag(shown))
            if node.kind in BREAKER_KINDS:
                tags.update(device.tag(n) for n in ("mode", "trip_cause") if n in names)
        return tags

    def _build_scenes(self) -> None:
        self._scenes = {s.id: self._build_scene(s) for s in self._sheets}
        for ss in self._scenes.values():
            for tag in ss.values:
                self._refresh_value(ss, tag)
        self._energisation = None
        self._refresh_breakers()

    def _build_scene(self, sheet: Sheet) -> SheetItems:
        layout = layout_sheet(self._topo, sheet)
        scene = QGraphicsScene(self)
        scene.setBackgroundBrush(self._palette.background)
        scene.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        ss = SheetItems(sheet, layout, scene)
        for node_id in sheet.nodes:
            node = self._topo.nodes[node_id]
            x, y = layout.positions[node_id]
            item = self._make_symbol(node, layout)
            item.setPos(x, y)
            scene.addItem(item)
            ss.symbols[node_id] = item
            if isinstance(item, BreakerItem):
                ss.breakers[node_id] = item
            self._add_names(ss, node, item)
            self._add_values(ss, node, item)
        for node_id in sheet.nodes:
            for up in self._topo.nodes[node_id].upstream:
                if up in ss.symbols:
                    self._add_wire(ss, up, node_id)
        for connector in sheet.connectors:
            self._add_connector(ss, connector)
        return ss

    def _make_symbol(self, node: TopologyNode, layout: SheetLayout) -> SymbolItem:
        p = self._palette
        kind = node.kind
        if kind in BREAKER_KINDS:
            return BreakerItem(node.id, p, horizontal=kind is NodeKind.BUS_TIE)
        if kind is NodeKind.TRANSFORMER:
            return TransformerItem(node.id, p)
        if kind is NodeKind.BUSBAR:
            x = layout.positions[node.id][0]
            x0, x1 = layout.bus_spans[node.id]
            return BusbarItem(node.id, p, x0 - x, x1 - x)
        if kind is NodeKind.METER:
            return MeterItem(node.id, p)
        if kind is NodeKind.LOAD:
            return LoadItem(node.id, p)
        return IncomingLineItem(node.id, p)

    def _add_names(self, ss: SheetItems, node: TopologyNode, item: SymbolItem) -> None:
        p = self._palette
        x, y = item.pos().x(), item.pos().y()
        labels: list[tuple[NameLabelItem, float, float]] = []
        name = node.name or node.id
        if node.kind is NodeKind.LOAD:
            labels.append((NameLabelItem(name, p, vertical=True), x, y + 16))
        elif node.kind is NodeKind.BUSBAR:
            assert isinstance(item, BusbarItem)
            labels.append((NameLabelItem(name, p, pixel_size=13, bold=True), x + item.span[0], y - 16))
        elif node.kind is NodeKind.TRANSFORMER:
            rated = node.ratings.get("Sn_kVA")
            text = f"{name}  {rated:g} kVA" if rated else name
            labels.append((NameLabelItem(text, p, pixel_size=12, bold=True), x + 20, y - 30))
        elif node.kind is NodeKind.INCOMING_LINE:
            labels.append((NameLabelItem(name, p, pixel_size=13, bold=True), x + 14, y - 26))
        elif node.kind is NodeKind.BUS_TIE:
            label = NameLabelItem(name, p)
            labels.append((label, x - label.boundingRect().width() / 2, y - 22))
        elif node.kind in (NodeKind.FEEDER, NodeKind.BREAKER):
            label = NameLabelItem(node.device or node.id, p, pixel_size=10)
            labels.append((label, x - 13 - label.boundingRect().width(), y - 6))
        for label, lx, ly in labels:
            label.setPos(lx, ly)
            ss.scene.addItem(label)
            ss.names.append(label)

    def _add_values(self, ss: SheetItems, node: TopologyNode, item: SymbolItem) -> None:
        if node.device is None:
            return
        device = self._devices[node.device]
        names = {p.name for p in device.points}
        shown = [(label, device.tag(next(c for c in cands if c in names)))
                 for label, cands in SHOWN_VALUES.get(node.kind, ()) if any(c in names for c in cands)]
        x, y = item.pos().x(), item.pos().y()
        if node.kind is NodeKind.BUS_TIE:
            x0, y0 = x - 34, y + 28
        elif node.kind is NodeKind.TRANSFORMER:
            x0, y0 = x + 20, y - 12
        elif node.kind is NodeKind.INCOMING_LINE:
            x0, y0 = x + 14, y - 8
        else:
            x0, y0 = x + 15, y - 11
        for i, (label, tag) in enumerate(shown):
            value_item = ValueLabelItem(tag, self._palette)
            value_item.setPos(x0, y0 + i * VALUE_LINE_PX)
            ss.scene.addItem(value_item)
            ss.values.setdefault(tag, []).append((label, value_item))

    def _port(self, ss: SheetItems, node_id: str, side: str, towards: QPointF | None = None) -> QPointF:
        item = ss.symbols[node_id]
        if isinstance(item, BusbarItem) and towards is not None and side in ("top", "bottom"):
            x0, x1 = item.span
            local = min(max(towards.x() - item.pos().x(), x0), x1)
            return item.mapToScene(QPointF(local, 0.0))
        port = {"top": item.port_top, "bottom": item.port_bottom, "left": item.port_left,
                "right": item.port_right}[side]()
        return item.mapToScene(port)

    def _add_wire(self, ss: SheetItems, up: str, down: str) -> None:
        up_item, down_item = ss.symbols[up], ss.symbols[down]
        if isinstance(down_item, BreakerItem) and down_item.horizontal:      # busbar -> bus tie
            tie = down_item.pos()
            bus_side = "right" if tie.x() >= up_item.pos().x() else "left"
            start = self._port(ss, up, bus_side)
            end = self._port(ss, down, "left" if bus_side == "right" else "right")
            points = [start, QPointF(start.x(), end.y()), end]
        else:
            end = self._port(ss, down, "top")
            start = self._port(ss, up, "bottom", towards=end)
            if isinstance(down_item, BusbarItem):
                end = self._port(ss, down, "top", towards=start)
            if abs(start.x() - end.x()) < 0.5:
                points = [start, end]
            else:
                mid = (start.y() + end.y()) / 2
                points = [start, QPointF(start.x(), mid), QPointF(end.x(), mid), end]
        wire = WireItem(points, self._palette, up, down)
        ss.scene.addItem(wire)
        ss.wires.append(wire)

    def _add_connector(self, ss: SheetItems, connector: Connector) -> None:
        title = self._sheet_title(connector.target)
        text = self.tr("{name} ({count})").format(name=title, count=len(connector.others)) \
            if connector.direction == "down" else title
        direction = connector.direction
        if direction in ("left", "right"):
            # a bus tie's far side leaves the sheet away from the busbar drawn beside it
            tie = ss.symbols[connector.node].pos().x()
            near = [ss.symbols[s].pos().x() for s in self._topo.nodes[connector.node].upstream if s in ss.symbols]
            if near:
                direction = "right" if near[0] <= tie else "left"
        item = ConnectorItem(connector.target, text, self._palette, direction)
        side = {"down": "bottom", "up": "top", "left": "left", "right": "right"}[direction]
        start = self._port(ss, connector.node, side)
        offset = {"down": QPointF(0, 26), "up": QPointF(0, -26), "left": QPointF(-26, 0),
                  "right": QPointF(26, 0)}[direction]
        item.setPos(start + offset)
        ss.scene.addItem(item)
        ss.connectors.append(item)
        stub = WireItem([start, start + offset], self._palette,
                        *((connector.node, "") if direction in ("down", "left", "right")
                          else ("", connector.node)))
        ss.scene.addItem(stub)
        ss.wires.append(stub)

    # ------------------------------------------------------------------ live state
    def _poll_offline(self) -> set[str]:
        status = self._services.device_status()
        return {device_id for device_id, st in status.items() if not st.online}

    def _positions(self) -> dict[str, bool | None]:
        positions = self._topo.positions(self._values)
        for node_id in positions:
            if self._topo.nodes[node_id].device in self._offline:
                positions[node_id] = None
        return positions

    def _refresh_energisation(self) -> None:
        e = self._topo.energisation(self._positions())
        if e == self._energisation:
            return
        self._energisation = e
        for ss in self._scenes.values():
            for node_id, item in ss.symbols.items():
                item.set_energised(e.nodes[node_id].value)
            for wire in ss.wires:
                if wire.upstream:
                    wire.set_energised(e.outputs[wire.upstream].value)
                else:
                    wire.set_energised(e.nodes[wire.downstream].value)

    def _value_state(self, tag: str, pv: PointValue | None) -> ValueState:
        if tag.split(".", 1)[0] in self._offline:
            return ValueState.OFFLINE
        if pv is None or pv.quality is Quality.BAD:
            return ValueState.BAD
        return ValueState.UNCERTAIN if pv.quality is Quality.UNCERTAIN else ValueState.GOOD

    def _refresh_value(self, ss: SheetItems, tag: str) -> None:
        pv = self._values.get(tag)
        state = self._value_state(tag, pv)
        text = format_value(pv.value if pv is not None else None, self._units.get(tag, ""))
        for label, item in ss.values.get(tag, ()):
            item.set_value(f"{label} {text}", state)

    def _refresh_breaker(self, ss: SheetItems, node_id: str, positions: Mapping[str, bool | None]) -> None:
        node = self._topo.nodes[node_id]
        item = ss.breakers[node_id]
        position = positions.get(node_id) if node_id in self._topo.state_tags else not node.normally_open
        item.set_state(BreakerState.UNKNOWN if position is None
                       else BreakerState.CLOSED if position else BreakerState.OPEN)
        badges: list[str] = []
        if node.device is not None:
            mode = self._good_value(f"{node.device}.mode")
            if mode == 1:
                badges.append(self.tr("Manual"))
            elif mode == 2:
                badges.append(self.tr("Maint."))
            cause = self._good_value(f"{node.device}.trip_cause")
            if position is False and cause not in (None, 0, 9):
                badges.append(self.tr("Tripped"))
        item.set_badge(" ".join(badges))

    def _good_value(self, tag: str) -> float | None:
        pv = self._values.get(tag)
        return pv.value if pv is not None and pv.quality is Quality.GOOD else None

    def _on_bridge_values_changed(self, batch: dict[str, PointValue]) -> None:
        relevant = [tag for tag in batch if tag in self._tags]
        if not relevant:
            return
        breakers_changed = False
        for tag in relevant:
            self._values[tag] = batch[tag]
            if tag.split(".", 1)[0] in self._switch_devices and tag.rsplit(".", 1)[1] in ("state", "mode",
                                                                                          "trip_cause"):
                breakers_changed = True
        for ss in self._scenes.values():
            for tag in relevant:
                if tag in ss.values:
                    self._refresh_value(ss, tag)
        if breakers_changed:
            self._refresh_breakers()

    def _refresh_breakers(self) -> None:
        positions = self._positions()
        for ss in self._scenes.values():
            for node_id in ss.breakers:
                self._refresh_breaker(ss, node_id, positions)
        self._refresh_energisation()

    def _on_device_timer_timeout(self) -> None:
        offline = self._poll_offline()
        if offline == self._offline:
            return
        changed = offline ^ self._offline
        self._offline = offline
        for ss in self._scenes.values():
            for tag in ss.values:
                if tag.split(".", 1)[0] in changed:
                    self._refresh_value(ss, tag)
        self._refresh_breakers()

    def _update_flashing(self) -> None:
        if not self._scenes:
            return
        ss = self._scenes.get(self.current_sheet())
        items = {i for i in ss.symbols.values() if i.flashing} if ss is not None else set()
        self.canvas.set_flashing(items)

    # ------------------------------------------------------------------ interaction
    def _on_canvas_item_clicked(self, item: QGraphicsItem) -> None:
        if isinstance(item, ConnectorItem):
            self.show_sheet(item.target)
        elif isinstance(item, BreakerItem):
            device = self._topo.nodes[item.key].device
            if device is not None:
                self.breaker_clicked.emit(device)

    def _on_alarm_update_received(self, update: AlarmUpdate) -> None:
        self.set_alarms(alarms_by_device(update.alarms))

    def _on_tabs_current_changed(self, index: int) -> None:
        if 0 <= index < len(self._sheets):
            self.show_sheet(self._sheets[index].id)

    def _sheet_title(self, sheet_id: str) -> str:
        if sheet_id == OVERVIEW:
            return self.tr("Overview")
        sheet = next(s for s in self._sheets if s.id == sheet_id)
        return sheet.title or self.tr("Diagram")

    def _retranslate(self) -> None:
        for i, sheet in enumerate(self._sheets):
            self._tabs.setTabText(i, self._sheet_title(sheet.id))
        self._fit_button.setText(self.tr("Fit to window"))
        self._fit_button.setToolTip(self.tr("Show the whole diagram (mouse wheel zooms, drag pans)"))

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        # a hidden view (another page of the window) may miss the style change of a theme switch
        settings = self._services.settings
        if self._scenes and (settings.theme, settings.breaker_colours) != self._applied:
            self.apply_settings()
        super().showEvent(event)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        settings = self._services.settings
        if event.type() == QEvent.Type.StyleChange and self._scenes \
                and (settings.theme, settings.breaker_colours) != self._applied:
            self.apply_settings()
        elif event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
            if self._scenes:
                current = self.current_sheet()
                self._build_scenes()
                self.set_alarms(self._alarms)
                self.canvas.setScene(self._scenes[current].scene)
        super().changeEvent(event)

    # ------------------------------------------------------------------ tooltips
    def _tooltip(self, item: QGraphicsItem) -> str | None:
        if isinstance(item, ValueLabelItem):
            return self._point_tooltip(item.key)
        if isinstance(item, ConnectorItem):
            return self.tr("Go to diagram: {name}").format(name=self._sheet_title(item.target))
        if isinstance(item, SymbolItem):
            return self._node_tooltip(item.key)
        return None

    def _kind_name(self, kind: NodeKind) -> str:
        return {
            NodeKind.INCOMING_LINE: self.tr("Incoming line"), NodeKind.TRANSFORMER: self.tr("Transformer"),
            NodeKind.BUSBAR: self.tr("Busbar"), NodeKind.BUS_TIE: self.tr("Bus tie"),
            NodeKind.FEEDER: self.tr("Feeder"), NodeKind.BREAKER: self.tr("Breaker"),
            NodeKind.METER: self.tr("Meter"), NodeKind.LOAD: self.tr("Load"),
        }[kind]

    def _energisation_name(self, value: str) -> str:
        return {"live": self.tr("energised"), "dead": self.tr("de-energised"),
                "unknown": self.tr("energisation unknown")}[value]

    def _node_tooltip(self, node_id: str) -> str:
        node = self._topo.nodes[node_id]
        lines = [f"<b>{node.name or node.id}</b> ({self._kind_name(node.kind)}, {node.id})"]
        if self._energisation is not None:
            lines.append(self._energisation_name(self._energisation.nodes[node_id].value))
        if node.device is not None:
            device = self._devices[node.device]
            comm = self.tr("offline") if device.id in self._offline else self.tr("online")
            lines.append(self.tr("Device: {name} ({id}), {comm}").format(name=device.name, id=device.id, comm=comm))
            for point in device.points:
                tag = device.tag(point.name)
                if tag in self._tags:
                    lines.append(self._point_line(tag))
        if node.kind in BREAKER_KINDS and node.device is not None:
            lines.append(self.tr("Click to operate"))
        return "<br>".join(lines)

    def _point_line(self, tag: str) -> str:
        device_id, name = tag.split(".", 1)
        device = self._devices[device_id]
        point = next(p for p in device.points if p.name == name)
        pv = self._values.get(tag)
        if pv is None or pv.value is None:
            shown = "—"
        elif point.states:
            shown = point.states.get(int(pv.value), format_value(pv.value, ""))
        else:
            shown = format_value(pv.value, point.unit)
        state = self._value_state(tag, pv)
        text = f"{point.description or name}: {shown}"
        if state is not ValueState.GOOD:
            reason = self.tr("device offline") if state is ValueState.OFFLINE else (
                pv.reason if pv is not None and pv.reason else self.tr("no value yet"))
            text = f"<span style='color:gray'><s>{text}</s> ? {reason}</span>"
        return text

    def _point_tooltip(self, tag: str) -> str:
        pv = self._values.get(tag)
        when = ""
        if pv is not None:
            local = dt.datetime.fromtimestamp(pv.ts, self._site.tzinfo)
            when = "<br>" + self.tr("Updated {time}").format(time=local.strftime("%Y-%m-%d %H:%M:%S"))
        return f"{tag}<br>{self._point_line(tag)}{when}"
