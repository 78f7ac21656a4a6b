"""What a notification says: the alarm as e-mail text and as the JSON bodies of webhooks."""

from __future__ import annotations

import string
from datetime import datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from app.alarms.contracts import Alarm
from app.config import WebhookChannel, WebhookFormat

#: Operator words for the alarm states.
STATE_TEXT = {"unack_active": "active, unacknowledged", "ack_active": "active, acknowledged",
              "unack_rtn": "returned to normal, unacknowledged", "normal": "normal",
              "shelved": "shelved", "suppressed": "suppressed", "out_of_service": "out of service"}


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
    """

    alarm: Alarm
    route: str
    escalation: int
    site: str
    tz: ZoneInfo

    @property
    def raised_local(self) -> str:
        """Raise time, ``YYYY-MM-DD HH:MM:SS`` in the site's time zone."""
        return datetime.fromtimestamp(self.alarm.raised_ts, self.tz).strftime("%Y-%m-%d %H:%M:%S")

    def subject(self) -> str:
        """One line: site, priority, escalation mark and alarm message."""
        mark = f" [escalation {self.escalation}]" if self.escalation else ""
        return f"[{self.site}] P{self.alarm.priority}{mark} {self.alarm.message}"

    def text(self) -> str:
        """Several lines: subject, value and limit, area and source, state, time, alarm id."""
        a = self.alarm
        lines = [self.subject()]
        if a.value is not None:
            lines.append(f"value {a.value:g}" + (f" (limit {a.limit:g})" if a.limit is not None else ""))
        if a.note:
            lines.append(a.note)
        lines += [f"area {a.area}, source {a.source}", f"state {STATE_TEXT.get(a.state.value, a.state.value)}",
                  f"raised {self.raised_local}", f"alarm {a.id}"]
        return "\n".join(lines)

    def fields(self, mobiles: tuple[str, ...] = ()) -> dict[str, Any]:
        """Every field a webhook body may use (``BODY_FIELDS`` of the configuration)."""
        a = self.alarm
        return {"site": self.site, "alarm_id": a.id, "priority": a.priority, "level": a.level, "area": a.area,
                "source": a.source, "device": a.device, "message": a.message, "state": a.state.value,
                "value": a.value, "limit": a.limit, "raised": self.raised_local, "escalation": self.escalation,
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
