"""The delivery worker: a signed document reaches a records office hosted here, and its receipt goes back.

Arrival (Art. 11.1): the agency's S/MIME signature is verified against the sender, the envelope validated again (the
recipient's own check), the exact bytes delivered into the records office's Maildir, the incoming number (số đến)
allocated, and the technical and effective received times recorded. Then the automatic receipt (hồi báo, status 01)
is built, signed with the recipient agency's certificate, and queued for the sender. A document the recipient
cannot accept gets a signed status 02 receipt with the reason code instead. Every step is idempotent on
(DocumentId, recipient): a crash anywhere leads to a retry that delivers nothing twice.

Recipients hosted by another gateway need the relay, which is not built yet: their items wait with that error.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime

from sqlalchemy.orm import Session

from certs.lifecycle import active_signer
from certs.multipart import split_signed
from certs.smime import mic
from certs.verify import Sender, VerificationResult
from gateway import queue
from gateway.documents import IncomingDocument
from gateway.envelope.errors import EnvelopeError
from gateway.envelope.model import DocumentHeader, Organization
from gateway.envelope.parse import Envelope, parse
from gateway.envelope.validate import validate
from gateway.errors import LienthongError
from gateway.ledger.events import Event, EventKind
from gateway.ledger.store import append
from gateway.receipts.mdn import DeliveryFacts, build_receipt
from gateway.workers.services import Services
from registry.models import Agency, SequenceKind
from registry.sequences import allocate

log = logging.getLogger(__name__)

DELIVER_TASK = "deliver"
RECEIPT_TASK = "receipt"


class _Refusal(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


def deliver_one(services: Services, worker: str) -> bool:
    """Do one ``deliver`` item; False when there was nothing to do."""
    now = services.clock()
    with services.sessions.begin() as session:
        item = queue.claim(session, worker, now, tasks=(DELIVER_TASK,))
        if item is None:
            return False
        item_id, payload = item.id, item.data()
        agency = session.get(Agency, payload["recipient"])
        hosted = agency is not None and agency.gateway == services.gateway_name
        mailbox = agency.primary_mailbox if agency is not None else None
        if not hosted or mailbox is None:
            where = agency.gateway if agency is not None else "unknown"
            queue.fail(session, item_id, worker, f"recipient hosted by gateway {where!r}: relay is not built yet", now)
            return True
    try:
        receipt = _arrive(services, services.blobs.get(payload["blob"]), payload["recipient"], mailbox, now)
    except LienthongError as exc:  # ours (no certificate for the recipient, storage): retry later
        with services.sessions.begin() as session:
            queue.fail(session, item_id, worker, f"{type(exc).__name__}: {exc}", now)
        return True
    with services.sessions.begin() as session:
        key = f"{RECEIPT_TASK}:{payload['document_id']}:{payload['recipient']}"
        queue.enqueue(session, RECEIPT_TASK, key, {"blob": receipt}, now)
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


def _arrive(services: Services, raw: bytes, recipient: str, mailbox: str, now: datetime) -> str:
    """Deliver ``raw`` to ``recipient``'s records office; return the blob digest of the signed receipt."""
    try:
        envelope, header, verified = _verify(services, raw, now)
    except _Refusal as refusal:
        return _refuse(services, raw, recipient, mailbox, refusal, now)
    raw_sha256 = hashlib.sha256(raw).hexdigest()
    with services.sessions.begin() as session:
        existing = session.get(IncomingDocument, (header.document_id, recipient))
        if existing is not None:
            return existing.receipt_sha256
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
        return receipt


def _refuse(services: Services, raw: bytes, recipient: str, mailbox: str, refusal: _Refusal, now: datetime) -> str:
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
        return receipt


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
    return services.blobs.put(message)
