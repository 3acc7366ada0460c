"""The relay client: hand a signed document or a receipt to the peer gateway that hosts its addressee.

SMTP with STARTTLS to the peer named in the registry, presenting our gateway certificate and verifying the peer's
against our trust anchors and its registered name. A 2xx is done — ``relayed`` in the ledger for a document,
``receipt_sent`` for a receipt (the moment it really left this gateway, not when it was built); a 4xx
or a connection failure is retried with back-off; a 5xx is final — the item is marked failed for an operator and
the reason kept. Addresses are re-checked before they go into an SMTP command. Sessions are kept open between
messages to the same peer (``relay_connections.py``); the certificate check happens whenever one is opened.
"""

from __future__ import annotations

import ssl

import aiosmtplib

from gateway import queue
from gateway.addresses import Address
from gateway.errors import LienthongError
from gateway.ledger.events import Event, EventKind
from gateway.ledger.store import append
from gateway.queue import Task
from gateway.smtp import pinning
from gateway.smtp.tls import peer_names
from gateway.workers.services import Services
from gateway.workers.smtp_client import RelayClient
from registry.models import PeerGateway


class PeerRefused(LienthongError):
    """The peer answered 5xx: retrying will not help."""


async def _connect(
    host: str, port: int, context: ssl.SSLContext, names: set[str], pins: tuple[str, ...] = ()
) -> aiosmtplib.SMTP:
    """A session with the peer, its certificate checked against the names (and pins) the registry gives it."""
    client = RelayClient(hostname=host, port=port, start_tls=True, tls_context=context, timeout=60)
    await client.connect()
    ssl_object = client.transport.get_extra_info("ssl_object") if client.transport else None
    presented = peer_names(ssl_object)
    if not presented & names:
        client.close()
        raise LienthongError(f"peer at {host}:{port} presented {sorted(presented)}, expected one of {sorted(names)}")
    if not pinning.accepts(pins, seen := pinning.presented(ssl_object)):
        client.close()  # a PinMismatch is a LienthongError: retried, and shown in 'queue list' meanwhile
        raise pinning.mismatch(pins, seen, f"peer at {host}:{port}")
    return client


async def _hand_over(client: aiosmtplib.SMTP, mail_from: str, rcpts: list[str], data: bytes) -> str:
    """One message on an open session: the peer's 250 text, or PeerRefused (5xx) / LienthongError (4xx)."""
    try:
        errors, message = await client.sendmail(mail_from, rcpts, data)
    except aiosmtplib.SMTPResponseException as exc:
        if exc.code >= 500:
            raise PeerRefused(f"peer answered {exc.code} {exc.message}") from None
        raise LienthongError(f"peer answered {exc.code} {exc.message}") from None
    if errors:
        refused = "; ".join(f"{rcpt}: {response.code} {response.message}" for rcpt, response in errors.items())
        raise PeerRefused(f"peer refused recipients: {refused}")
    return message


def relay_one(services: Services, worker: str) -> bool:
    """Do one ``relay`` item; False when there was nothing to do."""
    now = services.clock()
    with services.sessions.begin() as session:
        item = queue.claim(session, worker, now, services.lease, tasks=(Task.RELAY,))
        if item is None:
            return False
        item_id, payload = item.id, item.data()
        peer = session.query(PeerGateway).filter(PeerGateway.name == payload["peer"]).one_or_none()
        target = (
            None
            if peer is None
            else (
                peer.smtp_host,
                peer.smtp_port,
                {peer.domain.lower(), peer.smtp_host.lower()},
                pinning.stored(peer.tls_fingerprint),
            )
        )
    try:
        if target is None:
            raise LienthongError(f"peer gateway {payload['peer']!r} is not in the registry ('lienthong peer add')")
        if services.client_tls is None:
            raise LienthongError("no TLS certificate for this gateway: 'lienthong cert issue tls --host DOMAIN'")
        mail_from = str(Address.parse(payload["mail_from"]))
        rcpts = [str(Address.parse(r)) for r in payload["rcpt_tos"]]
        data = services.blobs.get(payload["blob"])
        host, port, names, pins = target
        context = services.client_tls
        answer = services.relay_connections.send(
            (host, port, pins),  # a changed pin opens a new, checked session instead of reusing a kept one
            lambda: _connect(host, port, context, names, pins),
            lambda client: _hand_over(client, mail_from, rcpts, data),
        )
    except PeerRefused as exc:
        with services.sessions.begin() as session:
            queue.give_up(session, item_id, worker, str(exc), now)
        return True
    except (LienthongError, OSError, aiosmtplib.SMTPException) as exc:
        with services.sessions.begin() as session:
            queue.fail(session, item_id, worker, f"{type(exc).__name__}: {exc}", now, services.retry)
        return True
    handed_over = services.clock()  # the peer's 250: the time the ledger gives the step
    details = {"peer": payload["peer"], "answer": answer[:200]}
    with services.sessions.begin() as session:
        if payload.get("kind") == "document":
            event = Event(
                EventKind.RELAYED,
                handed_over,
                payload.get("document_id"),
                None,
                counterpart=payload.get("recipient"),
                content_sha256=payload["blob"],
                details=details,
            )
            append(session, event)
        elif payload.get("kind") == "receipt":
            # The recipient agency's receipt left for the sender's gateway (an item queued by an earlier version
            # names neither agency nor status: the event still records the hand-over of those bytes).
            status = {"status": payload["status"]} if payload.get("status") else {}
            event = Event(
                EventKind.RECEIPT_SENT,
                handed_over,
                payload.get("document_id"),
                payload.get("recipient"),
                counterpart=payload.get("sender"),
                content_sha256=payload["blob"],
                details={**details, **status},
            )
            append(session, event)
        queue.complete(session, item_id, worker, now)
    return True
