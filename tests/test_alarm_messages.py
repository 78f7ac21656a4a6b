"""Alarm texts in the site's and the UI's language, the permission query, and daily
energy that counts from the day's opening reading after a restart."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from alarm_site import SITE, good, write_site
from app.alarms import (AlarmEngine, AlarmEvaluator, AlarmState, AlarmText, EventKind, Notification,
                        UnknownAlarmError, compose, translator)
from app.alarms.messages import CAUSE_CODE_TEXT, LEVEL_TEXT, RULE_TYPE_TEXT, ZH_CN
from app.alarms.opening import historian_opening
from app.collector import point_metadata
from app.config import ConfigError
from app.points import PointValue, Quality
from db.historian import Historian
from db.migrate import upgrade

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2025, 3, 3, 10, 0, 0, tzinfo=TZ).timestamp()        # a Monday, 10:00 local
MIDNIGHT = datetime(2025, 3, 3, 0, 0, 0, tzinfo=TZ).timestamp()
ENGLISH_SITE = SITE.replace("timezone: Asia/Shanghai}", "timezone: Asia/Shanghai, language: en}")


def trip(ev: AlarmEvaluator, cause: int, ts: float) -> None:
    ev.feed([good("QF.state", 1, ts - 10)])
    ev.feed([good("QF.state", 0, ts), good("QF.trip_cause", cause, ts)])     # cause read in the trip's scan


# ------------------------------------------------------------------------ parts and words
def test_alarm_carries_its_parts_and_the_site_language_words_them(tmp_path):
    zh = AlarmEvaluator(write_site(tmp_path))
    alarm = zh.record("QF.Ua:over_voltage:alarm").snapshot()
    assert alarm.text._asdict() == {
        "source_name": "Feeder breaker", "point": "Ua", "point_description": "Phase A voltage",
        "point_description_zh": "A相电压", "rule_type": "high", "rule_description": "Over-voltage",
        "rule_description_zh": "过压", "level": "alarm", "unit": "V"}
    assert alarm.message == "Feeder breaker A相电压 过压 报警"
    # a rule without a description is named by its type; a point without one by its name
    assert zh.record("IO.smoke:smoke_state").message == "IO box smoke 状态报警"
    # a device without a name by its id; imbalance in %
    assert zh.record("PM:current_imbalance:warning").snapshot().text.unit == "%"
    assert zh.record("ENV.water_immersion:water_immersion_state").message == "ENV 水浸探头 水浸"

    (tmp_path / "en").mkdir()
    en = AlarmEvaluator(write_site(tmp_path / "en", ENGLISH_SITE))
    assert en.record("QF.Ua:over_voltage:alarm").message == "Feeder breaker Phase A voltage Over-voltage Alarm"
    assert en.record("IO.smoke:smoke_state").message == "IO box smoke State alarm"
    assert en.record("QF.temperature:over_temperature:warning").message == \
        "Feeder breaker Terminal temperature Over-temperature Pre-warning"


def test_a_point_the_rule_names_already_is_not_said_twice():
    level = AlarmText(source_name="生活水泵站", point="inlet_level", point_description="Inlet level",
                      point_description_zh="进水池液位", rule_type="low", rule_description="Inlet level low",
                      rule_description_zh="进水池液位低", level="warning")
    assert compose(level, "zh_CN", translator("zh_CN")) == "生活水泵站 进水池液位低 预警"
    assert compose(level, "en", translator("en")) == "生活水泵站 Inlet level low Pre-warning"
    voltage = level._replace(point_description="Phase A voltage", point_description_zh="A相电压",
                             rule_description="Under-voltage", rule_description_zh="欠压")
    assert compose(voltage, "zh_CN", translator("zh_CN")) == "生活水泵站 A相电压 欠压 预警"


def test_journal_rows_keep_the_parts_and_the_trip_cause(tmp_path):
    ev = AlarmEvaluator(write_site(tmp_path))
    trip(ev, 2, T0)
    events, changed, _ = ev.take()
    raised = [e for e in events if e.kind is EventKind.RAISED and e.alarm_id == "QF:trip"]
    assert len(raised) == 1
    row = raised[0].to_row()
    assert row["message"] == "Feeder breaker 断路器跳闸" and row["data"]["reason"] == ""
    assert row["data"]["text"]["rule_type"] == "trip" and row["data"]["text"]["source_name"] == "Feeder breaker"
    assert (row["data"]["cause_code"], row["data"]["cause_label"]) == (2, "short circuit")
    alarm = ev.record("QF:trip").snapshot()
    assert (alarm.cause_code, alarm.cause_label, alarm.note) == (2, "short circuit", "")


def test_notifications_are_worded_in_the_site_language(tmp_path):
    site = write_site(tmp_path)
    ev = AlarmEvaluator(site)
    ev.feed([good("QF.temperature", 95.0, T0)])
    trip(ev, 2, T0 + 60)
    hot = ev.record("QF.temperature:over_temperature:alarm").snapshot()
    tripped = ev.record("QF:trip").snapshot()

    zh = Notification(hot, "r", 1, site.name, site.tzinfo, "zh_CN", "一号配电室")
    assert zh.subject() == "[Alarm test] P2 [第 1 次升级] Feeder breaker 端子温度 过温 报警"
    lines = zh.text().splitlines()
    assert lines[1] == "值 95 °C （限值 90 °C）"
    assert "区域 一号配电室，来源 QF.temperature" in lines and "状态 报警中，未确认" in lines
    assert "原因：短路" in Notification(tripped, "r", 0, site.name, site.tzinfo, "zh_CN").text().splitlines()

    en = Notification(tripped, "r", 0, site.name, site.tzinfo, "en", "Room 1")
    text = en.text().splitlines()
    assert text[0] == "[Alarm test] P1 Feeder breaker Breaker trip"
    assert "cause: short circuit" in text and "area Room 1, source QF" in text
    assert not any(line.startswith("value") for line in text)       # a trip has no value worth telling
    assert en.fields()["message"] == "Feeder breaker Breaker trip"


def test_a_cause_code_without_label_is_told_as_a_code(tmp_path):
    site = write_site(tmp_path)
    ev = AlarmEvaluator(site)
    trip(ev, 42, T0)
    alarm = ev.record("QF:trip").snapshot()
    assert (alarm.cause_code, alarm.cause_label) == (42, "")
    assert "原因：原因代码 42" in Notification(alarm, "r", 0, site.name, site.tzinfo, "zh_CN").text()
    assert "cause: cause code 42" in Notification(alarm, "r", 0, site.name, site.tzinfo, "en").text()


def test_unknown_language_is_refused_with_the_known_ones(tmp_path):
    with pytest.raises(ValueError, match=r"no alarm texts for language 'de'.*'en', 'zh_CN'"):
        translator("de")
    path = tmp_path / "site.yaml"
    path.write_text(SITE.replace("timezone: Asia/Shanghai}", "timezone: Asia/Shanghai, language: de}"),
                    encoding="utf-8")
    with pytest.raises(ConfigError, match=r"site\.language: Input should be 'zh_CN' or 'en'"):
        from app.config import load_site
        load_site(path)


def test_misspelt_chinese_description_is_reported_where_it_is(tmp_path):
    text = SITE.replace("      - name: smoke\n", "      - name: smoke\n        description_cn: 烟感\n")
    path = tmp_path / "site.yaml"
    path.write_text(text, encoding="utf-8")
    from app.config import load_site
    with pytest.raises(ConfigError) as info:
        load_site(path)
    assert any("description_cn" in str(p) and p.line == text.splitlines().index("        description_cn: 烟感") + 1
               for p in info.value.problems), info.value


#: Built-in templates with Chinese words for every point and rule.
BILINGUAL_TEMPLATES = ("din_rail_meter_f32_swapped", "env_sensor", "gas_meter", "iot_breaker", "multifunction_meter",
                       "water_meter")


def test_builtin_templates_have_chinese_words_for_every_point_and_rule():
    from app.config import load_template
    from resources import TEMPLATES_DIR
    for name in BILINGUAL_TEMPLATES:
        template = load_template(TEMPLATES_DIR / f"{name}.yaml")
        assert all(p.description and p.description_zh for p in template.points), name
        assert all(r.description and r.description_zh for r in template.alarms), name
        phase_a = [p for p in template.points if p.name == "Ia"]
        if phase_a:
            assert phase_a[0].describe("zh_CN") == "A相电流" and phase_a[0].describe("en") == "Phase A current"


def test_catalogue_and_qt_translation_files_agree():
    from app.ui.i18n import TRANSLATIONS_DIR, read_ts
    words = read_ts(TRANSLATIONS_DIR / "AlarmText.zh_CN.ts")
    states = read_ts(TRANSLATIONS_DIR / "PointStates.zh_CN.ts")
    for source in (*RULE_TYPE_TEXT.values(), *LEVEL_TEXT.values(), CAUSE_CODE_TEXT):
        assert words.get(("AlarmText", source)) == ZH_CN[source], source
    shared = [s for (ctx, s) in states if s in ZH_CN]
    assert len(shared) >= 10
    for source in shared:
        assert states[("PointStates", source)] == ZH_CN[source], source


# ------------------------------------------------------------------------ may
def test_may_asks_the_permission_check_and_changes_nothing(tmp_path):
    asked = []

    def permission(user: str, action: str, alarm) -> bool:
        asked.append((user, action, alarm.id))
        return user == "supervisor" or action == "ack"

    engine = AlarmEngine(write_site(tmp_path), permission=permission)
    engine.start()
    try:
        engine.submit([good("IO.smoke", 1, time.time())])
        assert engine.flush()
        alarm_id = "IO.smoke:smoke_state"
        before = engine.alarm(alarm_id)
        assert engine.may("operator", "ack", alarm_id)
        assert not engine.may("operator", "shelve", alarm_id)
        assert engine.may("supervisor", "shelve", alarm_id)
        assert asked == [("operator", "ack", alarm_id), ("operator", "shelve", alarm_id),
                         ("supervisor", "shelve", alarm_id)]
        assert engine.flush() and engine.alarm(alarm_id) == before       # no state change, no ack
        with pytest.raises(ValueError, match="unknown alarm action 'delete'"):
            engine.may("operator", "delete", alarm_id)
        with pytest.raises(UnknownAlarmError):
            engine.may("operator", "ack", "nope")
    finally:
        engine.stop()


# ------------------------------------------------------------------------ daily energy after restart
def _historian(tmp_path, site):
    url = f"sqlite:///{tmp_path / 'hist.sqlite3'}"
    upgrade(url)
    historian = Historian(url, spool_dir=tmp_path / "spool", flush_interval_s=0.05)
    historian.register_points(point_metadata(site))
    return historian


def test_daily_energy_counts_from_the_days_opening_reading_after_a_restart(tmp_path):
    site = write_site(tmp_path)
    historian = _historian(tmp_path, site)
    historian.start()
    try:
        historian.submit([PointValue("IO.Ep", 500.0, Quality.GOOD, MIDNIGHT - 60),       # yesterday
                          PointValue("IO.Ep", None, Quality.BAD, MIDNIGHT + 60, "timeout after 1.0 s"),
                          PointValue("IO.Ep", 510.0, Quality.GOOD, MIDNIGHT + 120),      # the day's opening
                          PointValue("IO.Ep", 560.0, Quality.GOOD, T0 - 3600)])
        deadline = time.monotonic() + 10
        while historian.stats().committed < 4:
            assert time.monotonic() < deadline, "historian did not store the samples"
            time.sleep(0.02)
        opening = historian_opening(historian)
        assert opening("IO.Ep", MIDNIGHT, T0) == 510.0
        assert opening("IO.Ep", T0, T0 + 60) is None                    # nothing stored in that span
        # the collector restarted at 10:00 and reads 595 kWh: 85 kWh since the opening
        restarted = AlarmEvaluator(site, opening=opening)
        restarted.feed([good("IO.Ep", 595.0, T0)])
        warning = restarted.record("IO.Ep:Ep_daily_energy:warning")
        assert warning.status.state is AlarmState.UNACK_ACTIVE and warning.value == pytest.approx(85.0)
        assert restarted.record("IO.Ep:Ep_daily_energy:alarm").status.state is AlarmState.NORMAL
        # without the historian the same restart would count from 595 and see nothing
        blind = AlarmEvaluator(site)
        blind.feed([good("IO.Ep", 595.0, T0)])
        assert blind.record("IO.Ep:Ep_daily_energy:warning").status.state is AlarmState.NORMAL
    finally:
        historian.stop(5)


def test_opening_read_failure_falls_back_to_the_live_reading(tmp_path, caplog):
    site = write_site(tmp_path)
    historian = _historian(tmp_path, site)
    (tmp_path / "hist.sqlite3").unlink()                                 # the database is gone
    (tmp_path / "hist.sqlite3").mkdir()                                  # and cannot be opened
    opening = historian_opening(historian)
    assert opening("IO.Ep", MIDNIGHT, T0) is None
    assert "opening reading of IO.Ep not read from the historian" in caplog.text
    ev = AlarmEvaluator(site, opening=opening)
    ev.feed([good("IO.Ep", 595.0, T0), good("IO.Ep", 600.0, T0 + 60)])
    assert ev.record("IO.Ep:Ep_daily_energy:warning").value == pytest.approx(5.0)
