"""Signed notices to the sender: acceptance, non-acceptance (without content for Art. 4.1 refusals), and the watch
that issues a warning and then a non-delivery notice when no receipt comes back within office hours."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from email import message_from_bytes
from email.header import decode_header, make_header
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from certs.verify import Sender
from gateway import queue
from gateway.home import Home
from gateway.ledger.store import LedgerEntry
from gateway.receipts.notice import NoticeKind, read_notice
from gateway.workers.notice_watch import watch_once
from gateway.workers.notices import enqueue_notice, notice_one
from gateway.workers.process import process_one
from gateway.workers.services import Services
from tests.fixtures.workers import signing_services
from tests.gateways import openssl_verify
from tests.mailboxes import maildir_messages
from tests.test_exchange_local import notice_text, submit
from tests.test_worker_process import STC, STC_MAIL, envelope

OPERATOR, OPERATOR_MAIL = "000.00.11.H12", "vanthu@skhcn.camau.lienthong.test"
# Friday 13 Feb 2026 17:30 in Vietnam: the office-hours clock starts on Monday 23 Feb 07:00 (after Tết).
ACCEPTED = datetime(2026, 2, 13, 10, 30, tzinfo=UTC)
NOW = [ACCEPTED]  # the workers' clock; the watch test moves it forward


@pytest.fixture(autouse=True)
def _reset_clock() -> None:
    NOW[0] = ACCEPTED


@pytest.fixture
def services(demo_home: Home) -> Services:
    built = signing_services(demo_home, {STC: STC_MAIL, OPERATOR: OPERATOR_MAIL}, lambda: NOW[0])
    assert built.operator == OPERATOR  # the demo names the Sở Khoa học và Công nghệ as operator
    return built


def drain(services: Services) -> None:
    while process_one(services, "w") or notice_one(services, "w"):
        pass


def test_acceptance_notice_is_signed_by_the_operator(services: Services, demo_home: Home, tmp_path: Path) -> None:
    submit(services, envelope(issued=date(2026, 2, 13)))
    drain(services)
    [raw] = maildir_messages(demo_home, STC_MAIL, "notice")
    data = read_notice(raw)
    assert data["kind"] == "acceptance"
    assert data["document_id"] == "000.00.15.H12,2026/02/13,15/STC-VP"
    services.verifier.verify_sync(raw, Sender(OPERATOR, frozenset({OPERATOR_MAIL})))
    openssl = openssl_verify(raw, demo_home.keys_dir / "ca" / "root.pem", tmp_path)
    assert openssl.returncode == 0, openssl.stderr


def test_a_notice_is_dated_when_it_was_issued_not_at_its_effective_time(services: Services, demo_home: Home) -> None:
    """Issued on a Friday evening, its effective time is Monday 07:00 (after Tết); a Date header in the future
    would misorder the clerk's mailbox. The effective time is in the notice's own fields."""
    submit(services, envelope(issued=date(2026, 2, 13)))
    drain(services)
    [raw] = maildir_messages(demo_home, STC_MAIL, "notice")
    assert parsedate_to_datetime(str(message_from_bytes(raw)["Date"])) == ACCEPTED
    assert str(read_notice(raw)["effective_at"]).startswith("2026-02-23T07:00")


def test_non_acceptance_of_a_classified_document_names_the_rule_not_the_content(
    services: Services, demo_home: Home
) -> None:
    subject = "(TỐI MẬT) Về việc phương án bảo vệ mục tiêu"
    submit(services, envelope(subject=subject, issued=date(2026, 2, 13)))
    drain(services)
    [raw] = maildir_messages(demo_home, STC_MAIL, "notice")
    data = read_notice(raw)
    assert data["kind"] == "non-acceptance"
    assert data["reason_code"] == "CLASSIFIED"
    assert "phương án bảo vệ" not in raw.decode("utf-8", "replace")
    assert "phương án bảo vệ" not in str(data)


def test_warning_then_non_delivery_when_no_receipt_comes(services: Services, demo_home: Home) -> None:
    submit(services, envelope(issued=date(2026, 2, 13)))
    drain(services)  # accepted; the deliver items are never run here, so no receipt will come
    # 4 office hours after acceptance: Monday 23 Feb 11:00 in Vietnam (04:00 UTC).
    assert watch_once(services, now=datetime(2026, 2, 23, 3, 59, tzinfo=UTC)) == 0
    assert watch_once(services, now=datetime(2026, 2, 23, 4, 0, 1, tzinfo=UTC)) == 2  # one per silent recipient
    assert watch_once(services, now=datetime(2026, 2, 23, 5, 0, tzinfo=UTC)) == 0  # already queued: not again
    NOW[0] = datetime(2026, 2, 23, 5, 0, tzinfo=UTC)
    drain(services)
    kinds = sorted(str(read_notice(raw)["kind"]) for raw in maildir_messages(demo_home, STC_MAIL, "notice"))
    assert kinds == ["acceptance", "warning", "warning"]
    # 16 office hours: Tuesday 24 Feb 17:00 in Vietnam (10:00 UTC).
    assert watch_once(services, now=datetime(2026, 2, 24, 10, 0, 1, tzinfo=UTC)) == 2  # the warnings are queued already
    NOW[0] = datetime(2026, 2, 24, 10, 0, 1, tzinfo=UTC)
    drain(services)
    kinds = sorted(str(read_notice(raw)["kind"]) for raw in maildir_messages(demo_home, STC_MAIL, "notice"))
    assert kinds == ["acceptance", "non-delivery", "non-delivery", "warning", "warning"]
    with services.sessions() as session:
        events = [e.kind for e in session.scalars(select(LedgerEntry).order_by(LedgerEntry.seq))]
    assert events.count("warning") == 2
    assert events.count("non_delivery") == 2
    # The non-delivery notice is final: the deliveries behind it are given up, not tried again behind it.
    with services.sessions() as session:
        deliveries = [i for i in queue.listing(session) if i.task == "deliver"]
    assert len(deliveries) == 2
    assert {i.state for i in deliveries} == {"dropped"}
    assert all("non-delivery notice" in (i.last_error or "") for i in deliveries)


def test_without_an_operator_the_ledger_still_records_warnings_and_non_delivery(
    services: Services, demo_home: Home
) -> None:
    """No operator means nothing to sign notices with; the sender is not told, but the ledger is the record."""
    silent = replace(services, operator="")
    submit(silent, envelope(issued=date(2026, 2, 13)))
    drain(silent)
    assert watch_once(silent, now=datetime(2026, 2, 24, 10, 0, 1, tzinfo=UTC)) == 4
    NOW[0] = datetime(2026, 2, 24, 10, 0, 1, tzinfo=UTC)
    drain(silent)
    assert maildir_messages(demo_home, STC_MAIL, "notice") == []
    with silent.sessions() as session:
        entries = session.scalars(select(LedgerEntry).order_by(LedgerEntry.seq)).all()
        notices = [i for i in queue.listing(session) if i.task == "notice"]
        deliveries = [i for i in queue.listing(session) if i.task == "deliver"]
    recorded = [e.data() for e in entries if e.kind in ("warning", "non_delivery")]
    assert sorted(e["kind"] for e in recorded) == ["non_delivery", "non_delivery", "warning", "warning"]
    assert all(e["details"] == {"notified": False} for e in recorded)
    assert {e["counterpart"] for e in recorded} == {"000.00.22.H12", "000.00.11.H12"}
    assert {i.state for i in notices} == {"done"}
    assert {i.state for i in deliveries} == {"dropped"}


def test_mic_alert_names_both_mics_in_vietnamese_and_reaches_the_operator(
    services: Services, demo_home: Home, tmp_path: Path
) -> None:
    stored, received = "s" * 43 + "=", "r" * 43 + "="
    payload = {
        "to": STC_MAIL,
        "cc": [OPERATOR_MAIL],
        "sender": STC,
        "submission": 7,
        "document_id": "000.00.15.H12,2026/02/13,15/STC-VP",
        "recipient": "000.00.22.H12",
        "recipient_name": "Sở Y tế",
        "reason_code": "RECEIPT_MIC_MISMATCH",
        "stored_mic": stored,
        "receipt_mic": received,
        "receipt_sha256": "d" * 64,
    }
    with services.sessions.begin() as session:
        enqueue_notice(session, NoticeKind.MIC_ALERT, payload, ACCEPTED)
    drain(services)
    [raw] = maildir_messages(demo_home, STC_MAIL, "notice")
    assert maildir_messages(demo_home, OPERATOR_MAIL, "notice") == [raw]  # the same signed alert, copied
    services.verifier.verify_sync(raw, Sender(OPERATOR, frozenset({OPERATOR_MAIL})))
    openssl = openssl_verify(raw, demo_home.keys_dir / "ca" / "root.pem", tmp_path)
    assert openssl.returncode == 0, openssl.stderr

    top = message_from_bytes(raw)
    assert top["Lienthong-Notice"] == "mic-alert"
    assert top["Cc"] == OPERATOR_MAIL
    assert top["Importance"] == "high"
    assert str(make_header(decode_header(top["Subject"]))).startswith("CẢNH BÁO: hồi báo không khớp mã băm")
    data = read_notice(raw)
    assert data["kind"] == "mic-alert"
    assert data["recipient"] == "000.00.22.H12"
    assert data["details"] == {k: payload[k] for k in ("recipient_name", "stored_mic", "receipt_mic", "receipt_sha256")}
    text = notice_text(raw)
    assert f"Mã băm lưu khi gửi / MIC stored at sending: {stored}" in text
    assert f"Mã băm trong hồi báo / MIC in the receipt:  {received}" in text
    assert "Nơi nhận / Recipient: 000.00.22.H12 (Sở Y tế)" in text
    assert "[RECEIPT_MIC_MISMATCH]" in text
    assert "Văn bản phải được coi là CHƯA được xác nhận đã đến" in text
