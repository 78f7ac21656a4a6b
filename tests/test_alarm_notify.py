"""Alarm notifications against a real SMTP server (aiosmtpd) and a real local HTTP endpoint:
routing by priority and area, DingTalk / SMS bodies, escalation, a channel that is down or
hangs, credentials from WattDesk's secret store (the opted-in encrypted file) and never in logs or YAML."""

from __future__ import annotations

import logging
import threading

import pytest

from app.alarms import (
    AlarmEngine, AlarmNotifier, AlarmState, ChannelWorker, EventKind, Notification, WebhookSender,
)
from app.config import ConfigError, KeyringRef, WebhookChannel
from app.security.secrets import ENV_FILE, ENV_PASSPHRASE_FILE, open_secret_store
from drivers.backoff import Backoff
from db.historian import Historian
from db.migrate import upgrade
from tests.alarm_site import SITE, good, write_site
from tests.notify_peers import HttpPeer, SmtpPeer, free_port, wait_until

T0 = 1_750_000_000.0
SMTP_PASSWORD = "smtp-Password-7f3a"
ROBOT_TOKEN = "robot-token-91c2e"
SMS_KEY = "Bearer sms-key-55d0"
SMOKE = "IO.smoke:smoke_state"           # priority 1, area R2
DOOR = "IO.door:door_state"              # priority 4, area R2
HOT = "QF.temperature:over_temperature:alarm"  # priority 2, area R1


class ManualClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def notifications(smtp_port: int, http_port: int, mail_extra: str = "", urgent_extra: str = "",
                  building_extra: str = "") -> str:
    return f"""
notifications:
  retry_initial_s: 0.05
  retry_max_s: 0.2
  channels:
    - {{id: mail, type: email, host: 127.0.0.1, port: {smtp_port}, security: none, sender: wattdesk@site.test,
       to: [ops@site.test, duty@site.test], login: {{service: wattdesk-test-smtp, username: wattdesk}},
       timeout_s: 3{mail_extra}}}
    - {{id: robot, type: webhook, url: "http://127.0.0.1:{http_port}/robot/send?lang=zh", format: dingtalk,
       mobiles: ["13800000000"], secret: {{service: wattdesk-test-robot, username: robot}},
       secret_query: access_token, timeout_s: 3}}
    - {{id: sms, type: webhook, url: "http://127.0.0.1:{http_port}/sms", format: sms, mobiles: ["13900000000"],
       secret: {{service: wattdesk-test-sms, username: gw}}, secret_header: Authorization, timeout_s: 3}}
  routes:
    - {{id: urgent_r2, priorities: [1, 2], areas: [R2], channels: [robot, mail],
       escalation: [{{after_min: 5, channels: [sms]}}]{urgent_extra}}}
    - {{id: building, priorities: [1, 2, 3], areas: [B], channels: [mail]{building_extra}}}
"""


@pytest.fixture
def secrets(tmp_path, monkeypatch):
    """WattDesk's secret store, opted in to an encrypted file under ``tmp_path`` (this machine has
    no OS keyring), holding the channels' secrets; the notifier reads it as in production."""
    passphrase = tmp_path / "secrets.passphrase"
    passphrase.write_text("notify test passphrase\n", encoding="utf-8")
    monkeypatch.setenv(ENV_FILE, str(tmp_path / "secrets.cfg"))
    monkeypatch.setenv(ENV_PASSPHRASE_FILE, str(passphrase))
    store = open_secret_store()
    store.set("wattdesk-test-smtp", "wattdesk", SMTP_PASSWORD)
    store.set("wattdesk-test-robot", "robot", ROBOT_TOKEN)
    store.set("wattdesk-test-sms", "gw", SMS_KEY)
    return store


@pytest.fixture
def smtp():
    peer = SmtpPeer("wattdesk", SMTP_PASSWORD)
    peer.start()
    yield peer
    peer.stop()


@pytest.fixture
def http():
    peer = HttpPeer()
    peer.start()
    yield peer
    peer.stop()


@pytest.fixture
def system(tmp_path, secrets, smtp, http, caplog):
    """Site with notifications, engine and notifier on one manual clock; logs captured at DEBUG."""
    caplog.set_level(logging.DEBUG)
    site = write_site(tmp_path, SITE + notifications(smtp.port, http.port))
    clock = ManualClock(T0)
    engine = AlarmEngine(site, clock, workstation="ws", tick_s=0.01)
    notifier = AlarmNotifier(site, clock=clock, tick_s=0.01)
    engine.start()
    notifier.start(engine.subscribe)
    yield engine, notifier, clock, site
    notifier.stop()
    engine.stop()
    text = caplog.text + (tmp_path / "site.yaml").read_text(encoding="utf-8")
    for secret in (SMTP_PASSWORD, ROBOT_TOKEN, SMS_KEY, "sms-key-55d0"):
        assert secret not in text, "a credential leaked into the logs or the YAML"


def raise_alarm(engine: AlarmEngine, notifier: AlarmNotifier, tag: str, value: float, ts: float = T0) -> None:
    engine.submit([good(tag, value, ts)])
    assert engine.flush()
    assert notifier.wait_idle()


def test_raise_goes_to_the_routes_channels_with_keyring_credentials(system, smtp, http):
    engine, notifier, clock, site = system
    raise_alarm(engine, notifier, "IO.smoke", 1)
    assert wait_until(lambda: len(smtp.messages) == 1 and len(http.at("/robot")) == 1)
    mail = smtp.messages[0]
    # worded in the site's language (zh_CN by default); the point has no description, so its name
    assert mail["Subject"] == "[Alarm test] P1 IO box smoke 状态报警" and mail["From"] == "wattdesk@site.test"
    assert sorted(smtp.recipients[0]) == ["duty@site.test", "ops@site.test"]
    assert smtp.logins == [b"wattdesk"]                      # logged in with the keyring's password
    body = mail.get_content()
    assert "报警 IO.smoke:smoke_state" in body and "区域 R2，来源 IO.smoke" in body and "发生于 2025-06-15 23:06:40" in body
    robot = http.at("/robot")[0]
    assert robot.path == f"/robot/send?lang=zh&access_token={ROBOT_TOKEN}"
    assert robot.body["msgtype"] == "text" and robot.body["at"]["atMobiles"] == ["13800000000"]
    assert robot.body["text"]["content"].startswith("[Alarm test] P1 IO box smoke 状态报警")
    # the same raise is told once, however many updates mention it
    engine.submit([good("IO.smoke", 1, T0 + 1)])
    assert engine.flush() and notifier.wait_idle()
    raise_alarm(engine, notifier, "QF.temperature", 95)      # P3 预警 and P2 报警 in R1: building route (mail)
    assert wait_until(lambda: len(smtp.messages) == 3)
    assert sorted(m["Subject"] for m in smtp.messages[1:]) == [
        "[Alarm test] P2 Feeder breaker 端子温度 过温 报警", "[Alarm test] P3 Feeder breaker 端子温度 过温 预警"]
    raise_alarm(engine, notifier, "IO.door", 1)              # P4: no route takes it
    assert notifier.wait_idle() and wait_until(lambda: notifier.stats()["mail"].delivered == 3)
    stats = notifier.stats()
    assert stats["mail"].delivered == 3 and stats["robot"].delivered == 1 and stats["sms"].delivered == 0
    assert len(http.at("/robot")) == 1 and len(smtp.messages) == 3


def test_escalation_fires_when_unacknowledged_and_not_after_ack(system, smtp, http):
    engine, notifier, clock, site = system
    raise_alarm(engine, notifier, "IO.smoke", 1)
    raise_alarm(engine, notifier, "QF.Ua", 140)   # under-voltage alarm P2 in R1: no escalation route
    assert wait_until(lambda: len(http.at("/robot")) == 1)
    clock.now = T0 + 4 * 60
    raise_alarm(engine, notifier, "IO.door", 1, clock.now)   # the notifier has looked at escalations at 4 min
    assert http.at("/sms") == []
    clock.now = T0 + 5 * 60 + 1
    assert wait_until(lambda: len(http.at("/sms")) == 1)
    sms = http.at("/sms")[0]
    assert sms.headers["Authorization"] == SMS_KEY
    assert sms.body["to"] == ["13900000000"] and "[第 1 次升级]" in sms.body["content"]
    # a second raise, acknowledged in time, is not escalated
    engine.submit([good("IO.smoke", 0, clock.now)])
    assert engine.flush()
    engine.ack(SMOKE, "op")
    raised_again = clock.now + 1
    raise_alarm(engine, notifier, "IO.smoke", 1, raised_again)
    assert wait_until(lambda: len(http.at("/robot")) == 2)
    engine.ack(SMOKE, "op")
    assert engine.flush() and notifier.wait_idle()
    assert engine.alarm(SMOKE).state is AlarmState.ACK_ACTIVE
    clock.now = raised_again + 5 * 60 + 1
    # a further alarm that does escalate proves the notifier has ticked past the acknowledged one's due time
    engine.submit([good("IO.smoke", 0, clock.now)])
    assert engine.flush()
    raise_alarm(engine, notifier, "IO.smoke", 1, clock.now + 1)
    clock.now += 5 * 60 + 2
    assert wait_until(lambda: len(http.at("/sms")) == 2)
    assert notifier.wait_idle()
    assert len(http.at("/sms")) == 2


def test_down_channel_is_retried_and_never_blocks_alarm_handling(system, smtp, http):
    engine, notifier, clock, site = system
    http.fail_next = 2                                   # the robot gateway answers 503 twice
    raise_alarm(engine, notifier, "IO.smoke", 1)
    assert wait_until(lambda: len(http.at("/robot")) == 1 and notifier.stats()["robot"].delivered == 1)
    robot = notifier.stats()["robot"]
    assert robot.delivered == 1 and robot.failures == 2 and robot.last_error.endswith("HTTP 503 Service Unavailable")
    assert wait_until(lambda: len(smtp.messages) == 1)

    http.hang = threading.Event()                        # now the gateway hangs
    engine.submit([good("IO.smoke", 0, T0 + 1)])
    engine.ack(SMOKE, "op")
    raise_alarm(engine, notifier, "IO.smoke", 1, T0 + 2)
    # while the robot channel is stuck: e-mail still goes out, the engine evaluates and acknowledges
    assert wait_until(lambda: len(smtp.messages) == 2)
    assert notifier.stats()["robot"].waiting == 1
    engine.ack(SMOKE, "op")
    engine.submit([good("IO.door", 1, T0 + 3)])
    assert engine.flush()
    assert engine.alarm(SMOKE).state is AlarmState.ACK_ACTIVE
    assert engine.alarm(DOOR).state is AlarmState.UNACK_ACTIVE
    http.hang.set()
    assert wait_until(lambda: len(http.at("/robot")) == 2)


def test_refused_smtp_connection_is_retried_without_holding_up_the_webhook(tmp_path, secrets, http, caplog):
    caplog.set_level(logging.DEBUG)
    closed = free_port()
    site = write_site(tmp_path, SITE + notifications(closed, http.port))
    clock = ManualClock(T0)
    engine = AlarmEngine(site, clock, tick_s=0.01)
    notifier = AlarmNotifier(site, clock=clock, tick_s=0.01)
    engine.start()
    notifier.start(engine.subscribe)
    try:
        raise_alarm(engine, notifier, "IO.smoke", 1)
        assert wait_until(lambda: notifier.stats()["mail"].failures >= 3)
        mail = notifier.stats()["mail"]
        assert mail.delivered == 0 and mail.waiting == 1 and "ConnectionRefusedError" in mail.last_error
        assert len(http.at("/robot")) == 1               # the other channel is not held up
    finally:
        notifier.stop()
        engine.stop()
    assert SMTP_PASSWORD not in caplog.text


def test_wrong_password_and_missing_keyring_entry_say_which_entry(tmp_path, secrets, smtp, http, caplog):
    caplog.set_level(logging.DEBUG)
    site = write_site(tmp_path, SITE + notifications(smtp.port, http.port))
    wrong = "wrong-" + SMTP_PASSWORD
    secrets.set("wattdesk-test-smtp", "wattdesk", wrong)
    secrets.delete("wattdesk-test-robot", "robot")
    clock = ManualClock(T0)
    engine = AlarmEngine(site, clock, tick_s=0.01)
    notifier = AlarmNotifier(site, clock=clock, tick_s=0.01)
    engine.start()
    notifier.start(engine.subscribe)
    try:
        raise_alarm(engine, notifier, "IO.smoke", 1)
        assert wait_until(lambda: notifier.stats()["mail"].failures >= 2 and notifier.stats()["robot"].failures >= 2)
        stats = notifier.stats()
        assert "SMTPAuthenticationError" in stats["mail"].last_error and smtp.messages == []
        assert "no secret 'wattdesk-test-robot'/'robot'" in stats["robot"].last_error
        secrets.set("wattdesk-test-smtp", "wattdesk", SMTP_PASSWORD)   # fixed by the administrator
        secrets.set("wattdesk-test-robot", "robot", ROBOT_TOKEN)
        assert wait_until(lambda: len(smtp.messages) == 1 and len(http.at("/robot")) == 1)
    finally:
        notifier.stop()
        engine.stop()
    assert wrong not in caplog.text and ROBOT_TOKEN not in caplog.text and SMTP_PASSWORD not in caplog.text


def test_full_queue_drops_the_oldest_and_never_blocks(site_ws, http):
    site = site_ws
    http.hang = threading.Event()
    channel = WebhookChannel(id="robot", type="webhook", url=f"http://127.0.0.1:{http.port}/q", timeout_s=5)
    worker = ChannelWorker("robot", WebhookSender(channel, lambda ref: ""), 2, Backoff(0.05, 0.1), 60)
    engine = AlarmEngine(site)
    alarm = engine.alarm(SMOKE)
    worker.start()
    try:
        notes = [Notification(alarm._replace(id=f"a{i}"), "r", 0, "S", site.tzinfo) for i in range(5)]
        worker.submit(notes[0])
        assert wait_until(lambda: worker.stats().waiting == 1 and len(worker._queue) == 0)
        for note in notes[1:]:
            worker.submit(note)                             # returns at once although the endpoint hangs
        assert worker.stats().dropped == 2 and worker.stats().waiting == 3
        http.hang.set()
        assert wait_until(lambda: worker.stats().delivered == 3)
        assert [r.body["alarm_id"] for r in http.at("/q")] == ["a0", "a3", "a4"]
    finally:
        worker.stop()


@pytest.fixture
def site_ws(tmp_path):
    return write_site(tmp_path)


@pytest.mark.parametrize("fragment, field, message", [
    ("{id: m, type: email, host: h, sender: a@b.c, to: [x@y.z], password: hunter2}",
     "notifications.channels[0]", "credentials live in the OS keyring"),
    ("{id: w, type: webhook, url: 'https://oapi.dingtalk.com/robot/send?access_token=abc'}",
     "notifications.channels[0].url", "keep it in the OS keyring"),
    ("{id: w, type: webhook, url: 'http://gw/sms', headers: {Authorization: Bearer x}}",
     "notifications.channels[0].headers", "keep it in the OS keyring"),
    ("{id: w, type: webhook, url: 'http://gw/sms', secret: {service: s, username: u}}",
     "notifications.channels[0]", "exactly one of 'secret_query' or 'secret_header'"),
    ("{id: w, type: webhook, url: 'http://gw/x', format: custom, body: {t: '${nope}'}}",
     "notifications.channels[0]", "unknown placeholder(s) nope"),
    ("{id: w, type: webhook, url: 'ftp://gw/x'}", "notifications.channels[0].url", "not an http:// or https:// URL"),
    ("{id: p, type: pager}", "notifications.channels[0].type", "one of email, webhook"),
    ("{id: m, type: email, host: h, sender: nobody, to: [x@y.z]}", "notifications.channels[0].sender", "pattern"),
])
def test_bad_channels_are_reported_with_line_and_field(tmp_path, fragment, field, message):
    text = SITE + f"notifications:\n  channels:\n    - {fragment}\n"
    with pytest.raises(ConfigError) as info:
        write_site(tmp_path, text)
    problems = [p for p in info.value.problems if p.field == field]
    assert problems and message in problems[0].message, info.value
    assert problems[0].line == SITE.count("\n") + 3


def test_bad_routes_are_reported(tmp_path):
    text = SITE + """notifications:
  channels:
    - {id: m, type: email, host: h, sender: a@b.c, to: [x@y.z]}
    - {id: m, type: email, host: h2, sender: a@b.c, to: [x@y.z]}
  routes:
    - {id: r, priorities: [0, 2], channels: [m]}
    - {id: s, areas: [NOWHERE], channels: [m, ghost], escalation: [{after_min: 10, channels: [m]}, {after_min: 5, channels: [ghost2]}]}
"""
    with pytest.raises(ConfigError) as info:
        write_site(tmp_path, text)
    found = {(p.field, p.message) for p in info.value.problems}
    assert ("notifications.channels[1].id", "duplicate channel id 'm' (first at line "
            f"{SITE.count(chr(10)) + 3})") in found
    assert ("notifications.routes[0].priorities", "priorities are 1..4, got [0, 2]") in found
    fields = {f for f, _ in found}
    assert "notifications.routes[1].escalation" in fields   # 10 then 5: not increasing


def test_valid_section_loads(tmp_path):
    site = write_site(tmp_path, SITE + notifications(2525, 8080))
    n = site.notifications
    assert [c.id for c in n.channels] == ["mail", "robot", "sms"]
    assert n.channel("robot").secret == KeyringRef(service="wattdesk-test-robot", username="robot")
    assert n.routes[0].escalation[0].after_min == 5 and n.retry_initial_s == 0.05
    assert site.area_path("R2") == ("B", "R2")


# ------------------------------------------------------------------ return to normal
def test_return_to_normal_is_told_by_e_mail_by_default(system, smtp, http):
    engine, notifier, clock, site = system
    assert {r.id: r.return_to_normal for r in site.notifications.routes} == {"urgent_r2": "email", "building": "email"}
    raise_alarm(engine, notifier, "IO.smoke", 1)
    assert wait_until(lambda: len(smtp.messages) == 1 and len(http.at("/robot")) == 1)
    clock.now = T0 + 90
    raise_alarm(engine, notifier, "IO.smoke", 0, T0 + 90)          # the smoke clears
    assert engine.alarm(SMOKE).state is AlarmState.UNACK_RTN
    assert wait_until(lambda: len(smtp.messages) == 2)
    mail = smtp.messages[1]
    assert mail["Subject"] == "[Alarm test] P1 [已恢复正常] IO box smoke 状态报警"
    body = mail.get_content()
    assert "恢复于 2025-06-15 23:08:10" in body and "状态 已恢复，未确认" in body
    engine.ack(SMOKE, "alice")                                       # ack after the return: nothing more to tell
    assert engine.flush() and notifier.wait_idle()
    assert notifier.wait_idle() and wait_until(lambda: notifier.stats()["mail"].delivered == 2)
    assert len(smtp.messages) == 2 and len(http.at("/robot")) == 1      # the robot (a webhook) hears no return


def test_return_to_normal_per_route_all_or_none(tmp_path, secrets, smtp, http):
    site = write_site(tmp_path, SITE + notifications(smtp.port, http.port, urgent_extra=", return_to_normal: all",
                                                     building_extra=", return_to_normal: none"))
    clock = ManualClock(T0)
    engine = AlarmEngine(site, clock, workstation="ws", tick_s=0.01)
    notifier = AlarmNotifier(site, clock=clock, tick_s=0.01)
    engine.start()
    notifier.start(engine.subscribe)
    try:
        raise_alarm(engine, notifier, "IO.smoke", 1)                 # urgent_r2: robot and mail
        raise_alarm(engine, notifier, "QF.temperature", 95)          # building: mail (warning P3, alarm P2)
        assert wait_until(lambda: len(smtp.messages) == 3 and len(http.at("/robot")) == 1)
        raise_alarm(engine, notifier, "QF.temperature", 20, T0 + 30)  # building says none
        raise_alarm(engine, notifier, "IO.smoke", 0, T0 + 30)         # urgent_r2 says all
        assert wait_until(lambda: len(smtp.messages) == 4 and len(http.at("/robot")) == 2)
        assert "[已恢复正常]" in smtp.messages[3]["Subject"] and "smoke" in smtp.messages[3]["Subject"]
        robot = http.at("/robot")[1].body["text"]["content"]
        assert robot.startswith("[Alarm test] P1 [已恢复正常] IO box smoke")
        assert notifier.wait_idle() and wait_until(lambda: notifier.stats()["mail"].delivered == 4)
        assert len(smtp.messages) == 4                                # no return mail for the temperature
    finally:
        notifier.stop()
        engine.stop()


# ------------------------------------------------------------------ restart
class Collector:
    """Historian, engine and notifier over one SQLite journal, as the collector wires them."""

    def __init__(self, site, url: str, spool, clock: ManualClock) -> None:
        self.historian = Historian(url, spool_dir=spool)
        self.historian.start()
        journal, history = self.historian.submit_event, self.historian.read_events
        self.engine = AlarmEngine(site, clock, journal=journal, history=history, workstation="ws", tick_s=0.01)
        self.notifier = AlarmNotifier(site, clock=clock, tick_s=0.01, journal=journal, history=history)
        self.engine.start()
        self.notifier.start(self.engine.subscribe)

    def stop(self, notices: int) -> None:
        """Stop once ``notices`` alarm_notified events are committed (the notifier journals after
        handing a message to its channel), like a collector's orderly stop."""
        assert wait_until(lambda: len(self.notices()) == notices), self.notices()
        self.notifier.stop()
        self.engine.stop()
        self.historian.stop()

    def notices(self) -> list[dict]:
        rows = self.historian.read_events(0, 2e9, kinds=[EventKind.NOTIFIED.value])
        return [r["data"]["notice"] for r in reversed(rows)]


def test_pending_escalation_and_return_to_normal_survive_a_collector_restart(tmp_path, secrets, smtp, http):
    site = write_site(tmp_path, SITE + notifications(smtp.port, http.port))
    url = f"sqlite:///{tmp_path}/journal.sqlite"
    upgrade(url)
    clock = ManualClock(T0)
    first = Collector(site, url, tmp_path / "spool", clock)
    raise_alarm(first.engine, first.notifier, "IO.smoke", 1)            # P1 in R2: robot + mail, sms after 5 min
    assert wait_until(lambda: len(smtp.messages) == 1 and len(http.at("/robot")) == 1)
    clock.now = T0 + 120
    first.stop(notices=1)
    assert first.notices() == [{"route": "urgent_r2", "step": 0, "channels": ["robot", "mail"], "returned": False,
                                "raised_ts": T0}]

    clock.now = T0 + 180                                                 # restart 3 min after the raise
    second = Collector(site, url, tmp_path / "spool", clock)
    try:
        resumed = second.engine.alarm(SMOKE)
        assert resumed.state is AlarmState.UNACK_ACTIVE and resumed.raised_ts == T0   # taken up, not lost
        raise_alarm(second.engine, second.notifier, "IO.smoke", 1, T0 + 181)  # still smoke: nothing new
        assert second.engine.alarm(SMOKE).raised_ts == T0
        assert second.notifier.wait_idle() and len(http.at("/sms")) == 0
        clock.now = T0 + 301                                             # the escalation falls due
        assert wait_until(lambda: len(http.at("/sms")) == 1)
        assert http.at("/sms")[0].body["content"].startswith("[Alarm test] P1 [第 1 次升级] IO box smoke")
        assert len(smtp.messages) == 1 and len(http.at("/robot")) == 1   # the raise was not told again
        clock.now = T0 + 400
        raise_alarm(second.engine, second.notifier, "IO.smoke", 0, T0 + 400)   # returns to normal
        assert wait_until(lambda: len(smtp.messages) == 2)
        assert "[已恢复正常]" in smtp.messages[1]["Subject"]
    finally:
        second.stop(notices=3)
    assert [(n["step"], n["channels"], n["returned"]) for n in second.notices()] == [
        (0, ["robot", "mail"], False), (1, ["sms"], False), (0, ["mail"], True)]
