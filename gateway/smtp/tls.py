"""TLS for the SMTP edges: the gateway's certificate as server and as client, and who the peer is.

Submission needs a server certificate clients can verify; between gateways both sides present certificates from
their province's CA and each verifies the other against its trust anchors (our root plus the peers' roots named in
``[trust] anchors``), so a relay session is mutually authenticated before any command.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from certs.ca import TrustFiles, trust_anchor_files
from certs.context import configured_anchors
from certs.store import CertificateRecord, CertKind, CertStatus
from gateway.errors import ConfigError
from gateway.home import Home


@dataclass(frozen=True)
class GatewayCertificate:
    chain: Path  # our certificate followed by the issuing CA
    key: Path


def gateway_certificate(home: Home, sessions: sessionmaker[Session]) -> GatewayCertificate:
    """Explicit PEM files, or the newest valid TLS certificate issued for the host (renew + restart switches)."""
    smtp = home.settings.smtp
    if smtp.tls_cert:
        return GatewayCertificate(home.path(smtp.tls_cert), home.path(smtp.tls_key))
    host = smtp.tls_host or smtp.hostname or home.settings.gateway.domain
    with sessions() as session:
        record = session.scalar(
            select(CertificateRecord)
            .where(
                CertificateRecord.kind == CertKind.TLS.value,
                CertificateRecord.host == host,
                CertificateRecord.status == CertStatus.VALID.value,
                CertificateRecord.not_after > datetime.now(UTC),
            )
            .order_by(CertificateRecord.not_before.desc())
            .limit(1)
        )
    cert_file = record.cert_file(home.keys_dir) if record is not None else None
    key_file = record.key_file(home.keys_dir) if record is not None else None
    if cert_file is None or key_file is None:
        raise ConfigError(
            f"no valid TLS certificate for host {host!r}: run 'lienthong ca init' and "
            f"'lienthong cert issue tls --host {host}', or set [smtp] tls_cert and tls_key"
        )
    return GatewayCertificate(_served_chain(home, cert_file), key_file)


def _served_chain(home: Home, cert: Path) -> Path:
    """Certificate followed by our issuing CA, so that peers trusting only the root can build the path."""
    issuing = TrustFiles(home.keys_dir).issuing_cert
    if not issuing.exists():
        return cert
    chain = home.keys_dir / "tls-served-chain.pem"
    chain.write_bytes(cert.read_bytes() + issuing.read_bytes())
    return chain


def _load(context: ssl.SSLContext, certificate: GatewayCertificate) -> ssl.SSLContext:
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(certificate.chain, certificate.key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"cannot load the TLS certificate {certificate.chain} with key {certificate.key}: {exc}"
        ) from None
    return context


def _anchors(home: Home, context: ssl.SSLContext) -> None:
    paths = trust_anchor_files(TrustFiles(home.keys_dir), configured_anchors(home))
    if not paths:
        raise ConfigError("no trust anchors: run 'lienthong ca init' or list peers' roots in [trust] anchors")
    for path in paths:
        context.load_verify_locations(cafile=str(path))


def server_context(home: Home, certificate: GatewayCertificate, *, require_client: bool = False) -> ssl.SSLContext:
    context = _load(ssl.create_default_context(ssl.Purpose.CLIENT_AUTH), certificate)
    if require_client:
        _anchors(home, context)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def client_context(home: Home, certificate: GatewayCertificate) -> ssl.SSLContext:
    """Present our certificate, verify the peer's chain; its name is checked against the registry by the caller."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False  # peers are reached by address; ``peer_names`` + the registry decide who they are
    context.verify_mode = ssl.CERT_REQUIRED
    _anchors(home, context)
    return _load(context, certificate)


def peer_names(ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> set[str]:
    """The DNS names in the verified peer certificate (empty when there is none)."""
    if ssl_object is None:
        return set()
    certificate = ssl_object.getpeercert()
    if not certificate:
        return set()
    names: set[str] = set()
    for entry in certificate.get("subjectAltName", ()):
        if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == "DNS":
            names.add(str(entry[1]).lower())
    return names
