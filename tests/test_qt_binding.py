"""Guard against a Qt binding that leaks references to None (PySide6 6.12.0 on Python 3.11).

Every Qt call returning nothing dropped one reference to None; a workstation repainting
for a few minutes then aborted with "deallocating None". pyproject excludes that release;
this test fails if such a binding is installed again.
"""

import sys

from PySide6.QtWidgets import QLabel


def test_qt_calls_keep_none_reference_count(qtbot):
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for _ in range(500):
        label.setText("x")
        label.update()
    assert sys.getrefcount(None) - before > -50
