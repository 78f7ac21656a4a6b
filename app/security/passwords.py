"""Password hashing (Argon2id) and the minimum rules a new password must meet.

Parameters follow OWASP's password storage guidance for Argon2id: at least
m = 19 MiB, t = 2, p = 1. Hashes are PHC strings (``$argon2id$v=19$m=...``) that carry
their own parameters, so raising them later re-hashes each password at its next login.
"""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

#: Argon2id memory cost, KiB (19 MiB, OWASP minimum).
MEMORY_KIB = 19 * 1024
#: Argon2id iterations.
TIME_COST = 2
#: Argon2id lanes.
PARALLELISM = 1
#: Shortest password accepted, characters.
MIN_LENGTH = 10
#: Longest password accepted, characters (bounds the hashing work of hostile input).
MAX_LENGTH = 256


class PasswordPolicyError(ValueError):
    """A new password breaks a rule; the message says which (never the password).

    Attributes
    ----------
    rule : str
        ``too_short``, ``too_long``, ``repeated`` or ``contains_name``, for a translated text.
    """

    def __init__(self, message: str, rule: str) -> None:
        super().__init__(message)
        self.rule = rule


def hasher() -> PasswordHasher:
    """The Argon2id hasher with the house parameters (m = 19 MiB, t = 2, p = 1, 16-byte salt)."""
    return PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_KIB, parallelism=PARALLELISM,
                          hash_len=32, salt_len=16, type=Type.ID)


def check_policy(password: str, user_name: str) -> None:
    """Refuse a password that breaks the minimum rules.

    Rules: :data:`MIN_LENGTH` to :data:`MAX_LENGTH` characters; not one character
    repeated; does not contain the user name (case-insensitive).

    Raises
    ------
    PasswordPolicyError
        Naming the rule broken.
    """
    if len(password) < MIN_LENGTH:
        raise PasswordPolicyError(f"a password needs at least {MIN_LENGTH} characters", "too_short")
    if len(password) > MAX_LENGTH:
        raise PasswordPolicyError(f"a password may have at most {MAX_LENGTH} characters", "too_long")
    if len(set(password)) == 1:
        raise PasswordPolicyError("a password may not be one character repeated", "repeated")
    if user_name and user_name.casefold() in password.casefold():
        raise PasswordPolicyError("a password may not contain the user name", "contains_name")


def hash_password(password: str) -> str:
    """Argon2id PHC string of ``password`` (about 20-60 ms of CPU; 19 MiB of memory)."""
    return hasher().hash(password)


def verify_password(phc: str, password: str) -> bool:
    """Whether ``password`` matches the stored hash ``phc``; a malformed hash never matches."""
    try:
        return hasher().verify(phc, password[:MAX_LENGTH + 1])
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(phc: str) -> bool:
    """Whether ``phc`` was made with weaker parameters than the current ones."""
    try:
        return hasher().check_needs_rehash(phc)
    except InvalidHashError:
        return True
