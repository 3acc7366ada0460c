"""The durable work queue: what still has to happen to an accepted document, surviving any crash.

Each item is a task (``deliver``, ``relay``, ``receipt``, ...) with a de-duplication key — for a delivery,
``deliver:{DocumentId}:{recipient}`` — so enqueuing the same work twice yields one item, and a crash between doing
the work and recording it leads to a retry that the idempotent consumers (Maildir keys, the peer's own de-duplication
on DocumentId) absorb. A worker claims an item with a lease; a worker that dies loses its lease and the item comes
back. Claiming is one ``UPDATE ... WHERE id = (SELECT ... LIMIT 1) RETURNING`` statement: PostgreSQL skips rows
other workers hold (``FOR UPDATE SKIP LOCKED``), SQLite runs it under its single write lock.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Integer, String, Text, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from gateway.errors import InputError, NotFoundError
from registry.models import Base, UtcDateTime


class Task(StrEnum):
    """The kinds of queued work; each has one worker step under ``gateway/workers/``."""

    PROCESS = "process"  # a submission to validate, sign and route
    DELIVER = "deliver"  # an accepted document for one recipient
    ARRIVE = "arrive"  # a document a peer gateway relayed to a records office hosted here
    RELAY = "relay"  # a document or receipt for a peer gateway
    RECEIPT = "receipt"  # a receipt to check against what was sent
    NOTICE = "notice"  # a notice to the sender's records office


class State(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"
    DONE = "done"
    FAILED = "failed"  # gave up after the last attempt; an operator may retry it
    DROPPED = "dropped"  # an operator removed it


class QueueItem(Base):
    __tablename__ = "queue_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task: Mapped[str] = mapped_column(String(32), nullable=False)
    dedup_key: Mapped[str] = mapped_column(String(300), nullable=False, unique=True)
    payload: Mapped[str] = mapped_column(Text, nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)

    def data(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.payload)
        return value


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential back-off with jitter: first retry after ``base``, doubling up to ``cap``."""

    base: timedelta = timedelta(minutes=1)
    cap: timedelta = timedelta(hours=1)
    max_attempts: int = 30
    jitter: float = 0.1

    def delay(self, attempts: int, rng: random.Random | None = None) -> timedelta:
        raw = min(self.cap, self.base * (1 << min(max(0, attempts - 1), 30)))
        spread: float = (rng or random).uniform(-self.jitter, self.jitter)
        return raw * (1 + spread)


def enqueue(
    session: Session,
    task: str,
    dedup_key: str,
    payload: dict[str, Any],
    now: datetime,
    not_before: datetime | None = None,
) -> int:
    """Add work unless an item with ``dedup_key`` exists; return the item's id either way."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(QueueItem)
        .values(
            task=task,
            dedup_key=dedup_key,
            payload=json.dumps(payload, sort_keys=True, ensure_ascii=False),
            state=State.PENDING.value,
            attempts=0,
            next_attempt_at=not_before or now,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["dedup_key"])
    )
    session.execute(statement)
    return int(session.scalars(select(QueueItem.id).where(QueueItem.dedup_key == dedup_key)).one())


def claim(
    session: Session, worker: str, now: datetime, lease: timedelta = timedelta(minutes=5), tasks: Sequence[str] = ()
) -> QueueItem | None:
    """Take the most overdue item that is due, or whose previous worker's lease ran out."""
    due = or_(
        (QueueItem.state == State.PENDING.value) & (QueueItem.next_attempt_at <= now),
        (QueueItem.state == State.CLAIMED.value) & (QueueItem.lease_until < now),
    )
    candidate = select(QueueItem.id).where(due)
    if tasks:
        candidate = candidate.where(QueueItem.task.in_(list(tasks)))
    candidate = candidate.order_by(QueueItem.next_attempt_at, QueueItem.id).limit(1).with_for_update(skip_locked=True)
    row = session.execute(
        update(QueueItem)
        .where(QueueItem.id == candidate.scalar_subquery())
        .values(
            state=State.CLAIMED.value,
            claimed_by=worker,
            lease_until=now + lease,
            attempts=QueueItem.attempts + 1,
            updated_at=now,
        )
        .returning(QueueItem.id)
    ).first()
    if row is None:
        return None
    session.expire_all()
    return session.get(QueueItem, int(row[0]))


def _claimed(session: Session, item_id: int, worker: str) -> QueueItem:
    item = session.get(QueueItem, item_id)
    if item is None or item.state != State.CLAIMED.value or item.claimed_by != worker:
        raise NotFoundError(f"queue item {item_id} is not claimed by {worker}; its lease may have expired")
    return item


def complete(session: Session, item_id: int, worker: str, now: datetime) -> None:
    item = _claimed(session, item_id, worker)
    item.state, item.lease_until, item.last_error, item.updated_at = State.DONE.value, None, None, now


def fail(
    session: Session,
    item_id: int,
    worker: str,
    error: str,
    now: datetime,
    policy: RetryPolicy | None = None,
    rng: random.Random | None = None,
) -> State:
    """Record a failed attempt; schedule the next one, or give up after the policy's last attempt."""
    policy = policy or RetryPolicy()
    item = _claimed(session, item_id, worker)
    item.last_error, item.lease_until, item.updated_at = error[:2000], None, now
    if item.attempts >= policy.max_attempts:
        item.state = State.FAILED.value
    else:
        item.state = State.PENDING.value
        item.next_attempt_at = now + policy.delay(item.attempts, rng)
    return State(item.state)


def give_up(session: Session, item_id: int, worker: str, error: str, now: datetime) -> None:
    """Record a permanent failure (the peer said 5xx): no more attempts until an operator retries."""
    item = _claimed(session, item_id, worker)
    item.state, item.last_error, item.lease_until, item.updated_at = State.FAILED.value, error[:2000], None, now


def retry(session: Session, item_id: int, now: datetime) -> None:
    """Operator: make a failed, dropped or waiting item due now."""
    item = session.get(QueueItem, item_id)
    if item is None:
        raise NotFoundError(f"queue item {item_id}: no such item")
    if item.state in (State.DONE.value, State.CLAIMED.value):
        raise InputError(f"queue item {item_id} is {item.state}; only pending, failed or dropped items can be retried")
    item.state, item.next_attempt_at, item.updated_at = State.PENDING.value, now, now


def drop(session: Session, item_id: int, now: datetime) -> None:
    """Operator: give up on an item that is not being worked on."""
    item = session.get(QueueItem, item_id)
    if item is None:
        raise NotFoundError(f"queue item {item_id}: no such item")
    if item.state in (State.DONE.value, State.CLAIMED.value):
        raise InputError(f"queue item {item_id} is {item.state}; it cannot be dropped")
    item.state, item.updated_at = State.DROPPED.value, now


def listing(session: Session, states: Sequence[str] = (), limit: int = 200) -> list[QueueItem]:
    query = select(QueueItem).order_by(QueueItem.next_attempt_at, QueueItem.id).limit(limit)
    if states:
        query = query.where(QueueItem.state.in_(list(states)))
    return list(session.scalars(query))


def counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(QueueItem.state, func.count()).group_by(QueueItem.state)).all()
    return {str(state): int(n) for state, n in rows}
