"""What alarms say: their text in a language, notifications as e-mail text and webhook bodies.

An alarm carries its text as parts (:class:`~app.alarms.contracts.AlarmText`);
:func:`compose` words them. The words of the program's own (rule types, levels,
notification labels, trip causes of the built-in templates) are English source texts
with a Chinese catalogue here, :data:`CATALOGUE`, so the collector words journal
messages and notifications in the site's language without Qt. The workstation words
the same parts with Qt translations (contexts ``AlarmText`` and ``PointStates``, the
same source texts; a test keeps the ``.ts`` files and this catalogue in step).
"""

from __future__ import annotations

import string
from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from app.alarms.contracts import Alarm, AlarmText
from app.config import WebhookChannel, WebhookFormat
from app.config.language import pick

#: English source text naming each rule type (when the rule has no description).
RULE_TYPE_TEXT = {
    "high": "High", "low": "Low", "state": "State alarm", "imbalance": "Imbalance", "phase_loss": "Phase loss",
    "no_voltage": "Loss of voltage", "trip": "Breaker trip", "comm_loss": "Communication lost",
    "bad_quality": "Bad quality", "consumption_surge": "Consumption surge", "daily_energy": "Daily energy limit",
}
#: English source text of the two levels of a two-level rule.
LEVEL_TEXT = {"warning": "Pre-warning", "alarm": "Alarm"}
#: English source text of the alarm states (ISA-18.2).
STATE_TEXT = {"unack_active": "active, unacknowledged", "ack_active": "active, acknowledged",
              "unack_rtn": "returned to normal, unacknowledged", "normal": "normal",
              "shelved": "shelved", "suppressed": "suppressed", "out_of_service": "out of service"}
#: Texts with ``%1``, ``%2`` ... placeholders (Qt's style, so the ``.ts`` files share them).
FLOOD_TEXT = "Alarm flood in %1: %2 alarms in %3 min"
CAUSE_CODE_TEXT = "cause code %1"
NOTICE_TEXT = {
    "escalation": "[escalation %1]", "value": "value %1", "limit": "(limit %1)", "where": "area %1, source %2",
    "state": "state %1", "raised": "raised %1", "alarm": "alarm %1", "cause": "cause: %1",
    "returned": "[returned to normal]", "returned_at": "returned to normal %1",
}

#: Chinese words of every English source text above, and of the trip causes and breaker
#: states of the built-in templates (Qt context ``PointStates``).
ZH_CN: dict[str, str] = {
    "High": "越上限", "Low": "越下限", "State alarm": "状态报警", "Imbalance": "不平衡", "Phase loss": "缺相",
    "Loss of voltage": "失压", "Breaker trip": "断路器跳闸", "Communication lost": "通讯中断",
    "Bad quality": "数据质量坏", "Consumption surge": "能耗突增", "Daily energy limit": "日能耗超限",
    "Pre-warning": "预警", "Alarm": "报警",
    "active, unacknowledged": "报警中，未确认", "active, acknowledged": "报警中，已确认",
    "returned to normal, unacknowledged": "已恢复，未确认", "normal": "正常", "shelved": "已搁置",
    "suppressed": "已抑制", "out of service": "已停用",
    FLOOD_TEXT: "%1 报警泛滥：%3 分钟内 %2 条报警", CAUSE_CODE_TEXT: "原因代码 %1",
    "[escalation %1]": "[第 %1 次升级]", "value %1": "值 %1", "(limit %1)": "（限值 %1）",
    "area %1, source %2": "区域 %1，来源 %2", "state %1": "状态 %1", "raised %1": "发生于 %1",
    "alarm %1": "报警 %1", "cause: %1": "原因：%1",
    "[returned to normal]": "[已恢复正常]", "returned to normal %1": "恢复于 %1",
    "none": "无", "overload": "过载", "short circuit": "短路", "leakage": "漏电", "over-voltage": "过压",
    "under-voltage": "欠压", "over-temperature": "过温", "phase loss": "缺相", "over-power": "功率超限",
    "manual/local": "手动/就地",
}
#: Language -> {English source text: its words}; English is the source itself.
CATALOGUE: dict[str, dict[str, str]] = {"en": {}, "zh_CN": ZH_CN}

#: ``translate(English source) -> text`` of one language.
Translate = Callable[[str], str]

#: Rule types whose alarm value is bookkeeping (a state code, a count of bad points), not a
#: measurement: operators are shown no value or limit for them.
VALUELESS_RULE_TYPES = frozenset({"trip", "state", "comm_loss", "bad_quality"})


def translator(language: str) -> Translate:
    """The catalogue's translation into ``language`` (unknown texts stay English).

    Raises
    ------
    ValueError
        ``language`` is not one of :data:`CATALOGUE`.
    """
    try:
        table = CATALOGUE[language]
    except KeyError:
        raise ValueError(f"no alarm texts for language {language!r}; known: {sorted(CATALOGUE)}") from None
    return lambda source: table.get(source, source)


def fill(template: str, *args: object) -> str:
    """``template`` with ``%1``, ``%2`` ... replaced by ``args`` (Qt's ``arg`` style)."""
    for i in range(len(args), 0, -1):        # %10 before %1
        template = template.replace(f"%{i}", str(args[i - 1]))
    return template


def compose(text: AlarmText, language: str, translate: Translate) -> str:
    """An alarm's text: ``<source> <point> <rule> <level>``.

    Parameters
    ----------
    text : AlarmText
    language : str
        ``"zh_CN"`` or ``"en"``: picks the configured descriptions (point, rule).
    translate : Translate
        Words of the program's own texts (rule type, level) in that language:
        :func:`translator` or a Qt translation.

    Returns
    -------
    str
        E.g. ``"1#进线柜 A相电压 过压 报警"`` / ``"Incomer 1 Phase A voltage Over-voltage Alarm"``.
        The point is named by its description (else its name) and left out when the
        rule's words begin with it ("进水池液位低", not "进水池液位 进水池液位低"); a rule
        without description is named by its type.
    """
    point = pick(text.point_description, text.point_description_zh, language) or text.point
    rule = pick(text.rule_description, text.rule_description_zh, language)
    if not rule and text.rule_type:
        rule = translate(RULE_TYPE_TEXT.get(text.rule_type, text.rule_type))
    words = [text.source_name]
    if point and not (rule and rule.startswith(point)):   # "进水池液位 进水池液位低" says it twice
        words.append(point)
    words.append(rule)
    if text.level:
        words.append(translate(LEVEL_TEXT.get(text.level, text.level)))
    return " ".join(w for w in words if w)


def cause_text(code: int | None, label: str, translate_label: Translate, translate: Translate) -> str:
    """A trip's cause: its state label in words, else ``cause code <n>``; empty when not known.

    Parameters
    ----------
    code : int | None
        Trip cause code read from the breaker.
    label : str
        Its configured (English) state label, empty if the point has none for it.
    translate_label : Translate
        Words of state labels (Qt context ``PointStates``, or :func:`translator`).
    translate : Translate
        Words of the program's own texts.
    """
    if code is None:
        return ""
    return translate_label(label) if label else fill(translate(CAUSE_CODE_TEXT), code)


def flood_text(area_name: str, count: float, window_min: float, translate: Translate) -> str:
    """The message of a flood event: area, alarms raised, window length in minutes."""
    return fill(translate(FLOOD_TEXT), area_name, f"{count:g}", f"{window_min:g}")


def with_unit(value: float, unit: str) -> str:
    """``value`` (``:g``) followed by its unit, if any."""
    return f"{value:g} {unit}" if unit else f"{value:g}"


class Notification(NamedTuple):
    """One message about one alarm.

    Attributes
    ----------
    alarm : Alarm
        The alarm as it was when the message was decided.
    route : str
        Id of the route that sent it.
    escalation : int
        0 for the first notice, n for the n-th escalation step.
    site : str
        Site name.
    tz : ZoneInfo
        Site time zone (times are shown in local time).
    language : str
        Language of the text (the site's: ``"zh_CN"`` or ``"en"``).
    area_name : str
        Name of the alarm's area (its id when it has none).
    returned : bool
        The message tells that the alarm returned to normal (at ``alarm.state_ts``).
    """

    alarm: Alarm
    route: str
    escalation: int
    site: str
    tz: ZoneInfo
    language: str = "zh_CN"
    area_name: str = ""
    returned: bool = False

    @property
    def raised_local(self) -> str:
        """Raise time, ``YYYY-MM-DD HH:MM:SS`` in the site's time zone."""
        return self._local(self.alarm.raised_ts)

    def _local(self, ts: float) -> str:
        return datetime.fromtimestamp(ts, self.tz).strftime("%Y-%m-%d %H:%M:%S")

    def message(self) -> str:
        """The alarm's text in :attr:`language` (its message as the engine wrote it, for
        alarms made before alarms carried their parts)."""
        a = self.alarm
        return compose(a.text, self.language, translator(self.language)) if a.text.rule_type else a.message

    def subject(self) -> str:
        """One line: site, priority, escalation or return-to-normal mark and alarm text."""
        tr = translator(self.language)
        mark = " " + fill(tr(NOTICE_TEXT["escalation"]), self.escalation) if self.escalation else ""
        if self.returned:
            mark = " " + tr(NOTICE_TEXT["returned"])
        return f"[{self.site}] P{self.alarm.priority}{mark} {self.message()}"

    def text(self) -> str:
        """Several lines: subject, value and limit (with unit), trip cause, note, area and
        source, state, time, alarm id — in :attr:`language`."""
        a = self.alarm
        tr = translator(self.language)
        lines = [self.subject()]
        unit = a.text.unit
        if a.value is not None and a.text.rule_type not in VALUELESS_RULE_TYPES:
            line = fill(tr(NOTICE_TEXT["value"]), with_unit(a.value, unit))
            if a.limit is not None:
                line += " " + fill(tr(NOTICE_TEXT["limit"]), with_unit(a.limit, unit))
            lines.append(line)
        cause = cause_text(a.cause_code, a.cause_label, tr, tr)
        if cause:
            lines.append(fill(tr(NOTICE_TEXT["cause"]), cause))
        if a.note:
            lines.append(a.note)
        lines += [fill(tr(NOTICE_TEXT["where"]), self.area_name or a.area, a.source),
                  fill(tr(NOTICE_TEXT["state"]), tr(STATE_TEXT.get(a.state.value, a.state.value))),
                  fill(tr(NOTICE_TEXT["raised"]), self.raised_local)]
        if self.returned:
            lines.append(fill(tr(NOTICE_TEXT["returned_at"]), self._local(a.state_ts)))
        lines.append(fill(tr(NOTICE_TEXT["alarm"]), a.id))
        return "\n".join(lines)

    def fields(self, mobiles: tuple[str, ...] = ()) -> dict[str, Any]:
        """Every field a webhook body may use (``BODY_FIELDS`` of the configuration)."""
        a = self.alarm
        return {"site": self.site, "alarm_id": a.id, "priority": a.priority, "level": a.level, "area": a.area,
                "source": a.source, "device": a.device, "message": self.message(), "state": a.state.value,
                "value": a.value, "limit": a.limit, "raised": self.raised_local, "escalation": self.escalation,
                "returned": self.returned,
                "text": self.text(), "mobiles": list(mobiles)}


def webhook_body(channel: WebhookChannel, note: Notification) -> dict[str, Any]:
    """The JSON body of ``note`` in ``channel``'s format.

    Returns
    -------
    dict
        generic: every field; dingtalk: ``{"msgtype": "text", "text": {"content"}, "at": {"atMobiles"}}``;
        wecom: ``{"msgtype": "text", "text": {"content", "mentioned_mobile_list"}}``;
        sms: ``{"to": [...], "content"}``; custom: ``channel.body`` with ``${field}`` filled in
        (a string that is exactly one placeholder takes the field's JSON value).
    """
    mobiles = channel.mobiles
    fmt = channel.format
    if fmt is WebhookFormat.DINGTALK:
        return {"msgtype": "text", "text": {"content": note.text()},
                "at": {"atMobiles": list(mobiles), "isAtAll": False}}
    if fmt is WebhookFormat.WECOM:
        return {"msgtype": "text", "text": {"content": note.text(), "mentioned_mobile_list": list(mobiles)}}
    if fmt is WebhookFormat.SMS:
        return {"to": list(mobiles), "content": note.text()}
    fields = note.fields(mobiles)
    if fmt is WebhookFormat.CUSTOM and channel.body is not None:
        return _fill(channel.body, fields)
    return fields


def _fill(template: Any, fields: dict[str, Any]) -> Any:
    if isinstance(template, str):
        ids = string.Template(template).get_identifiers()
        if len(ids) == 1 and template in (f"${ids[0]}", f"${{{ids[0]}}}"):
            return fields[ids[0]]
        return string.Template(template).substitute({k: "" if v is None else str(v) for k, v in fields.items()})
    if isinstance(template, dict):
        return {k: _fill(v, fields) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, fields) for v in template]
    return template
