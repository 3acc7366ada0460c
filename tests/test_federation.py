"""Two gateways on loopback exchange a document: a province (Cà Mau) and a national axis gateway, each with its
own CA, registry and ports. The document is submitted at one over SMTP, relayed over mutually authenticated TLS with
DKIM, delivered into the other's records office, and the signed receipt comes back and is checked.
"""

from __future__ import annotations

import signal
import smtplib
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from hashlib import sha256
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from gateway import queue
from gateway.documents import IncomingDocument, OutgoingRecipient
from gateway.envelope.model import VIETNAM, Code, Organization
from gateway.ledger.store import LedgerEntry, verify
from gateway.receipts.mdn import read_receipt
from registry import db
from tests.fixtures.envelope import build_valid, make_header
from tests.gateways import STC, STC_MAIL, VPCP, VPCP_MAIL, Gateway, make_pair, start, stop
from tests.mailboxes import maildir_messages
from tests.test_serve import credentials


@pytest.fixture
def gateways(tmp_path: Path) -> Iterator[tuple[Gateway, Gateway]]:
    province, national = make_pair(tmp_path)
    try:
        for gateway in (province, national):
            start(gateway)
        yield province, national
    finally:
        for gateway in (province, national):
            if gateway.process is not None and gateway.process.poll() is None:
                gateway.process.send_signal(signal.SIGTERM)
                try:
                    gateway.process.wait(30)
                except subprocess.TimeoutExpired:
                    gateway.process.kill()
                    gateway.process.wait(10)


def document() -> bytes:
    today = datetime.now(VIETNAM).date()
    header = make_header(
        from_=Organization(STC, organ_name="Sở Tài chính tỉnh Cà Mau", email=STC_MAIL),
        code=Code("7", "STC-NS"),
        issued=today,
    )
    header = replace(header, to=(Organization(VPCP, organ_name="Văn phòng Chính phủ", email=VPCP_MAIL),))
    return build_valid(header)


def submit(province: Gateway) -> None:
    login, password = credentials(province.home, "clerk")
    assert login == STC_MAIL
    tls = ssl.create_default_context(cafile=str(province.home.keys_dir / "ca" / "root.pem"))
    tls.check_hostname = False  # the chain is verified; the demo domain does not resolve here
    with smtplib.SMTP("127.0.0.1", province.submission, timeout=30) as client:
        client.starttls(context=tls)
        client.login(login, password)
        assert client.sendmail(login, [VPCP_MAIL], document()) == {}


def test_document_crosses_gateways_and_the_receipt_comes_back(
    gateways: tuple[Gateway, Gateway], tmp_path: Path
) -> None:
    province, national = gateways
    submit(province)

    deadline = time.monotonic() + 120
    while not maildir_messages(province.home, STC_MAIL, "receipt") and time.monotonic() < deadline:
        time.sleep(0.5)
    errors = ""
    if not maildir_messages(province.home, STC_MAIL, "receipt"):
        for gateway in (province, national):
            sessions = db.session_factory(db.make_engine(gateway.home.database_url))
            with sessions() as session:
                errors += repr([(i.task, i.state, i.last_error) for i in queue.listing(session)])
    [raw_receipt] = maildir_messages(province.home, STC_MAIL, "receipt")
    receipt = read_receipt(raw_receipt)
    assert receipt.status_code == "01", errors
    assert receipt.final_recipient == VPCP_MAIL
    assert receipt.incoming_number == 1

    # The national gateway delivered the exact signed bytes into the Government Office's records office.
    [delivered] = maildir_messages(national.home, VPCP_MAIL)
    assert b"Lienthong-Kind: document" in delivered
    national_db = db.session_factory(db.make_engine(national.home.database_url))
    with national_db() as session:
        [incoming] = session.scalars(select(IncomingDocument)).all()
        assert incoming.incoming_number == 1
        assert incoming.sender_organ_id == STC
        assert verify(session).intact
        kinds = [e.kind for e in session.scalars(select(LedgerEntry).order_by(LedgerEntry.seq))]
    assert kinds == ["delivered", "receipt_sent"]

    province_db = db.session_factory(db.make_engine(province.home.database_url))
    with province_db() as session:
        [sent] = session.scalars(select(OutgoingRecipient)).all()
        assert sent.state == "sent"
        assert sent.incoming_number == 1
        assert verify(session).intact
        kinds = [e.kind for e in session.scalars(select(LedgerEntry).order_by(LedgerEntry.seq))]
    assert kinds == ["submitted", "accepted", "relayed", "receipt_received"]

    # Both ledgers name the same bytes: what the province signed and relayed is what the national gateway delivered.
    def content(sessions: Any, kind: str) -> str:
        with sessions() as session:
            entry = session.scalars(select(LedgerEntry).where(LedgerEntry.kind == kind)).one()
            return str(entry.data()["content_sha256"])

    assert content(province_db, "accepted") == content(national_db, "delivered") == sha256(delivered).hexdigest()
    assert content(national_db, "receipt_sent") == content(province_db, "receipt_received")

    # The document and the receipt verify with openssl against the signer's provincial root.
    for raw, root in ((delivered, province.home), (raw_receipt, national.home)):
        path = tmp_path / "message.eml"
        path.write_bytes(raw)
        result = subprocess.run(
            ["openssl", "cms", "-verify", "-in", str(path), "-CAfile", str(root.keys_dir / "ca" / "root.pem"),
             "-purpose", "smimesign", "-out", "/dev/null"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr


def test_peer_outage_queues_retries_and_delivers_when_it_returns(gateways: tuple[Gateway, Gateway]) -> None:
    province, national = gateways
    stop(national)
    submit(province)
    sessions = db.session_factory(db.make_engine(province.home.database_url))
    deadline = time.monotonic() + 60
    relay_item = None
    while time.monotonic() < deadline:
        with sessions() as session:
            relay_item = next((i for i in queue.listing(session) if i.task == "relay"), None)
            if relay_item is not None and relay_item.attempts >= 2:
                break
        time.sleep(0.3)
    assert relay_item is not None
    assert relay_item.attempts >= 2  # retried while the peer was down
    assert relay_item.state in ("pending", "claimed")
    assert "Connect" in (relay_item.last_error or "") or "refused" in (relay_item.last_error or "")
    assert maildir_messages(province.home, STC_MAIL, "receipt") == []

    start(national)
    deadline = time.monotonic() + 90
    while not maildir_messages(province.home, STC_MAIL, "receipt") and time.monotonic() < deadline:
        time.sleep(0.5)
    [raw_receipt] = maildir_messages(province.home, STC_MAIL, "receipt")
    assert read_receipt(raw_receipt).status_code == "01"
    assert len(maildir_messages(national.home, VPCP_MAIL)) == 1
    with sessions() as session:
        assert {i.state for i in queue.listing(session)} == {"done"}
