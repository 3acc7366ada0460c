"""The delivery worker: a signed document reaches a records office hosted here, and its receipt goes back.

Arrival (Art. 11.1): the agency's S/MIME signature is verified against the sender, the envelope validated again (the
recipient's own check), the exact bytes delivered into the records office's Maildir, the incoming number (số đến)
allocated, and the technical and effective received times recorded. Then the automatic receipt (hồi báo, status 01)
is built, signed with the recipient agency's certificate, and queued for the sender. A document the recipient
cannot accept gets a signed status 02 receipt with the reason code instead. Every step is idempotent on
(DocumentId, recipient): a crash anywhere leads to a retry that delivers nothing twice.

A recipient hosted by a peer gateway gets a ``relay`` item instead — queued at acceptance already (``route``), or by
this step for ``deliver`` items queued before that; a document a peer relayed to us arrives through an ``arrive``
item and its receipt is relayed back to the sender's gateway, in the transaction that records the arrival.

A peer gateway speaks only for the agencies it hosts: an ``arrive`` item whose sending agency (the edXML From, which
the S/MIME signer must be) the registry does not place on the peer that handed it over (``payload["peer"]``, the
gateway the relay listener authenticated by TLS certificate and DKIM) is refused with ``SENDER_NOT_HOSTED_BY_PEER``
and a signed status 02 receipt, before its signature is even looked at. Every receipt of an ``arrive`` item goes back
through that same peer: after the check it is the sender's gateway anyway, and when the check fails it is the only
gateway known to have handled the document (our registry may be the stale one).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session

from certs import dkim
from certs.multipart import split_signed
from certs.smime import mic
from certs.verify import Sender, VerificationResult
from gateway import queue
from gateway.documents import IncomingDocument, OutgoingDocument
from gateway.envelope.errors import EnvelopeError
from gateway.envelope.model import DocumentHeader, Organization
from gateway.envelope.parse import Envelope, parse
from gateway.envelope.validate import validate
from gateway.errors import LienthongError
from gateway.ledger.events import Event, EventKind
from gateway.ledger.store import append
from gateway.queue import Task
from gateway.receipts.mdn import ARRIVED, REFUSED, DeliveryFacts, build_receipt
from gateway.workers.routes import Route
from gateway.workers.services import Services
from registry.models import SequenceKind
from registry.sequences import allocate

log = logging.getLogger(__name__)

# The arrival's own row, read and written as Core statements (no ORM object is needed after the step).
_RECEIPT_OF = select(IncomingDocument.receipt_sha256).where(
    IncomingDocument.document_id == bindparam("document_id"), IncomingDocument.organ_id == bindparam("organ_id")
)
_RECORD = insert(IncomingDocument)


class _Refusal(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


def route_key(task: Task, document_id: str, recipient: str) -> str:
    """The queue key of a document's way to one recipient: enqueued once, and found again to give it up."""
    return f"{task}:{document_id}:{recipient}"


def deliver_one(services: Services, worker: str) -> bool:
    """Do one ``deliver`` item (a document accepted here); False when there was nothing to do."""
    return _take(services, worker, Task.DELIVER)


def arrive_one(services: Services, worker: str) -> bool:
    """Do one ``arrive`` item (a document a peer gateway relayed to an agency hosted here)."""
    return _take(services, worker, Task.ARRIVE)


def route(
    services: Services, session: Session, document_id: str, sender: str, recipient: str, blob: str, now: datetime
) -> None:
    """Queue the way to ``recipient`` of a document accepted here, in the caller's transaction.

    A recipient a peer gateway hosts gets its ``relay`` item at once (the key and payload ``deliver`` would build);
    every other case — hosted here, or unknown to the registry, or without a mailbox — gets a ``deliver`` item,
    whose step delivers or says what is wrong."""
    to = services.routes.of(session, recipient)
    if to is not None and to.mailbox is not None and to.gateway != services.gateway_name:
        _relay_document(services, session, document_id, sender, to, to.mailbox, blob, now)
        return
    payload = {"document_id": document_id, "recipient": recipient, "blob": blob}
    queue.enqueue(session, Task.DELIVER, route_key(Task.DELIVER, document_id, recipient), payload, now)


def _relay_document(
    services: Services, session: Session, document_id: str, sender: str, to: Route, mailbox: str, blob: str,
    now: datetime,
) -> None:  # fmt: skip
    """Hand the signed message to the relay, from the sender's records office."""
    home = services.routes.of(session, sender) if sender else None
    relay = {
        "blob": blob,
        "peer": to.gateway,
        "mail_from": (home.mailbox if home is not None else None) or "",
        "rcpt_tos": [mailbox],
        "document_id": document_id,
        "recipient": to.organ_id,
        "kind": "document",
    }
    queue.enqueue(session, Task.RELAY, route_key(Task.RELAY, document_id, to.organ_id), relay, now)


def _take(services: Services, worker: str, task: str) -> bool:
    now = services.clock()
    with services.sessions.begin() as session:
        item = queue.claim(session, worker, now, services.lease, tasks=(task,))
        if item is None:
            return False
        item_id, payload = item.id, item.data()
        to = services.routes.of(session, payload["recipient"])
        mailbox = to.mailbox if to is not None else None
        if to is None or mailbox is None:
            error = f"recipient {payload['recipient']} has no records-office mailbox"
            queue.fail(session, item_id, worker, error, now, services.retry)
            return True
        if to.gateway != services.gateway_name:
            if task == Task.ARRIVE:  # the registry changed since the peer relayed it: not ours to deliver
                error = f"recipient {to.organ_id} is hosted by {to.gateway!r}, not here"
                queue.fail(session, item_id, worker, error, now, services.retry)
                return True
            # A deliver item queued before acceptance routed peers' recipients itself (or the registry changed).
            document_id = payload["document_id"]
            sender = _sender_of(session, document_id)
            _relay_document(services, session, document_id, sender, to, mailbox, payload["blob"], now)
            queue.complete(session, item_id, worker, now)
            return True
    peer = payload.get("peer") if task == Task.ARRIVE else None
    return _arrive_and_route(services, worker, item_id, payload["blob"], to, mailbox, peer, now)


def _sender_of(session: Session, document_id: str) -> str:
    document = session.get(OutgoingDocument, document_id)
    return document.organ_id if document is not None else ""


Finish = Callable[[Session, str, Organization, str, str | None], None]


def _arrive_and_route(
    services: Services, worker: str, item_id: int, blob: str, to: Route, mailbox: str, peer: str | None, now: datetime
) -> bool:
    """``peer``: the gateway that relayed the document (``arrive``), None for a document accepted here."""

    def finish(session: Session, receipt: str, sender: Organization, document_id: str, status: str | None) -> None:
        """Route the receipt and close the item in the transaction that recorded the arrival (or the refusal).

        ``receipt_sent`` says when the receipt left the recipient's side: for a sender hosted here that is now, the
        receipt handed to this gateway's receipt worker in this transaction; for one on a peer it is when the relay
        worker's SMTP transaction succeeds, recorded there. ``status`` None: a receipt built and routed before."""
        home = services.routes.of(session, sender.organ_id)
        via = peer or (home.gateway if home is not None else services.gateway_name)
        if via == services.gateway_name:
            queue.enqueue(session, Task.RECEIPT, f"{Task.RECEIPT}:{receipt}", {"blob": receipt}, now)
            if status is not None:
                event = Event(
                    EventKind.RECEIPT_SENT,
                    now,
                    document_id,
                    to.organ_id,
                    sender.organ_id,
                    content_sha256=receipt,
                    details={"status": status},
                )
                append(session, event)
        else:
            # The registry's records office when it places the sender on that gateway, else the edXML From mailbox.
            rcpt = home.mailbox if home is not None and home.gateway == via and home.mailbox else sender.email
            relay = {
                "blob": receipt,
                "peer": via,
                "mail_from": mailbox,
                "rcpt_tos": [rcpt],
                "kind": "receipt",
                "document_id": document_id,
                "recipient": to.organ_id,
                "sender": sender.organ_id,
                "status": status,
            }
            queue.enqueue(session, Task.RELAY, f"{Task.RELAY}:{receipt}", relay, now)
        queue.complete(session, item_id, worker, now)

    try:
        _arrive(services, services.blobs.get(blob), to, mailbox, peer, now, finish)
    except LienthongError as exc:  # ours (no certificate for the recipient, storage): retry later
        with services.sessions.begin() as session:
            queue.fail(session, item_id, worker, f"{type(exc).__name__}: {exc}", now, services.retry)
    return True


def _verify(
    services: Services, raw: bytes, peer: str | None, now: datetime
) -> tuple[Envelope, DocumentHeader, VerificationResult]:
    try:
        envelope = parse(raw)
        if envelope.metadata is None or not isinstance(envelope.metadata.header, DocumentHeader):
            raise _Refusal("ENVELOPE_STRUCTURE", "not a document")
        header = envelope.metadata.header
        if peer is not None:
            _check_hosted_by(services, header.from_.organ_id, peer)
        sender = services.directory.lookup(header.from_.organ_id)
        mailboxes = frozenset(sender.mailboxes) if sender is not None else frozenset()
        result = services.verifier.verify_sync(raw, Sender(header.from_.organ_id, mailboxes))
        envelope = validate(envelope, now=now, directory=services.directory, inspector=services.inspector)
    except EnvelopeError as error:
        raise _Refusal(error.primary.code, error.primary.describe()) from None
    except LienthongError as error:
        code = getattr(error, "code", None)
        if isinstance(code, str):  # a trust failure carries its reason code
            raise _Refusal(code, str(error)) from None
        raise
    return envelope, header, result


def _check_hosted_by(services: Services, sender: str, peer: str) -> None:
    """Refuse a document a peer relayed for an agency the registry does not place on that peer."""
    with services.sessions() as session:
        home = services.routes.of(session, sender)
    if home is None:
        raise _Refusal("SENDER_UNKNOWN", f"sending agency {sender} is not in the registry (relayed by {peer!r})")
    if home.gateway != peer:
        log.warning(
            "document from %s relayed by %r, but the registry has it on %r: refused", sender, peer, home.gateway
        )
        detail = f"sending agency {sender} is hosted by {home.gateway!r}, not by {peer!r} that relayed it"
        raise _Refusal("SENDER_NOT_HOSTED_BY_PEER", detail)


def _arrive(
    services: Services, raw: bytes, to: Route, mailbox: str, peer: str | None, now: datetime, finish: Finish
) -> None:
    """Deliver ``raw`` to ``to``'s records office; ``finish`` gets the signed receipt's blob digest and addressee."""
    recipient = to.organ_id
    try:
        envelope, header, verified = _verify(services, raw, peer, now)
    except _Refusal as refusal:
        _refuse(services, raw, to, mailbox, refusal, peer, now, finish)
        return
    raw_sha256 = hashlib.sha256(raw).hexdigest()
    with services.sessions.begin() as session:
        keys = {"document_id": header.document_id, "organ_id": recipient}
        existing = session.connection().execute(_RECEIPT_OF, keys).scalar()
        if existing is not None:
            finish(session, existing, header.from_, header.document_id, None)
            return
        effective = services.calendar.effective(now, recipient)
        year = effective.effective_local.year
        number = allocate(session, recipient, year, SequenceKind.INCOMING)
        key = hashlib.sha256(f"{header.document_id}\0{recipient}".encode()).hexdigest()[:40]
        delivered = services.mailboxes.deliver(mailbox, raw, key)
        facts = DeliveryFacts(
            document_id=header.document_id,
            original_message_id=envelope.message_id,
            original_sender=header.from_,
            recipient=_organization(to, mailbox),
            final_recipient=mailbox,
            mic=verified.mic,
            received_at=now,
            effective_at=effective.effective_local,
            calendar_version=effective.calendar_version,
            incoming_number=number,
            subject=header.subject,
        )
        receipt = _signed_receipt(services, session, facts)
        session.flush()
        session.connection().execute(
            _RECORD,
            {
                **keys,
                "sender_organ_id": header.from_.organ_id,
                "incoming_number": number,
                "year": year,
                "message_sha256": raw_sha256,
                "mailbox": mailbox,
                "location": delivered.location,
                "received_at": now,
                "effective_received_at": effective.effective_local,
                "calendar_version": effective.calendar_version,
                "receipt_sha256": receipt,
            },
        )
        append(
            session,
            Event(
                EventKind.DELIVERED,
                now,
                header.document_id,
                recipient,
                counterpart=header.from_.organ_id,
                content_sha256=raw_sha256,
                effective_at=effective.effective_local,
                calendar_version=effective.calendar_version,
                details={"incoming_number": number, "mailbox": mailbox, "mic": verified.mic},
            ),
        )
        finish(session, receipt, header.from_, header.document_id, ARRIVED)


def _refuse(
    services: Services,
    raw: bytes,
    to: Route,
    mailbox: str,
    refusal: _Refusal,
    peer: str | None,
    now: datetime,
    finish: Finish,
) -> None:
    """A signed status 02 receipt with the reason; the document is not delivered to the records office."""
    try:
        envelope = parse(raw)
        document_id, message_id = envelope.document_id_header, envelope.message_id
        sender = envelope.metadata.header.from_ if envelope.metadata is not None else Organization()
    except EnvelopeError:
        document_id, message_id, sender = "", "", Organization()
    if not isinstance(sender, Organization) or not sender.email:
        raise LienthongError(f"cannot return a refusal for {document_id!r}: the sender's mailbox is unknown")
    recipient = to.organ_id
    with services.sessions.begin() as session:
        effective = services.calendar.effective(now, recipient)
        facts = DeliveryFacts(
            document_id=document_id,
            original_message_id=message_id,
            original_sender=sender,
            recipient=_organization(to, mailbox),
            final_recipient=mailbox,
            mic=_mic(raw),
            received_at=now,
            effective_at=effective.effective_local,
            calendar_version=effective.calendar_version,
            reason_code=refusal.code,
            detail=refusal.detail[:500],
        )
        receipt = _signed_receipt(services, session, facts)
        append(
            session,
            Event(
                EventKind.REFUSED,
                now,
                document_id,
                recipient,
                counterpart=sender.organ_id,
                content_sha256=hashlib.sha256(raw).hexdigest(),
                effective_at=effective.effective_local,
                calendar_version=effective.calendar_version,
                reason_code=refusal.code,
                details={"peer": peer} if peer is not None else {},
            ),
        )
        finish(session, receipt, sender, document_id, REFUSED)


def _mic(raw: bytes) -> str:
    try:
        return mic(split_signed(raw).content)
    except LienthongError:
        return mic(raw)


def _organization(to: Route, mailbox: str) -> Organization:
    return Organization(organ_id=to.organ_id, organ_name=to.name, email=mailbox)


def _signed_receipt(services: Services, session: Session, facts: DeliveryFacts) -> str:
    signer = services.signers.active(session, facts.recipient.organ_id, services.chain)
    message = build_receipt(facts, services.domain, signer.certificate, signer.key, signer.chain)
    if services.dkim_keys:  # receipts travel between gateways too, where DKIM is required
        message = dkim.sign(message, services.domain, services.dkim_keys) + message
    return services.blobs.put(message)
