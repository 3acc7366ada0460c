"""Two gateways on loopback exchange a document: a province (Cà Mau) and a national axis gateway, each with its
own CA, registry and ports. The document is submitted at one over SMTP, relayed over mutually authenticated TLS with
DKIM, delivered into the other's records office, and the signed receipt comes back and is checked.

``check_exchange`` is the whole list of the issue's end-to-end checks; the client tests
(tests/test_federation_clients.py) run it after submitting with swaks and as a clerk.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from hashlib import sha256
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from gateway import queue
from gateway.calendar import Calendar
from gateway.documents import IncomingDocument, OutgoingDocument, OutgoingRecipient
from gateway.envelope.model import VIETNAM, Code, Organization
from gateway.home import Home
from gateway.ledger.store import LedgerEntry, verify
from gateway.receipts.mdn import read_receipt
from registry import db
from tests.fixtures.envelope import build_valid, make_header
from tests.fixtures.workers import cli
from tests.gateways import (
    STC,
    STC_MAIL,
    VPCP,
    VPCP_MAIL,
    Gateway,
    make_pair,
    openssl_verify,
    running,
    wait_for,
)
from tests.mailboxes import maildir_messages
from tests.test_serve import credentials


@pytest.fixture
def gateways(tmp_path: Path) -> Iterator[tuple[Gateway, Gateway]]:
    province, national = make_pair(tmp_path)
    with running(province, national):
        yield province, national


def document(number: str = "7") -> bytes:
    """A built envelope from the Sở Tài chính to the Government Office, as an agency system submits it."""
    today = datetime.now(VIETNAM).date()
    header = make_header(
        from_=Organization(STC, organ_name="Sở Tài chính tỉnh Cà Mau", email=STC_MAIL),
        code=Code(number, "STC-NS"),
        issued=today,
    )
    header = replace(header, to=(Organization(VPCP, organ_name="Văn phòng Chính phủ", email=VPCP_MAIL),))
    return build_valid(header)


def client_tls(home: Home) -> ssl.SSLContext:
    tls = ssl.create_default_context(cafile=str(home.keys_dir / "ca" / "root.pem"))
    tls.check_hostname = False  # the chain is verified; the demo domain does not resolve here
    return tls


def submit(province: Gateway) -> None:
    login, password = credentials(province.home, "clerk")
    assert login == STC_MAIL
    with smtplib.SMTP("127.0.0.1", province.submission, timeout=30) as client:
        client.starttls(context=client_tls(province.home))
        client.login(login, password)
        assert client.sendmail(login, [VPCP_MAIL], document()) == {}


def queue_state(*gateways: Gateway) -> str:
    """Every queue item of the gateways, for the message of a failed assertion."""
    found = ""
    for gateway in gateways:
        with db.session_factory(db.make_engine(gateway.home.database_url))() as session:
            found += repr([(i.task, i.state, i.attempts, i.last_error) for i in queue.listing(session)])
    return found


def ledger(home: Home) -> list[dict[str, Any]]:
    """The ledger's events in order (the chain verified first)."""
    with db.session_factory(db.make_engine(home.database_url))() as session:
        assert verify(session).intact
        return [e.data() for e in session.scalars(select(LedgerEntry).order_by(LedgerEntry.seq))]


def check_effective_times(home: Home, events: list[dict[str, Any]]) -> None:
    """Every effective time in the ledger is what the gateway's calendar makes of the recorded technical time."""
    calendar = Calendar.for_home(home)
    for event in events:
        if event["effective_at"] is None:
            continue
        expected = calendar.effective(datetime.fromisoformat(event["at"]), event["organ_id"])
        assert event["effective_at"] == expected.effective_local.isoformat(timespec="microseconds"), event
        assert event["calendar_version"] == expected.calendar_version == calendar.version.id, event


def ms(instant: datetime) -> datetime:
    """Receipts state times to the millisecond (truncated), the database to the microsecond."""
    return instant.replace(microsecond=instant.microsecond // 1000 * 1000)


PROVINCE_EVENTS = ("submitted", "accepted", "relayed", "receipt_received")


def check_exchange(
    province: Gateway,
    national: Gateway,
    workdir: Path,
    wait_seconds: float = 120,
    province_events: tuple[str, ...] = PROVINCE_EVENTS,
) -> None:
    """The issue's checks after one document went from the Sở Tài chính (province) to the Government Office."""
    assert wait_for(lambda: bool(maildir_messages(province.home, STC_MAIL, "receipt")), wait_seconds), queue_state(
        province, national
    )
    # The receipt is in the sender's mailbox once the national relay worker had its 250; the ledger of that worker's
    # transaction may still be a moment behind.
    assert wait_for(lambda: "receipt_sent" in [e["kind"] for e in ledger(national.home)], 30), queue_state(national)
    [raw_receipt] = maildir_messages(province.home, STC_MAIL, "receipt")
    receipt = read_receipt(raw_receipt)
    assert receipt.status_code == "01", queue_state(province, national)
    assert receipt.final_recipient == VPCP_MAIL

    # The national gateway delivered the exact signed bytes into the Government Office's records office.
    [delivered] = maildir_messages(national.home, VPCP_MAIL)
    assert b"Lienthong-Kind: document" in delivered
    national_calendar, province_calendar = Calendar.for_home(national.home), Calendar.for_home(province.home)
    with db.session_factory(db.make_engine(national.home.database_url))() as session:
        [incoming] = session.scalars(select(IncomingDocument)).all()
    assert (incoming.incoming_number, incoming.sender_organ_id, incoming.organ_id) == (1, STC, VPCP)
    assert receipt.incoming_number == incoming.incoming_number
    assert incoming.message_sha256 == sha256(delivered).hexdigest()
    # Art. 11.1: the received time, effective per the national gateway's calendar; the receipt states both.
    received = national_calendar.effective(incoming.received_at, VPCP)
    assert incoming.effective_received_at == received.effective_local
    assert incoming.calendar_version == received.calendar_version
    assert (receipt.received_at, receipt.effective_at) == (ms(incoming.received_at), ms(received.effective_local))
    assert receipt.calendar_version == received.calendar_version

    with db.session_factory(db.make_engine(province.home.database_url))() as session:
        [outgoing] = session.scalars(select(OutgoingDocument)).all()
        [sent] = session.scalars(select(OutgoingRecipient)).all()
    assert (sent.state, sent.organ_id, sent.incoming_number) == ("sent", VPCP, 1)
    assert sent.document_id == outgoing.document_id == incoming.document_id == receipt.document_id
    assert sent.received_at == ms(incoming.received_at)
    # Acceptance and Art. 11.2-11.3 sent time (the receipt's return), effective per the province's calendar.
    assert outgoing.effective_accepted_at == province_calendar.effective(outgoing.accepted_at, STC).effective_local
    assert sent.effective_sent_at == province_calendar.effective(sent.sent_at, STC).effective_local
    assert sent.receipt_sha256 == sha256(raw_receipt).hexdigest()

    # Both ledgers hold matching events about the same bytes.
    national_events, sender_events = ledger(national.home), ledger(province.home)
    assert [e["kind"] for e in national_events] == ["delivered", "receipt_sent"]
    assert tuple(e["kind"] for e in sender_events) == province_events
    by_kind = {e["kind"]: e for e in national_events + sender_events}
    assert {by_kind[k]["document_id"] for k in by_kind if k != "submitted"} == {outgoing.document_id}
    signed = outgoing.signed_sha256
    assert by_kind["accepted"]["content_sha256"] == by_kind["relayed"]["content_sha256"] == signed
    assert by_kind["delivered"]["content_sha256"] == signed == sha256(delivered).hexdigest()
    assert by_kind["receipt_sent"]["content_sha256"] == by_kind["receipt_received"]["content_sha256"]
    # receipt_sent is when the relay handed the receipt to the province's gateway, not when it was built: recorded by
    # the relay worker with the peer's answer, after the delivery.
    sent_event = by_kind["receipt_sent"]
    assert (sent_event["organ_id"], sent_event["counterpart"]) == (VPCP, STC)
    assert sent_event["details"]["peer"] == "camau"
    assert sent_event["details"]["status"] == "01"
    assert sent_event["details"]["answer"].startswith("2.0.0 Accepted from quocgia")
    assert sent_event["at"] > by_kind["delivered"]["at"]
    assert sent_event["at"] <= by_kind["receipt_received"]["at"]
    assert by_kind["receipt_received"]["content_sha256"] == sent.receipt_sha256
    check_effective_times(national.home, national_events)
    check_effective_times(province.home, sender_events)

    # The document and the receipt verify with openssl against the signer's provincial root.
    for raw, root in ((delivered, province.home), (raw_receipt, national.home)):
        result = openssl_verify(raw, root.keys_dir / "ca" / "root.pem", workdir)
        assert result.returncode == 0, result.stderr


def test_document_crosses_gateways_and_the_receipt_comes_back(
    gateways: tuple[Gateway, Gateway], tmp_path: Path
) -> None:
    province, national = gateways
    submit(province)
    check_exchange(province, national, tmp_path)


def test_a_document_from_an_agency_the_relaying_peer_does_not_host_is_refused(
    gateways: tuple[Gateway, Gateway], tmp_path: Path
) -> None:
    """The national registry places the Sở Tài chính on another gateway than the province that relays its document:
    the province cannot speak for it there, whatever its signatures, so the document is refused with a signed
    status 02 receipt that goes back through the province, and nothing reaches the Government Office."""
    province, national = gateways
    cli(national.home, "agency", "set", STC, "--gateway", "hcm")
    submit(province)
    assert wait_for(lambda: bool(maildir_messages(province.home, STC_MAIL, "receipt")), 120), queue_state(
        province, national
    )
    [raw_receipt] = maildir_messages(province.home, STC_MAIL, "receipt")
    receipt = read_receipt(raw_receipt)
    assert (receipt.status_code, receipt.reason_code) == ("02", "SENDER_NOT_HOSTED_BY_PEER")
    assert receipt.final_recipient == VPCP_MAIL
    result = openssl_verify(raw_receipt, national.home.keys_dir / "ca" / "root.pem", tmp_path)
    assert result.returncode == 0, result.stderr
    assert maildir_messages(national.home, VPCP_MAIL) == []
    assert wait_for(lambda: "receipt_sent" in [e["kind"] for e in ledger(national.home)], 30), queue_state(national)
    refused, sent = ledger(national.home)
    assert (refused["kind"], refused["reason_code"], refused["details"]) == (
        "refused",
        "SENDER_NOT_HOSTED_BY_PEER",
        {"peer": "camau"},
    )
    assert (refused["organ_id"], refused["counterpart"]) == (VPCP, STC)
    assert (sent["kind"], sent["details"]["status"], sent["details"]["peer"]) == ("receipt_sent", "02", "camau")
    with db.session_factory(db.make_engine(province.home.database_url))() as session:
        [recipient] = session.scalars(select(OutgoingRecipient)).all()
    assert (recipient.organ_id, recipient.state, recipient.reason_code) == (
        VPCP,
        "refused",
        "SENDER_NOT_HOSTED_BY_PEER",
    )
