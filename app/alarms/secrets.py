"""Credentials of notification channels, read from the secret store at the moment of sending."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from app.config import KeyringRef
from app.security.secrets import SecretError, open_secret_store

#: ``(keyring entry) -> secret``; raises :class:`CredentialError` when there is none.
SecretSource = Callable[[KeyringRef], str]


class CredentialError(Exception):
    """A channel's credential cannot be read; the message names the keyring entry, never a secret."""


def keyring_secret(ref: KeyringRef) -> str:
    """The secret stored under ``ref.service`` / ``ref.username`` in WattDesk's secret store
    (:func:`app.security.secrets.open_secret_store`: the OS keyring, or the opted-in
    encrypted file on a headless server).

    Raises
    ------
    CredentialError
        No secret store on this machine, or no such entry.
    """
    try:
        return open_secret_store().get(ref.service, ref.username)
    except SecretError as exc:
        raise CredentialError(str(exc)) from None


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every non-empty secret replaced by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
