"""Peer gateways: the other gateways this one exchanges documents with over SMTP.

Only the addressing lives here for now; the trust material (TLS certificate fingerprint, DKIM key) has its columns
already and is filled by the trust issue, so adding it needs no new migration of this table.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.errors import InputError, NotFoundError
from registry.models import PeerGateway

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_HOST = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


def add(session: Session, name: str, smtp_host: str, domain: str, smtp_port: int = 25) -> PeerGateway:
    """Register a peer (the caller commits)."""
    if not _NAME.match(name):
        raise InputError(f"name {name!r}: expected a gateway name (a-z, 0-9, '-', at most 64)")
    if not _HOST.match(smtp_host):
        raise InputError(f"smtp host {smtp_host!r}: expected a host name or IPv4 address")
    if not _HOST.match(domain) or "." not in domain:
        raise InputError(f"domain {domain!r}: expected a mail domain such as hanoi.lienthong.gov.vn")
    if not 1 <= smtp_port <= 65535:
        raise InputError(f"smtp port {smtp_port}: expected 1-65535")
    domain = domain.lower()
    if session.scalar(select(PeerGateway.id).where(PeerGateway.name == name)) is not None:
        raise InputError(f"name {name!r}: a peer gateway with this name already exists")
    if session.scalar(select(PeerGateway.id).where(PeerGateway.domain == domain)) is not None:
        raise InputError(f"domain {domain!r}: another peer gateway already serves this domain")
    peer = PeerGateway(name=name, smtp_host=smtp_host.lower(), smtp_port=smtp_port, domain=domain)
    session.add(peer)
    session.flush()
    return peer


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
