"""Two agencies on one gateway really exchange a document: submit → process → deliver → receipt, all signed.

Everything runs for real against a demo home: the provincial CA, agency S/MIME certificates, DKIM keys, the
registry, Maildir delivery; only the clock is fixed so that the effective times can be checked.
"""

from __future__ import annotations

import asyncio
import email
import mailbox
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import cast

import pytest
from sqlalchemy import select, update

from certs.multipart import split_signed
from certs.verify import Sender
from gateway import queue
from gateway.documents import IncomingDocument, OutgoingDocument, OutgoingRecipient
from gateway.envelope.model import Organization
from gateway.home import Home
from gateway.intake import SubmissionIntake, SubmissionRecord
from gateway.ledger.store import LedgerEntry, verify
from gateway.queue import Task
from gateway.receipts.mdn import DeliveryFacts, build_receipt, read_receipt
from gateway.receipts.notice import read_notice
from gateway.smtp.handler import Principal, Submission
from gateway.workers.deliver import deliver_one
from gateway.workers.notices import notice_one
from gateway.workers.process import process_one
from gateway.workers.receipt import receipt_one
from gateway.workers.services import Services
from tests.fixtures.workers import signing_services
from tests.mailboxes import kind_of
from tests.test_worker_process import SKHCN, STC, STC_MAIL, SYT, envelope

SGDDT = "000.00.08.H12"  # a trusted agency of the same province, never a recipient of the documents here
AGENCIES = {
    STC: STC_MAIL,
    SYT: "vanthu@syt.camau.lienthong.test",
    SKHCN: "vanthu@skhcn.camau.lienthong.test",
    SGDDT: "vanthu@sgddt.camau.lienthong.test",
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


def notice_text(raw: bytes) -> str:
    """The clerk's text part of a signed notice, as a mail client shows it."""
    inner = email.message_from_bytes(split_signed(raw).content)
    [part] = [p for p in inner.walk() if p.get_content_type() == "text/plain"]
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode("utf-8")


def test_document_reaches_both_records_offices_and_receipts_come_back(services: Services) -> None:
    submit(services, envelope(issued=date(2026, 2, 13)))
    run_all(services)
    with services.sessions() as session:
        [document] = session.scalars(select(OutgoingDocument)).all()
        signed = services.blobs.get(document.signed_sha256)
        incoming = {row.organ_id: row for row in session.scalars(select(IncomingDocument))}
        sent = {row.organ_id: row for row in session.scalars(select(OutgoingRecipient))}
        events = [e.data() for e in session.scalars(select(LedgerEntry).order_by(LedgerEntry.seq))]
        kinds = [e["kind"] for e in events]
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
    # Both agencies on one gateway: the receipt leaves the recipient's side when it is handed to the receipt worker,
    # in the transaction that recorded the delivery, and each recipient's timeline reads in order.
    for recipient in (SYT, SKHCN):
        timeline = [
            (e["kind"], e["details"].get("status"))
            for e in events
            if recipient in (e["organ_id"], e["counterpart"]) and e["kind"] != "accepted"
        ]
        assert timeline == [("delivered", None), ("receipt_sent", "01"), ("receipt_received", "01")]

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


def test_mic_mismatch_is_recorded_as_a_failure_and_alerts_people(services: Services) -> None:
    stored_mic = "AAAA" + "A" * 40
    submit(services, envelope(issued=date(2026, 2, 13)))
    while process_one(services, "w"):
        pass
    with services.sessions.begin() as session:
        session.execute(update(OutgoingDocument).values(mic=stored_mic))
    run_all(services)
    with services.sessions() as session:
        states = {row.state for row in session.scalars(select(OutgoingRecipient))}
        kinds = [e.kind for e in session.scalars(select(LedgerEntry))]
        alerts = [i.data() for i in session.scalars(select(queue.QueueItem)) if i.data().get("kind") == "mic-alert"]
        assert queue.counts(session) == {"done": 8}  # 1 process + 2 deliver + 2 receipt + acceptance + 2 alerts
    assert states == {"mic_mismatch"}
    assert kinds.count("receipt_mismatch") == 2
    assert "receipt_received" not in kinds
    assert sorted(str(a["recipient"]) for a in alerts) == sorted((SYT, SKHCN))

    # No receipt reads like a confirmation in the sender's mailbox: a signed alert per recipient stands there instead.
    assert maildir(services, STC_MAIL, "receipt") == []
    notices = maildir(services, STC_MAIL, "notice")
    alerts_raw = [raw for raw in notices if read_notice(raw)["kind"] == "mic-alert"]
    assert sorted(str(read_notice(raw)["kind"]) for raw in notices) == ["acceptance", "mic-alert", "mic-alert"]
    for raw in alerts_raw:
        data = read_notice(raw)
        details = cast("dict[str, str]", data["details"])
        assert data["reason_code"] == "RECEIPT_MIC_MISMATCH"
        assert details["stored_mic"] == stored_mic
        assert details["receipt_mic"] not in ("", stored_mic)  # the MIC of what the recipient really signed for
        assert data["cc"] == [AGENCIES[SKHCN]]  # the operator (the demo's Sở KH&CN)
        services.verifier.verify_sync(raw, Sender(SKHCN, frozenset({AGENCIES[SKHCN]})))
        text = notice_text(raw)
        assert stored_mic in text
        assert details["receipt_mic"] in text
        assert str(data["recipient"]) in text
        assert "CHƯA được xác nhận" in text
    # The operator's records office has the same alerts (it is also a recipient here: its copy of the document too).
    assert sorted(maildir(services, AGENCIES[SKHCN], "notice")) == sorted(alerts_raw)


def test_mic_mismatch_without_an_operator_still_withholds_the_receipt(services: Services) -> None:
    services = replace(services, operator="")
    submit(services, envelope(issued=date(2026, 2, 13)))
    while process_one(services, "w"):
        pass
    with services.sessions.begin() as session:
        session.execute(update(OutgoingDocument).values(mic="AAAA" + "A" * 40))
    run_all(services)
    with services.sessions() as session:
        assert {row.state for row in session.scalars(select(OutgoingRecipient))} == {"mic_mismatch"}
    # No one signs notices without an operator: the ledger and the error log are the alert; still no false receipt
    # (nothing at all was delivered to the sender's records office, so its Maildir was never even made).
    assert not services.mailboxes.maildir(STC_MAIL).exists()


def receipt_from_a_stranger(services: Services, document: OutgoingDocument) -> str:
    """A well-formed receipt for ``document``, quoting its true MIC, signed with the real certificate of an agency it
    was not sent to (the Sở Giáo dục), stored and queued as the relay listener queues one that came back."""
    with services.sessions.begin() as session:
        signer = services.signers.active(session, SGDDT, services.chain)
        effective = services.calendar.effective(AFTER_HOURS, SGDDT)
        facts = DeliveryFacts(
            document_id=document.document_id,
            original_message_id=document.message_id,
            original_sender=Organization(STC, organ_name="Sở Tài chính tỉnh Cà Mau", email=STC_MAIL),
            recipient=Organization(SGDDT, organ_name="Sở Giáo dục và Đào tạo tỉnh Cà Mau", email=AGENCIES[SGDDT]),
            final_recipient=AGENCIES[SGDDT],
            mic=document.mic,
            received_at=AFTER_HOURS,
            effective_at=effective.effective_local,
            calendar_version=effective.calendar_version,
            incoming_number=1,
        )
        digest = services.blobs.put(build_receipt(facts, services.domain, signer.certificate, signer.key, signer.chain))
        queue.enqueue(session, Task.RECEIPT, f"{Task.RECEIPT}:{digest}", {"blob": digest}, AFTER_HOURS)
    return digest


def test_a_receipt_signed_by_an_agency_that_is_not_a_recipient_confirms_nothing(services: Services) -> None:
    submit(services, envelope(issued=date(2026, 2, 13)))
    while process_one(services, "w"):
        pass
    with services.sessions() as session:
        [document] = session.scalars(select(OutgoingDocument)).all()
    assert SGDDT not in document.recipients.split(",")
    digest = receipt_from_a_stranger(services, document)
    run_all(services)
    with services.sessions() as session:
        sent = {row.organ_id: row.state for row in session.scalars(select(OutgoingRecipient))}
        events = [e.data() for e in session.scalars(select(LedgerEntry).order_by(LedgerEntry.seq))]
        assert verify(session).intact
        assert queue.counts(session) == {"done": 8}  # process, 2 deliver, 3 receipt, acceptance, 1 alert
    # The two real recipients are sent; the stranger is no recipient and got no sent time.
    assert sent == {SYT: "sent", SKHCN: "sent"}
    [rejected] = [e for e in events if e["kind"] == "receipt_rejected"]
    assert (rejected["document_id"], rejected["organ_id"], rejected["counterpart"]) == (
        document.document_id,
        STC,
        SGDDT,
    )
    assert rejected["reason_code"] == "RECEIPT_NOT_FROM_RECIPIENT"
    assert rejected["content_sha256"] == digest
    assert [e["counterpart"] for e in events if e["kind"] == "receipt_received"].count(SGDDT) == 0

    # Only the two true receipts are in the sender's mailbox, beside the acceptance and a signed alert.
    assert sorted(read_receipt(raw).final_recipient for raw in maildir(services, STC_MAIL, "receipt")) == sorted(
        AGENCIES[r] for r in (SYT, SKHCN)
    )
    [alert] = [raw for raw in maildir(services, STC_MAIL, "notice") if read_notice(raw)["kind"] == "receipt-alert"]
    data = read_notice(alert)
    details = cast("dict[str, str]", data["details"])
    assert (data["reason_code"], data["recipient"], data["cc"]) == (
        "RECEIPT_NOT_FROM_RECIPIENT",
        SGDDT,
        [AGENCIES[SKHCN]],
    )
    assert details["receipt_sha256"] == digest
    services.verifier.verify_sync(alert, Sender(SKHCN, frozenset({AGENCIES[SKHCN]})))
    text = notice_text(alert)
    assert "[RECEIPT_NOT_FROM_RECIPIENT]" in text
    assert SGDDT in text
    assert digest in text

    # Running the receipt worker over it again records nothing twice.
    with services.sessions.begin() as session:
        session.execute(update(queue.QueueItem).values(state="pending", next_attempt_at=AFTER_HOURS))
    run_all(services)
    with services.sessions() as session:
        kinds = [e.kind for e in session.scalars(select(LedgerEntry))]
    assert kinds.count("receipt_rejected") == 1
