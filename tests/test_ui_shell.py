"""The workstation shell: translations, run-time language and theme, navigation, banner slot,
status bar, and the main window on the live demo plant."""

from __future__ import annotations

import ast
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel

from app.collector import Collector
from app.ui.app import Appearance, attach_alarm_banner, build_services
from app.ui.i18n import TRANSLATIONS_DIR, TranslationFileError, read_ts, ts_files
from app.ui.main_window import VIEWS, MainWindow, ViewSpec, load_view
from app.ui.services import UiSettings
from drivers.sim.plant import DemoPlant
from tests.test_sim_plant import N_PORTS, free_port_block
from tests.ui_services import DEMO, QT_WARNINGS_FAIL, make_services, put

pytestmark = QT_WARNINGS_FAIL

REPO = Path(__file__).resolve().parents[1]
SHELL_MODULES = ("main_window", "overview_view", "devices_view", "wall", "workstation")


def marked_strings(path: Path) -> set[tuple[str, str]]:
    """(context, source) of every ``self.tr("…")`` (context: enclosing class) and
    ``QCoreApplication.translate("ctx", "…")`` call in a module."""
    found: set[tuple[str, str]] = set()

    def visit(node: ast.AST, cls: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, child.name)
                continue
            if isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute):
                args = child.args
                if (child.func.attr == "tr" and isinstance(child.func.value, ast.Name)
                        and child.func.value.id == "self" and args and isinstance(args[0], ast.Constant)):
                    found.add((cls, args[0].value))
                elif (child.func.attr == "translate" and len(args) >= 2
                      and all(isinstance(a, ast.Constant) for a in args[:2])):
                    found.add((args[0].value, args[1].value))
            visit(child, cls)

    visit(ast.parse(path.read_text(encoding="utf-8")), None)
    return found


@pytest.fixture
def appearance(qapp):
    """The application's language/theme switcher; English again afterwards."""
    a = Appearance(UiSettings())
    a.apply()
    yield a
    a.set_language("en")
    QApplication.instance().setStyleSheet("")


def test_every_marked_string_of_the_shell_has_a_chinese_translation():
    table = {}
    for path in ts_files("zh_CN"):
        table.update(read_ts(path))
    marked = set().union(*(marked_strings(REPO / "app" / "ui" / f"{m}.py") for m in SHELL_MODULES))
    assert len(marked) > 60
    missing = sorted(m for m in marked if m not in table)
    assert missing == []
    # state labels of the demo's devices are translated too (breaker open/closed, modes, trip causes)
    labels = {label for _d, p in DEMO.iter_points() for label in p.states.values()}
    assert {("PointStates", label) for label in labels} - set(table) == set()
    assert table[("PointStates", "closed")] == "合闸"


def test_untranslated_text_falls_back_to_english_and_shortcuts_keep_their_keys(qtbot, appearance):
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtGui import QKeySequence

    appearance.set_language("zh_CN")
    assert QCoreApplication.translate("MainWindow", "no such text here") == "no such text here"
    native = QKeySequence.SequenceFormat.NativeText
    # Qt's own "F%1" and "Ctrl" are not in our files: Qt's English must come through, not ""
    assert QKeySequence("F11").toString(native) == "F11"
    assert QKeySequence("Ctrl+Q").toString(native) == "Ctrl+Q"


def test_a_malformed_translation_file_is_reported_with_its_path(tmp_path):
    bad = tmp_path / "Broken.zh_CN.ts"
    bad.write_text("<TS><context><message><source>x</source></message></context></TS>", encoding="utf-8")
    with pytest.raises(TranslationFileError, match="Broken.zh_CN.ts.*no <name>"):
        read_ts(bad)
    bad.write_text("<TS><context>", encoding="utf-8")
    with pytest.raises(TranslationFileError, match="Broken.zh_CN.ts"):
        read_ts(bad)
    assert TRANSLATIONS_DIR.is_dir()


def test_chinese_by_default_and_english_at_run_time(qtbot, tmp_path, appearance):
    services, _cache, _st = make_services(tmp_path, settings=appearance.settings)
    window = MainWindow(services, appearance)
    qtbot.addWidget(window)
    nav = [window.navigation.item(i).text() for i in range(window.navigation.count())]
    assert nav[0] == "总览" and nav[-1] == "设备"
    assert window._view_menu.title() == "视图(&V)"
    appearance.set_language("en")
    qtbot.waitUntil(lambda: window.navigation.item(0).text() == "Overview", timeout=2000)
    assert window.navigation.item(4).text() == "Devices"
    assert window._devices_label.text().startswith("Devices online")
    devices = window.views["devices"]
    assert devices.model.headerData(2, Qt.Orientation.Horizontal) == "Value"
    appearance.set_language("zh_CN")
    qtbot.waitUntil(lambda: window.navigation.item(0).text() == "总览", timeout=2000)
    assert devices.model.headerData(2, Qt.Orientation.Horizontal) == "值"
    assert services.settings.language == "zh_CN"
    with pytest.raises(ValueError, match="unknown language"):
        appearance.set_language("fr")
    services.bridge.stop()


def test_theme_switch_applies_the_stylesheet_and_rejects_unknown_themes(qapp, appearance):
    appearance.set_theme("light")
    assert "#d6d6d6" in QApplication.instance().styleSheet()
    assert appearance.settings.theme == "light"
    appearance.set_theme("dark")
    assert "#262626" in QApplication.instance().styleSheet()
    with pytest.raises(ValueError, match="unknown theme 'pink'"):
        appearance.set_theme("pink")
    assert appearance.settings.theme == "dark"


def test_views_missing_or_broken_get_disabled_entries_with_the_reason(qtbot, tmp_path):
    services, _cache, _st = make_services(tmp_path)
    view, why = load_view(ViewSpec("x", "app.ui.no_such_view", "NoSuchView"), services)
    assert view is None and "app.ui.no_such_view is not installed" in why
    # a module that exists but whose class refuses the arguments: the error is the reason
    view, why = load_view(ViewSpec("x", "app.ui.services", "UiSettings"), services)
    assert view is None and "ValueError" in why and "UiSettings.language" in why
    window = MainWindow(services)
    qtbot.addWidget(window)
    assert {"overview", "devices"} <= set(window.views)
    for row, spec in enumerate(VIEWS):
        item = window.navigation.item(row)
        enabled = bool(item.flags() & Qt.ItemFlag.ItemIsEnabled)
        assert enabled == (spec.key in window.views)
        if not enabled:
            assert item.toolTip() == window.unavailable[spec.key]
    window.show_view("devices")
    assert window.current_view() == "devices"
    with pytest.raises(KeyError, match="not available"):
        window.show_view("nonexistent")
    services.bridge.stop()


def test_banner_slot_holds_the_banner_on_every_view(qtbot, tmp_path):
    services, _cache, _st = make_services(tmp_path)
    window = MainWindow(services)
    qtbot.addWidget(window)
    window.show()
    banner = QLabel("banner")
    window.set_banner(banner)
    for key in window.views:
        window.show_view(key)
        assert banner.isVisible()
    second = QLabel("second banner")
    window.set_banner(second)
    qtbot.waitUntil(lambda: second.isVisible(), timeout=1000)
    assert second.parentWidget().objectName() == "bannerSlot"
    services.bridge.stop()


def test_status_bar_shows_devices_online_and_database_health(qtbot, tmp_path, appearance):
    appearance.set_language("en")
    services, cache, statuses = make_services(tmp_path, settings=appearance.settings)
    statuses.set_online(["QF1_01", "ENV_HV"], False)
    window = MainWindow(services, appearance)
    qtbot.addWidget(window)
    n = len(DEMO.devices)
    assert window._devices_label.text() == f"Devices online {n - 2}/{n}"
    assert window._devices_label.property("state") == "offline"
    assert "QF1_01" in window._devices_label.toolTip()
    assert window._db_label.text() == "Database connecting…"
    services.historian.start()
    try:
        statuses.set_online(["QF1_01", "ENV_HV"], True)
        put(cache, ("T1_M.P", 10.0, 0))
        services.historian.submit([cache.get("T1_M.P")])
        qtbot.waitUntil(lambda: window._db_label.text() == "Database OK", timeout=5000)
        qtbot.waitUntil(lambda: window._devices_label.text() == f"Devices online {n}/{n}", timeout=3000)
        assert window._devices_label.property("state") == "ok"
        assert window._user_label.text() == "User: — (—)"
    finally:
        services.historian.stop()
        services.bridge.stop()


def test_down_database_is_shown_with_the_samples_buffered(qtbot, tmp_path, appearance):
    appearance.set_language("en")
    url = f"sqlite:///{tmp_path}/no/such/dir/db.sqlite"
    services, cache, _st = make_services(tmp_path, db_url=url, settings=appearance.settings)
    window = MainWindow(services, appearance)
    qtbot.addWidget(window)
    services.historian.start()
    try:
        put(cache, ("T1_M.P", 10.0, 0), ("T2_M.P", 11.0, 0))
        services.historian.submit([cache.get("T1_M.P"), cache.get("T2_M.P")])
        qtbot.waitUntil(lambda: window._db_label.text().startswith("Database DOWN"), timeout=5000)
        assert "buffering 2 samples" in window._db_label.text()
        assert window._db_label.property("state") == "offline"
        assert window._db_label.toolTip() != ""
    finally:
        services.historian.stop()
        services.bridge.stop()


def test_workstation_on_the_live_demo_plant(qtbot, tmp_path, appearance):
    """The demo plant's real Modbus servers, polled by a real collector into SQLite."""
    plant = DemoPlant(base_port=free_port_block(N_PORTS), refresh_s=0.25)
    plant.start()
    collector = Collector(plant.site, f"sqlite:///{tmp_path}/demo.sqlite")
    try:
        collector.start()
        services = build_services(collector, appearance.settings)
        services.bridge.start()
        window = MainWindow(services, appearance)
        qtbot.addWidget(window)
        banner = attach_alarm_banner(window, appearance)
        assert banner is not None and "alarms" not in window.unavailable
        n = len(plant.site.devices)
        qtbot.waitUntil(lambda: window._devices_label.text() == f"设备在线 {n}/{n}", timeout=20000)
        overview = window.views["overview"]
        qtbot.waitUntil(lambda: overview.load_tile.value.text().endswith(" kW")
                        and not overview.load_tile.value.text().startswith("?"), timeout=5000)
        assert float(overview.load_tile.value.text().split()[0].replace(",", "")) > 10.0
        qtbot.waitUntil(lambda: window._db_label.text() == "数据库正常", timeout=10000)
        plant.trigger("trip", "QF1_05", cause=2)          # short circuit: the banner shows the trip
        qtbot.waitUntil(lambda: banner.alarm() is not None and banner.alarm().id == "QF1_05:trip",
                        timeout=15000)                    # the cause, not its consequences
        window.views["alarms"].shutdown()
        services.bridge.stop()
        overview.wait_idle()
    finally:
        collector.stop()
        plant.stop()


def clipped_texts(root) -> list[str]:
    """Buttons and one-line labels under ``root`` (shown) whose text needs more width than they have."""
    from PySide6.QtWidgets import QAbstractButton

    out = []
    for widget in root.findChildren(QAbstractButton) + root.findChildren(QLabel):
        if not widget.isVisibleTo(root) or not widget.text() or widget.width() <= 1:
            continue
        if isinstance(widget, QLabel) and (widget.wordWrap() or widget.textFormat() == Qt.TextFormat.RichText
                                           or "<" in widget.text()):
            continue
        if widget.sizeHint().width() > widget.width() + 1:
            out.append(f"{type(widget).__name__} {widget.text()!r}: needs {widget.sizeHint().width()} px, "
                       f"has {widget.width()}")
    return out


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_no_text_is_clipped_in_either_language(qtbot, tmp_path, appearance, language):
    services, cache, _st = make_services(tmp_path, settings=appearance.settings)
    window = MainWindow(services, appearance)
    qtbot.addWidget(window)
    appearance.set_language(language)
    window.resize(1366, 768)                 # the smallest control-room screen we expect
    window.show()
    qtbot.waitExposed(window)
    put(cache, ("T1_M.P", 158.27, 0), ("T2_M.P", 160.1, 0))
    problems = {}
    nav = window.navigation
    for row in range(nav.count()):          # the fixed-width navigation holds every view's name
        item = nav.item(row)
        if nav.visualItemRect(item).width() < nav.fontMetrics().horizontalAdvance(item.text()) + 16:
            problems.setdefault("navigation", []).append(item.text())
    for key in window.views:
        window.show_view(key)
        try:   # once the layout has caught up with the texts (status bar, language switch)
            qtbot.waitUntil(lambda: not clipped_texts(window), timeout=2000)
        except qtbot.TimeoutError:
            problems.setdefault(key, []).extend(clipped_texts(window))
        # the layout fits the screen (a window forced larger would be cut off)
        if window.width() > 1366 or window.height() > 768:
            problems.setdefault(key, []).append(f"window needs {window.width()}x{window.height()}")
    assert problems == {}
    window.views["overview"].wait_idle()
    services.bridge.stop()
