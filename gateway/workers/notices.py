"""Notices to the sender's records office: built, signed, delivered and recorded by the notice worker.

The processing worker queues an acceptance or non-acceptance notice for every submission; the watch
(gateway/workers/notice_watch.py) queues a warning for recipients that have not answered with a receipt after
``[notices] warning_office_hours`` (counted on the office-hours calendar of the sending agency) and a non-delivery
notice after ``non_delivery_office_hours``. Each notice is queued under a key that makes it unique, so a notice is
issued once however often the watch runs or a worker restarts.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from gateway import queue
from gateway.errors import LienthongError
from gateway.ledger.events import Event, EventKind
from gateway.ledger.store import append
from gateway.queue import Task
from gateway.receipts.notice import Notice, NoticeKind, build_notice
from gateway.workers.deliver import route_key
from gateway.workers.services import Services

log = logging.getLogger(__name__)

_LEDGER = {NoticeKind.WARNING: EventKind.WARNING, NoticeKind.NON_DELIVERY: EventKind.NON_DELIVERY}
_DETAILS = ("number", "code", "recipient_name", "stored_mic", "receipt_mic", "receipt_sha256", "recipients")


def notice_key(kind: NoticeKind, payload: dict[str, Any]) -> str:
    """The queue key that makes a notice unique: one of each kind per submission, document and recipient."""
    parts = (kind.value, payload.get("submission"), payload.get("document_id"), payload.get("recipient"))
    return ":".join([Task.NOTICE, *(str(p) for p in parts)])


def enqueue_notice(session: Session, kind: NoticeKind, payload: dict[str, Any], now: datetime) -> None:
    queue.enqueue(session, Task.NOTICE, notice_key(kind, payload), {**payload, "kind": kind.value}, now)


def notice_one(services: Services, worker: str) -> bool:
    """Build, sign and deliver one queued notice; False when there was nothing to do."""
    now = services.clock()
    with services.sessions.begin() as session:
        item = queue.claim(session, worker, now, services.lease, tasks=(Task.NOTICE,))
        if item is None:
            return False
        item_id, payload = item.id, item.data()
    # The claim is committed first: a step that raises (the mailbox disk is full) still holds its item for the
    # runner to record the failed attempt.
    with services.sessions.begin() as session:
        kind = NoticeKind(payload["kind"])
        sender = payload.get("sender") or ""
        effective = services.calendar.effective(now, sender or None)
        operator = services.routes.of(session, services.operator) if services.operator else None
        message: bytes | None = None
        if operator is None or not operator.mailbox:
            # Nothing to sign notices with: the sender is not told, but the ledger still records the step.
            log.warning("%s notice for %s not sent: no [notices] operator configured", kind.value, payload["to"])
        else:
            try:
                signer = services.signers.active(session, operator.organ_id, services.chain)
            except LienthongError as exc:
                queue.fail(session, item_id, worker, str(exc), now, services.retry)
                return True
            notice = Notice(
                kind=kind,
                to=payload["to"],
                submission=payload.get("submission"),
                document_id=payload.get("document_id") or "",
                at=now,
                effective_at=effective.effective_local,
                calendar_version=effective.calendar_version,
                reason_code=payload.get("reason_code"),
                problems=tuple(payload.get("problems", ())),
                recipient=payload.get("recipient"),
                details={k: str(payload[k]) for k in _DETAILS if payload.get(k) is not None},
                cc=tuple(payload.get("cc", ())),
            )
            message = build_notice(notice, signer, operator.mailbox, services.domain)
            key = "notice-" + hashlib.sha256(notice.key().encode()).hexdigest()[:40]
            for address in (notice.to, *notice.cc):
                services.mailboxes.deliver(address, message, key)
        if kind in _LEDGER:
            append(
                session,
                Event(
                    _LEDGER[kind],
                    now,
                    payload.get("document_id") or None,
                    sender or None,
                    counterpart=payload.get("recipient"),
                    content_sha256=hashlib.sha256(message).hexdigest() if message is not None else None,
                    effective_at=effective.effective_local,
                    calendar_version=effective.calendar_version,
                    details={"notified": message is not None},
                ),
            )
        if kind is NoticeKind.NON_DELIVERY:
            _give_up_delivery(session, payload, now)
        queue.complete(session, item_id, worker, now)
    return True


def _give_up_delivery(session: Session, payload: dict[str, Any], now: datetime) -> None:
    """The sender has been told the document was not delivered: no later attempt may contradict that."""
    document_id, recipient = payload.get("document_id"), payload.get("recipient")
    keys = [route_key(task, str(document_id), str(recipient)) for task in (Task.DELIVER, Task.RELAY)]
    if queue.abandon(session, keys, "non-delivery notice issued: no receipt within the office hours allowed", now):
        log.warning("gave up delivering %s to %s after the non-delivery notice", document_id, recipient)
