"""Accept fast, persist, acknowledge: what happens between the end of DATA and the 250.

The exact bytes go to the blob store (fsync'd), then one transaction records the submission, appends a
``submitted`` ledger event and queues the processing work; only after the commit does the client hear 250. A crash
before the commit loses nothing the client was told was accepted (it saw no 250 and retries); a crash after it
leaves a queued item that a worker picks up on restart. The same bytes from the same account are the same
submission: a client retrying after a lost 250 gets the first one's id back and nothing is queued twice.

Our own failures answer 4xx so the sender retries: a full disk ``452 4.3.1``, an unreachable database ``451 4.3.0``.
"""

from __future__ import annotations

import asyncio
import errno
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Integer, String, Text, UniqueConstraint, insert, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from gateway import queue
from gateway.blobs import BlobStore
from gateway.calendar import Calendar
from gateway.ledger.events import Event, EventKind
from gateway.ledger.store import append
from gateway.ledger.timeline import submitted_entry
from gateway.queue import Task
from gateway.reasons import reason
from gateway.smtp.handler import Submission
from registry.models import Base, UtcDateTime

log = logging.getLogger(__name__)


class SubmissionRecord(Base):
    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("login", "content_sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    login: Mapped[str] = mapped_column(String(254), nullable=False)
    organ_id: Mapped[str | None] = mapped_column(String(35), index=True)
    mail_from: Mapped[str] = mapped_column(String(254), nullable=False)
    rcpt_tos: Mapped[str] = mapped_column(Text, nullable=False)  # comma-separated, as accepted
    content_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    peer: Mapped[str] = mapped_column(String(64), nullable=False)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="received")


class SubmissionIntake:
    """Implements ``gateway.smtp.handler.Intake`` over the blob store, the database and the calendar."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        blobs: BlobStore,
        calendar: Calendar,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.sessions = sessions
        self.blobs = blobs
        self.calendar = calendar
        self.clock = clock

    async def accept(self, submission: Submission) -> str:
        try:
            submission_id, duplicate = await asyncio.to_thread(self._persist, submission)
        except OSError as exc:
            log.error("blob store failure: %s", exc)
            code = "TEMP_STORAGE" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else "TEMP_DATABASE"
            return reason(code).smtp_reply()
        except OperationalError as exc:
            log.error("database failure: %s", str(exc.orig).strip().splitlines()[0] if exc.orig else exc)
            return reason("TEMP_DATABASE").smtp_reply()
        note = " (already accepted)" if duplicate else ""
        return f"250 2.0.0 Accepted as submission {submission_id}{note}"

    def _persist(self, submission: Submission) -> tuple[int, bool]:
        digest = self.blobs.put(submission.data)
        now = self.clock()
        with self.sessions.begin() as session:
            existing = session.scalar(
                select(SubmissionRecord.id).where(
                    SubmissionRecord.login == submission.principal.login, SubmissionRecord.content_sha256 == digest
                )
            )
            if existing is not None:
                return existing, True
            # A Core insert: the row is never read back here, and the ORM unit of work cost more than the statement.
            inserted = session.execute(
                insert(SubmissionRecord)
                .values(
                    login=submission.principal.login,
                    organ_id=submission.principal.organ_id,
                    mail_from=submission.mail_from,
                    rcpt_tos=",".join(submission.rcpt_tos),
                    content_sha256=digest,
                    size=len(submission.data),
                    peer=submission.peer[:64],
                    received_at=now,
                    state="received",
                )
                .returning(SubmissionRecord.id)
            )
            submission_id = int(inserted.scalar_one())
            effective = self.calendar.effective(now, submission.principal.organ_id)
            submitted = append(
                session,
                Event(
                    kind=EventKind.SUBMITTED,
                    at=now,
                    organ_id=submission.principal.organ_id,
                    content_sha256=digest,
                    effective_at=effective.effective_local,
                    calendar_version=effective.calendar_version,
                    details={"submission": submission_id, "login": submission.principal.login},
                ),
            )
            # The DocumentId is known only once the worker has parsed the bytes, and the ledger is never changed:
            # the worker's accepted or refused event names this entry, which links it into the document's timeline.
            payload = {"submission": submission_id, "submitted_entry": submitted_entry(submitted)}
            queue.enqueue(session, Task.PROCESS, f"{Task.PROCESS}:{submission_id}", payload, now=now)
            return submission_id, False
