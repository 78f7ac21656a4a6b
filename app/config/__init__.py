"""Site configuration: the YAML site file, device templates, and their validated models.

Use :func:`load_site` to read a site file; it returns a frozen :class:`SiteConfig` or
raises :class:`ConfigError` listing every problem with file, line and field.
"""

from app.config.alarm_rules import SUPPLY_DEPENDENT, AlarmRule, ImbalanceMethod, RuleType
from app.config.device import Device, Protocol
from app.config.language import LANGUAGES, Language
from app.config.loader import load_site
from app.config.notifications import (
    EmailChannel, EscalationStep, KeyringRef, NotificationConfig, Route, SmtpSecurity, WebhookChannel,
    WebhookFormat,
)
from app.config.point import Category, Medium, Point, PointKind
from app.config.problems import ConfigError, Problem
from app.config.site import Area, AreaKind, NodeKind, SiteConfig, SiteInfo, TopologyNode
from app.config.templates import Template, builtin_template_names, load_template

__all__ = [
    "SUPPLY_DEPENDENT", "AlarmRule", "ImbalanceMethod", "RuleType", "Area", "AreaKind", "Category", "ConfigError", "Device", "Medium", "NodeKind", "Point",
    "PointKind", "Problem", "Protocol", "SiteConfig", "SiteInfo", "Template", "TopologyNode",
    "builtin_template_names", "load_site", "load_template", "EmailChannel", "EscalationStep", "KeyringRef",
    "NotificationConfig", "Route", "SmtpSecurity", "WebhookChannel", "WebhookFormat", "LANGUAGES", "Language",
]
