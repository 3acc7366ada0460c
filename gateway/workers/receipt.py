"""The receipt worker: a receipt came back, so the document counts as sent (Art. 11.2).

The receipt's signature must be the recipient agency's, its Received-Content-MIC must equal the MIC stored when the
document was signed, and the sent time is the moment the receipt is recorded here, with its effective time (Art.
11.3). The signed receipt itself, readable in any mail client, goes into the sender's records-office mailbox.

A MIC mismatch is a failure and an alert, never a warning and never "sent": the recipient is ``mic_mismatch`` with a
``receipt_mismatch`` ledger event, and since the receipt would read like an ordinary confirmation it is withheld from
the sender's mailbox; a signed alert notice goes there (and to the operator) instead (``mic_alert``).

A receipt signed by an agency the document was not sent to (its Final-Recipient's agency, which the S/MIME signer must
be, is not among the document's recipients) confirms nothing: another trusted agency, or a gateway holding its key,
would otherwise mark a delivery that never happened as sent. It is refused with ``RECEIPT_NOT_FROM_RECIPIENT``: no
recipient row and no sent time, a ``receipt_rejected`` ledger event, the receipt withheld from the sender's mailbox
and the same kind of signed alert (``receipt-alert``) queued for the sender's records office and the operator.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from certs.verify import Sender
from gateway import queue
from gateway.calendar.effective import EffectiveTime
from gateway.documents import OutgoingDocument, OutgoingRecipient
from gateway.errors import LienthongError
from gateway.ledger.events import Event, EventKind
from gateway.ledger.store import LedgerEntry, append
from gateway.queue import Task
from gateway.receipts.mdn import REFUSED, ReceiptMismatch, check_mic, read_receipt
from gateway.workers.mic_alert import queue_mic_alert, queue_receipt_alert
from gateway.workers.services import Services

log = logging.getLogger(__name__)


def receipt_one(services: Services, worker: str) -> bool:
    """Do one ``receipt`` item; False when there was nothing to do."""
    now = services.clock()
    with services.sessions.begin() as session:
        item = queue.claim(session, worker, now, services.lease, tasks=(Task.RECEIPT,))
        if item is None:
            return False
        item_id, digest = item.id, str(item.data()["blob"])
    try:
        raw = services.blobs.get(digest)
        receipt = read_receipt(raw)
        recipient = services.directory.by_mailbox(receipt.final_recipient)
        if recipient is None:
            raise LienthongError(f"receipt from unknown records office {receipt.final_recipient}")
        services.verifier.verify_sync(raw, Sender(recipient.organ_id, frozenset(recipient.mailboxes)))
    except LienthongError as exc:
        log.error("receipt %s refused: %s", digest[:16], exc)
        with services.sessions.begin() as session:
            queue.fail(session, item_id, worker, f"{type(exc).__name__}: {exc}", now, services.retry)
        return True
    with services.sessions.begin() as session:
        document = session.get(OutgoingDocument, receipt.document_id)
        if document is None:
            queue.fail(
                session, item_id, worker, f"receipt for unknown document {receipt.document_id}", now, services.retry
            )
            return True
        effective = services.calendar.effective(now, document.organ_id)
        if recipient.organ_id not in document.recipients.split(","):
            _reject(session, services, document, recipient.organ_id, receipt.final_recipient, digest, effective, now)
            queue.complete(session, item_id, worker, now)
            return True
        try:
            check_mic(receipt, document.mic)
            state = "refused" if receipt.status_code == REFUSED else "sent"
            kind = EventKind.RECEIPT_RECEIVED
        except ReceiptMismatch as mismatch:
            log.error("ALERT: %s", mismatch)
            state, kind = "mic_mismatch", EventKind.RECEIPT_MISMATCH
            if not queue_mic_alert(session, services, document, recipient.organ_id, receipt, digest, now):
                log.error("ALERT: no records-office mailbox to alert for %s", receipt.document_id)
        if session.get(OutgoingRecipient, (receipt.document_id, recipient.organ_id)) is None:
            session.add(
                OutgoingRecipient(
                    document_id=receipt.document_id,
                    organ_id=recipient.organ_id,
                    state=state,
                    incoming_number=receipt.incoming_number,
                    received_at=receipt.received_at,
                    sent_at=now,
                    effective_sent_at=effective.effective_local,
                    calendar_version=effective.calendar_version,
                    receipt_sha256=digest,
                    reason_code=receipt.reason_code,
                )
            )
            append(
                session,
                Event(
                    kind,
                    now,
                    receipt.document_id,
                    document.organ_id,
                    counterpart=recipient.organ_id,
                    content_sha256=digest,
                    effective_at=effective.effective_local,
                    calendar_version=effective.calendar_version,
                    reason_code=receipt.reason_code,
                    details={"mic": receipt.mic, "status": receipt.status_code, "incoming": receipt.incoming_number},
                ),
            )
        sender = services.routes.of(session, document.organ_id)
        sender_mailbox = sender.mailbox if sender is not None else None
        if sender_mailbox and kind is not EventKind.RECEIPT_MISMATCH:
            services.mailboxes.deliver(sender_mailbox, raw, f"receipt-{digest[:40]}")
        queue.complete(session, item_id, worker, now)
    return True


_REJECTED = select(LedgerEntry.payload).where(LedgerEntry.kind == EventKind.RECEIPT_REJECTED.value)


def _reject(
    session: Session,
    services: Services,
    document: OutgoingDocument,
    signer: str,
    final_recipient: str,
    digest: str,
    effective: EffectiveTime,
    now: datetime,
) -> None:
    """Record and raise the alert for a receipt from an agency the document was not sent to, once per receipt."""
    log.error(
        "ALERT: receipt %s for %s is signed by %s (%s), not one of its recipients %s",
        digest[:16], document.document_id, signer, final_recipient, document.recipients,
    )  # fmt: skip
    earlier = session.scalars(_REJECTED.where(LedgerEntry.document_id == document.document_id)).all()
    if any(json.loads(payload).get("content_sha256") == digest for payload in earlier):
        return  # recorded before (the item is run again after a crash): the alert's queue key is the same too
    if not queue_receipt_alert(session, services, document, signer, digest, now):
        log.error("ALERT: no records-office mailbox to alert for %s", document.document_id)
    append(
        session,
        Event(
            EventKind.RECEIPT_REJECTED,
            now,
            document.document_id,
            document.organ_id,
            counterpart=signer,
            content_sha256=digest,
            effective_at=effective.effective_local,
            calendar_version=effective.calendar_version,
            reason_code="RECEIPT_NOT_FROM_RECIPIENT",
            details={"final_recipient": final_recipient, "recipients": document.recipients.split(",")},
        ),
    )
