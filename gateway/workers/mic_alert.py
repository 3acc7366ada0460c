"""The alerts about a receipt that confirms nothing: a MIC mismatch (issue 5, step 5), or a signer that is not one of
the document's recipients.

Such a receipt proves nothing was confirmed: the recipient signed for other bytes, or an agency the document never
went to signed for it. A log line and a ledger event reach no one who acts on them, and the receipt itself reads like
an ordinary "arrived" receipt, so instead of it the sender's records office gets a signed alert notice — copied to
the operator's records office — through the same queue and signing as every other notice. The receipt stays in the
blob store, named in the alert and the ledger.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from gateway.documents import OutgoingDocument
from gateway.intake import SubmissionRecord
from gateway.receipts.mdn import Receipt
from gateway.receipts.notice import NoticeKind
from gateway.workers.notices import enqueue_notice
from gateway.workers.services import Services


def queue_mic_alert(
    session: Session,
    services: Services,
    document: OutgoingDocument,
    recipient: str,
    receipt: Receipt,
    receipt_sha256: str,
    now: datetime,
) -> bool:
    """Queue the alert on the receipt worker's transaction, so that it exists exactly when the mismatch is recorded;
    False when the sender has no records-office mailbox to warn (the ledger and the error log remain)."""
    details = {"stored_mic": document.mic, "receipt_mic": receipt.mic, "receipt_sha256": receipt_sha256}
    return _queue(session, services, NoticeKind.MIC_ALERT, "RECEIPT_MIC_MISMATCH", document, recipient, details, now)


def queue_receipt_alert(
    session: Session, services: Services, document: OutgoingDocument, signer: str, receipt_sha256: str, now: datetime
) -> bool:
    """The same for a receipt ``signer`` signed although the document was not sent to it; False as above."""
    details = {"receipt_sha256": receipt_sha256, "recipients": document.recipients.replace(",", ", ")}
    kind, code = NoticeKind.RECEIPT_ALERT, "RECEIPT_NOT_FROM_RECIPIENT"
    return _queue(session, services, kind, code, document, signer, details, now)


def _queue(
    session: Session,
    services: Services,
    kind: NoticeKind,
    reason_code: str,
    document: OutgoingDocument,
    recipient: str,
    details: dict[str, Any],
    now: datetime,
) -> bool:
    sender = services.routes.of(session, document.organ_id)
    to = sender.mailbox if sender is not None and sender.mailbox else None
    if to is None:
        submission = session.get(SubmissionRecord, document.submission_id)
        to = submission.mail_from if submission is not None and submission.mail_from else None
    if to is None:
        return False
    operator = services.routes.of(session, services.operator) if services.operator else None
    cc = [operator.mailbox] if operator is not None and operator.mailbox and operator.mailbox != to else []
    agency = services.routes.of(session, recipient)
    payload = {
        "to": to,
        "cc": cc,
        "sender": document.organ_id,
        "submission": document.submission_id,
        "document_id": document.document_id,
        "recipient": recipient,
        "recipient_name": agency.name if agency is not None else None,
        "reason_code": reason_code,
        **details,
    }
    enqueue_notice(session, kind, payload, now)
    return True
