"""Secrets (database passwords, SMTP and webhook tokens): the OS keyring, or an encrypted file.

The one way WattDesk reads a secret is :class:`SecretStore`. By default it uses the
operating system's keyring only (Windows Credential Locker, macOS Keychain, Secret
Service/KWallet on a Linux desktop) — never ``keyring``'s automatic choice, which
on a machine with ``keyrings.alt`` installed can be a plain-text file. On a headless
Linux server with no keyring service the operator opts in explicitly to an
encrypted file (``keyrings.cryptfile``: AES-GCM, key derived with Argon2id) by
naming it; its passphrase comes from a file (e.g. a systemd credential) or a prompt.
Secrets are never written to YAML or logs: errors name the entry, never the value.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path

import keyring.backend
from keyring.errors import KeyringError, PasswordDeleteError

#: Modules of the operating systems' own keyring backends (the only ones used by default).
NATIVE_BACKENDS = frozenset({
    "keyring.backends.Windows", "keyring.backends.macOS", "keyring.backends.SecretService",
    "keyring.backends.libsecret", "keyring.backends.kwallet",
})
#: Environment: path of the encrypted secrets file (opting in to it).
ENV_FILE = "WATTDESK_SECRETS_FILE"
#: Environment: path of a file holding the encrypted file's passphrase (first line).
ENV_PASSPHRASE_FILE = "WATTDESK_SECRETS_PASSPHRASE_FILE"
#: Argon2id cost of the encrypted file's key, per secret read or written: RFC 9106's second
#: recommended setting (t = 3, m = 64 MiB, p = 4) instead of keyrings.cryptfile's t = 15, so a
#: read takes a fraction of a second. Files written with other costs cannot be read back.
FILE_KDF_TIME_COST = 3
FILE_KDF_MEMORY_KIB = 64 * 1024
FILE_KDF_PARALLELISM = 4
#: Keyring service of database passwords; the user name is ``user@host:port/database``.
DB_SERVICE = "wattdesk-db"


class SecretError(Exception):
    """A secret cannot be read or stored; the message names the entry and the fix, never a value."""


def native_backend() -> keyring.backend.KeyringBackend | None:
    """The highest-priority operating-system keyring that works here, or ``None``."""
    native = [b for b in keyring.backend.get_all_keyring() if type(b).__module__ in NATIVE_BACKENDS]
    return max(native, key=lambda b: b.priority, default=None)


def encrypted_file_backend(path: Path, passphrase: str) -> keyring.backend.KeyringBackend:
    """The encrypted-file keyring at ``path`` (created on first write), unlocked with ``passphrase``.

    Raises
    ------
    SecretError
        Blank or wrong passphrase, or an unreadable file.
    """
    from keyrings.cryptfile.cryptfile import CryptFileKeyring

    backend = CryptFileKeyring()
    backend.file_path = str(path)
    backend.time_cost = FILE_KDF_TIME_COST
    backend.memory_cost = FILE_KDF_MEMORY_KIB
    backend.parallelism = FILE_KDF_PARALLELISM
    try:
        backend.keyring_key = passphrase
    except (ValueError, OSError) as err:
        raise SecretError(f"encrypted secrets file {path}: {err}") from None
    return backend


def read_passphrase(path: Path) -> str:
    """The passphrase in the first line of ``path``.

    Raises
    ------
    SecretError
        Unreadable or empty file.
    """
    try:
        text = path.read_text(encoding="utf-8").splitlines()
    except OSError as err:
        raise SecretError(f"passphrase file {path}: {err.strerror or err}") from None
    if not text or not text[0].strip():
        raise SecretError(f"passphrase file {path} is empty")
    return text[0]


class SecretStore:
    """Get, set and delete secrets by (service, user name).

    Parameters
    ----------
    backend : keyring.backend.KeyringBackend
        From :func:`open_secret_store` (native keyring or opted-in encrypted file).
    """

    def __init__(self, backend: keyring.backend.KeyringBackend) -> None:
        self.backend = backend

    @property
    def description(self) -> str:
        """Which store this is (for status lines): backend class and, for a file, its path."""
        path = getattr(self.backend, "file_path", None)
        return f"{type(self.backend).__name__}" + (f" at {path}" if path else "")

    def get(self, service: str, username: str) -> str:
        """The secret of ``service``/``username``.

        Raises
        ------
        SecretError
            No such entry, or the store failed.
        """
        try:
            value = self.backend.get_password(service, username)
        except (KeyringError, ValueError, OSError) as err:
            raise SecretError(f"secret {service!r}/{username!r}: {self.description} failed: "
                              f"{type(err).__name__}") from None
        if value is None:
            raise SecretError(f"no secret {service!r}/{username!r} in {self.description} "
                              f"(store it with: wattdesk secret set {service} {username})")
        return value

    def set(self, service: str, username: str, value: str) -> None:
        """Store a secret (replacing any earlier one).

        Raises
        ------
        SecretError
            Empty value, or the store failed.
        """
        if not value:
            raise SecretError(f"secret {service!r}/{username!r}: refusing to store an empty secret")
        try:
            self.backend.set_password(service, username, value)
        except (KeyringError, ValueError, OSError) as err:
            raise SecretError(f"secret {service!r}/{username!r}: {self.description} failed: "
                              f"{type(err).__name__}") from None

    def delete(self, service: str, username: str) -> None:
        """Remove a secret.

        Raises
        ------
        SecretError
            No such entry, or the store failed.
        """
        try:
            self.backend.delete_password(service, username)
        except PasswordDeleteError:
            raise SecretError(f"no secret {service!r}/{username!r} in {self.description}") from None
        except (KeyringError, ValueError, OSError) as err:
            raise SecretError(f"secret {service!r}/{username!r}: {self.description} failed: "
                              f"{type(err).__name__}") from None


def open_secret_store(encrypted_file: Path | None = None,
                      passphrase: Callable[[], str] | None = None) -> SecretStore:
    """The secret store of this machine.

    Parameters
    ----------
    encrypted_file : Path, optional
        Opt in to the encrypted file at this path instead of the OS keyring. Default:
        the environment variable ``WATTDESK_SECRETS_FILE`` if set, else the OS keyring.
    passphrase : callable, optional
        Returns the file's passphrase. Default: the first line of the file named by
        ``WATTDESK_SECRETS_PASSPHRASE_FILE``, else a prompt on the terminal.

    Raises
    ------
    SecretError
        No OS keyring and no opted-in file (the message says how to opt in), or the
        file's passphrase is missing or wrong.
    """
    if encrypted_file is None and os.environ.get(ENV_FILE):
        encrypted_file = Path(os.environ[ENV_FILE])
    if encrypted_file is None:
        backend = native_backend()
        if backend is None:
            raise SecretError("no operating-system keyring is available on this machine; on a headless "
                              f"server opt in to an encrypted file: set {ENV_FILE}=/path/secrets.cfg and "
                              f"{ENV_PASSPHRASE_FILE}=/path/passphrase (readable only by the service user)")
        return SecretStore(backend)
    return SecretStore(encrypted_file_backend(encrypted_file, (passphrase or _default_passphrase)()))


def _default_passphrase() -> str:
    if os.environ.get(ENV_PASSPHRASE_FILE):
        return read_passphrase(Path(os.environ[ENV_PASSPHRASE_FILE]))
    if not sys.stdin.isatty():
        raise SecretError(f"the encrypted secrets file needs a passphrase: set {ENV_PASSPHRASE_FILE} "
                          "or run on a terminal")
    return getpass.getpass("Passphrase of the WattDesk secrets file: ")


def db_secret_user(url: str) -> str:
    """Keyring user name of a database URL's password: ``user@host:port/database``."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    return f"{u.username or ''}@{u.host or ''}:{u.port or ''}/{u.database or ''}"


def with_db_password(url: str, store: SecretStore | None) -> str:
    """``url`` with its password from the store, when it names a user and no password.

    A URL that already holds a password is refused: passwords belong in the keyring.
    Without a store, or without an entry for the URL, ``url`` is returned as it is
    (the server trusts the host or uses peer authentication).

    Raises
    ------
    SecretError
        The URL holds a password, or the store has none for it.
    """
    from sqlalchemy.engine import make_url

    u = make_url(url)
    if u.password:
        raise SecretError(f"database URL for {db_secret_user(url)!r} contains a password; store it with "
                          f"'wattdesk secret set {DB_SERVICE} {db_secret_user(url)}' and remove it from the URL")
    if store is None or not u.username or u.get_backend_name() != "postgresql":
        return url
    try:
        password = store.get(DB_SERVICE, db_secret_user(url))
    except SecretError:
        return url
    return u.set(password=password).render_as_string(hide_password=False)
