"""The processing worker: from an accepted submission to a signed document queued for each recipient.

It claims a ``process`` item, reads the exact bytes the intake stored, parses and validates them (PDFs read in
isolated worker processes), checks that the envelope's sender is the agency of the account that submitted it, and
then either refuses — recording the reason code, and for classified documents and denunciations (Art. 4.1) purging
the bytes so that only the metadata trace remains — or signs (agency S/MIME, gateway DKIM), stores the signed message,
records the document and queues one ``deliver`` item per recipient, all in one transaction with the ledger event.

A sender may leave the number empty (the "not yet numbered" state of docs/envelope.md): the agency's next outgoing
number is then allocated in the very transaction that records the document, so a crash rolls the number back with
everything else (no gap, no number given twice), and the envelope is rebuilt around it before signing
(``numbering``). The acceptance notice tells the sender the number and DocumentId it got.

A clerk's plain mail (no ``Lienthong-Kind``) is first made into an envelope (``clerk_intake``) and then goes the
same way; every ``accepted`` event names the submitted bytes' hash (``submitted_sha256``) beside the signed one.

An envelope the agency system already S/MIME-signed itself is verified against the account's agency, validated,
and sent on unchanged behind the gateway's DKIM signature (``presigned``); it must already carry its number.
Refusals, and what every outcome records of its submission, are in ``refusal``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from certs.lifecycle import Signer
from certs.verify import VerificationResult
from gateway import queue
from gateway.documents import OutgoingDocument
from gateway.envelope.errors import EnvelopeError, PdfInspectionUnavailable
from gateway.envelope.model import DocumentHeader, Kind
from gateway.envelope.parse import Envelope, parse
from gateway.envelope.validate import validate
from gateway.errors import LienthongError
from gateway.intake import SubmissionRecord
from gateway.ledger.events import Event, EventKind
from gateway.ledger.store import append
from gateway.ledger.timeline import SUBMITTED_ENTRY
from gateway.queue import Task
from gateway.receipts.notice import NoticeKind
from gateway.workers.clerk_intake import as_envelope
from gateway.workers.deliver import route
from gateway.workers.numbering import fingerprint, is_unnumbered, issue_year, rebuild
from gateway.workers.presigned import require_number, verify_submitted
from gateway.workers.refusal import Submitted, claimed_id, finish, notify, refuse
from gateway.workers.services import Services
from gateway.workers.signing import dkim_only, sign_outgoing
from registry.models import SequenceKind
from registry.sequences import allocate

log = logging.getLogger(__name__)

_MAX_TAKEN = 100  # hand-given numbers in a row the allocation skips before it gives up (and retries later)

# The submission row is read once and written once per item: Core statements, not ORM gets and flushes.
_SUBMISSION = select(SubmissionRecord.organ_id, SubmissionRecord.content_sha256, SubmissionRecord.received_at).where(
    SubmissionRecord.id == bindparam("submission")
)
_ACCEPTED_FROM = select(OutgoingDocument.submission_id).where(OutgoingDocument.document_id == bindparam("document"))
_ACCEPTED_AS = select(OutgoingDocument.submission_id, OutgoingDocument.submitted_fingerprint).where(
    OutgoingDocument.document_id == bindparam("document")
)
_RECORD = insert(OutgoingDocument)


def process_one(services: Services, worker: str) -> bool:
    """Do one ``process`` item; False when there was nothing to do."""
    now = services.clock()
    with services.sessions.begin() as session:
        item = queue.claim(session, worker, now, services.lease, tasks=(Task.PROCESS,))
        if item is None:
            return False
        payload = item.data()
        item_id, submission_id = item.id, int(payload["submission"])
        record = session.connection().execute(_SUBMISSION, {"submission": submission_id}).first()
        if record is None:
            queue.fail(session, item_id, worker, f"submission {submission_id} not found", now, services.retry)
            return True
        organ_id, digest, received_at = record.organ_id, record.content_sha256, record.received_at
    submission = Submitted(submission_id, digest, payload.get(SUBMITTED_ENTRY))
    parsed: Envelope | None = None
    try:
        raw = services.blobs.get(digest)
        raw = as_envelope(raw, organ_id, services.directory, services.inspector, received_at)
        parsed = parse(raw)
        verified = verify_submitted(services, parsed, raw, organ_id)  # the agency's own signature; None: unsigned
        envelope = validate(
            parsed,
            now=now,
            directory=services.directory,
            inspector=services.inspector,
            convert_legacy=services.convert_legacy,
            allow_unnumbered=True,
        )
        header = _document_header(envelope, organ_id)
        if verified is not None:
            require_number(header)
    except EnvelopeError as error:
        refuse(services, worker, item_id, submission, organ_id, error, now, claimed_id(parsed, organ_id))
        return True
    except (PdfInspectionUnavailable, LienthongError, OSError) as exc:  # ours to fix: retry later
        with services.sessions.begin() as session:
            queue.fail(session, item_id, worker, f"{type(exc).__name__}: {exc}", now, services.retry)
        return True
    if is_unnumbered(header):
        _accept_unnumbered(services, worker, item_id, submission, organ_id or "", envelope, header, now)
    else:
        _accept(services, worker, item_id, submission, organ_id or "", envelope, header, raw, now, verified)
    return True


def _document_header(envelope: Envelope, organ_id: str | None) -> DocumentHeader:
    if envelope.kind is not Kind.DOCUMENT or envelope.metadata is None:
        raise EnvelopeError.of("ENVELOPE_STRUCTURE", "Lienthong-Kind", "submission accepts documents only")
    header = envelope.metadata.header
    assert isinstance(header, DocumentHeader)
    if header.from_.organ_id != organ_id:
        raise EnvelopeError.of(
            "SENDER_MISMATCH", "From/OrganId", f"{header.from_.organ_id} is not the submitting account's agency"
        )
    return header


def _accept(
    services: Services,
    worker: str,
    item_id: int,
    submission: Submitted,
    organ_id: str,
    envelope: Envelope,
    header: DocumentHeader,
    raw: bytes,
    now: datetime,
    presigned: VerificationResult | None = None,
) -> None:
    submission_id = submission.id
    print_ = fingerprint(envelope, header)
    with services.sessions.begin() as session:
        existing = session.connection().execute(_ACCEPTED_AS, {"document": header.document_id}).first()
        if existing is None:
            try:  # an envelope the agency signed itself needs no key of the agency's here
                signer = None if presigned is not None else services.signers.active(session, organ_id, services.chain)
            except LienthongError as exc:
                queue.fail(session, item_id, worker, str(exc), now, services.retry)
                return
            accepted = _Accepted(
                submission, organ_id, envelope.message_id, header, raw, fingerprint=print_, presigned=presigned
            )
            _record(services, session, signer, accepted, now)
            finish(session, item_id, worker, submission_id, "accepted", now)
            return
        if existing.submission_id == submission_id:  # this item again after a crash: its work committed already
            finish(session, item_id, worker, submission_id, "accepted", now)
            return
        if existing.submitted_fingerprint in (print_, None):  # None: accepted before fingerprints were kept
            # The same document submitted again (a client that never saw our 250 retries): delivered once, and
            # the sender is told it was accepted, as the first time.
            notice = _numbering(header.document_id, None, str(header.code))
            notify(session, NoticeKind.ACCEPTANCE, submission_id, organ_id, notice, now)
            finish(session, item_id, worker, submission_id, "duplicate", now)
            return
    detail = f"{header.document_id} was accepted earlier with different content: give this document its own number"
    error = EnvelopeError.of("DOCUMENT_ID_TAKEN", "DocumentId", detail)
    refuse(services, worker, item_id, submission, organ_id, error, now, header.document_id)


@dataclass(frozen=True, slots=True)
class _Accepted:
    submission: Submitted
    organ_id: str
    message_id: str  # of the message that travels
    header: DocumentHeader
    raw: bytes  # the unsigned envelope to sign (or the agency's signed message, when ``presigned``)
    number: int | None = None  # assigned by the gateway
    submitted_message_id: str | None = None
    fingerprint: str | None = None
    presigned: VerificationResult | None = None  # the agency's own verified signature: DKIM only


def _record(services: Services, session: Session, signer: Signer | None, accepted: _Accepted, now: datetime) -> None:
    """Sign, store, record, queue the deliveries and the acceptance notice: the caller's transaction commits.

    ``signer`` None: the agency signed the envelope itself (``accepted.presigned``), the gateway adds DKIM only."""
    header, organ_id, submission_id = accepted.header, accepted.organ_id, accepted.submission.id
    if signer is None:
        outgoing = dkim_only(accepted.raw, services.domain, services.dkim_keys)
    else:
        outgoing = sign_outgoing(accepted.raw, signer, services.domain, services.dkim_keys)
    stored = services.blobs.put(outgoing.message)
    effective = services.calendar.effective(now, organ_id)
    recipients = [org.organ_id for org in header.to]
    session.flush()  # anything the caller added first keeps its place before this row
    session.connection().execute(
        _RECORD,
        {
            "document_id": header.document_id,
            "submission_id": submission_id,
            "organ_id": organ_id,
            "message_id": accepted.message_id,
            "signed_sha256": stored,
            "mic": outgoing.mic,
            "recipients": ",".join(recipients),
            "accepted_at": now,
            "effective_accepted_at": effective.effective_local,
            "calendar_version": effective.calendar_version,
            "assigned_number": accepted.number,
            "submitted_message_id": accepted.submitted_message_id,
            "submitted_fingerprint": accepted.fingerprint,
        },
    )
    details: dict[str, Any] = {**accepted.submission.details(), "mic": outgoing.mic, "recipients": recipients}
    details["submitted_sha256"] = accepted.submission.sha256
    if accepted.presigned is not None:  # signed by the agency itself, with this certificate
        details["agency_signed"] = accepted.presigned.serial_hex
    if accepted.number is not None:
        details |= {"assigned_number": accepted.number, "submitted_message_id": accepted.submitted_message_id}
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
            details=details,
        ),
    )
    for recipient in recipients:  # a peer gateway's recipient goes straight to the relay (docs/workers.md)
        route(services, session, header.document_id, organ_id, recipient, stored, now)
    notice = _numbering(header.document_id, accepted.number, str(header.code))
    notify(session, NoticeKind.ACCEPTANCE, submission_id, organ_id, notice, now)


def _numbering(document_id: str, number: int | None, code: str) -> dict[str, Any]:
    if number is None:
        return {"document_id": document_id}
    return {"document_id": document_id, "number": number, "code": code}


class _Earlier(Exception):
    """The unnumbered message was numbered before (found by the sender's Message-ID): roll this attempt back."""

    def __init__(self, document: OutgoingDocument) -> None:
        super().__init__(document.document_id)
        self.document = document


def _accept_unnumbered(
    services: Services,
    worker: str,
    item_id: int,
    submission: Submitted,
    organ_id: str,
    envelope: Envelope,
    header: DocumentHeader,
    now: datetime,
) -> None:
    """Number, rebuild, sign and record in the transaction that allocates the number (docs/workers.md)."""
    submission_id = submission.id
    print_ = fingerprint(envelope, header)
    with services.sessions.begin() as session:  # reads only: settle the cheap cases before taking the write lock
        earlier = _earlier(session, organ_id, envelope.message_id)
        if earlier is None:
            try:
                signer = services.signers.active(session, organ_id, services.chain)
            except LienthongError as exc:
                queue.fail(session, item_id, worker, str(exc), now, services.retry)
                return
    if earlier is not None:
        _already_numbered(services, worker, item_id, submission, organ_id, print_, earlier, now)
        return
    try:
        with services.sessions.begin() as session:
            # First statement of the transaction (registry/sequences.py): the number is ours only if this commits.
            number = allocate(session, organ_id, issue_year(header), SequenceKind.OUTGOING)
            earlier = _earlier(session, organ_id, envelope.message_id)
            if earlier is not None:  # another worker numbered it meanwhile
                raise _Earlier(earlier)
            numbered, rebuilt = rebuild(envelope, header, number)
            for _ in range(_MAX_TAKEN):
                if _accepted_from(session, numbered.document_id) is None:
                    break
                # The sender used this number by hand for the same notation and date: it is taken in the register.
                number = allocate(session, organ_id, issue_year(header), SequenceKind.OUTGOING)
                numbered, rebuilt = rebuild(envelope, header, number)
            else:
                raise LienthongError(f"agency {organ_id}: {_MAX_TAKEN} outgoing numbers in a row already taken")
            message_id = parse(rebuilt).message_id
            accepted = _Accepted(
                submission, organ_id, message_id, numbered, rebuilt, number, envelope.message_id, print_
            )
            _record(services, session, signer, accepted, now)
            finish(session, item_id, worker, submission_id, "accepted", now)
    except _Earlier as found:
        _already_numbered(services, worker, item_id, submission, organ_id, print_, found.document, now)
    except (LienthongError, EnvelopeError, IntegrityError, ValueError, OSError) as exc:  # rolled back: no number
        with services.sessions.begin() as session:
            queue.fail(session, item_id, worker, f"{type(exc).__name__}: {exc}", now, services.retry)


def _accepted_from(session: Session, document_id: str) -> int | None:
    """The submission a DocumentId was accepted from, None when it is new here."""
    found = session.connection().execute(_ACCEPTED_FROM, {"document": document_id}).scalar()
    return None if found is None else int(found)


def _earlier(session: Session, organ_id: str, message_id: str) -> OutgoingDocument | None:
    query = select(OutgoingDocument).where(
        OutgoingDocument.organ_id == organ_id, OutgoingDocument.submitted_message_id == message_id
    )
    return session.scalars(query).first()


def _already_numbered(
    services: Services,
    worker: str,
    item_id: int,
    submission: Submitted,
    organ_id: str,
    print_: str,
    earlier: OutgoingDocument,
    now: datetime,
) -> None:
    """A retried submission gets the number it got the first time; a reused Message-ID is the sender's error."""
    submission_id = submission.id
    if earlier.submitted_fingerprint != print_:
        detail = f"{earlier.document_id} was numbered under this Message-ID: give each document its own"
        error = EnvelopeError.of("HEADER_INVALID", "Message-ID", detail)
        refuse(services, worker, item_id, submission, organ_id, error, now)
        return
    with services.sessions.begin() as session:
        if earlier.submission_id != submission_id:
            code = earlier.document_id.split(",", 2)[2]  # "{OrganId},{yyyy/MM/dd},{number}/{notation}"
            notice = _numbering(earlier.document_id, earlier.assigned_number, code)
            notify(session, NoticeKind.ACCEPTANCE, submission_id, organ_id, notice, now)
        state = "accepted" if earlier.submission_id == submission_id else "duplicate"
        finish(session, item_id, worker, submission_id, state, now)
