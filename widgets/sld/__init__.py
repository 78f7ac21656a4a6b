"""Single-line diagram items (GB/T 4728 / IEC 60617 symbols), value labels and the canvas.

Qt only: items take state through plain methods (``set_state``, ``set_energised``,
``set_value``); the diagram view in ``app/ui`` binds them to points and topology.
"""

from widgets.sld.canvas import SldCanvas
from widgets.sld.labels import ConnectorItem, NameLabelItem, ValueLabelItem, ValueState
from widgets.sld.lines import WireItem
from widgets.sld.palette import SldPalette, sld_palette
from widgets.sld.symbols import (BreakerItem, BreakerState, BusbarItem, IncomingLineItem, LoadItem, MeterItem,
                                 SymbolItem, TransformerItem)

__all__ = [
    "BreakerItem", "BreakerState", "BusbarItem", "ConnectorItem", "IncomingLineItem", "LoadItem", "MeterItem",
    "NameLabelItem", "SldCanvas", "SldPalette", "SymbolItem", "TransformerItem", "ValueLabelItem", "ValueState",
    "WireItem", "sld_palette",
]
