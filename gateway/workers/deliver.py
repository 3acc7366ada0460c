"""The delivery worker: a signed document reaches a records office hosted here, and its receipt goes back.

Arrival (Art. 11.1): the agency's S/MIME signature is verified against the sender, the envelope validated again (the
recipient's own check), the exact bytes delivered into the records office's Maildir, the incoming number (số đến)
allocated, and the technical and effective received times recorded. Then the automatic receipt (hồi báo, status 01)
is built, signed with the recipient agency's certificate, and queued for the sender. A document the recipient
cannot accept gets a signed status 02 receipt with the reason code instead. Every step is idempotent on
(DocumentId, recipient): a crash anywhere leads to a retry that delivers nothing twice.

A recipient hosted by a peer gateway gets a ``relay`` item instead; a document a peer relayed to us arrives through
an ``arrive`` item and its receipt is relayed back to the sender's gateway.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime

from sqlalchemy.orm import Session

from certs import dkim
from certs.lifecycle import active_signer
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
from gateway.receipts.mdn import DeliveryFacts, build_receipt
from gateway.workers.services import Services
from registry.models import Agency, SequenceKind
from registry.sequences import allocate

log = logging.getLogger(__name__)


class _Refusal(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


def deliver_one(services: Services, worker: str) -> bool:
    """Do one ``deliver`` item (a document accepted here); False when there was nothing to do."""
    return _take(services, worker, Task.DELIVER)


def arrive_one(services: Services, worker: str) -> bool:
    """Do one ``arrive`` item (a document a peer gateway relayed to an agency hosted here)."""
    return _take(services, worker, Task.ARRIVE)


def _take(services: Services, worker: str, task: str) -> bool:
    now = services.clock()
    with services.sessions.begin() as session:
        item = queue.claim(session, worker, now, services.lease, tasks=(task,))
        if item is None:
            return False
        item_id, payload = item.id, item.data()
        agency = session.get(Agency, payload["recipient"])
        mailbox = agency.primary_mailbox if agency is not None else None
        if agency is None or mailbox is None:
            error = f"recipient {payload['recipient']} has no records-office mailbox"
            queue.fail(session, item_id, worker, error, now, services.retry)
            return True
        if agency.gateway != services.gateway_name:
            if task == Task.ARRIVE:  # the registry changed since the peer relayed it: not ours to deliver
                error = f"recipient {agency.organ_id} is hosted by {agency.gateway!r}, not here"
                queue.fail(session, item_id, worker, error, now, services.retry)
                return True
            # Hosted by a peer gateway: hand the signed message to the relay, from the sender's records office.
            sender = session.get(Agency, _sender_of(session, payload["document_id"]))
            relay = {
                "blob": payload["blob"],
                "peer": agency.gateway,
                "mail_from": sender.primary_mailbox if sender is not None else "",
                "rcpt_tos": [mailbox],
                "document_id": payload["document_id"],
                "recipient": agency.organ_id,
                "kind": "document",
            }
            queue.enqueue(session, Task.RELAY, f"{Task.RELAY}:{payload['document_id']}:{agency.organ_id}", relay, now)
            queue.complete(session, item_id, worker, now)
            return True
    return _arrive_and_route(services, worker, item_id, payload["blob"], payload["recipient"], mailbox, now)


def _sender_of(session: Session, document_id: str) -> str:
    document = session.get(OutgoingDocument, document_id)
    return document.organ_id if document is not None else ""


def _arrive_and_route(
    services: Services, worker: str, item_id: int, blob: str, recipient: str, mailbox: str, now: datetime
) -> bool:
    try:
        receipt, sender = _arrive(services, services.blobs.get(blob), recipient, mailbox, now)
    except LienthongError as exc:  # ours (no certificate for the recipient, storage): retry later
        with services.sessions.begin() as session:
            queue.fail(session, item_id, worker, f"{type(exc).__name__}: {exc}", now, services.retry)
        return True
    with services.sessions.begin() as session:
        home_of_sender = session.get(Agency, sender.organ_id)
        if home_of_sender is None or home_of_sender.gateway == services.gateway_name:
            queue.enqueue(session, Task.RECEIPT, f"{Task.RECEIPT}:{receipt}", {"blob": receipt}, now)
        else:
            relay = {
                "blob": receipt,
                "peer": home_of_sender.gateway,
                "mail_from": mailbox,
                "rcpt_tos": [home_of_sender.primary_mailbox or sender.email],
                "kind": "receipt",
            }
            queue.enqueue(session, Task.RELAY, f"{Task.RELAY}:{receipt}", relay, now)
        queue.complete(session, item_id, worker, now)
    return True


def _verify(services: Services, raw: bytes, now: datetime) -> tuple[Envelope, DocumentHeader, VerificationResult]:
    try:
        envelope = parse(raw)
        if envelope.metadata is None or not isinstance(envelope.metadata.header, DocumentHeader):
            raise _Refusal("ENVELOPE_STRUCTURE", "not a document")
        header = envelope.metadata.header
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


def _arrive(services: Services, raw: bytes, recipient: str, mailbox: str, now: datetime) -> tuple[str, Organization]:
    """Deliver ``raw`` to ``recipient``'s records office; the blob digest of the signed receipt, and its addressee."""
    try:
        envelope, header, verified = _verify(services, raw, now)
    except _Refusal as refusal:
        return _refuse(services, raw, recipient, mailbox, refusal, now)
    raw_sha256 = hashlib.sha256(raw).hexdigest()
    with services.sessions.begin() as session:
        existing = session.get(IncomingDocument, (header.document_id, recipient))
        if existing is not None:
            return existing.receipt_sha256, header.from_
        effective = services.calendar.effective(now, recipient)
        year = effective.effective_local.year
        number = allocate(session, recipient, year, SequenceKind.INCOMING)
        key = hashlib.sha256(f"{header.document_id}\0{recipient}".encode()).hexdigest()[:40]
        delivered = services.mailboxes.deliver(mailbox, raw, key)
        facts = DeliveryFacts(
            document_id=header.document_id,
            original_message_id=envelope.message_id,
            original_sender=header.from_,
            recipient=_organization(session, recipient, mailbox),
            final_recipient=mailbox,
            mic=verified.mic,
            received_at=now,
            effective_at=effective.effective_local,
            calendar_version=effective.calendar_version,
            incoming_number=number,
            subject=header.subject,
        )
        receipt = _signed_receipt(services, session, facts)
        session.add(
            IncomingDocument(
                document_id=header.document_id,
                organ_id=recipient,
                sender_organ_id=header.from_.organ_id,
                incoming_number=number,
                year=year,
                message_sha256=raw_sha256,
                mailbox=mailbox,
                location=delivered.location,
                received_at=now,
                effective_received_at=effective.effective_local,
                calendar_version=effective.calendar_version,
                receipt_sha256=receipt,
            )
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
        append(
            session,
            Event(
                EventKind.RECEIPT_SENT,
                now,
                header.document_id,
                recipient,
                header.from_.organ_id,
                content_sha256=receipt,
            ),
        )
        return receipt, header.from_


def _refuse(
    services: Services, raw: bytes, recipient: str, mailbox: str, refusal: _Refusal, now: datetime
) -> tuple[str, Organization]:
    """A signed status 02 receipt with the reason; the document is not delivered to the records office."""
    try:
        envelope = parse(raw)
        document_id, message_id = envelope.document_id_header, envelope.message_id
        sender = envelope.metadata.header.from_ if envelope.metadata is not None else Organization()
    except EnvelopeError:
        document_id, message_id, sender = "", "", Organization()
    if not isinstance(sender, Organization) or not sender.email:
        raise LienthongError(f"cannot return a refusal for {document_id!r}: the sender's mailbox is unknown")
    with services.sessions.begin() as session:
        effective = services.calendar.effective(now, recipient)
        facts = DeliveryFacts(
            document_id=document_id,
            original_message_id=message_id,
            original_sender=sender,
            recipient=_organization(session, recipient, mailbox),
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
            ),
        )
        return receipt, sender


def _mic(raw: bytes) -> str:
    try:
        return mic(split_signed(raw).content)
    except LienthongError:
        return mic(raw)


def _organization(session: Session, organ_id: str, mailbox: str) -> Organization:
    agency = session.get(Agency, organ_id)
    return Organization(organ_id=organ_id, organ_name=agency.name if agency else "", email=mailbox)


def _signed_receipt(services: Services, session: Session, facts: DeliveryFacts) -> str:
    signer = active_signer(session, facts.recipient.organ_id, services.chain)
    message = build_receipt(facts, services.domain, signer.certificate, signer.key, signer.chain)
    if services.dkim_keys:  # receipts travel between gateways too, where DKIM is required
        message = dkim.sign(message, services.domain, services.dkim_keys) + message
    return services.blobs.put(message)
