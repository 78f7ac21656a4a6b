"""The ``notifications:`` section of a site file: channels, routes and escalation.

Channels say how a message leaves (e-mail over SMTP, or a JSON POST to a webhook: a
DingTalk or WeCom group robot, an SMS gateway, an app push service). Routes say which
alarms go where: by priority and area, first to ``channels``, then — while the alarm
stays unacknowledged — to each ``escalation`` step after its ``after_min`` minutes.

Credentials never stand in the YAML: a channel names an entry of the OS keyring
(``{service, username}``) and the secret is read from the keyring when a message is
sent. A field that looks like a credential (``password``, ``token``, ...) or a URL with
a secret-looking query parameter is rejected with a message saying where it belongs.
"""

from __future__ import annotations

import enum
import string
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.config.point import IDENT_PATTERN, Finite

#: Keys that would put a credential into the YAML.
SECRET_KEYS = frozenset({"password", "passwd", "pass", "secret_value", "token", "access_token", "api_key",
                         "apikey", "key", "sign", "signature", "credentials"})
#: Query parameters of a webhook URL that carry secrets (DingTalk access_token, WeCom key, ...).
SECRET_QUERY = frozenset({"access_token", "key", "token", "sign", "secret", "password", "apikey", "api_key"})
#: Fields a ``custom`` webhook body may use as ``${field}``.
BODY_FIELDS = frozenset({"site", "alarm_id", "priority", "level", "area", "source", "device", "message", "returned",
                         "state", "value", "limit", "raised", "escalation", "text", "mobiles"})


def no_inline_secrets(data: Any) -> Any:
    """Reject a mapping that holds a credential-like key.

    Raises
    ------
    ValueError
        Naming the key and where the credential belongs.
    """
    if isinstance(data, dict):
        for key in data:
            if isinstance(key, str) and key.lower() in SECRET_KEYS:
                raise ValueError(f"'{key}': credentials live in the OS keyring, never in the YAML; "
                                 "name the keyring entry instead (login/secret: {service: ..., username: ...})")
    return data


class KeyringRef(BaseModel):
    """An entry of the OS keyring (``keyring.get_password(service, username)``).

    Attributes
    ----------
    service : str
        Keyring service name, e.g. ``wattdesk-smtp``.
    username : str
        Keyring user name; for SMTP also the login name.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    service: str = Field(min_length=1)
    username: str = Field(min_length=1)


class SmtpSecurity(str, enum.Enum):
    """Transport security of an SMTP connection."""

    NONE = "none"          # plain (a relay on the local network)
    STARTTLS = "starttls"  # plain, then STARTTLS (port 587)
    TLS = "tls"            # implicit TLS (port 465)


class EmailChannel(BaseModel):
    """E-mail through an SMTP server.

    Attributes
    ----------
    id : str
    type : "email"
    host : str
    port : int
        1..65535 (default 587).
    security : SmtpSecurity
        Default ``starttls``.
    sender : str
        From address.
    to : tuple[str, ...]
        Recipients, at least one.
    login : KeyringRef | None
        SMTP AUTH: user ``login.username``, password from the keyring.
    timeout_s : float
        Seconds for connecting and each SMTP command (> 0, default 10).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=IDENT_PATTERN)
    type: Literal["email"]
    host: str = Field(min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    security: SmtpSecurity = SmtpSecurity.STARTTLS
    sender: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    to: tuple[str, ...] = Field(min_length=1)
    login: KeyringRef | None = None
    timeout_s: Finite = Field(default=10.0, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _inline(cls, data: Any) -> Any:
        return no_inline_secrets(data)

    @field_validator("to")
    @classmethod
    def _addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for address in value:
            if address.count("@") != 1 or any(c.isspace() for c in address):
                raise ValueError(f"{address!r} is not an e-mail address")
        return value


class WebhookFormat(str, enum.Enum):
    """Body of a webhook POST (JSON)."""

    GENERIC = "generic"    # every field of the alarm
    DINGTALK = "dingtalk"  # DingTalk group robot: {"msgtype": "text", "text": {...}, "at": {...}}
    WECOM = "wecom"        # WeCom group robot: {"msgtype": "text", "text": {..., mentioned_mobile_list}}
    SMS = "sms"            # SMS gateway: {"to": [mobiles], "content": text}
    CUSTOM = "custom"      # ``body``: JSON template with ${field} placeholders


class WebhookChannel(BaseModel):
    """A JSON POST to an HTTP(S) endpoint.

    Attributes
    ----------
    id : str
    type : "webhook"
    url : str
        ``http://`` or ``https://``; no secret in its query (use ``secret_query``).
    format : WebhookFormat
    mobiles : tuple[str, ...]
        Mobiles to mention (DingTalk, WeCom) or to text (SMS gateway).
    body : dict | None
        ``custom`` only: the JSON body, strings may hold ``${field}`` (see ``BODY_FIELDS``).
    headers : dict[str, str]
        Extra non-secret headers.
    secret : KeyringRef | None
        Keyring entry of the credential (robot access token, gateway API key).
    secret_query : str | None
        Send the secret as this query parameter (DingTalk ``access_token``, WeCom ``key``) ...
    secret_header : str | None
        ... or as this header's value (``Authorization``; store ``Bearer ...`` in the keyring).
    timeout_s : float
        Seconds for the whole request (> 0, default 10).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=IDENT_PATTERN)
    type: Literal["webhook"]
    url: str
    format: WebhookFormat = WebhookFormat.GENERIC
    mobiles: tuple[str, ...] = ()
    body: dict[str, Any] | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    secret: KeyringRef | None = None
    secret_query: str | None = Field(default=None, min_length=1)
    secret_header: str | None = Field(default=None, min_length=1)
    timeout_s: Finite = Field(default=10.0, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _inline(cls, data: Any) -> Any:
        return no_inline_secrets(data)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not an http:// or https:// URL")
        for name, _ in parse_qsl(parts.query):
            if name.lower() in SECRET_QUERY:
                raise ValueError(f"query parameter {name!r} carries a credential: keep it in the OS keyring "
                                 f"and name it with 'secret' and 'secret_query: {name}'")
        return value

    @field_validator("headers")
    @classmethod
    def _plain_headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if name.lower() in ("authorization", "x-api-key", "x-auth-token"):
                raise ValueError(f"header {name!r} carries a credential: keep it in the OS keyring and "
                                 f"name it with 'secret' and 'secret_header: {name}'")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> WebhookChannel:
        places = (self.secret_query is not None) + (self.secret_header is not None)
        if self.secret is not None and places != 1:
            raise ValueError("'secret' needs exactly one of 'secret_query' or 'secret_header'")
        if self.secret is None and places:
            raise ValueError("'secret_query' / 'secret_header' need 'secret' (the keyring entry)")
        if self.format is WebhookFormat.CUSTOM:
            if self.body is None:
                raise ValueError("format 'custom' needs 'body' (a JSON template)")
            unknown = sorted(_placeholders(self.body) - BODY_FIELDS)
            if unknown:
                raise ValueError(f"unknown placeholder(s) {', '.join(unknown)} in 'body' "
                                 f"(known: {', '.join(sorted(BODY_FIELDS))})")
        elif self.body is not None:
            raise ValueError(f"'body' is only for format 'custom' (this channel is {self.format.value})")
        return self


def _placeholders(template: Any) -> set[str]:
    """Identifiers of every ``${field}`` in the strings of a JSON template."""
    if isinstance(template, str):
        return set(string.Template(template).get_identifiers())
    if isinstance(template, dict):
        return set().union(*(_placeholders(v) for v in template.values())) if template else set()
    if isinstance(template, list):
        return set().union(*(_placeholders(v) for v in template)) if template else set()
    return set()


Channel = EmailChannel | WebhookChannel
#: Channel model per ``type``.
CHANNEL_TYPES: dict[str, type[EmailChannel] | type[WebhookChannel]] = {
    "email": EmailChannel, "webhook": WebhookChannel}


class EscalationStep(BaseModel):
    """Channels told when the alarm is still unacknowledged ``after_min`` minutes after it was raised."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    after_min: Finite = Field(gt=0)
    channels: tuple[str, ...] = Field(min_length=1)


class Route(BaseModel):
    """Which alarms go to which channels.

    Attributes
    ----------
    id : str
    priorities : tuple[int, ...]
        Alarm priorities (1..4) taken; default all.
    areas : tuple[str, ...]
        Area ids; an alarm of the area or of any area below it is taken. Empty: every area.
    channels : tuple[str, ...]
        Channel ids told when the alarm is raised.
    escalation : tuple[EscalationStep, ...]
        Later steps, ``after_min`` strictly increasing.
    return_to_normal : {'email', 'all', 'none'}
        Which of the channels told of an alarm are told when it returns to normal:
        the e-mail ones (default), all, or none.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=IDENT_PATTERN)
    priorities: tuple[int, ...] = (1, 2, 3, 4)
    areas: tuple[str, ...] = ()
    channels: tuple[str, ...] = Field(min_length=1)
    escalation: tuple[EscalationStep, ...] = ()
    return_to_normal: Literal["email", "all", "none"] = "email"

    @field_validator("priorities")
    @classmethod
    def _priorities(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(not 1 <= p <= 4 for p in value):
            raise ValueError(f"priorities are 1..4, got {list(value)}")
        return value

    @field_validator("escalation")
    @classmethod
    def _increasing(cls, value: tuple[EscalationStep, ...]) -> tuple[EscalationStep, ...]:
        times = [step.after_min for step in value]
        if any(b <= a for a, b in zip(times, times[1:])):
            raise ValueError(f"escalation after_min must increase step by step, got {times}")
        return value


class NotificationConfig(BaseModel):
    """The validated ``notifications:`` section.

    Attributes
    ----------
    channels : tuple[EmailChannel | WebhookChannel, ...]
    routes : tuple[Route, ...]
    queue_size : int
        Messages waiting per channel (>= 1, default 200); when full the oldest is dropped.
    retry_initial_s, retry_max_s : float
        Back-off of a failing channel: first ceiling and largest ceiling, seconds.
    give_up_after_s : float
        A message not delivered this many seconds after its first attempt is dropped (logged).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    channels: tuple[Channel, ...] = ()
    routes: tuple[Route, ...] = ()
    queue_size: int = Field(default=200, ge=1)
    retry_initial_s: Finite = Field(default=5.0, gt=0)
    retry_max_s: Finite = Field(default=300.0, gt=0)
    give_up_after_s: Finite = Field(default=3600.0, gt=0)

    @model_validator(mode="after")
    def _backoff(self) -> NotificationConfig:
        if self.retry_max_s < self.retry_initial_s:
            raise ValueError(f"retry_max_s ({self.retry_max_s:g}) must be >= retry_initial_s "
                             f"({self.retry_initial_s:g})")
        return self

    def channel(self, channel_id: str) -> Channel:
        """The channel with id ``channel_id``.

        Raises
        ------
        KeyError
        """
        for channel in self.channels:
            if channel.id == channel_id:
                return channel
        raise KeyError(f"no notification channel {channel_id!r}")
