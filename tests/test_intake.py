"""Intake: bytes fsync'd, record + ledger event + queued work in one transaction, idempotent, 4xx on our failures."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gateway import queue
from gateway.blobs import BlobStore
from gateway.calendar import Calendar
from gateway.config import CalendarSettings
from gateway.intake import SubmissionIntake, SubmissionRecord
from gateway.ledger.store import LedgerEntry, verify
from gateway.smtp.handler import Principal, Submission
from registry import db

CLERK = Principal("vanthu@stc.camau.lienthong.test", "vanthu@stc.camau.lienthong.test", "000.00.15.H12", "clerk")
# Friday 13 Feb 2026 17:30 in Vietnam: effective Monday 23 Feb 07:00 (weekend, then Tết).
AFTER_HOURS = datetime(2026, 2, 13, 10, 30, tzinfo=UTC)


def submission(data: bytes = b"From: a@b.test\r\n\r\nbody\r\n") -> Submission:
    return Submission(CLERK, "127.0.0.1", CLERK.mailbox, ("vanthu@syt.camau.lienthong.test",), data)


def intake(sessions: sessionmaker[Session], tmp_path: Path) -> SubmissionIntake:
    calendar = Calendar(CalendarSettings(), tmp_path / "no-overrides.toml")
    return SubmissionIntake(sessions, BlobStore(tmp_path / "blobs"), calendar, clock=lambda: AFTER_HOURS)


def test_accept_persists_everything_in_one_go(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    service = intake(sessions, tmp_path)
    reply = asyncio.run(service.accept(submission()))
    assert reply.startswith("250 2.0.0 Accepted as submission ")
    with sessions() as session:
        record = session.scalars(select(SubmissionRecord)).one()
        assert service.blobs.get(record.content_sha256) == submission().data
        assert record.received_at == AFTER_HOURS
        [entry] = session.scalars(select(LedgerEntry)).all()
        payload = json.loads(entry.payload)
        assert entry.kind == "submitted"
        assert payload["content_sha256"] == record.content_sha256
        assert payload["effective_at"].startswith("2026-02-23T07:00:00")
        assert payload["calendar_version"] == service.calendar.version.id
        assert queue.counts(session) == {"pending": 1}
        assert verify(session).intact


def test_resubmitting_the_same_bytes_is_one_submission(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    service = intake(sessions, tmp_path)
    first = asyncio.run(service.accept(submission()))
    second = asyncio.run(service.accept(submission()))
    assert second == first + " (already accepted)"
    asyncio.run(service.accept(submission(b"From: a@b.test\r\n\r\nother\r\n")))
    with sessions() as session:
        assert len(session.scalars(select(SubmissionRecord)).all()) == 2
        assert queue.counts(session) == {"pending": 2}


def test_database_down_is_temporary(tmp_path: Path) -> None:
    # A real engine pointed at a port where nothing listens: the same error a stopped PostgreSQL gives.
    sessions = db.session_factory(db.make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"))
    reply = asyncio.run(intake(sessions, tmp_path).accept(submission()))
    assert reply.startswith("451 4.3.0 [TEMP_DATABASE]")


def test_storage_failure_is_temporary(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    (tmp_path / "blobs").write_text("a file where the blob folder should be")
    reply = asyncio.run(intake(sessions, tmp_path).accept(submission()))
    assert reply[:3] in ("451", "452")
    with sessions() as session:
        assert session.scalars(select(SubmissionRecord)).all() == []
