"""Clerks' plain e-mail -> a structured envelope that the validator accepts; precise reports of what is missing."""

from __future__ import annotations

from datetime import date

import pytest

from gateway.envelope.clerk import MailboxIndex, build_from_clerk_mail, clerk_document, read_clerk_mail
from gateway.envelope.clerk_form import parse_form
from gateway.envelope.directory import DictDirectory
from gateway.envelope.errors import EnvelopeError
from gateway.envelope.pdf import inspect_pdf_isolated
from gateway.envelope.validate import check
from tests import pdfs
from tests.fixtures.envelope import AGENCIES, NOW, SENDER_ID, SENT_AT, clerk_mail

DIRECTORY = MailboxIndex(AGENCIES)


def test_everything_from_the_pdf_heading_and_the_registry() -> None:
    document = clerk_document(clerk_mail(pdf=pdfs.make_decision_pdf()), DIRECTORY)
    header = document.header
    assert header.from_.organ_id == SENDER_ID
    assert [t.organ_id for t in header.to] == ["000.00.01.H12", "000.00.02.H12"]
    assert [t.email for t in header.to] == ["vanthu@stc.camau.gov.vn", "vanthu@snv.camau.gov.vn"]
    assert str(header.code) == "15/QĐ-UBND"
    assert header.promulgation_info.date == date(2026, 3, 2)
    assert header.promulgation_info.place == "Cà Mau"
    assert header.document_type.type_name == "Quyết định"
    assert header.subject == "Về việc ban hành quy chế làm việc"  # the Subject line wins over the PDF
    assert header.signer_info is not None
    assert (header.signer_info.competence, header.signer_info.position, header.signer_info.full_name) == (
        "KT. CHỦ TỊCH",
        "PHÓ CHỦ TỊCH",
        "Nguyễn Văn An",
    )
    assert header.document_id == f"{SENDER_ID},2026/03/02,15/QĐ-UBND"
    assert document.draft.sources["number"] == "pdf"
    assert document.draft.sources["subject"] == "subject"


def test_built_envelope_passes_validation() -> None:
    raw = build_from_clerk_mail(clerk_mail(pdf=pdfs.make_decision_pdf()), DIRECTORY, sent_at=SENT_AT)
    envelope = check(raw, directory=DictDirectory(AGENCIES), now=NOW)
    assert envelope.subject.startswith("15/QĐ-UBND: Về việc ban hành")


FORM = """Kính gửi anh chị văn thư,

Số: 42/TB-SNV
Loai van ban: Thong bao
Ngay ban hanh: 05/03/2026
Nguoi ky: Lê Thị Hoa
CHỨC VỤ : Giám đốc
Độ khẩn: Thượng khẩn
Hạn xử lý: 2026-03-20
Nơi nhận:
- Sở Tài chính;
- Lưu: VT.

--
Văn thư, Số: 99/XX-YY
"""


def test_form_with_and_without_diacritics() -> None:
    form = parse_form(FORM)
    assert form == {
        "number": "42",
        "notation": "TB-SNV",
        "type_name": "Thong bao",
        "issue_date": "05/03/2026",
        "signer_name": "Lê Thị Hoa",
        "signer_position": "Giám đốc",
        "priority": "Thượng khẩn",
        "due_date": "2026-03-20",
        "to_places": "Sở Tài chính; Lưu: VT",
    }


def test_form_wins_over_the_pdf_and_fills_what_it_lacks() -> None:
    scanned = pdfs.make_ascii_pdf("")  # no text layer: nothing to read from the first page
    document = clerk_document(clerk_mail(FORM, subject="Lịch họp giao ban", pdf=scanned), DIRECTORY)
    header = document.header
    assert str(header.code) == "42/TB-SNV"
    assert header.document_type.type_name == "Thong bao"
    assert header.promulgation_info.date == date(2026, 3, 5)
    assert header.due_date == date(2026, 3, 20)
    assert header.other_info is not None
    assert (header.other_info.priority, header.other_info.page_amount) == (2, 1)
    assert header.to_places == ("Sở Tài chính", "Lưu: VT")
    assert document.draft.sources["signer_name"] == "form"


def test_html_only_mail_and_code_in_subject() -> None:
    body = "Loại văn bản: Công văn\nNgày ban hành: 07/03/2026\nNgười ký: Trần Văn Dũng\nChức vụ: Chánh Văn phòng"
    mail = clerk_mail(body, subject="Fwd: 120/UBND-VP: V/v họp giao ban", pdf=pdfs.make_ascii_pdf(""), html=True)
    header = clerk_document(mail, DIRECTORY).header
    assert (str(header.code), header.subject) == ("120/UBND-VP", "V/v họp giao ban")
    assert header.signer_info is not None
    assert header.signer_info.full_name == "Trần Văn Dũng"


def test_every_missing_field_is_named() -> None:
    with pytest.raises(EnvelopeError) as caught:
        clerk_document(clerk_mail(subject="", pdf=pdfs.make_ascii_pdf("")), DIRECTORY)
    assert [(p.code, p.field) for p in caught.value.problems] == [
        ("FIELD_MISSING", "Code/CodeNumber"),
        ("FIELD_MISSING", "Code/CodeNotation"),
        ("FIELD_MISSING", "PromulgationInfo/PromulgationDate"),
        ("FIELD_MISSING", "DocumentType/TypeName"),
        ("FIELD_MISSING", "Subject"),
        ("FIELD_MISSING", "SignerInfo/Position"),
        ("FIELD_MISSING", "SignerInfo/FullName"),
    ]
    assert "Số: 15/QĐ-UBND" in caught.value.problems[0].detail


def test_unknown_addresses_and_missing_pdf() -> None:
    mail = clerk_mail(pdf=pdfs.make_decision_pdf(), sender="someone@gmail.com", to="vanthu@stc.camau.gov.vn, x@y.vn")
    with pytest.raises(EnvelopeError) as caught:
        clerk_document(mail, DIRECTORY)
    assert [(p.code, p.field) for p in caught.value.problems] == [
        ("SENDER_UNKNOWN", "From"),
        ("RECIPIENT_UNKNOWN", "To[1]"),
    ]
    with pytest.raises(EnvelopeError) as caught:
        clerk_document(clerk_mail(), DIRECTORY)
    assert caught.value.primary.code == "PDF_MISSING"


def test_bad_form_values_are_named() -> None:
    mail = clerk_mail("Ngày ban hành: 31/02/2026\nĐộ khẩn: rất gấp", pdf=pdfs.make_decision_pdf())
    with pytest.raises(EnvelopeError) as caught:
        clerk_document(mail, DIRECTORY)
    assert [(p.code, p.field) for p in caught.value.problems] == [
        ("FIELD_INVALID", "PromulgationInfo/PromulgationDate"),
        ("FIELD_INVALID", "OtherInfo/Priority"),
    ]


def test_declared_classification_is_refused_before_building() -> None:
    with pytest.raises(EnvelopeError) as caught:
        clerk_document(clerk_mail("Độ mật: Mật", pdf=pdfs.make_decision_pdf()), DIRECTORY)
    assert caught.value.primary.code == "CLASSIFIED"


def test_pdf_problems_come_from_the_inspector() -> None:
    mail = clerk_mail(pdf=pdfs.make_pdf(["x"], encrypt_password="p"))
    with pytest.raises(EnvelopeError) as caught:
        clerk_document(mail, DIRECTORY, inspector=inspect_pdf_isolated)
    assert caught.value.primary.code == "PDF_ENCRYPTED"


def test_attachments_travel_byte_for_byte() -> None:
    mail = read_clerk_mail(clerk_mail(pdf=pdfs.make_decision_pdf(), extra=(("phu-luc.xlsx", b"\x00\x01data"),)))
    assert mail.pdf == pdfs.make_decision_pdf()
    assert [(a.file_name, a.data) for a in mail.attachments] == [("phu-luc.xlsx", b"\x00\x01data")]


@pytest.mark.parametrize("raw", [b"", b"\xff\xfe\x00garbage", b"From: \r\nSubject: =?utf-8?B?####?=\r\n\r\nbody"])
def test_garbage_mail_gives_only_envelope_errors(raw: bytes) -> None:
    with pytest.raises(EnvelopeError):
        clerk_document(raw, DIRECTORY)
