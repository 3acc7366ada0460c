"""The relay listener: documents and receipts from peer gateways.

Only a registered peer may hand mail in: TLS with a client certificate that chains to one of our trust anchors and
names a peer gateway of the registry (its domain or SMTP host) and, when the registry pins that peer's certificate,
is one of the pinned ones; only for records offices this gateway hosts; and only with a DKIM signature that passes
for that peer's domain, its key taken from the registry. What passes is stored and queued — an ``arrive`` item per
recipient for a document, a ``receipt`` item for a receipt — and the workers verify the agency's S/MIME signature
and the envelope as for a local delivery.

The registry's answers (which peers a certificate's names belong to, which mailboxes are hosted here, a peer's DKIM
key) are remembered for ``[gateway] registry_cache_seconds``: a removed peer or agency is still served for up to
that long. Only positive answers are remembered, so a peer or an agency just added is never refused for it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.parser import BytesHeaderParser
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from certs import dkim
from gateway import queue
from gateway.addresses import Address
from gateway.blobs import BlobStore
from gateway.errors import InputError, LienthongError
from gateway.queue import Task
from gateway.reasons import reason
from gateway.smtp import pinning
from gateway.smtp.mailboxes import MailboxOwners, hosted_here
from gateway.smtp.pinning import PinMismatch
from gateway.smtp.tls import peer_names
from gateway.ttl_cache import TtlCache
from registry.models import PeerGateway

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Peer:
    name: str
    domain: str


@dataclass(frozen=True, slots=True)
class _PeerRow:
    name: str
    domain: str
    tls_fingerprint: str | None


class _RememberedKeys:
    """A DKIM key lookup that remembers the keys it found (not the misses)."""

    def __init__(self, inner: dkim.KeyLookup, ttl_seconds: float) -> None:
        self._inner = inner
        self._keys: TtlCache[bytes, bytes | None] = TtlCache(ttl_seconds)

    def __call__(self, name: bytes, timeout: int = 5) -> bytes | None:
        return self._keys.get(name, lambda: self._inner(name, timeout), keep=lambda key: key is not None)


class RelayHandler:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        blobs: BlobStore,
        gateway_name: str,
        max_recipients: int = 100,
        max_message_bytes: int = 30 * 1024 * 1024,
        ttl_seconds: float = 0.0,
    ) -> None:
        self.sessions = sessions
        self.blobs = blobs
        self.gateway_name = gateway_name
        self.max_recipients = max_recipients
        self.max_message_bytes = max_message_bytes
        self.lookup = _RememberedKeys(dkim.RegistryLookup(sessions), ttl_seconds)
        self._peers: TtlCache[frozenset[str], tuple[_PeerRow, ...]] = TtlCache(ttl_seconds)
        self.hosted = MailboxOwners(sessions, hosted_here(gateway_name), ttl_seconds)

    def _peer_rows(self, names: frozenset[str]) -> tuple[_PeerRow, ...]:
        def load() -> tuple[_PeerRow, ...]:
            with self.sessions() as session:
                rows = session.scalars(
                    select(PeerGateway)
                    .where(or_(PeerGateway.domain.in_(names), PeerGateway.smtp_host.in_(names)))
                    .order_by(PeerGateway.name)
                ).all()
                return tuple(_PeerRow(r.name, r.domain, r.tls_fingerprint) for r in rows)

        return self._peers.get(names, load, keep=bool)

    @staticmethod
    def _peer(rows: tuple[_PeerRow, ...], seen: str | None) -> Peer | PinMismatch | None:
        """The registered peer these rows name; a PinMismatch when it is pinned to another certificate."""
        for row in rows:
            if pinning.accepts(pinning.stored(row.tls_fingerprint), seen):
                return Peer(row.name, row.domain)
        if not rows:
            return None
        return pinning.mismatch(pinning.stored(rows[0].tls_fingerprint), seen, f"peer gateway {rows[0].name!r}")

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        ssl_object = (session.ssl or {}).get("ssl_object")
        names = frozenset(peer_names(ssl_object))
        rows = self._peers.peek(names) if names else ()
        if rows is None:
            rows = await asyncio.to_thread(self._peer_rows, names)
        peer = self._peer(rows, pinning.presented(ssl_object))
        if peer is None:
            shown = ", ".join(sorted(names)) or "no certificate"
            return reason("RELAY_DENIED").smtp_reply(f"{shown}: not a registered peer gateway")
        if isinstance(peer, PinMismatch):
            log.warning("relay refused: %s", peer)
            # Nothing this client sends on the session can be accepted: end it once the reply is written.
            if server.transport is not None:
                asyncio.get_running_loop().call_soon(server.transport.close)
            return reason("PEER_PIN_MISMATCH").smtp_reply(str(peer))
        try:
            sender = str(Address.parse(address))
        except InputError as exc:
            return f"553 5.1.7 {exc.message}"
        envelope.mail_from = sender
        envelope.mail_options.extend(options)
        envelope.peer = peer
        envelope.recipients = []
        return "250 2.1.0 Sender OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if getattr(envelope, "peer", None) is None:
            return "503 5.5.1 MAIL first"
        try:
            recipient = str(Address.parse(address))
        except InputError as exc:
            return f"553 5.1.3 {exc.message}"
        if len(envelope.rcpt_tos) >= self.max_recipients:
            return f"452 4.5.3 Too many recipients (at most {self.max_recipients} per message)"
        organ_id = await self.hosted.organ_of(recipient)
        if organ_id is None:
            return reason("RECIPIENT_UNKNOWN").smtp_reply(f"{recipient} is not a records office hosted here")
        envelope.rcpt_tos.append(recipient)
        envelope.recipients.append(organ_id)
        return "250 2.1.5 Recipient OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw: bytes = envelope.original_content or b""
        peer: Peer = envelope.peer
        try:
            checks = await asyncio.to_thread(dkim.verify, raw, self.lookup)
            dkim.require_pass(checks, peer.domain)
        except LienthongError as exc:
            return reason("DKIM_FAIL").smtp_reply(str(exc)[:200])
        end = raw.find(b"\r\n\r\n")
        top = BytesHeaderParser(policy=policy.compat32).parsebytes(raw[: end + 4] if end >= 0 else raw)
        kind = str(top.get("Lienthong-Kind", "")).strip().lower()
        if kind not in ("document", "receipt"):
            return reason("ENVELOPE_STRUCTURE").smtp_reply(f"Lienthong-Kind {kind or 'missing'}: not relayed")
        try:
            stored = await asyncio.to_thread(self._persist, raw, kind, list(envelope.recipients), peer)
        except (OSError, LienthongError) as exc:
            log.error("relay intake failed: %s", exc)
            return reason("TEMP_STORAGE").smtp_reply()
        return f"250 2.0.0 Accepted from {peer.name} ({stored[:16]})"

    def _persist(self, raw: bytes, kind: str, recipients: list[str], peer: Peer) -> str:
        digest = self.blobs.put(raw)
        now = datetime.now(UTC)
        with self.sessions.begin() as session:
            if kind == "document":
                for organ_id in recipients:
                    payload = {"blob": digest, "recipient": organ_id, "peer": peer.name}
                    queue.enqueue(session, Task.ARRIVE, f"{Task.ARRIVE}:{digest}:{organ_id}", payload, now)
            else:
                queue.enqueue(session, Task.RECEIPT, f"{Task.RECEIPT}:{digest}", {"blob": digest}, now)
        return digest
