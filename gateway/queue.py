"""The durable work queue: what still has to happen to an accepted document, surviving any crash.

Each item is a task (``deliver``, ``relay``, ``receipt``, ...) with a de-duplication key — for a delivery,
``deliver:{DocumentId}:{recipient}`` — so enqueuing the same work twice yields one item, and a crash between doing
the work and recording it leads to a retry that the idempotent consumers (Maildir keys, the peer's own de-duplication
on DocumentId) absorb. A worker claims an item with a lease; a worker that dies loses its lease and the item comes
back. Claiming is one ``UPDATE ... WHERE id = (SELECT ... LIMIT 1) RETURNING`` statement: PostgreSQL skips rows
other workers hold (``FOR UPDATE SKIP LOCKED``), SQLite runs it under its single write lock.

Every worker step claims, enqueues and completes, so these run as Core statements built once at import (with bound
parameters, so SQLAlchemy compiles each once per dialect) on the session's connection: building statements and
passing through the ORM's identity map cost several times the database work itself. The pending ORM changes of the
caller are flushed first, so statements still reach the database in the order the caller wrote them.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Integer, String, Table, Text, bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql.dml import Insert, Update
from sqlalchemy.sql.elements import BindParameter

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
        return _decoded(self.payload)


@dataclass(frozen=True, slots=True)
class Claimed:
    """A claimed item as the worker needs it: a plain value, not an ORM object the session would track."""

    id: int
    task: str
    dedup_key: str
    payload: str
    attempts: int
    claimed_by: str
    lease_until: datetime

    def data(self) -> dict[str, Any]:
        return _decoded(self.payload)


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


_items: Table = Base.metadata.tables[QueueItem.__tablename__]
_c = _items.c


def _at(name: str) -> BindParameter[datetime]:
    return bindparam(name, type_=UtcDateTime())


def _insert(insert: Callable[[Table], Any]) -> Insert:
    statement: Insert = (
        insert(_items)
        .values(
            task=bindparam("task"),
            dedup_key=bindparam("dedup_key"),
            payload=bindparam("payload"),
            state=State.PENDING.value,
            attempts=0,
            next_attempt_at=_at("next_attempt_at"),
            created_at=_at("now"),
            updated_at=_at("now"),
        )
        .on_conflict_do_nothing(index_elements=["dedup_key"])
        .returning(_c.id)
    )
    return statement


_INSERT = {"postgresql": _insert(postgresql.insert), "sqlite": _insert(sqlite.insert)}
_ID_BY_KEY = select(_c.id).where(_c.dedup_key == bindparam("dedup_key"))


def _claim_statement(by_task: bool) -> Update:
    due = or_(
        (_c.state == State.PENDING.value) & (_c.next_attempt_at <= _at("now")),
        (_c.state == State.CLAIMED.value) & (_c.lease_until < _at("now")),
    )
    candidate = select(_c.id).where(due)
    if by_task:
        candidate = candidate.where(_c.task.in_(bindparam("tasks", expanding=True)))
    candidate = candidate.order_by(_c.next_attempt_at, _c.id).limit(1).with_for_update(skip_locked=True)
    return (
        update(_items)
        .where(_c.id == candidate.scalar_subquery())
        .values(
            state=State.CLAIMED.value,
            claimed_by=bindparam("worker"),
            lease_until=_at("lease_until"),
            attempts=_c.attempts + 1,
            updated_at=_at("now"),
        )
        .returning(_c.id, _c.task, _c.dedup_key, _c.payload, _c.attempts, _c.claimed_by, _c.lease_until)
    )


_CLAIM_ANY, _CLAIM_TASKS = _claim_statement(False), _claim_statement(True)

# The guard of every worker's own update: the item is still claimed, and by this worker (its lease did not run out
# and pass to another).
_MINE = (_c.id == bindparam("item_id")) & (_c.state == State.CLAIMED.value) & (_c.claimed_by == bindparam("worker"))
_ATTEMPTS_IF_MINE = select(_c.attempts).where(_MINE)
_HELD_BY = select(_c.id).where((_c.state == State.CLAIMED.value) & (_c.claimed_by == bindparam("worker")))
_CLOSE = (
    update(_items)
    .where(_MINE)
    .values(
        state=bindparam("state"),
        lease_until=None,
        last_error=bindparam("last_error"),
        next_attempt_at=func.coalesce(_at("next_attempt_at"), _c.next_attempt_at),
        updated_at=_at("now"),
    )
)


def _connection(session: Session) -> Connection:
    """The transaction's connection, after writing the caller's pending ORM changes, as an ORM statement would."""
    session.flush()
    return session.connection()


def _decoded(payload: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(payload)
    return value


def enqueue(
    session: Session,
    task: str,
    dedup_key: str,
    payload: dict[str, Any],
    now: datetime,
    not_before: datetime | None = None,
) -> int:
    """Add work unless an item with ``dedup_key`` exists; return the item's id either way."""
    connection = _connection(session)
    values = {
        "task": str(task),
        "dedup_key": dedup_key,
        "payload": json.dumps(payload, sort_keys=True, ensure_ascii=False),
        "next_attempt_at": not_before or now,
        "now": now,
    }
    inserted = connection.execute(_INSERT[connection.dialect.name], values).scalar()
    if inserted is not None:
        return int(inserted)
    return int(connection.execute(_ID_BY_KEY, {"dedup_key": dedup_key}).scalar_one())


def claim(
    session: Session, worker: str, now: datetime, lease: timedelta = timedelta(minutes=5), tasks: Sequence[str] = ()
) -> Claimed | None:
    """Take the most overdue item that is due, or whose previous worker's lease ran out."""
    values: dict[str, Any] = {"worker": worker, "now": now, "lease_until": now + lease}
    if tasks:
        values["tasks"] = [str(task) for task in tasks]
    row = _connection(session).execute(_CLAIM_TASKS if tasks else _CLAIM_ANY, values).first()
    if row is None:
        return None
    return Claimed(
        int(row.id), row.task, row.dedup_key, row.payload, int(row.attempts), str(row.claimed_by), row.lease_until
    )


def _close(session: Session, item_id: int, worker: str, values: Mapping[str, Any]) -> None:
    """Apply a worker's final word on its item, refusing when the item is no longer its own."""
    parameters = {"item_id": item_id, "worker": worker, "next_attempt_at": None, "last_error": None, **values}
    if _connection(session).execute(_CLOSE, parameters).rowcount != 1:
        raise NotFoundError(f"queue item {item_id} is not claimed by {worker}; its lease may have expired")


def complete(session: Session, item_id: int, worker: str, now: datetime) -> None:
    _close(session, item_id, worker, {"state": State.DONE.value, "now": now})


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
    attempts = _connection(session).execute(_ATTEMPTS_IF_MINE, {"item_id": item_id, "worker": worker}).scalar()
    if attempts is None:
        raise NotFoundError(f"queue item {item_id} is not claimed by {worker}; its lease may have expired")
    values: dict[str, Any] = {"last_error": error[:2000], "now": now}
    if attempts >= policy.max_attempts:
        values["state"] = State.FAILED.value
    else:
        values["state"], values["next_attempt_at"] = State.PENDING.value, now + policy.delay(attempts, rng)
    _close(session, item_id, worker, values)
    return State(values["state"])


def give_up(session: Session, item_id: int, worker: str, error: str, now: datetime) -> None:
    """Record a permanent failure (the peer said 5xx): no more attempts until an operator retries."""
    _close(session, item_id, worker, {"state": State.FAILED.value, "last_error": error[:2000], "now": now})


def held(session: Session, worker: str) -> list[int]:
    """The items ``worker`` claimed and has not closed: after a step that raised, the one it was working on."""
    return [int(item_id) for item_id in _connection(session).execute(_HELD_BY, {"worker": worker}).scalars()]


def _held(item: QueueItem, now: datetime) -> bool:
    """A worker may still be working on it: an expired lease means its worker died or gave up on it."""
    return item.state == State.CLAIMED.value and (item.lease_until is None or item.lease_until >= now)


def retry(session: Session, item_id: int, now: datetime) -> None:
    """Operator: make a failed, dropped or waiting item due now (or a claimed one whose worker's lease ran out)."""
    item = session.get(QueueItem, item_id, populate_existing=True)
    if item is None:
        raise NotFoundError(f"queue item {item_id}: no such item")
    if item.state == State.DONE.value or _held(item, now):
        raise InputError(f"queue item {item_id} is {item.state}; only pending, failed or dropped items can be retried")
    item.state, item.next_attempt_at, item.lease_until, item.updated_at = State.PENDING.value, now, None, now


def drop(session: Session, item_id: int, now: datetime) -> None:
    """Operator: give up on an item that is not being worked on (a claim whose lease ran out is not)."""
    item = session.get(QueueItem, item_id, populate_existing=True)
    if item is None:
        raise NotFoundError(f"queue item {item_id}: no such item")
    if item.state == State.DONE.value or _held(item, now):
        raise InputError(f"queue item {item_id} is {item.state}; it cannot be dropped")
    item.state, item.lease_until, item.updated_at = State.DROPPED.value, None, now


def abandon(session: Session, dedup_keys: Sequence[str], reason: str, now: datetime) -> int:
    """Stop the attempts behind a final answer already given (the non-delivery notice), as an MTA removes a message
    from its queue when it bounces it: waiting or failed items become ``dropped`` with the reason, which an
    operator may still ``retry``. An attempt under way (claimed) is left to finish."""
    result = _connection(session).execute(
        update(QueueItem)
        .where(
            QueueItem.dedup_key.in_(list(dedup_keys)),
            QueueItem.state.in_([State.PENDING.value, State.FAILED.value]),
        )
        .values(state=State.DROPPED.value, last_error=reason[:2000], updated_at=now)
    )
    return int(result.rowcount or 0)


def listing(session: Session, states: Sequence[str] = (), limit: int = 200) -> list[QueueItem]:
    query = select(QueueItem).order_by(QueueItem.next_attempt_at, QueueItem.id).limit(limit)
    if states:
        query = query.where(QueueItem.state.in_(list(states)))
    return list(session.scalars(query))


def counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(QueueItem.state, func.count()).group_by(QueueItem.state)).all()
    return {str(state): int(n) for state, n in rows}
