"""The watch that queues warnings and non-delivery notices for recipients that have not answered with a receipt.

It runs every minute for years, so its cost follows the documents still waiting, not the documents sent: the
window is narrowed in SQL (accepted within the horizon, long enough ago for the earlier deadline to have passed in
wall-clock time, fewer receipts than recipients), and everything else is fetched a few hundred documents per query.
A notice already queued is found by its queue key and not queued again, so the watch stays idempotent however often
it runs or a worker restarts, and says how many notices it queued this time (0 most of the time).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.documents import OutgoingDocument, OutgoingRecipient
from gateway.intake import SubmissionRecord
from gateway.queue import QueueItem
from gateway.receipts.notice import NoticeKind
from gateway.workers.notices import enqueue_notice, notice_key
from gateway.workers.services import Services

_BATCH = 500  # ids per IN (...) list: well under every back-end's limit on bound parameters
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class _Waiting:
    document: OutgoingDocument
    silent: tuple[str, ...]  # recipients with no receipt yet


def watch_once(services: Services, now: datetime | None = None, horizon: timedelta = timedelta(days=60)) -> int:
    """Queue the warnings and non-delivery notices that are due and not queued yet; return how many were queued."""
    now = now or services.clock()
    deadlines = (
        (NoticeKind.WARNING, timedelta(hours=services.warning_office_hours)),
        (NoticeKind.NON_DELIVERY, timedelta(hours=services.non_delivery_office_hours)),
    )
    # Office hours pass no faster than the clock: nothing accepted later than this can be due yet.
    latest = now - min(span for _, span in deadlines)
    with services.sessions.begin() as session:
        due: list[tuple[NoticeKind, OutgoingDocument, str]] = []
        for waiting in _waiting(session, now - horizon, latest):
            document = waiting.document
            for kind, span in deadlines:
                if now >= services.calendar.office_hours_later(document.accepted_at, span, document.organ_id):
                    due.extend((kind, document, recipient) for recipient in waiting.silent)
        keyed = [(kind, payload, notice_key(kind, payload)) for kind, payload in _payloads(due)]
        queued = _queued_keys(session, [key for _, _, key in keyed])
        missing = [(kind, payload) for kind, payload, key in keyed if key not in queued]
        senders = _mail_from(session, {int(payload["submission"]) for _, payload in missing})
        count = 0
        for kind, payload in missing:
            to = senders.get(int(payload["submission"]), "")
            if to:  # no submission to answer (a record lost to an operator's clean-up): nobody to notify
                enqueue_notice(session, kind, {**payload, "to": to}, now)
                count += 1
    return count


def _waiting(session: Session, since: datetime, latest: datetime) -> Iterator[_Waiting]:
    answered_count = (
        select(OutgoingRecipient.document_id, func.count().label("answered"))
        .group_by(OutgoingRecipient.document_id)
        .subquery()
    )
    listed = OutgoingDocument.recipients
    recipient_count = func.length(listed) - func.length(func.replace(listed, ",", "")) + 1
    query = (
        select(OutgoingDocument)
        .outerjoin(answered_count, answered_count.c.document_id == OutgoingDocument.document_id)
        .where(
            OutgoingDocument.accepted_at > since,
            OutgoingDocument.accepted_at <= latest,
            func.coalesce(answered_count.c.answered, 0) < recipient_count,
        )
        .order_by(OutgoingDocument.accepted_at)
    )
    documents = list(session.scalars(query))
    answered: dict[str, set[str]] = {}
    for batch in _batches([d.document_id for d in documents]):
        rows = session.execute(
            select(OutgoingRecipient.document_id, OutgoingRecipient.organ_id).where(
                OutgoingRecipient.document_id.in_(batch)
            )
        )
        for document_id, organ_id in rows:
            answered.setdefault(document_id, set()).add(organ_id)
    for document in documents:
        heard = answered.get(document.document_id, set())
        silent = tuple(r for r in document.recipients.split(",") if r and r not in heard)
        if silent:
            yield _Waiting(document, silent)


def _payloads(due: Iterable[tuple[NoticeKind, OutgoingDocument, str]]) -> Iterator[tuple[NoticeKind, dict[str, Any]]]:
    for kind, document, recipient in due:
        payload = {
            "sender": document.organ_id,
            "submission": document.submission_id,
            "document_id": document.document_id,
            "recipient": recipient,
        }
        yield kind, payload


def _queued_keys(session: Session, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for batch in _batches(keys):
        found.update(session.scalars(select(QueueItem.dedup_key).where(QueueItem.dedup_key.in_(batch))))
    return found


def _mail_from(session: Session, submissions: Iterable[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for batch in _batches(sorted(submissions)):
        rows = session.execute(
            select(SubmissionRecord.id, SubmissionRecord.mail_from).where(SubmissionRecord.id.in_(batch))
        )
        found.update((int(submission), str(mail_from)) for submission, mail_from in rows)
    return found


def _batches(items: Sequence[_T]) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), _BATCH):
        yield items[start : start + _BATCH]
