"""The processing worker: from an accepted submission to a signed document queued for each recipient.

It claims a ``process`` item, reads the exact bytes the intake stored, parses and validates them (PDF inspection in
an isolated worker process), checks that the envelope's sender is the agency of the account that submitted it, and
then either refuses — recording the reason code, and for classified documents and denunciations (Art. 4.1) purging
the bytes so that only the metadata trace remains — or signs (agency S/MIME, gateway DKIM), stores the signed message,
records the document and queues one ``deliver`` item per recipient, all in one transaction with the ledger event.

Not yet here (issue 5): the outgoing number for senders that leave it empty, the signed acceptance receipt and
non-acceptance notice in the sender's mailbox, and documents that arrive already signed by an agency system.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from certs.lifecycle import active_signer
from gateway import queue
from gateway.documents import OutgoingDocument
from gateway.envelope.errors import EnvelopeError, PdfInspectionUnavailable, Problem
from gateway.envelope.model import DocumentHeader, Kind
from gateway.envelope.parse import Envelope
from gateway.envelope.validate import check, is_refusal
from gateway.errors import LienthongError
from gateway.intake import SubmissionRecord
from gateway.ledger.events import Event, EventKind
from gateway.ledger.store import append
from gateway.queue import Task
from gateway.receipts.notice import NoticeKind, problem_lines
from gateway.workers.notices import enqueue_notice
from gateway.workers.services import Services
from gateway.workers.signing import sign_outgoing

log = logging.getLogger(__name__)


def process_one(services: Services, worker: str) -> bool:
    """Do one ``process`` item; False when there was nothing to do."""
    now = services.clock()
    with services.sessions.begin() as session:
        item = queue.claim(session, worker, now, services.lease, tasks=(Task.PROCESS,))
        if item is None:
            return False
        item_id, submission_id = item.id, int(item.data()["submission"])
        record = session.get(SubmissionRecord, submission_id)
        if record is None:
            queue.fail(session, item_id, worker, f"submission {submission_id} not found", now, services.retry)
            return True
        organ_id, digest = record.organ_id, record.content_sha256
    try:
        raw = services.blobs.get(digest)
        envelope = check(
            raw,
            now=now,
            directory=services.directory,
            inspector=services.inspector,
            convert_legacy=services.convert_legacy,
        )
        header = _document_header(envelope, organ_id)
    except EnvelopeError as error:
        _refuse(services, worker, item_id, submission_id, organ_id, digest, error, now)
        return True
    except (PdfInspectionUnavailable, LienthongError, OSError) as exc:  # ours to fix: retry later
        with services.sessions.begin() as session:
            queue.fail(session, item_id, worker, f"{type(exc).__name__}: {exc}", now, services.retry)
        return True
    _accept(services, worker, item_id, submission_id, organ_id or "", envelope, header, raw, now)
    return True


def _document_header(envelope: Envelope, organ_id: str | None) -> DocumentHeader:
    if envelope.kind is not Kind.DOCUMENT or envelope.metadata is None:
        raise EnvelopeError.of("ENVELOPE_STRUCTURE", "Lienthong-Kind", "submission accepts documents only")
    header = envelope.metadata.header
    assert isinstance(header, DocumentHeader)
    if envelope.signed:
        raise EnvelopeError.of("ENVELOPE_STRUCTURE", "Content-Type", "submit it unsigned: the gateway signs")
    if header.from_.organ_id != organ_id:
        raise EnvelopeError.of(
            "SENDER_MISMATCH", "From/OrganId", f"{header.from_.organ_id} is not the submitting account's agency"
        )
    return header


def _accept(
    services: Services,
    worker: str,
    item_id: int,
    submission_id: int,
    organ_id: str,
    envelope: Envelope,
    header: DocumentHeader,
    raw: bytes,
    now: datetime,
) -> None:
    with services.sessions.begin() as session:
        existing = session.get(OutgoingDocument, header.document_id)
        if existing is not None:
            # Same DocumentId accepted before (this item again after a crash, or a second submission): deliver once.
            state = "accepted" if existing.submission_id == submission_id else "duplicate"
            _finish(session, item_id, worker, submission_id, state, now)
            return
        try:
            signer = active_signer(session, organ_id, services.chain)
        except LienthongError as exc:
            queue.fail(session, item_id, worker, str(exc), now, services.retry)
            return
        outgoing = sign_outgoing(raw, signer, services.domain, services.dkim_keys)
        stored = services.blobs.put(outgoing.message)
        effective = services.calendar.effective(now, organ_id)
        recipients = [org.organ_id for org in header.to]
        session.add(
            OutgoingDocument(
                document_id=header.document_id,
                submission_id=submission_id,
                organ_id=organ_id,
                message_id=envelope.message_id,
                signed_sha256=stored,
                mic=outgoing.mic,
                recipients=",".join(recipients),
                accepted_at=now,
                effective_accepted_at=effective.effective_local,
                calendar_version=effective.calendar_version,
            )
        )
        append(
            session,
            Event(
                EventKind.ACCEPTED,
                now,
                header.document_id,
                organ_id,
                content_sha256=stored,
                effective_at=effective.effective_local,
                calendar_version=effective.calendar_version,
                details={"submission": submission_id, "mic": outgoing.mic, "recipients": recipients},
            ),
        )
        for recipient in recipients:
            payload = {"document_id": header.document_id, "recipient": recipient, "blob": stored}
            queue.enqueue(session, Task.DELIVER, f"{Task.DELIVER}:{header.document_id}:{recipient}", payload, now)
        _notify(session, NoticeKind.ACCEPTANCE, submission_id, organ_id, {"document_id": header.document_id}, now)
        _finish(session, item_id, worker, submission_id, "accepted", now)


def _refuse(
    services: Services,
    worker: str,
    item_id: int,
    submission_id: int,
    organ_id: str | None,
    digest: str,
    error: EnvelopeError,
    now: datetime,
) -> None:
    forbidden = is_refusal(error)
    with services.sessions.begin() as session:
        append(
            session,
            Event(
                EventKind.REFUSED,
                now,
                organ_id=organ_id,
                content_sha256=digest,
                reason_code=error.primary.code,
                details={"submission": submission_id, "problems": [_problem(p) for p in error.problems]},
            ),
        )
        refusal = {
            "reason_code": error.primary.code,
            "problems": list(problem_lines([(p.code, p.field) for p in error.problems])),
        }
        _notify(session, NoticeKind.NON_ACCEPTANCE, submission_id, organ_id, refusal, now)
        _finish(session, item_id, worker, submission_id, "refused", now)
    if forbidden:
        # Art. 4.1: nothing of a classified document or a denunciation is kept; the ledger holds its hash only.
        services.blobs.purge(digest)


def _notify(
    session: Session, kind: NoticeKind, submission_id: int, organ_id: str | None, extra: dict[str, Any], now: datetime
) -> None:
    record = session.get(SubmissionRecord, submission_id)
    if record is not None:
        payload = {"to": record.mail_from, "sender": organ_id, "submission": submission_id, **extra}
        enqueue_notice(session, kind, payload, now)


def _problem(problem: Problem) -> dict[str, str | None]:
    return {"code": problem.code, "field": problem.field}


def _finish(session: Session, item_id: int, worker: str, submission_id: int, state: str, now: datetime) -> None:
    record = session.get(SubmissionRecord, submission_id)
    if record is not None:
        record.state = state
    queue.complete(session, item_id, worker, now)
