"""The hash-chained ledger: appends chain, concurrent appenders never fork it, tampering is found, rows are frozen."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from gateway.ledger.events import GENESIS, Event, EventKind, canonical, chain_hash
from gateway.ledger.store import append, entries_for, verify

T0 = datetime(2026, 3, 2, 2, 15, tzinfo=UTC)
DOC = "000.00.00.H12,2026/03/02,15/UBND-VP"


def event(n: int, kind: EventKind = EventKind.SUBMITTED, document_id: str = DOC) -> Event:
    return Event(
        kind=kind,
        at=T0 + timedelta(seconds=n),
        document_id=document_id,
        organ_id="000.00.00.H12",
        content_sha256=f"{n:064x}",
        effective_at=(T0 + timedelta(seconds=n)).astimezone(timezone(timedelta(hours=7))),
        calendar_version="test",
        details={"n": n, "ghi chú": "Văn bản điện tử mới"},
    )


def test_chain_is_recomputable_from_payloads(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        first = append(session, event(1))
        second = append(session, event(2, EventKind.ACCEPTED))
    assert (first.seq, second.seq) == (1, 2)
    assert first.entry_hash == chain_hash(GENESIS, event(1).payload())
    assert second.entry_hash == chain_hash(first.entry_hash, event(2, EventKind.ACCEPTED).payload())
    with sessions() as session:
        report = verify(session)
        assert report.intact
        assert report.entries == 2
        assert report.head_hash == second.entry_hash
        timeline = entries_for(session, DOC)
        assert [e.kind for e in timeline] == ["submitted", "accepted"]
        assert timeline[0].payload == canonical(event(1).payload()).decode()


def test_rolled_back_append_leaves_no_trace(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        append(session, event(1))
    with sessions() as session:
        append(session, event(2))
        session.rollback()
    with sessions.begin() as session:
        assert append(session, event(3)).seq == 2
    with sessions() as session:
        assert verify(session).intact


def test_concurrent_appenders_never_fork_the_chain(sessions: sessionmaker[Session]) -> None:
    writers, per_writer = 8, 15
    errors: list[BaseException] = []

    def work(w: int) -> None:
        try:
            for i in range(per_writer):
                with sessions.begin() as session:
                    append(session, event(w * 1000 + i, document_id=f"doc-{w}"))
        except BaseException as exc:  # reported below; a thread cannot raise into the test
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    with sessions() as session:
        report = verify(session)
    assert report.intact, report.problem
    assert report.entries == writers * per_writer


def test_entries_cannot_be_updated_or_deleted(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        append(session, event(1))
    for statement in ("UPDATE ledger_entries SET kind = 'refused'", "DELETE FROM ledger_entries"):
        with sessions() as session, pytest.raises(DBAPIError, match="append-only"):
            session.execute(text(statement))


def test_tampered_payload_is_found(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        for n in range(1, 6):
            append(session, event(n))
    # An attacker with database access disables the guard and edits entry 3.
    with sessions.begin() as session:
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            session.execute(text("ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_append_only"))
        else:
            session.execute(text("DROP TRIGGER ledger_entries_no_update"))
        session.execute(
            text("UPDATE ledger_entries SET payload = replace(payload, '\"submitted\"', '\"refused\"') WHERE seq = 3")
        )
    with sessions() as session:
        report = verify(session)
    assert not report.intact
    assert report.first_bad_seq == 3
    assert report.problem == "entry_hash does not match its payload"


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="must carry its offset"):
        Event(kind=EventKind.SUBMITTED, at=datetime(2026, 3, 2, 9, 15))
