"""Credentials of notification channels, read from the OS keyring at the moment of sending."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import keyring
from keyring.errors import KeyringError

from app.config import KeyringRef

#: ``(keyring entry) -> secret``; raises :class:`CredentialError` when there is none.
SecretSource = Callable[[KeyringRef], str]


class CredentialError(Exception):
    """A channel's credential cannot be read; the message names the keyring entry, never a secret."""


def keyring_secret(ref: KeyringRef) -> str:
    """The password stored in the OS keyring under ``ref.service`` / ``ref.username``.

    Raises
    ------
    CredentialError
        No keyring backend (headless machine without one), or no such entry.
    """
    try:
        value = keyring.get_password(ref.service, ref.username)
    except KeyringError as exc:
        raise CredentialError(f"keyring unavailable for service {ref.service!r} user {ref.username!r}: "
                              f"{type(exc).__name__}: {exc}") from None
    if value is None:
        raise CredentialError(f"no keyring entry for service {ref.service!r} user {ref.username!r} "
                              f"(store it with: keyring set {ref.service} {ref.username})")
    return value


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every non-empty secret replaced by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
