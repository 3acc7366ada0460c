"""Peer gateways: the other gateways this one exchanges documents with over SMTP.

A peer is its relay address, the mail domain it serves, the DKIM key it signs with (as DNS would publish it) and,
optionally, the pinned SHA-256 fingerprints of its TLS certificate (``gateway/smtp/pinning.py``). Every value is
checked here, where all writers pass, so that a bad key or fingerprint is refused when typed rather than found when
the first document fails to relay. Messages name the field with the caller's label (a CLI option, a file key).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any

import dkim.util
from cryptography.hazmat.primitives.serialization import load_der_public_key
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.errors import InputError, NotFoundError
from gateway.smtp import pinning
from registry.models import Agency, PeerGateway

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_HOST = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
_SELECTOR = re.compile(r"^[A-Za-z0-9_-]{1,63}$")

#: Field names as the library's own callers see them; the CLI passes its option names instead.
LABELS: Mapping[str, str] = {
    "name": "name",
    "smtp_host": "smtp host",
    "smtp_port": "smtp port",
    "domain": "domain",
    "dkim_selector": "dkim selector",
    "dkim_public_key": "dkim key",
    "tls_fingerprint": "tls fingerprint",
}

_UNSET: Any = object()


def check_dkim_txt(value: str, label: str = LABELS["dkim_public_key"]) -> str:
    """A DKIM key record as published in DNS (``v=DKIM1; k=ed25519|rsa; p=BASE64``), returned in one line."""
    text = " ".join(value.split())
    try:
        tags = dkim.util.parse_tag_value(text.encode("ascii"))
    except (UnicodeEncodeError, dkim.util.InvalidTagValueList):
        tags = {}
    expected = "expected a DKIM TXT record 'v=DKIM1; k=ed25519|rsa; p=BASE64'"
    if tags.get(b"v") != b"DKIM1" or tags.get(b"k", b"rsa") not in (b"ed25519", b"rsa") or not tags.get(b"p"):
        raise InputError(f"{label} {text[:80]!r}: {expected}")
    try:
        key = base64.b64decode(tags[b"p"], validate=True)
    except binascii.Error:
        raise InputError(f"{label}: p= is not base64") from None
    if tags.get(b"k", b"rsa") == b"ed25519":
        if len(key) != 32:
            raise InputError(f"{label}: p= must be a 32-byte Ed25519 public key, got {len(key)} bytes")
    else:
        try:
            load_der_public_key(key)
        except ValueError:
            raise InputError(f"{label}: p= is not an RSA public key (SubjectPublicKeyInfo)") from None
    return text


def _check(
    labels: Mapping[str, str],
    *,
    name: str | None = None,
    smtp_host: str | None = None,
    smtp_port: int | None = None,
    domain: str | None = None,
    dkim_selector: str | None = None,
) -> None:
    if name is not None and not _NAME.match(name):
        raise InputError(f"{labels['name']} {name!r}: expected a gateway name (a-z, 0-9, '-', at most 64)")
    if smtp_host is not None and not _HOST.match(smtp_host):
        raise InputError(f"{labels['smtp_host']} {smtp_host!r}: expected a host name or IPv4 address")
    if domain is not None and (not _HOST.match(domain) or "." not in domain):
        raise InputError(f"{labels['domain']} {domain!r}: expected a mail domain such as hanoi.lienthong.gov.vn")
    if smtp_port is not None and not 1 <= smtp_port <= 65535:
        raise InputError(f"{labels['smtp_port']} {smtp_port}: expected 1-65535")
    if dkim_selector is not None and not _SELECTOR.match(dkim_selector):
        raise InputError(f"{labels['dkim_selector']} {dkim_selector!r}: letters, digits, '-' and '_' only")


def _unique(session: Session, labels: Mapping[str, str], peer_id: int | None, name: str, domain: str) -> None:
    others = select(PeerGateway.id).where(PeerGateway.id != peer_id) if peer_id is not None else select(PeerGateway.id)
    if session.scalar(others.where(PeerGateway.name == name)) is not None:
        raise InputError(f"{labels['name']} {name!r}: a peer gateway with this name already exists")
    if session.scalar(others.where(PeerGateway.domain == domain)) is not None:
        raise InputError(f"{labels['domain']} {domain!r}: another peer gateway already serves this domain")


def _pins(value: str | tuple[str, ...] | None, labels: Mapping[str, str]) -> str | None:
    if value is None or value == () or value == "":
        return None
    text = value if isinstance(value, str) else ",".join(value)
    return ",".join(pinning.parse_pins(text, labels["tls_fingerprint"]))


def add(
    session: Session,
    name: str,
    smtp_host: str,
    domain: str,
    smtp_port: int = 25,
    *,
    dkim_selector: str | None = None,
    dkim_public_key: str | None = None,
    tls_fingerprint: str | tuple[str, ...] | None = None,
    labels: Mapping[str, str] = LABELS,
) -> PeerGateway:
    """Register a peer (the caller commits)."""
    _check(labels, name=name, smtp_host=smtp_host, smtp_port=smtp_port, domain=domain, dkim_selector=dkim_selector)
    if (dkim_selector is None) != (dkim_public_key is None):
        raise InputError(f"{labels['dkim_selector']} and {labels['dkim_public_key']} go together: give both or neither")
    key = check_dkim_txt(dkim_public_key, labels["dkim_public_key"]) if dkim_public_key is not None else None
    pins = _pins(tls_fingerprint, labels)
    domain = domain.lower()
    _unique(session, labels, None, name, domain)
    peer = PeerGateway(
        name=name,
        smtp_host=smtp_host.lower(),
        smtp_port=smtp_port,
        domain=domain,
        dkim_selector=dkim_selector,
        dkim_public_key=key,
        tls_fingerprint=pins,
    )
    session.add(peer)
    session.flush()
    return peer


def update(
    session: Session,
    name: str,
    *,
    smtp_host: str | None = None,
    smtp_port: int | None = None,
    domain: str | None = None,
    dkim_selector: str | None = None,
    dkim_public_key: str | None = None,
    tls_fingerprint: str | tuple[str, ...] | None = _UNSET,
    labels: Mapping[str, str] = LABELS,
) -> PeerGateway:
    """Change the given fields (None: keep); ``tls_fingerprint=None`` removes the pin, an omitted one keeps it."""
    peer = get(session, name)
    _check(labels, smtp_host=smtp_host, smtp_port=smtp_port, domain=domain, dkim_selector=dkim_selector)
    if dkim_public_key is not None:
        dkim_public_key = check_dkim_txt(dkim_public_key, labels["dkim_public_key"])
    if (dkim_selector or peer.dkim_selector) is None and dkim_public_key is not None:
        raise InputError(f"{labels['dkim_public_key']}: give {labels['dkim_selector']} too (the peer has none yet)")
    if (dkim_public_key or peer.dkim_public_key) is None and dkim_selector is not None:
        raise InputError(f"{labels['dkim_selector']}: give {labels['dkim_public_key']} too (the peer has none yet)")
    if domain is not None:
        domain = domain.lower()
        _unique(session, labels, peer.id, peer.name, domain)
        peer.domain = domain
    if smtp_host is not None:
        peer.smtp_host = smtp_host.lower()
    if smtp_port is not None:
        peer.smtp_port = smtp_port
    if dkim_selector is not None:
        peer.dkim_selector = dkim_selector
    if dkim_public_key is not None:
        peer.dkim_public_key = dkim_public_key
    if tls_fingerprint is not _UNSET:
        peer.tls_fingerprint = _pins(tls_fingerprint, labels)
    session.flush()
    return peer


def hosted_agencies(session: Session, name: str) -> list[str]:
    """OrganIds of the agencies the registry routes through peer ``name``."""
    return list(session.scalars(select(Agency.organ_id).where(Agency.gateway == name).order_by(Agency.organ_id)))


def remove(session: Session, name: str) -> None:
    """Forget a peer; refused while agencies are still routed through it (their mail would have nowhere to go)."""
    peer = get(session, name)
    hosted = hosted_agencies(session, name)
    if hosted:
        shown = ", ".join(hosted[:10]) + (f" and {len(hosted) - 10} more" if len(hosted) > 10 else "")
        raise InputError(f"peer gateway {name!r} still hosts agencies: {shown}; mail to them would have no route")
    session.delete(peer)
    session.flush()


def get(session: Session, name: str) -> PeerGateway:
    peer = session.scalar(select(PeerGateway).where(PeerGateway.name == name))
    if peer is None:
        raise NotFoundError(f"peer gateway {name!r} is not in the registry")
    return peer


def by_domain(session: Session, domain: str) -> PeerGateway | None:
    """The peer that serves mailboxes under ``domain``: where mail for a remote agency is relayed."""
    return session.scalar(select(PeerGateway).where(PeerGateway.domain == domain.lower()))


def listing(session: Session) -> list[PeerGateway]:
    return list(session.scalars(select(PeerGateway).order_by(PeerGateway.name)))


def record(peer: PeerGateway) -> dict[str, Any]:
    """A peer as listings and ``--json`` show it; pins as a list (several during a rollover)."""
    return {
        "name": peer.name,
        "host": peer.smtp_host,
        "port": peer.smtp_port,
        "domain": peer.domain,
        "dkim_selector": peer.dkim_selector,
        "dkim_key": peer.dkim_public_key,
        "tls_fingerprints": list(pinning.stored(peer.tls_fingerprint)),
    }
