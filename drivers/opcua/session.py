"""Opening and closing an asyncua client session, with every failure as a reason.

:func:`open_client` applies the security policy (None, or Basic256Sha256 Sign /
SignAndEncrypt with the application certificate), the user identity, and
connects within ``timeout_s``. :func:`describe` turns any exception a request
can raise into a short reason for a point's quality.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from asyncua import Client, ua
from asyncua.crypto.security_policies import SecurityPolicyBasic256Sha256

from drivers.opcua.spec import OpcUaParams, SecurityMode

__all__ = ["SessionFault", "close_client", "describe", "open_client", "quiet_asyncua_logging"]

_MODES = {
    SecurityMode.SIGN: ua.MessageSecurityMode.Sign,
    SecurityMode.SIGN_AND_ENCRYPT: ua.MessageSecurityMode.SignAndEncrypt,
}


class SessionFault(Exception):
    """A session could not be opened or was lost; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def quiet_asyncua_logging() -> None:
    """asyncua logs every lost connection and refused request at WARNING/ERROR; the
    driver reports them as reasons, so keep asyncua's own records at CRITICAL only."""
    logging.getLogger("asyncua").setLevel(logging.CRITICAL)


def describe(exc: BaseException, timeout_s: float) -> str:
    """A short reason for ``exc`` raised by an asyncua call.

    Returns
    -------
    str
        e.g. ``"BadNodeIdUnknown"``, ``"timeout after 2 s"``, ``"connection refused"``.
    """
    if isinstance(exc, SessionFault):
        return exc.reason
    if isinstance(exc, ua.UaStatusCodeError):
        try:
            return ua.StatusCode(exc.code).name
        except Exception:  # noqa: BLE001 - unknown code
            return f"status 0x{exc.code:08X}"
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return f"timeout after {timeout_s:g} s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, (ConnectionError, EOFError)):
        return "connection lost"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc) or type(exc).__name__
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def open_client(params: OpcUaParams) -> Client:
    """Connect a client session as ``params`` say.

    Returns
    -------
    asyncua.Client
        Connected; close it with :func:`close_client`.

    Raises
    ------
    SessionFault
        With the reason: ``"connection refused (opc.tcp://...)"``, ``"timeout after
        2 s connecting to ..."``, ``"BadUserAccessDenied"``, ``"BadSecurityPolicyRejected"``,
        ``"cannot read certificate ..."`` ...
    """
    watchdog = max(0.5, min(params.timeout_s, 5.0))
    client = Client(params.endpoint, timeout=params.timeout_s, watchdog_intervall=watchdog)
    client.application_uri = params.application_uri
    if params.username is not None:
        client.set_user(params.username)
        client.set_password(params.password or "")
    try:
        async with asyncio.timeout(params.timeout_s * 2):
            if params.security is not SecurityMode.NONE:
                assert params.certificate is not None and params.private_key is not None
                try:
                    await client.set_security(
                        SecurityPolicyBasic256Sha256,
                        certificate=str(params.certificate),
                        private_key=str(params.private_key),
                        server_certificate=(
                            str(params.server_certificate) if params.server_certificate else None
                        ),
                        mode=_MODES[params.security],
                    )
                except (FileNotFoundError, ValueError) as exc:
                    raise SessionFault(f"cannot use certificate or key: {exc}") from None
            await client.connect()
    except SessionFault:
        await close_client(client)
        raise
    except BaseException as exc:
        await close_client(client)
        if isinstance(exc, asyncio.CancelledError):
            raise
        reason = describe(exc, params.timeout_s * 2)
        raise SessionFault(f"{reason} ({params.endpoint})") from None
    return client


async def close_client(client: Client) -> None:
    """Close the session and socket; never raises, never waits long."""
    with contextlib.suppress(Exception):
        async with asyncio.timeout(1.0):
            await client.disconnect()
    with contextlib.suppress(Exception):
        client.disconnect_socket()
