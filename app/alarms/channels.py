"""Senders: deliver one :class:`~app.alarms.messages.Notification` over one channel, blocking.

A sender is called on its channel's worker thread (:mod:`app.alarms.delivery`) and
raises :class:`DeliveryError` when the message did not go out; the error text never
holds a credential (secrets are read from the keyring per message and redacted).
"""

from __future__ import annotations

import json
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from app.alarms.messages import Notification, webhook_body
from app.alarms.secrets import CredentialError, SecretSource, redact
from app.config import EmailChannel, SmtpSecurity, WebhookChannel

#: Delivers one notification or raises :class:`DeliveryError`.
Sender = Callable[[Notification], None]


class DeliveryError(Exception):
    """A notification was not delivered; the message says why (without secrets)."""


class EmailSender:
    """E-mail over SMTP (``smtplib``), one connection per message.

    Parameters
    ----------
    channel : EmailChannel
    secrets : SecretSource
        Reads the SMTP password named by ``channel.login``.
    """

    def __init__(self, channel: EmailChannel, secrets: SecretSource) -> None:
        self.channel = channel
        self._secrets = secrets

    def __call__(self, note: Notification) -> None:
        """Send ``note`` to every recipient of the channel.

        Raises
        ------
        DeliveryError
            Credential missing, connection refused or lost, TLS failure, login or recipients refused.
        """
        ch = self.channel
        password = ""
        try:
            if ch.login is not None:
                password = self._secrets(ch.login)
            message = EmailMessage()
            message["Subject"] = note.subject()
            message["From"] = ch.sender
            message["To"] = ", ".join(ch.to)
            message["Date"] = formatdate(note.alarm.raised_ts, localtime=False)
            message["Message-ID"] = make_msgid(domain=ch.sender.split("@", 1)[1])
            message.set_content(note.text())
            context = ssl.create_default_context()
            if ch.security is SmtpSecurity.TLS:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(ch.host, ch.port, timeout=ch.timeout_s, context=context)
            else:
                smtp = smtplib.SMTP(ch.host, ch.port, timeout=ch.timeout_s)
            with smtp:
                if ch.security is SmtpSecurity.STARTTLS:
                    smtp.starttls(context=context)
                if ch.login is not None:
                    smtp.login(ch.login.username, password)
                refused = smtp.send_message(message)
            if refused:
                raise DeliveryError(f"email {ch.id}: recipients refused: {', '.join(sorted(refused))}")
        except CredentialError as exc:
            raise DeliveryError(f"email {ch.id}: {exc}") from None
        except UnicodeEncodeError:  # smtplib encodes AUTH as ASCII
            raise DeliveryError(f"email {ch.id}: the SMTP login or password of keyring service "
                                f"{ch.login.service if ch.login else ''!r} is not ASCII, which smtplib "
                                f"cannot send") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(redact(f"email {ch.id} via {ch.host}:{ch.port}: {type(exc).__name__}: {exc}",
                                       [password])) from None


class WebhookSender:
    """A JSON POST (``urllib.request``); any 2xx reply is delivery.

    Parameters
    ----------
    channel : WebhookChannel
    secrets : SecretSource
        Reads the credential named by ``channel.secret``.
    """

    def __init__(self, channel: WebhookChannel, secrets: SecretSource) -> None:
        self.channel = channel
        self._secrets = secrets
        parts = urlsplit(channel.url)
        self._where = f"{parts.scheme}://{parts.netloc}{parts.path}"

    def __call__(self, note: Notification) -> None:
        """POST ``note`` in the channel's format.

        Raises
        ------
        DeliveryError
            Credential missing, connection refused, timeout, or a reply other than 2xx.
        """
        ch = self.channel
        secret = ""
        try:
            url = ch.url
            headers = {"Content-Type": "application/json; charset=utf-8", **ch.headers}
            if ch.secret is not None:
                secret = self._secrets(ch.secret)
                if ch.secret_query is not None:
                    parts = urlsplit(url)
                    query = urlencode([*parse_qsl(parts.query), (ch.secret_query, secret)])
                    url = urlunsplit(parts._replace(query=query))
                elif ch.secret_header is not None:
                    headers[ch.secret_header] = secret
            data = json.dumps(webhook_body(ch, note), ensure_ascii=False).encode("utf-8")
            request = urllib.request.Request(url, data=data, headers=headers, method="POST")
            with urllib.request.urlopen(request, timeout=ch.timeout_s) as reply:
                reply.read()
        except CredentialError as exc:
            raise DeliveryError(f"webhook {ch.id}: {exc}") from None
        except urllib.error.HTTPError as exc:
            raise DeliveryError(redact(f"webhook {ch.id} {self._where}: HTTP {exc.code} {exc.reason}",
                                       [secret])) from None
        except (OSError, ValueError) as exc:  # URLError, timeouts, connection refused/reset
            raise DeliveryError(redact(f"webhook {ch.id} {self._where}: {type(exc).__name__}: {exc}",
                                       [secret])) from None


def make_sender(channel: EmailChannel | WebhookChannel, secrets: SecretSource) -> Sender:
    """The sender for ``channel``'s type."""
    if isinstance(channel, EmailChannel):
        return EmailSender(channel, secrets)
    return WebhookSender(channel, secrets)
