"""A submission's outcome as the processing worker records it: the refusal, and what every outcome shares.

A refused submission gets a ``refused`` ledger event naming the reason code and the submitted bytes' hash, a
non-acceptance notice to the address that submitted it, and its state; for classified documents and denunciations
(Art. 4.1) the bytes are then purged, so only that metadata trace remains, and the refusal is never filed under the
DocumentId the content claims. Every outcome, accepted or refused, names the submission and its ``submitted``
ledger entry (``Submitted.details``) and ends the same way (``finish``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from gateway import queue
from gateway.envelope.errors import EnvelopeError, Problem
from gateway.envelope.model import DocumentHeader
from gateway.envelope.parse import Envelope
from gateway.envelope.validate import is_refusal
from gateway.intake import SubmissionRecord
from gateway.ledger.events import Event, EventKind
from gateway.ledger.store import LedgerEntry, append
from gateway.ledger.timeline import SUBMITTED_ENTRY
from gateway.receipts.notice import NoticeKind, problem_lines
from gateway.workers.clerk_intake import vietnamese_field
from gateway.workers.notices import enqueue_notice
from gateway.workers.numbering import is_unnumbered
from gateway.workers.services import Services

_DOCUMENT_ID_COLUMN = LedgerEntry.__table__.c.document_id.type.length  # type: ignore[attr-defined]
_MAIL_FROM = select(SubmissionRecord.mail_from).where(SubmissionRecord.id == bindparam("submission"))
_STATE = update(SubmissionRecord).where(SubmissionRecord.id == bindparam("submission")).values(state=bindparam("state"))


class Submitted(NamedTuple):
    """The submission an item is about, as its events name it."""

    id: int
    sha256: str  # of the submitted bytes (a clerk's mail: before conversion)
    entry: dict[str, Any] | None  # link to its ``submitted`` ledger entry; None for an item queued before it was kept

    def details(self) -> dict[str, Any]:
        """What every event of this submission records of it: the link puts it into the document's timeline."""
        return {"submission": self.id} if self.entry is None else {"submission": self.id, SUBMITTED_ENTRY: self.entry}


def claimed_id(parsed: Envelope | None, organ_id: str | None) -> str | None:
    """The DocumentId a refused envelope gives itself, for its timeline: only a complete one in the namespace of the
    submitting agency (it starts with the sender's OrganId), so that nobody's refusal lands in another agency's."""
    if parsed is None or parsed.metadata is None or not isinstance(parsed.metadata.header, DocumentHeader):
        return None
    header = parsed.metadata.header
    document_id = header.document_id
    if organ_id is None or header.from_.organ_id != organ_id or is_unnumbered(header):
        return None
    if not document_id.startswith(f"{organ_id},") or len(document_id) > _DOCUMENT_ID_COLUMN:
        return None
    return document_id


def refuse(
    services: Services,
    worker: str,
    item_id: int,
    submission: Submitted,
    organ_id: str | None,
    error: EnvelopeError,
    now: datetime,
    document_id: str | None = None,
) -> None:
    """``document_id``: the one the refused envelope claims, when it is safe to file the refusal under it (never for
    Art. 4.1 content, of which the ledger keeps the hash only)."""
    submission_id, digest = submission.id, submission.sha256
    forbidden = is_refusal(error)
    if forbidden:
        document_id = None
    with services.sessions.begin() as session:
        append(
            session,
            Event(
                EventKind.REFUSED,
                now,
                document_id,
                organ_id=organ_id,
                content_sha256=digest,
                reason_code=error.primary.code,
                details={**submission.details(), "problems": [_problem(p) for p in error.problems]},
            ),
        )
        refusal = {
            "reason_code": error.primary.code,
            "problems": list(problem_lines([(p.code, vietnamese_field(p.field)) for p in error.problems])),
        }
        notify(session, NoticeKind.NON_ACCEPTANCE, submission_id, organ_id, refusal, now)
        finish(session, item_id, worker, submission_id, "refused", now)
    if forbidden:
        # Art. 4.1: nothing of a classified document or a denunciation is kept; the ledger holds its hash only.
        services.blobs.purge(digest)


def notify(
    session: Session, kind: NoticeKind, submission_id: int, organ_id: str | None, extra: dict[str, Any], now: datetime
) -> None:
    """Queue the acceptance or non-acceptance notice in the outcome's transaction, so it exists exactly when the
    outcome does; it goes to the address that submitted (MAIL FROM), which answered for the submission."""
    mail_from = session.connection().execute(_MAIL_FROM, {"submission": submission_id}).scalar()
    if mail_from is not None:
        payload = {"to": mail_from, "sender": organ_id, "submission": submission_id, **extra}
        enqueue_notice(session, kind, payload, now)


def _problem(problem: Problem) -> dict[str, str | None]:
    return {"code": problem.code, "field": problem.field}


def finish(session: Session, item_id: int, worker: str, submission_id: int, state: str, now: datetime) -> None:
    """The submission's state and the item's completion, last in the outcome's transaction."""
    session.flush()  # the caller's pending rows first, in the order it wrote them
    session.connection().execute(_STATE, {"submission": submission_id, "state": state})
    queue.complete(session, item_id, worker, now)
