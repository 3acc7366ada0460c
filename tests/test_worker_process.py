"""The processing worker against a real demo home: validate, sign (S/MIME + DKIM), record, queue; or refuse."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from certs import context, dkim
from certs.multipart import split_signed
from certs.smime import mic
from certs.store import CertificateRecord
from certs.verify import Sender
from gateway import queue
from gateway.documents import OutgoingDocument
from gateway.envelope.model import Code, Organization
from gateway.home import Home
from gateway.intake import SubmissionIntake, SubmissionRecord
from gateway.ledger.store import LedgerEntry, verify
from gateway.smtp.handler import Principal, Submission
from gateway.workers.process import process_one
from gateway.workers.services import Services
from tests.fixtures.envelope import ISSUED, build_valid, make_header
from tests.fixtures.workers import signing_services
from tests.gateways import openssl_verify

STC, STC_MAIL = "000.00.15.H12", "vanthu@stc.camau.lienthong.test"
SYT, SKHCN = "000.00.22.H12", "000.00.11.H12"
NOW = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)  # Tuesday 09:00 in Vietnam
CLERK = Principal(STC_MAIL, STC_MAIL, STC, "clerk")


def envelope(subject: str = "Về việc thử nghiệm liên thông", sender: str = STC, issued: date = ISSUED) -> bytes:
    header = make_header(
        from_=Organization(sender, organ_name="Sở Tài chính tỉnh Cà Mau", email=STC_MAIL),
        code=Code("15", "STC-VP"),
        issued=issued,
    )
    header = replace(
        header,
        to=(
            Organization(SYT, organ_name="Sở Y tế tỉnh Cà Mau", email="vanthu@syt.camau.lienthong.test"),
            Organization(SKHCN, organ_name="Sở Khoa học và Công nghệ", email="vanthu@skhcn.camau.lienthong.test"),
        ),
        subject=subject,
    )
    return build_valid(header)


@pytest.fixture
def services(demo_home: Home) -> Services:
    return signing_services(demo_home, {STC: STC_MAIL}, lambda: NOW)


def submit(services: Services, data: bytes) -> SubmissionRecord:
    intake = SubmissionIntake(services.sessions, services.blobs, services.calendar, clock=lambda: NOW)
    reply = asyncio.run(intake.accept(Submission(CLERK, "127.0.0.1", STC_MAIL, ("x@y.test",), data)))
    assert reply.startswith("250 ")
    with services.sessions() as session:
        return session.scalars(select(SubmissionRecord).order_by(SubmissionRecord.id.desc())).first()  # type: ignore[return-value]


def ledger_kinds(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return [e.kind for e in session.scalars(select(LedgerEntry).order_by(LedgerEntry.seq))]


def test_valid_document_is_signed_recorded_and_queued(services: Services, demo_home: Home, tmp_path: Path) -> None:
    submit(services, envelope())
    assert process_one(services, "w1")
    assert not process_one(services, "w1")
    with services.sessions() as session:
        [document] = session.scalars(select(OutgoingDocument)).all()
        items = [i for i in queue.listing(session, ("pending",)) if i.task == "deliver"]
        assert sorted(i.dedup_key for i in items) == sorted(f"deliver:{document.document_id}:{r}" for r in (SYT, SKHCN))
        assert verify(session).intact
        assert session.scalars(select(SubmissionRecord)).one().state == "accepted"
    assert ledger_kinds(services.sessions) == ["submitted", "accepted"]

    signed = services.blobs.get(document.signed_sha256)
    # The agency's S/MIME signature: our verifier and openssl both accept it.
    result = context.verifier(demo_home).verify_sync(signed, Sender(STC, frozenset({STC_MAIL})))
    assert result.organ_id == STC
    openssl = openssl_verify(signed, demo_home.keys_dir / "ca" / "root.pem", tmp_path)
    assert openssl.returncode == 0, openssl.stderr
    # The MIC stored for receipts is over the exact signed entity.
    assert document.mic == mic(split_signed(signed).content)
    # The gateway's DKIM signature (the key looked up from the home's own key files: a stand-in for DNS).
    keys = {f"{k.selector}._domainkey.{services.domain}".encode(): k.txt_value.encode() for k in services.dkim_keys}
    checks = dkim.verify(signed, lambda name, timeout=5: keys.get(name.rstrip(b".")))
    assert dkim.require_pass(checks, services.domain).passed


def test_same_document_id_is_delivered_once(services: Services) -> None:
    submit(services, envelope())
    submit(services, envelope() + b"\r\n")  # different bytes, same DocumentId
    assert process_one(services, "w1")
    assert process_one(services, "w1")
    with services.sessions() as session:
        assert len(session.scalars(select(OutgoingDocument)).all()) == 1
        assert len([i for i in queue.listing(session, ("pending",)) if i.task == "deliver"]) == 2
        states = sorted(r.state for r in session.scalars(select(SubmissionRecord)))
        assert states == ["accepted", "duplicate"]
        # The sender hears of both: the retry is answered with an acceptance too, naming the same DocumentId.
        notices = [i.data() for i in queue.listing(session, ("pending",)) if i.task == "notice"]
        assert [n["kind"] for n in notices] == ["acceptance", "acceptance"]
        assert notices[0]["document_id"] == notices[1]["document_id"] == document_id(session)
    assert ledger_kinds(services.sessions).count("accepted") == 1


def document_id(session: Session) -> str:
    return session.scalars(select(OutgoingDocument.document_id)).one()


def test_same_document_id_with_other_content_is_refused_with_a_notice(services: Services) -> None:
    """Never a silent drop: the second document would otherwise vanish behind the first one's DocumentId."""
    submit(services, envelope())
    submit(services, envelope(subject="Về việc một nội dung khác"))
    assert process_one(services, "w1")
    assert process_one(services, "w1")
    with services.sessions() as session:
        assert len(session.scalars(select(OutgoingDocument)).all()) == 1
        states = [r.state for r in session.scalars(select(SubmissionRecord).order_by(SubmissionRecord.id))]
        assert states == ["accepted", "refused"]
        refused = session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "refused")).one()
        assert refused.data()["reason_code"] == "DOCUMENT_ID_TAKEN"
        assert refused.document_id == document_id(session)  # in that DocumentId's timeline: someone reused it
        notices = [i.data() for i in queue.listing(session, ("pending",)) if i.task == "notice"]
        assert [n["kind"] for n in notices] == ["acceptance", "non-acceptance"]
        assert notices[1]["reason_code"] == "DOCUMENT_ID_TAKEN"
        assert len([i for i in queue.listing(session, ("pending",)) if i.task == "deliver"]) == 2  # the first's only


def test_classified_document_is_refused_and_purged(services: Services) -> None:
    record = submit(services, envelope(subject="(TỐI MẬT) Về việc phương án bảo vệ"))
    assert record.content_sha256 in services.blobs
    assert process_one(services, "w1")
    assert record.content_sha256 not in services.blobs  # Art. 4.1: nothing of it is kept
    with services.sessions() as session:
        refused = session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "refused")).one()
        assert refused.data()["reason_code"] == "CLASSIFIED"
        assert refused.data()["content_sha256"] == record.content_sha256
        assert "MẬT" not in refused.payload.upper().replace("CLASSIFIED", "")
        assert refused.document_id is None  # nor its number and notation: the ledger keeps the hash only
        assert session.scalars(select(OutgoingDocument)).all() == []
        [item] = [i for i in queue.listing(session) if i.task == "process"]
        assert item.state == "done"
        assert [i.task for i in queue.listing(session, ("pending",))] == ["notice"]  # the non-acceptance notice


def test_envelope_for_another_agency_is_refused(services: Services) -> None:
    submit(services, envelope(sender=SYT))
    assert process_one(services, "w1")
    with services.sessions() as session:
        refused = session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "refused")).one()
        assert refused.data()["reason_code"] in ("SENDER_MISMATCH", "DOCUMENT_ID_MISMATCH")


def test_agency_without_certificate_is_retried_not_refused(demo_home: Home, services: Services) -> None:
    with services.sessions.begin() as session:
        for record in session.scalars(select(CertificateRecord).where(CertificateRecord.organ_id == STC)):
            record.is_active = False
    submit(services, envelope())
    assert process_one(services, "w1")
    with services.sessions() as session:
        [item] = queue.listing(session)
        assert item.state == "pending"
        assert "no active S/MIME certificate" in (item.last_error or "")
        assert "refused" not in ledger_kinds(services.sessions)
