"""Select-before-operate against the real demo plant over Modbus TCP, with the real
acquisition engine, point cache and alarm engine. Each test works on its own feeder.

Steps audited, readback verified, refusals with reasons: mode (manual, maintenance),
lapse, an operate differing from its selection, a second workstation, permission,
password, trip lockout and reset, a device refusing the write (exception 1) and a
breaker that does not stay closed (readback timeout).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from app.acquisition import AcquisitionEngine
from app.cache import PointCache
from app.control import (
    AuditAction, Command, ControlRefused, LocalSelectionRegistry, Outcome, RefusalCode,
)
from tests.test_control_support import PASSWORDS, AuditLog, Rig, start_rig, stop_rig, wait_for

DEVICES = ("QF_TIE", "QF1_01", "QF1_02", "QF1_03", "QF1_04", "QF1_05", "QF1_06", "QF1_07", "QF1_09",
           "QF1_10", "QF2_05", "QF2_06", "PM1_05")
OPEN, CLOSE = 0, 1


@pytest.fixture(scope="module")
def rig() -> Iterator[Rig]:
    rig = start_rig(DEVICES)
    yield rig
    stop_rig(rig)


def selected_and_confirmed(service, user: str, command: Command):
    selection = service.select(user, command)
    return service.confirm(selection.id, user, PASSWORDS[user])


def test_open_and_close_are_verified_by_readback_and_every_step_audited(rig):
    audit = AuditLog()
    service = rig.service(audit=audit)
    tag = "QF1_01.state"
    assert rig.value(tag) == 1
    opening = Command("QF1_01", "command", OPEN)
    assert service.check("wang", opening) == []
    assert [n.id for n in service.deenergised_loads("QF1_01")] == ["L1_01"]

    result = service.operate(selected_and_confirmed(service, "wang", opening).id, "wang", opening)
    assert result.outcome is Outcome.SUCCESS, result.message
    assert (result.before, result.after) == ("closed", "open")
    assert rig.value(tag) == 0 and rig.value("QF1_01.trip_cause") == 0
    assert rig.alarms.flush()
    assert not rig.alarms.alarm("QF1_01:trip").active      # a commanded opening is not a trip

    closing = Command("QF1_01", "command", CLOSE)
    result = service.operate(selected_and_confirmed(service, "wang", closing).id, "wang", closing)
    assert result.ok and result.after == "closed" and rig.value(tag) == 1

    steps = [AuditAction.SELECT, AuditAction.CONFIRM, AuditAction.OPERATE, AuditAction.VERIFY, AuditAction.RESULT]
    assert audit.actions() == steps + steps
    first = audit.records[:5]
    assert {r.selection for r in first} == {first[0].selection} and first[0].selection
    assert all(r.who == "wang" and r.workstation == "WS-1" and r.target == "QF1_01.command=0" for r in first)
    assert first[4].before == "closed" and first[4].after == "open" and first[4].result == "ok"
    assert [r.when for r in audit.records] == sorted(r.when for r in audit.records)


@pytest.mark.parametrize("device, mode, code, words", [
    ("QF1_02", 1, RefusalCode.MODE_MANUAL, "manual mode"),
    ("QF1_03", 2, RefusalCode.MODE_MAINTENANCE, "maintenance mode"),
])
def test_manual_and_maintenance_mode_refuse_before_the_operator_tries(rig, device, mode, code, words):
    audit = AuditLog()
    service = rig.service(audit=audit)
    rig.plant.set_mode(device, mode)
    try:
        assert rig.wait_value(f"{device}.mode", mode)
        opening = Command(device, "command", OPEN)
        assert [r.code for r in service.check("wang", opening)] == [code]
        with pytest.raises(ControlRefused) as refused:
            service.select("wang", opening)
        assert refused.value.refusal.code is code and words in str(refused.value)
        assert rig.value(f"{device}.state") == 1
        (record,) = audit.records
        assert record.action is AuditAction.REFUSED and words in record.reason and record.before == "closed"
    finally:
        rig.plant.set_mode(device, 0)
        assert rig.wait_value(f"{device}.mode", 0)


def test_a_selection_lapses_after_the_timeout(rig):
    audit = AuditLog()
    service = rig.service(audit=audit, selection_timeout_s=0.4)
    opening = Command("QF1_04", "command", OPEN)
    selection = selected_and_confirmed(service, "wang", opening)
    assert selection.expires_at - selection.selected_at == pytest.approx(0.4)
    time.sleep(0.5)
    result = service.operate(selection.id, "wang", opening)
    assert result.outcome is Outcome.REFUSED and result.refusal.code is RefusalCode.LAPSED
    assert "lapsed after 0.4 s" in result.message
    time.sleep(3 * 0.2)
    assert rig.value("QF1_04.state") == 1
    assert audit.actions() == [AuditAction.SELECT, AuditAction.CONFIRM, AuditAction.REFUSED]
    # a lapsed selection does not hold the device: another workstation may select it
    other = rig.service("WS-2", registry=service.registry)
    assert other.select("li", opening).workstation == "WS-2"


@pytest.mark.parametrize("operate_user, operate_command, detail", [
    ("wang", Command("QF1_05", "command", CLOSE), "QF1_05.command=1 but QF1_05.command=0 was selected"),
    ("li", Command("QF1_05", "command", OPEN), "user 'li' but 'wang' selected"),
    ("wang", Command("QF1_06", "command", OPEN), "no current selection"),
])
def test_an_operate_that_differs_from_the_selection_is_refused(rig, operate_user, operate_command, detail):
    audit = AuditLog()
    service = rig.service(audit=audit)
    selected = Command("QF1_05", "command", OPEN)
    selection = selected_and_confirmed(service, "wang", selected)
    result = service.operate(selection.id, operate_user, operate_command)
    assert result.outcome is Outcome.REFUSED and detail in result.message
    assert audit.records[-1].action is AuditAction.REFUSED and detail in audit.records[-1].reason
    time.sleep(3 * 0.2)
    assert rig.value("QF1_05.state") == 1 and rig.value("QF1_06.state") == 1
    if operate_command.device_id == "QF1_05":   # the selection is spent by the mismatch
        again = service.operate(selection.id, "wang", selected)
        assert again.refusal.code is RefusalCode.NO_SELECTION
    else:
        service.cancel(selection.id, "wang")


def test_a_second_workstation_is_refused_while_the_first_holds_the_selection(rig):
    registry = LocalSelectionRegistry()
    audit_a, audit_b = AuditLog(), AuditLog()
    ws1 = rig.service("WS-1", audit=audit_a, registry=registry)
    ws2 = rig.service("WS-2", audit=audit_b, registry=registry)
    opening = Command("QF1_07", "command", OPEN)
    selection = ws1.select("wang", opening)

    refusals = ws2.check("li", opening)
    assert [r.code for r in refusals] == [RefusalCode.HELD]
    assert refusals[0].arg("user") == "wang" and refusals[0].arg("workstation") == "WS-1"
    with pytest.raises(ControlRefused) as refused:
        ws2.select("li", Command("QF1_07", "command", OPEN))
    assert "selected by wang at WS-1" in str(refused.value)
    with pytest.raises(ControlRefused):      # the same user at another workstation is refused too
        ws2.select("wang", opening)
    stolen = ws2.operate(selection.id, "wang", opening)
    assert stolen.outcome is Outcome.REFUSED and "workstation 'WS-2' but 'WS-1' selected" in stolen.message
    assert rig.value("QF1_07.state") == 1
    assert [r.action for r in audit_b.records] == [AuditAction.REFUSED] * 3

    assert ws2.select("li", opening).workstation == "WS-2"   # the mismatched operate spent WS-1's selection
    assert not ws1.cancel(selection.id, "wang")


def test_permission_and_password_are_checked_and_audited(rig):
    audit = AuditLog()
    service = rig.service(audit=audit)
    opening = Command("QF1_10", "command", OPEN)
    with pytest.raises(ControlRefused) as refused:
        service.select("zhao", opening)
    assert refused.value.refusal.code is RefusalCode.PERMISSION and "area LV1_ROOM" in str(refused.value)

    selection = service.select("li", opening)
    with pytest.raises(ControlRefused) as refused:
        service.confirm(selection.id, "li", "wrong password")
    assert refused.value.refusal.code is RefusalCode.PASSWORD
    unconfirmed = service.operate(selection.id, "li", opening)   # withdrawn by the failed password
    assert unconfirmed.refusal.code is RefusalCode.NO_SELECTION

    selection = service.select("li", opening)
    not_confirmed = service.operate(selection.id, "li", opening)
    assert not_confirmed.refusal.code is RefusalCode.NOT_CONFIRMED
    assert rig.value("QF1_10.state") == 1
    assert audit.actions() == [AuditAction.REFUSED, AuditAction.SELECT, AuditAction.REFUSED, AuditAction.REFUSED,
                               AuditAction.SELECT, AuditAction.REFUSED]
    assert all(r.result == "refused" and r.reason for r in audit.records if r.action is AuditAction.REFUSED)


def test_closing_onto_a_tripped_feeder_needs_a_reset_and_a_fault_still_there_times_out(rig):
    audit = AuditLog()
    service = rig.service(audit=audit, verify_timeout_s=1.5)
    closing = Command("QF1_09", "command", CLOSE)
    rig.plant.trigger("leakage", "QF1_09", leakage_ma=45)
    try:
        assert rig.wait_value("QF1_09.state", 0) and rig.wait_value("QF1_09.trip_cause", 3)
        (refusal,) = service.check("wang", closing)
        assert refusal.code is RefusalCode.TRIPPED and refusal.arg("cause") == "leakage"
        with pytest.raises(ControlRefused):
            service.select("wang", closing)
        with pytest.raises(ControlRefused) as refused:
            service.reset_trip("zhao", "QF1_09")
        assert refused.value.refusal.code is RefusalCode.PERMISSION

        assert service.reset_trip("wang", "QF1_09") == "leakage"
        assert service.check("wang", closing) == []
        result = service.operate(selected_and_confirmed(service, "wang", closing).id, "wang", closing)
        assert result.outcome is Outcome.TIMEOUT
        assert "did not read closed within 1.5 s" in result.message and "tripped on leakage" in result.message
        assert result.trip_cause == "leakage" and result.after == "open"
        assert audit.actions()[-4:] == [AuditAction.CONFIRM, AuditAction.OPERATE, AuditAction.VERIFY,
                                        AuditAction.RESULT]
        assert audit.records[-1].result == "timeout" and audit.records[-2].result == "timeout"
        assert AuditAction.RESET in audit.actions("QF1_09")
    finally:
        rig.plant.clear("leakage", "QF1_09")
        rig.plant.operate_locally("QF1_09", True)
    assert rig.wait_value("QF1_09.state", 1)
    assert wait_for(lambda: service.reset_cause(service.target("QF1_09")) is None, 2)  # seen closed: reset ends


def test_a_device_that_refuses_the_write_gives_its_reason(rig):
    """The mode switch turned to manual after the last scan: the breaker itself answers
    Modbus exception 1 and the operate fails with that reason."""
    site = rig.site
    slow = [site.device("QF2_05").model_copy(update={"scan_interval_s": 60.0})]
    cache = PointCache()
    acquisition = AcquisitionEngine(slow, cache)
    acquisition.start()
    audit = AuditLog()
    try:
        assert wait_for(lambda: cache.get("QF2_05.mode") is not None, 5)
        service = rig.service(audit=audit, writer=acquisition, reader=cache)
        opening = Command("QF2_05", "command", OPEN)
        selection = selected_and_confirmed(service, "wang", opening)
        rig.plant.set_mode("QF2_05", 1)
        result = service.operate(selection.id, "wang", opening)
    finally:
        acquisition.stop()
        rig.plant.set_mode("QF2_05", 0)
    assert result.outcome is Outcome.FAILED
    assert "exception 1" in result.message and "QF2_05 did not carry out the command" in result.message
    assert rig.value("QF2_05.state") == 1
    assert audit.actions()[-2:] == [AuditAction.OPERATE, AuditAction.RESULT]
    assert audit.records[-1].result == "failed" and "exception 1" in audit.records[-1].reason


def test_an_offline_device_cannot_be_selected(rig):
    service = rig.service()
    rig.plant.trigger("offline", "QF2_06")
    try:
        assert wait_for(lambda: (pv := rig.cache.get("QF2_06.state")) is not None and not pv.good, 8)
        (refusal,) = service.check("wang", Command("QF2_06", "command", OPEN))
        assert refusal.code is RefusalCode.OFFLINE and refusal.arg("tag") == "QF2_06.state"
    finally:
        rig.plant.clear("offline", "QF2_06")


def test_bus_tie_and_unknown_targets(rig):
    service = rig.service()
    assert service.deenergised_loads("QF_TIE") == []          # normally open: opening cuts nothing off
    (already,) = service.check("wang", Command("QF_TIE", "command", OPEN))
    assert already.code is RefusalCode.ALREADY and already.arg("state") == "open"
    loads = [n.id for n in service.deenergised_loads("QF1_05")]
    assert loads == ["L1_05"]
    (unknown,) = service.check("wang", Command("PM1_05", "command", OPEN))
    assert unknown.code is RefusalCode.UNKNOWN_TARGET
    (bad,) = service.check("wang", Command("QF1_05", "command", 7))
    assert bad.code is RefusalCode.BAD_VALUE and "0 (open), 1 (close)" in bad.message
