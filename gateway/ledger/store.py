"""The ledger's tables and the two operations on them: append (serialised) and verify.

Appends are serialised by updating the single ``ledger_head`` row first: PostgreSQL queues concurrent appenders on
that row lock (and, under READ COMMITTED, re-reads the row the previous appender committed), SQLite on its one
write lock — taken at once because the update is the transaction's first statement. So the sequence has no gaps
and every entry chains to the one before it, with no retries. The append joins the caller's transaction: the
record of an accepted document and its ledger entry commit together or not at all. Database triggers (in the
migration) refuse UPDATE and DELETE on entries.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, String, Table, Text, bindparam, insert, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from gateway.ledger.events import GENESIS, Event, canonical, chain_hash
from registry.models import Base


class LedgerHead(Base):
    __tablename__ = "ledger_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    entry_hash: Mapped[str] = mapped_column(String(64), nullable=False)


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    document_id: Mapped[str | None] = mapped_column(String(200), index=True)
    organ_id: Mapped[str | None] = mapped_column(String(35), index=True)
    payload: Mapped[str] = mapped_column(Text, nullable=False)  # the canonical JSON that was hashed
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    entry_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)

    def data(self) -> dict[str, Any]:
        return _decoded(self.payload)


@dataclass(frozen=True, slots=True)
class Appended:
    seq: int
    entry_hash: str


_heads: Table = Base.metadata.tables[LedgerHead.__tablename__]
_entries: Table = Base.metadata.tables[LedgerEntry.__tablename__]
# Built once, with bound parameters, so each compiles once per dialect: appends happen on every worker step.
_ADVANCE = (
    update(_heads).where(_heads.c.id == 1).values(seq=_heads.c.seq + 1).returning(_heads.c.seq, _heads.c.entry_hash)
)
_INSERT = insert(_entries)
_SET_HEAD_HASH = update(_heads).where(_heads.c.id == 1).values(entry_hash=bindparam("entry_hash"))


def append(session: Session, event: Event) -> Appended:
    """Add ``event`` at the end of the chain inside the caller's transaction.

    Core statements on the transaction's connection, no ORM object: the entry is never read back here, and the
    unit of work would cost more than the three statements. The caller's pending ORM changes are flushed first, so
    they reach the database before the head row is locked, as when this used ORM statements.
    """
    session.flush()
    connection = session.connection()
    head = connection.execute(_ADVANCE).one()
    seq, prev_hash = int(head.seq), str(head.entry_hash)
    payload = event.payload()
    entry_hash = chain_hash(prev_hash, payload)
    connection.execute(
        _INSERT,
        {
            "seq": seq,
            "kind": event.kind.value,
            "document_id": event.document_id,
            "organ_id": event.organ_id,
            "payload": canonical(payload).decode(),
            "prev_hash": prev_hash,
            "entry_hash": entry_hash,
        },
    )
    connection.execute(_SET_HEAD_HASH, {"entry_hash": entry_hash})
    return Appended(seq, entry_hash)


@dataclass(frozen=True, slots=True)
class ChainReport:
    entries: int
    head_hash: str
    first_bad_seq: int | None
    problem: str | None

    @property
    def intact(self) -> bool:
        return self.first_bad_seq is None


def verify(session: Session, batch: int = 1000) -> ChainReport:
    """Recompute every hash from the stored payloads; report the first entry that does not chain."""
    expected_prev, count, seq_expected = GENESIS, 0, 1
    for entry in _iterate(session, batch):
        problem = None
        if entry.seq != seq_expected:
            problem = f"sequence gap: expected {seq_expected}, found {entry.seq}"
        elif entry.prev_hash != expected_prev:
            problem = "prev_hash does not match the previous entry"
        elif chain_hash(entry.prev_hash, _decoded(entry.payload)) != entry.entry_hash:
            problem = "entry_hash does not match its payload"
        if problem is not None:
            return ChainReport(count, expected_prev, entry.seq, problem)
        expected_prev, count, seq_expected = entry.entry_hash, count + 1, seq_expected + 1
    head = session.get(LedgerHead, 1, populate_existing=True)  # appends update the row without the identity map
    if head is None or head.seq != count or head.entry_hash != expected_prev:
        return ChainReport(count, expected_prev, count + 1, "ledger head does not match the last entry")
    return ChainReport(count, expected_prev, None, None)


def _decoded(payload: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(payload)
    return value


def _iterate(session: Session, batch: int) -> Iterator[LedgerEntry]:
    last = 0
    while True:
        rows = session.scalars(
            select(LedgerEntry).where(LedgerEntry.seq > last).order_by(LedgerEntry.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def entries_for(session: Session, document_id: str) -> list[LedgerEntry]:
    """A document's timeline, oldest first."""
    return list(
        session.scalars(select(LedgerEntry).where(LedgerEntry.document_id == document_id).order_by(LedgerEntry.seq))
    )
