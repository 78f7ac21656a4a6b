"""Application instance certificates for OPC UA security (Basic256Sha256).

Generates a self-signed RSA-2048 certificate with SHA-256 as OPC 10000-6, 6.2.2
asks (application URI and host name in the subject alternative name), using
asyncua's :mod:`asyncua.crypto.cert_gen`. The simulator and the tests make
theirs in a temporary directory; a site installs its own.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

from asyncua.crypto import cert_gen
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID

__all__ = ["CertificatePair", "make_certificate"]


@dataclass(frozen=True)
class CertificatePair:
    """Paths of a DER certificate and its PEM private key."""

    certificate: Path
    private_key: Path


def make_certificate(
    directory: Path, name: str, application_uri: str, *, server: bool = False, days: int = 365,
) -> CertificatePair:
    """Write ``<name>.der`` and ``<name>.pem`` into ``directory``.

    Parameters
    ----------
    directory : Path
        Existing directory.
    name : str
        Common name and file stem.
    application_uri : str
        URI put in the subject alternative name; must equal the application's
        ``application_uri``.
    server : bool
        Server authentication use (else client authentication).
    days : int
        Validity from now.

    Returns
    -------
    CertificatePair
    """
    key = cert_gen.generate_private_key()
    host = socket.gethostname()
    cert = cert_gen.generate_self_signed_app_certificate(
        key, name, {"organizationName": "WattDesk"},
        [x509.UniformResourceIdentifier(application_uri), x509.DNSName(host), x509.DNSName("localhost")],
        [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH],
        days=days,
    )
    pair = CertificatePair(directory / f"{name}.der", directory / f"{name}.pem")
    pair.certificate.write_bytes(cert.public_bytes(Encoding.DER))
    pair.private_key.write_bytes(cert_gen.dump_private_key_as_pem(key))
    return pair
