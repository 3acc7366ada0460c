"""A clerk's plain mail through the submission path: made into an envelope at processing, numbered, delivered.

Against a real demo home (SQLite and PostgreSQL through ``demo_home``), with the real intake, process, deliver,
receipt and notice workers of tests/test_outgoing_numbers.py; only the workers' clock is fixed. The mails are what an
ordinary mail client writes (``tests.fixtures.envelope.clerk_mail``): a PDF attached, the summary as Subject, the
Vietnamese form in the body. The last test runs ``lienthong serve`` and sends with stdlib smtplib, as a clerk would.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
import subprocess
import time
from datetime import date, datetime
from email import message_from_bytes, policy
from email.utils import format_datetime, make_msgid

import pytest
from sqlalchemy import select

from gateway.documents import OutgoingDocument
from gateway.envelope.model import VIETNAM, Code, DocumentHeader
from gateway.envelope.parse import parse
from gateway.home import Home
from gateway.intake import SubmissionRecord
from gateway.ledger.store import LedgerEntry, verify
from gateway.receipts.mdn import read_receipt
from gateway.receipts.notice import read_notice
from gateway.workers.deliver import deliver_one
from gateway.workers.notices import notice_one
from gateway.workers.process import process_one
from gateway.workers.receipt import receipt_one
from gateway.workers.services import Services
from tests.fixtures.envelope import clerk_mail
from tests.fixtures.workers import signing_services
from tests.mailboxes import maildir_messages
from tests.pdfs import make_ascii_pdf
from tests.test_outgoing_numbers import (
    MAILS,
    NOW,
    STC,
    STC_MAIL,
    SYT,
    SYT_MAIL,
    documents,
    last_value,
    process_all,
    submit,
)
from tests.test_serve import credentials
from tests.test_serve_exchange import gateway, pki_home  # noqa: F401 - the running-gateway fixtures


@pytest.fixture
def services(demo_home: Home) -> Services:
    """The demo home with S/MIME certificates for the agencies involved (the Sở KH&CN signs the notices)."""
    return signing_services(demo_home, MAILS, lambda: NOW)


SUBJECT = "Về việc tăng cường quản lý chi thường xuyên ngân sách năm 2026"
FORM = (
    "Kính gửi Sở Y tế,\n\n"
    "Ký hiệu: STC-NS\n"
    "Loại văn bản: Công văn\n"
    "Ngày ban hành: 02/03/2026\n"
    "Người ký: Trần Thị Bích Ngọc\n"
    "Chức vụ: Phó Giám đốc\n"
    "Độ khẩn: Thượng khẩn\n\n"
    "Trân trọng.\n--\nVăn thư Sở Tài chính\n"
)


def mail(body: str = FORM, *, pdf: bytes | None = None, message_id: str | None = None, minute: int = 0) -> bytes:
    """A clerk's mail from the Sở Tài chính to the Sở Y tế, with the headers every mail client adds."""
    raw = clerk_mail(
        body,
        subject=SUBJECT,
        pdf=make_ascii_pdf("Cong van") if pdf is None else pdf,
        sender=f"Văn thư Sở Tài chính <{STC_MAIL}>",
        to=f"Văn thư Sở Y tế <{SYT_MAIL}>",
    )
    date = format_datetime(NOW.replace(minute=minute).astimezone(VIETNAM)).encode()
    msgid = (message_id or make_msgid(domain="stc.camau.lienthong.test")).encode()
    return b"Date: " + date + b"\r\nMessage-ID: " + msgid + b"\r\n" + raw.replace(b"\n", b"\r\n")


def refusal(services: Services) -> dict[str, object]:
    with services.sessions() as session:
        return session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "refused")).one().data()


def readable_text(raw: bytes) -> str:
    """The notice's text/plain part, decoded."""
    message = message_from_bytes(raw, policy=policy.default)
    texts = [str(p.get_content()) for p in message.walk() if p.get_content_type() == "text/plain"]
    return "\n".join(texts)


def notices(services: Services, home: Home) -> list[dict[str, object]]:
    while notice_one(services, "w1"):
        pass
    return [read_notice(raw) for raw in maildir_messages(home, STC_MAIL, "notice")]


def test_a_clerk_mail_is_numbered_delivered_and_receipted(services: Services, demo_home: Home) -> None:
    submitted = mail()
    record = submit(services, submitted)
    for step in (process_one, deliver_one, receipt_one):
        while step(services, "w1"):
            pass

    expected_id = DocumentHeader.make_document_id(STC, date(2026, 3, 2), Code("1", "STC-NS"))
    [outgoing] = documents(services).values()
    assert (outgoing.document_id, outgoing.assigned_number) == (expected_id, 1)
    assert outgoing.submitted_message_id is not None
    assert outgoing.submitted_message_id in submitted.decode()
    assert last_value(services, STC) == 1
    # What the Sở Y tế's records office finds: the document, numbered, with the clerk's Vietnamese text intact.
    [delivered] = maildir_messages(demo_home, SYT_MAIL, "document")
    envelope = parse(delivered)
    assert envelope.metadata is not None
    header = envelope.metadata.header
    assert isinstance(header, DocumentHeader)
    assert (header.code.number, header.code.notation, header.subject) == ("1", "STC-NS", SUBJECT)
    assert (header.document_type.type_name, header.signer_info.full_name) == ("Công văn", "Trần Thị Bích Ngọc")
    assert (header.signer_info.position, header.other_info.priority) == ("Phó Giám đốc", 2)
    assert envelope.subject == f"1/STC-NS: {SUBJECT}"
    assert envelope.parts[2].data == make_ascii_pdf("Cong van")  # the PDF travels byte for byte
    [receipt] = [read_receipt(raw) for raw in maildir_messages(demo_home, STC_MAIL, "receipt")]
    assert (receipt.status_code, receipt.document_id) == ("01", expected_id)
    # The ledger links the clerk's mail to the envelope that was signed.
    with services.sessions() as session:
        accepted = session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "accepted")).one().data()
        assert verify(session).intact
    assert accepted["details"]["submitted_sha256"] == record.content_sha256 == hashlib.sha256(submitted).hexdigest()
    assert accepted["content_sha256"] == outgoing.signed_sha256 != record.content_sha256
    [notice] = notices(services, demo_home)
    assert (notice["kind"], notice["document_id"], notice["details"]) == (
        "acceptance",
        expected_id,
        {"number": "1", "code": "1/STC-NS"},
    )


def test_a_clerk_mail_retried_is_numbered_once(services: Services, demo_home: Home) -> None:
    message_id = make_msgid(domain="stc.camau.lienthong.test")
    first = submit(services, mail(message_id=message_id))
    process_all(services)
    # The mail client resends after a lost 250: the same Message-ID, another Date, so other bytes.
    again = submit(services, mail(message_id=message_id, minute=7))
    assert again.id != first.id
    process_all(services)
    assert [d.submission_id for d in documents(services).values()] == [first.id]
    assert last_value(services, STC) == 1
    with services.sessions() as session:
        assert session.get(SubmissionRecord, again.id).state == "duplicate"  # type: ignore[union-attr]
    assert sorted(n["details"]["code"] for n in notices(services, demo_home)) == ["1/STC-NS", "1/STC-NS"]  # type: ignore[index]


def test_a_clerk_mail_with_a_number_keeps_it(services: Services) -> None:
    submit(services, mail("Số: 27/STC-NS\n" + FORM))
    process_all(services)
    [outgoing] = documents(services).values()
    assert outgoing.document_id.endswith(",2026/03/02,27/STC-NS")
    assert outgoing.assigned_number is None
    assert last_value(services, STC) is None


def test_missing_fields_are_all_named_in_the_notice(services: Services, demo_home: Home) -> None:
    submit(services, mail("Ký hiệu: STC-NS\nĐộ khẩn: Khẩn\n"))  # no type, date, signer; the PDF states none either
    process_all(services)
    assert documents(services) == {}
    refused = refusal(services)
    assert refused["reason_code"] == "FIELD_MISSING"
    assert refused["details"]["problems"] == [  # type: ignore[index]
        {"code": "FIELD_MISSING", "field": "PromulgationInfo/PromulgationDate"},
        {"code": "FIELD_MISSING", "field": "DocumentType/TypeName"},
        {"code": "FIELD_MISSING", "field": "SignerInfo/Position"},
        {"code": "FIELD_MISSING", "field": "SignerInfo/FullName"},
    ]
    [notice] = notices(services, demo_home)
    assert (notice["kind"], notice["reason_code"]) == ("non-acceptance", "FIELD_MISSING")
    assert notice["problems"] == [
        "[FIELD_MISSING] PromulgationInfo/PromulgationDate (Ngày ban hành)",
        "[FIELD_MISSING] DocumentType/TypeName (Loại văn bản)",
        "[FIELD_MISSING] SignerInfo/Position (Chức vụ)",
        "[FIELD_MISSING] SignerInfo/FullName (Người ký)",
    ]
    # The readable part says it in Vietnamese too: the clerk fixes the mail in one go.
    [raw] = maildir_messages(demo_home, STC_MAIL, "notice")
    text = readable_text(raw)
    assert "[FIELD_MISSING] SignerInfo/FullName (Người ký)" in text
    assert "Lý do / Reason [FIELD_MISSING]" in text


def test_a_clerk_mail_without_a_pdf_is_refused_with_pdf_missing(services: Services, demo_home: Home) -> None:
    raw = mail().replace(b"application/pdf", b"text/plain").replace(b"15-QD-UBND.pdf", b"ghi-chu.txt")
    submit(services, raw)
    process_all(services)
    assert refusal(services)["reason_code"] == "PDF_MISSING"
    [notice] = notices(services, demo_home)
    assert notice["problems"] == ["[PDF_MISSING] attachment (Tệp PDF đính kèm)"]


def test_a_mime_bomb_as_clerk_mail_is_refused_before_parsing(services: Services) -> None:
    inner = b"Content-Type: text/plain\r\n\r\nhello\r\n"
    for level in range(12):
        boundary = f"b{level}".encode()
        inner = (
            b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\r\n\r\n--' + boundary + b"\r\n"
            + inner + b"\r\n--" + boundary + b"--\r\n"
        )  # fmt: skip
    head = mail().split(b"\r\n\r\n", 1)[0]
    head = b"\r\n".join(line for line in head.split(b"\r\n") if not line.lower().startswith(b"content-type"))
    submit(services, head + b"\r\n" + inner)
    process_all(services)
    assert refusal(services)["reason_code"] == "MIME_TOO_COMPLEX"


def test_an_account_of_another_agency_gets_sender_mismatch(services: Services, demo_home: Home) -> None:
    # The Sở Y tế's account hands in a mail written from the Sở Tài chính's records office.
    submit(services, mail(), sender=SYT)
    process_all(services)
    assert documents(services) == {}
    refused = refusal(services)
    assert (refused["reason_code"], refused["organ_id"]) == ("SENDER_MISMATCH", SYT)
    assert {"code": "SENDER_MISMATCH", "field": "From/OrganId"} in refused["details"]["problems"]  # type: ignore[index, operator]


def test_sender_mismatch_is_listed_with_the_missing_fields(services: Services) -> None:
    submit(services, mail("Ký hiệu: STC-NS\n"), sender=SYT)
    process_all(services)
    codes = [p["code"] for p in refusal(services)["details"]["problems"]]  # type: ignore[index, union-attr]
    assert codes[0] == "SENDER_MISMATCH"
    assert "FIELD_MISSING" in codes


def test_outgoing_document_rows_name_the_clerk_message_id(services: Services) -> None:
    message_id = make_msgid(domain="stc.camau.lienthong.test")
    submit(services, mail(message_id=message_id))
    process_all(services)
    with services.sessions() as session:
        row = session.scalars(select(OutgoingDocument)).one()
    assert row.submitted_message_id == message_id
    assert row.message_id != message_id  # the numbered envelope travels under the Message-ID its DocumentId gives


def test_a_clerk_sends_from_a_mail_client_over_smtp(
    gateway: tuple[Home, int, subprocess.Popen[str]],  # noqa: F811 - the fixture imported above
) -> None:
    """A running ``lienthong serve`` and stdlib smtplib as the clerk's mail client: STARTTLS, AUTH, the plain mail."""
    home, port, _process = gateway
    login, password = credentials(home, "clerk")
    today = datetime.now(VIETNAM)
    body = FORM.replace("02/03/2026", f"{today:%d/%m/%Y}")
    raw = clerk_mail(body, subject=SUBJECT, pdf=make_ascii_pdf("Cong van"), sender=STC_MAIL, to=SYT_MAIL)
    message = message_from_bytes(raw, policy=policy.SMTP)
    message["Date"] = format_datetime(today)
    message["Message-ID"] = make_msgid(domain="stc.camau.lienthong.test")
    context = ssl.create_default_context(cafile=str(home.keys_dir / "ca" / "root.pem"))
    context.check_hostname = False  # the chain is verified; the demo's domain does not resolve on this machine
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.starttls(context=context)
        client.login(login, password)
        assert client.send_message(message, login, [SYT_MAIL]) == {}

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not (
        maildir_messages(home, STC_MAIL, "receipt") and maildir_messages(home, STC_MAIL, "notice")
    ):
        time.sleep(0.5)
    expected_id = DocumentHeader.make_document_id(STC, today.date(), Code("1", "STC-NS"))
    [receipt] = [read_receipt(raw) for raw in maildir_messages(home, STC_MAIL, "receipt")]
    assert (receipt.status_code, receipt.document_id) == ("01", expected_id)
    [delivered] = maildir_messages(home, SYT_MAIL, "document")
    assert parse(delivered).subject == f"1/STC-NS: {SUBJECT}"
    [notice] = [read_notice(raw) for raw in maildir_messages(home, STC_MAIL, "notice")]
    assert (notice["kind"], notice["details"]) == ("acceptance", {"number": "1", "code": "1/STC-NS"})
