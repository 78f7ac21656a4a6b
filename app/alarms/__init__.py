"""Alarms: ISA-18.2 / IEC 62682 state model, the site's alarm rules, and the engine.

:class:`AlarmEngine` subscribes to the point cache, evaluates every rule of the site
(``device.alarms``, ``site.alarms``) in its own thread, and publishes
:class:`AlarmUpdate` objects to subscribers (the UI bridge) and
:class:`AlarmEvent` records to a journal sink (the historian). :class:`AlarmNotifier`
sends notifications (e-mail, webhooks) along the site's routes, with escalation.
See ``docs/alarms.md``.
"""

from app.alarms.contracts import (
    Alarm, AlarmEvent, AlarmSubscriber, AlarmText, AlarmUpdate, BaselineProvider, DayType, EventKind,
    JournalSink, PermissionCheck,
)
from app.alarms.channels import DeliveryError, EmailSender, Sender, WebhookSender
from app.alarms.delivery import ChannelStats, ChannelWorker
from app.alarms.engine import AlarmEngine, AlarmPermissionError, allow_all
from app.alarms.evaluator import AlarmEvaluator, UnknownAlarmError
from app.alarms.messages import Notification, compose, translator, webhook_body
from app.alarms.notifier import AlarmNotifier
from app.alarms.secrets import CredentialError, SecretSource, keyring_secret
from app.alarms.states import AlarmState, Priority, Status, Trigger, step

__all__ = [
    "Alarm", "AlarmEngine", "AlarmText", "AlarmEvaluator", "AlarmEvent", "AlarmPermissionError", "AlarmState",
    "AlarmSubscriber", "AlarmUpdate", "BaselineProvider", "DayType", "EventKind", "JournalSink",
    "PermissionCheck", "Priority", "Status", "Trigger", "UnknownAlarmError", "allow_all", "step",
    "AlarmNotifier", "ChannelStats", "ChannelWorker", "CredentialError", "DeliveryError", "EmailSender",
    "Notification", "SecretSource", "Sender", "WebhookSender", "keyring_secret", "webhook_body", "compose", "translator",
]
