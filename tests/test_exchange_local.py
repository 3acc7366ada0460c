"""Two agencies on one gateway really exchange a document: submit → process → deliver → receipt, all signed.

Everything runs for real against a demo home: the provincial CA, agency S/MIME certificates, DKIM keys, the
registry, Maildir delivery; only the clock is fixed so that the effective times can be checked.
"""

from __future__ import annotations

import asyncio
import mailbox
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, update

from gateway import queue
from gateway.documents import IncomingDocument, OutgoingDocument, OutgoingRecipient
from gateway.home import Home
from gateway.intake import SubmissionIntake, SubmissionRecord
from gateway.ledger.store import LedgerEntry, verify
from gateway.receipts.mdn import read_receipt
from gateway.smtp.handler import Principal, Submission
from gateway.workers.deliver import deliver_one
from gateway.workers.notices import notice_one
from gateway.workers.process import process_one
from gateway.workers.receipt import receipt_one
from gateway.workers.services import Services
from tests.fixtures.workers import signing_services
from tests.mailboxes import kind_of
from tests.test_worker_process import SKHCN, STC, STC_MAIL, SYT, envelope

AGENCIES = {
    STC: STC_MAIL,
    SYT: "vanthu@syt.camau.lienthong.test",
    SKHCN: "vanthu@skhcn.camau.lienthong.test",
}
# Friday 13 Feb 2026, 17:30 in Vietnam: after hours, so every effective time is Monday 23 Feb 07:00 (after Tết).
AFTER_HOURS = datetime(2026, 2, 13, 10, 30, tzinfo=UTC)


@pytest.fixture
def services(demo_home: Home) -> Services:
    return signing_services(demo_home, AGENCIES, lambda: AFTER_HOURS)


def run_all(services: Services) -> None:
    for step in (process_one, deliver_one, receipt_one, notice_one):
        while step(services, "test-worker"):
            pass


def submit(services: Services, data: bytes) -> None:
    intake = SubmissionIntake(services.sessions, services.blobs, services.calendar, clock=services.clock)
    principal = Principal(STC_MAIL, STC_MAIL, STC, "clerk")
    reply = asyncio.run(intake.accept(Submission(principal, "127.0.0.1", STC_MAIL, ("x@y.test",), data)))
    assert reply.startswith("250 ")


def maildir(services: Services, address: str, kind: str | None = None) -> list[bytes]:
    box = mailbox.Maildir(services.mailboxes.maildir(address), create=False)
    return [raw for raw in (box.get_bytes(key) for key in box.keys()) if kind is None or kind_of(raw) == kind]  # noqa: SIM118


def test_document_reaches_both_records_offices_and_receipts_come_back(services: Services) -> None:
    submit(services, envelope(issued=date(2026, 2, 13)))
    run_all(services)
    with services.sessions() as session:
        [document] = session.scalars(select(OutgoingDocument)).all()
        signed = services.blobs.get(document.signed_sha256)
        incoming = {row.organ_id: row for row in session.scalars(select(IncomingDocument))}
        sent = {row.organ_id: row for row in session.scalars(select(OutgoingRecipient))}
        kinds = [e.kind for e in session.scalars(select(LedgerEntry).order_by(LedgerEntry.seq))]
        assert verify(session).intact
        assert queue.counts(session) == {"done": 6}  # 1 process + 2 deliver + 2 receipt + 1 notice

    for recipient in (SYT, SKHCN):
        # The exact signed bytes in the recipient's Maildir, an incoming number, received times per Art. 11.
        assert maildir(services, AGENCIES[recipient]) == [signed]
        assert incoming[recipient].incoming_number == 1
        assert incoming[recipient].received_at == AFTER_HOURS
        assert incoming[recipient].effective_received_at == datetime(2026, 2, 23, 0, 0, tzinfo=UTC)
        # The sender's record of the receipt: sent, with the recipient's incoming number and the MIC checked.
        assert sent[recipient].state == "sent"
        assert sent[recipient].incoming_number == 1
        assert sent[recipient].effective_sent_at == datetime(2026, 2, 23, 0, 0, tzinfo=UTC)
    assert kinds.count("delivered") == 2
    assert kinds.count("receipt_sent") == 2
    assert kinds.count("receipt_received") == 2

    # Both readable receipts are in the sender's mailbox and quote the MIC of what was sent.
    receipts = [read_receipt(raw) for raw in maildir(services, STC_MAIL, "receipt")]
    assert sorted(r.final_recipient for r in receipts) == sorted(AGENCIES[r] for r in (SYT, SKHCN))
    assert {r.mic for r in receipts} == {document.mic}
    assert {r.status_code for r in receipts} == {"01"}


def test_running_the_workers_again_changes_nothing(services: Services) -> None:
    submit(services, envelope(issued=date(2026, 2, 13)))
    run_all(services)
    with services.sessions() as session:
        before = verify(session).entries
        # Make every finished item due again, as if a worker had crashed before recording its completion.
        session.execute(update(queue.QueueItem).values(state="pending", next_attempt_at=AFTER_HOURS))
        session.commit()
    run_all(services)
    with services.sessions() as session:
        assert verify(session).entries == before
        assert len(session.scalars(select(IncomingDocument)).all()) == 2
        assert [r.state for r in session.scalars(select(SubmissionRecord))] == ["accepted"]
    for recipient in (SYT, SKHCN):
        assert len(maildir(services, AGENCIES[recipient])) == 1
    assert len(maildir(services, STC_MAIL, "receipt")) == 2
    assert len(maildir(services, STC_MAIL, "notice")) == 1  # the acceptance notice, once


def test_mic_mismatch_is_recorded_as_a_failure(services: Services) -> None:
    submit(services, envelope(issued=date(2026, 2, 13)))
    while process_one(services, "w"):
        pass
    with services.sessions.begin() as session:
        session.execute(update(OutgoingDocument).values(mic="AAAA" + "A" * 40))
    run_all(services)
    with services.sessions() as session:
        states = {row.state for row in session.scalars(select(OutgoingRecipient))}
        kinds = [e.kind for e in session.scalars(select(LedgerEntry))]
    assert states == {"mic_mismatch"}
    assert kinds.count("receipt_mismatch") == 2
    assert "receipt_received" not in kinds
