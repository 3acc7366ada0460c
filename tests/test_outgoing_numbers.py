"""Outgoing numbers (số đi) the gateway assigns when the sender leaves CodeNumber empty (issue 5).

Against a real demo home (SQLite and PostgreSQL through ``demo_home``): the registry's sequences, the agency's S/MIME
certificate, DKIM keys, the blob store, the queue and the ledger; only the workers' clock is fixed.
"""

from __future__ import annotations

import asyncio
import errno
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, date, datetime
from email.utils import make_msgid
from pathlib import Path

import pytest
from sqlalchemy import select

from certs import context
from certs.verify import Sender
from gateway import queue
from gateway.blobs import BlobStore
from gateway.documents import OutgoingDocument
from gateway.envelope.build import build_document, key_digest
from gateway.envelope.directory import DictDirectory
from gateway.envelope.errors import EnvelopeError
from gateway.envelope.model import VIETNAM, Code, DocumentHeader, Organization
from gateway.envelope.parse import parse
from gateway.envelope.pdf import inspect_pdf
from gateway.envelope.validate import check, validate
from gateway.home import Home
from gateway.intake import SubmissionIntake, SubmissionRecord
from gateway.ledger.store import LedgerEntry, verify
from gateway.queue import Task
from gateway.receipts.mdn import read_receipt
from gateway.receipts.notice import read_notice
from gateway.smtp.handler import Principal, Submission
from gateway.workers.deliver import deliver_one
from gateway.workers.notices import notice_one
from gateway.workers.process import process_one
from gateway.workers.receipt import receipt_one
from gateway.workers.services import Services
from gateway.workers.signing import sign_outgoing
from registry.models import NumberSequence
from tests.fixtures.envelope import NOW as ENVELOPE_NOW
from tests.fixtures.envelope import SENT_AT, build_valid, make_header
from tests.fixtures.workers import signing_services
from tests.gateways import openssl_verify
from tests.mailboxes import maildir_messages
from tests.pdfs import make_ascii_pdf, make_decision_pdf
from tests.test_serve import credentials
from tests.test_serve_exchange import gateway, pki_home  # noqa: F401 - the running-gateway fixtures

STC, STC_MAIL = "000.00.15.H12", "vanthu@stc.camau.lienthong.test"
SKHCN, SKHCN_MAIL = "000.00.11.H12", "vanthu@skhcn.camau.lienthong.test"  # also the demo's notice operator
SYT, SYT_MAIL = "000.00.22.H12", "vanthu@syt.camau.lienthong.test"
MAILS = {STC: STC_MAIL, SKHCN: SKHCN_MAIL, SYT: SYT_MAIL}
NAMES = {STC: "Sở Tài chính tỉnh Cà Mau", SKHCN: "Sở Khoa học và Công nghệ tỉnh Cà Mau", SYT: "Sở Y tế tỉnh Cà Mau"}
NOW = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)  # Tuesday 09:00 in Vietnam
ISSUED = date(2026, 3, 2)


@pytest.fixture
def services(demo_home: Home) -> Services:
    return signing_services(demo_home, MAILS, lambda: NOW)


def document(
    sender: str = STC,
    number: str = "",
    *,
    subject: str = "Về việc thử nghiệm số đi do cổng cấp",
    issued: date = ISSUED,
    message_id: str | None = None,
    pdf: str = "Hello",
    sent_at: datetime = SENT_AT,
) -> bytes:
    """An envelope from ``sender`` to the Sở Y tế; unnumbered (with a Message-ID of its own) unless ``number``."""
    recipient = SKHCN if sender == SYT else SYT
    header = make_header(
        from_=Organization(sender, organ_name=NAMES[sender], email=MAILS[sender]),
        code=Code(number, "VP"),
        issued=issued,
    )
    header = replace(
        header, to=(Organization(recipient, organ_name=NAMES[recipient], email=MAILS[recipient]),), subject=subject
    )
    data = build_document(header, make_ascii_pdf(pdf), sent_at=sent_at)
    if number:
        return data
    return with_message_id(data, message_id or make_msgid(domain="stc.camau.lienthong.test"))


def with_message_id(data: bytes, message_id: str) -> bytes:
    head, _, body = data.partition(b"\r\n\r\n")
    lines = [
        b"Message-ID: " + message_id.encode() if line.startswith(b"Message-ID:") else line
        for line in head.split(b"\r\n")
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def submit(services: Services, data: bytes, sender: str = STC) -> SubmissionRecord:
    intake = SubmissionIntake(services.sessions, services.blobs, services.calendar, clock=services.clock)
    principal = Principal(MAILS[sender], MAILS[sender], sender, "clerk")
    reply = asyncio.run(intake.accept(Submission(principal, "127.0.0.1", MAILS[sender], ("x@y.test",), data)))
    assert reply.startswith("250 "), reply
    with services.sessions() as session:
        found = session.scalars(select(SubmissionRecord).order_by(SubmissionRecord.id.desc())).first()
        assert found is not None
        return found


def process_all(services: Services) -> None:
    while process_one(services, "w1"):
        pass


def documents(services: Services) -> dict[str, OutgoingDocument]:
    with services.sessions() as session:
        return {d.document_id: d for d in session.scalars(select(OutgoingDocument))}


def last_value(services: Services, organ_id: str, year: int = 2026) -> int | None:
    with services.sessions() as session:
        row = session.scalars(
            select(NumberSequence).where(NumberSequence.organ_id == organ_id, NumberSequence.year == year)
        ).first()
        return row.last_value if row is not None else None


def document_id(organ_id: str, number: int, issued: date = ISSUED) -> str:
    return DocumentHeader.make_document_id(organ_id, issued, Code(str(number), "VP"))


def test_unnumbered_submissions_get_consecutive_numbers_per_agency_and_year(services: Services) -> None:
    first = submit(services, document(subject="Văn bản thứ nhất"))
    second = submit(services, document(subject="Văn bản thứ hai"))
    other_agency = submit(services, document(SKHCN, subject="Văn bản của Sở Khoa học"), SKHCN)
    last_year = submit(services, document(subject="Văn bản năm trước", issued=date(2025, 12, 30)))
    process_all(services)

    found = documents(services)
    assert {d.submission_id: (d.document_id, d.assigned_number) for d in found.values()} == {
        first.id: (document_id(STC, 1), 1),
        second.id: (document_id(STC, 2), 2),
        other_agency.id: (document_id(SKHCN, 1), 1),
        last_year.id: (document_id(STC, 1, date(2025, 12, 30)), 1),
    }
    assert (last_value(services, STC), last_value(services, SKHCN), last_value(services, STC, 2025)) == (2, 1, 1)
    with services.sessions() as session:
        accepted = [e.data() for e in session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "accepted"))]
        assert verify(session).intact
    by_document = {e["document_id"]: e["details"]["assigned_number"] for e in accepted}
    assert by_document[document_id(STC, 2)] == 2
    assert by_document[document_id(SKHCN, 1)] == 1


def test_the_signed_message_carries_the_number_and_verifies(
    services: Services, demo_home: Home, tmp_path: Path
) -> None:
    submitted = document()
    record = submit(services, submitted)
    process_all(services)
    [outgoing] = documents(services).values()
    signed = services.blobs.get(outgoing.signed_sha256)

    envelope = parse(signed)
    assert envelope.metadata is not None
    header = envelope.metadata.header
    assert isinstance(header, DocumentHeader)
    assert (header.code.number, header.document_id) == ("1", document_id(STC, 1))
    assert envelope.document_id_header == document_id(STC, 1)
    assert envelope.subject.startswith("1/VP: ")
    expected_message_id = f"<{key_digest('lienthong:document:' + document_id(STC, 1))[:40]}@stc.camau.lienthong.test>"
    assert envelope.message_id == outgoing.message_id == expected_message_id
    assert outgoing.submitted_message_id == parse(submitted).message_id
    # The files travel unchanged: the PDF the sender submitted is the PDF that is signed.
    assert [p.sha256 for p in envelope.parts[2:]] == [p.sha256 for p in parse(submitted).parts[2:]]
    # What the recipient's gateway will do: verify the agency's signature, then validate with no allowance at all.
    verified = context.verifier(demo_home).verify_sync(signed, Sender(STC, frozenset({STC_MAIL})))
    assert verified.organ_id == STC
    validate(envelope, now=NOW, directory=services.directory, inspector=inspect_pdf)
    openssl = openssl_verify(signed, demo_home.keys_dir / "ca" / "root.pem", tmp_path)
    assert openssl.returncode == 0, openssl.stderr

    # The acceptance notice tells the sender its number and DocumentId.
    while notice_one(services, "w1"):
        pass
    [raw] = maildir_messages(demo_home, STC_MAIL, "notice")
    notice = read_notice(raw)
    assert (notice["kind"], notice["submission"], notice["document_id"]) == (
        "acceptance",
        record.id,
        outgoing.document_id,
    )
    assert notice["details"] == {"number": "1", "code": "1/VP"}


def test_the_numbered_document_reaches_the_recipient_with_a_receipt(services: Services, demo_home: Home) -> None:
    submit(services, document())
    for step in (process_one, deliver_one, receipt_one):
        while step(services, "w1"):
            pass
    [delivered] = maildir_messages(demo_home, SYT_MAIL, "document")
    assert parse(delivered).document_id_header == document_id(STC, 1)
    [receipt] = [read_receipt(raw) for raw in maildir_messages(demo_home, STC_MAIL, "receipt")]
    assert (receipt.status_code, receipt.document_id) == ("01", document_id(STC, 1))


def test_concurrent_workers_hand_out_each_number_once(services: Services) -> None:
    for n in range(6):
        submit(services, document(subject=f"Văn bản số {n}", pdf=f"Hello {n}"))

    def work(name: str) -> None:
        while process_one(services, name):
            pass

    with ThreadPoolExecutor(3) as pool:
        list(pool.map(work, ["w1", "w2", "w3"]))
    numbers = sorted(d.assigned_number or 0 for d in documents(services).values())
    assert numbers == [1, 2, 3, 4, 5, 6]
    assert last_value(services, STC) == 6


def test_a_numbered_submission_does_not_consume_a_number(services: Services) -> None:
    submit(services, document(number="15"))
    process_all(services)
    assert last_value(services, STC) is None
    submit(services, document())
    process_all(services)
    assert set(documents(services)) == {document_id(STC, 15), document_id(STC, 1)}
    assert documents(services)[document_id(STC, 15)].assigned_number is None


def test_a_number_the_sender_used_by_hand_is_skipped(services: Services) -> None:
    submit(services, document(number="1"))
    submit(services, document())
    process_all(services)
    assert documents(services)[document_id(STC, 2)].assigned_number == 2
    assert last_value(services, STC) == 2


def test_a_resubmitted_unnumbered_message_gets_its_number_once(services: Services, demo_home: Home) -> None:
    message_id = make_msgid(domain="stc.camau.lienthong.test")
    first = submit(services, document(message_id=message_id))
    process_all(services)
    # The client retries after a lost 250: same Message-ID, rebuilt with another sending time, so other bytes.
    again = submit(services, document(message_id=message_id, sent_at=SENT_AT.replace(minute=45)))
    assert again.id != first.id
    process_all(services)
    [outgoing] = documents(services).values()
    assert (outgoing.document_id, outgoing.submission_id) == (document_id(STC, 1), first.id)
    assert last_value(services, STC) == 1
    with services.sessions() as session:
        assert session.get(SubmissionRecord, again.id).state == "duplicate"  # type: ignore[union-attr]
        delivers = [i for i in queue.listing(session) if i.task == Task.DELIVER]
        assert len(delivers) == 1
    # Both submissions are answered with the same number.
    while notice_one(services, "w1"):
        pass
    notices = [read_notice(raw) for raw in maildir_messages(demo_home, STC_MAIL, "notice")]
    assert sorted((n["submission"], n["document_id"]) for n in notices) == [
        (first.id, document_id(STC, 1)),
        (again.id, document_id(STC, 1)),
    ]


def test_a_message_id_reused_for_another_document_is_refused(services: Services) -> None:
    message_id = make_msgid(domain="stc.camau.lienthong.test")
    submit(services, document(message_id=message_id, subject="Văn bản thứ nhất"))
    other = submit(services, document(message_id=message_id, subject="Một văn bản khác"))
    process_all(services)
    assert len(documents(services)) == 1
    assert last_value(services, STC) == 1
    with services.sessions() as session:
        refused = session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "refused")).one().data()
        assert session.get(SubmissionRecord, other.id).state == "refused"  # type: ignore[union-attr]
    assert refused["reason_code"] == "HEADER_INVALID"
    assert refused["details"]["problems"] == [{"code": "HEADER_INVALID", "field": "Message-ID"}]


class _FullDisk(BlobStore):
    """The disk fills up once, inside the transaction that holds the new number (the outside world's failure)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.failed = False

    def put(self, data: bytes) -> str:
        if not self.failed and b"multipart/signed" in data[:4000]:
            self.failed = True
            raise OSError(errno.ENOSPC, "No space left on device")
        return super().put(data)


def test_a_failure_after_allocation_rolls_the_number_back(services: Services, demo_home: Home) -> None:
    flaky = replace(services, blobs=_FullDisk(demo_home.blobs_dir))
    submit(flaky, document())
    assert process_one(flaky, "w1")
    assert documents(flaky) == {}
    assert last_value(flaky, STC) is None  # rolled back with the failed transaction: no gap
    with flaky.sessions() as session:
        [item] = [i for i in queue.listing(session) if i.task == Task.PROCESS]
        assert item.state == "pending"
        assert "No space left" in (item.last_error or "")
    with flaky.sessions.begin() as session:
        queue.retry(session, item.id, NOW)  # now, not after the back-off
    process_all(flaky)
    [outgoing] = documents(flaky).values()
    assert (outgoing.document_id, last_value(flaky, STC)) == (document_id(STC, 1), 1)


def test_an_unnumbered_document_is_refused_at_arrival(services: Services, demo_home: Home, tmp_path: Path) -> None:
    raw = document()
    with services.sessions() as session:
        signer = services.signers.active(session, STC, services.chain)
    signed = sign_outgoing(raw, signer, services.domain, services.dkim_keys).message
    blob = services.blobs.put(signed)
    with services.sessions.begin() as session:
        payload = {"document_id": parse(raw).document_id_header, "recipient": SYT, "blob": blob}
        queue.enqueue(session, Task.DELIVER, "deliver:unnumbered", payload, NOW)
    assert deliver_one(services, "w1")
    assert maildir_messages(demo_home, SYT_MAIL) == []
    with services.sessions() as session:
        refused = session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "refused")).one().data()
    assert refused["reason_code"] == "FIELD_MISSING"
    # The signed status 02 receipt on its way back to the sender: the reason, the recipient's signature (openssl).
    with services.sessions() as session:
        [item] = [i for i in queue.listing(session) if i.task == Task.RECEIPT]
    signed_receipt = services.blobs.get(item.data()["blob"])
    receipt = read_receipt(signed_receipt)
    assert (receipt.status_code, receipt.reason_code) == ("02", "FIELD_MISSING")
    assert receipt.document_id == refused["document_id"]
    checked = openssl_verify(signed_receipt, demo_home.keys_dir / "ca" / "root.pem", tmp_path)
    assert checked.returncode == 0, checked.stderr


# The validation of the "not yet numbered" state, without a database.


def unnumbered_header(**overrides: object) -> DocumentHeader:
    overrides.setdefault("code", Code("", "QĐ-UBND"))
    return make_header(**overrides)


def test_an_empty_number_is_accepted_only_when_allowed(directory: DictDirectory) -> None:
    raw = build_valid(unnumbered_header())
    envelope = check(raw, now=ENVELOPE_NOW, directory=directory, allow_unnumbered=True)
    assert envelope.document_id_header == "000.00.00.H12,2026/03/02,/QĐ-UBND"
    with pytest.raises(EnvelopeError) as refused:
        check(raw, now=ENVELOPE_NOW, directory=directory)
    assert [(p.code, p.field) for p in refused.value.problems] == [("FIELD_MISSING", "Code/CodeNumber")]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (unnumbered_header(code=Code("  ", "QĐ-UBND")), ("FIELD_MISSING", "Code/CodeNumber")),
        (unnumbered_header(document_id=""), ("FIELD_MISSING", "DocumentId")),
        (unnumbered_header(document_id="000.00.00.H12,2026/03/02,15/QĐ-UBND"), ("DOCUMENT_ID_MISMATCH", "DocumentId")),
    ],
    ids=["blank-number", "empty-document-id", "document-id-with-a-number"],
)
def test_other_unnumbered_forms_are_refused(
    directory: DictDirectory, header: DocumentHeader, expected: tuple[str, str]
) -> None:
    with pytest.raises(EnvelopeError) as refused:
        check(build_valid(header), now=ENVELOPE_NOW, directory=directory, allow_unnumbered=True)
    assert expected in [(p.code, p.field) for p in refused.value.problems]


def test_send_without_a_number_lets_the_gateway_number(
    gateway: tuple[Home, int, subprocess.Popen[str]],  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    home, port, _process = gateway
    login, password = credentials(home, "system")  # the agency system account of the Sở Tài chính
    (tmp_path / "password").write_text(password + "\n", encoding="utf-8")
    (tmp_path / "doc.pdf").write_bytes(make_decision_pdf())
    today = datetime.now(VIETNAM).date()
    args = ["--home", str(home.root), "send", "--from", STC, "--to", SYT, "--pdf", str(tmp_path / "doc.pdf"),
            "--notation", "STC-VP", "--date", today.isoformat(), "--place", "Cà Mau", "--page-amount", "1",
            "--subject", "Về việc đề nghị cổng cấp số", "--login", login,
            "--password-file", str(tmp_path / "password"), "--port", str(port)]  # fmt: skip
    for _ in range(2):  # two documents: numbers 1 and 2
        result = subprocess.run(
            [sys.executable, "-m", "gateway.cli", *args], capture_output=True, text=True, timeout=120, check=False
        )
        assert result.returncode == 0, result.stderr
        first, second = result.stdout.splitlines()
        assert first.startswith(f"{STC},{today:%Y/%m/%d},/STC-VP: 250 2.0.0 Accepted")
        assert second == f"the gateway assigns the number: see the acceptance notice sent to {STC_MAIL}"

    deadline = time.monotonic() + 90
    while len(maildir_messages(home, STC_MAIL, "notice")) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    notices = [read_notice(raw) for raw in maildir_messages(home, STC_MAIL, "notice")]
    assert sorted((str(n["document_id"]), n["details"]) for n in notices) == [
        (DocumentHeader.make_document_id(STC, today, Code(str(n), "STC-VP")), {"number": str(n), "code": f"{n}/STC-VP"})
        for n in (1, 2)
    ]
