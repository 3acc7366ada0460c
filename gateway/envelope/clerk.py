"""From a clerk's plain e-mail to a structured document envelope.

A records clerk in an ordinary mail client writes to the recipients' records-office addresses, attaches the signed
PDF, puts the summary in Subject and may type a short form in the body (see ``clerk_form``). Each metadata field is
taken from the first source that has it: the form (the clerk said so), then the Subject line (summary, and a
leading "15/QĐ-UBND:"), then the PDF's first page (``heading``), then the registry (agencies from the addresses).
What no source gives is reported all at once, one FIELD_MISSING problem per field, so that the clerk can fix the mail
in one go. Nothing is guessed: no issue date defaults to today, no type is assumed.
"""

from __future__ import annotations

import email
import email.policy
import html
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from typing import Protocol

from gateway.envelope.build import build_document
from gateway.envelope.clerk_form import FIELD_PATHS, parse_count, parse_date, parse_form, parse_priority
from gateway.envelope.directory import AgencyInfo
from gateway.envelope.errors import EnvelopeError, Problem
from gateway.envelope.heading import Heading, read_heading
from gateway.envelope.markers import find_declared_classification
from gateway.envelope.model import (
    Attachment,
    Code,
    DocumentHeader,
    DocumentType,
    Organization,
    OtherInfo,
    PromulgationInfo,
    SignerInfo,
)
from gateway.envelope.pdf import PdfInfo, PdfLimits, inspect_pdf
from gateway.vntext import nfc

REQUIRED = ("number", "notation", "issue_date", "type_name", "subject", "signer_position", "signer_name")


class MailboxDirectory(Protocol):
    """Which agency a records-office mailbox belongs to (the registry answers; tests use ``MailboxIndex``)."""

    def by_mailbox(self, mailbox: str) -> AgencyInfo | None: ...


class MailboxIndex:
    """An in-memory ``MailboxDirectory`` over agencies with known mailboxes."""

    def __init__(self, agencies: Iterable[AgencyInfo]) -> None:
        self._by_mailbox = {box.lower(): agency for agency in agencies for box in agency.mailboxes}

    def by_mailbox(self, mailbox: str) -> AgencyInfo | None:
        return self._by_mailbox.get(mailbox.lower())


PdfInspector = Callable[[bytes, PdfLimits | None], PdfInfo]


@dataclass(frozen=True, slots=True)
class ClerkMail:
    sender: str
    recipients: tuple[str, ...]
    subject: str
    body: str
    pdf: bytes | None
    pdf_name: str
    attachments: tuple[Attachment, ...]


@dataclass(slots=True)
class ClerkDraft:
    """The document's metadata as far as the mail, the PDF and the registry tell it; ``sources`` says who told."""

    number: str | None = None
    notation: str | None = None
    type_name: str | None = None
    subject: str | None = None
    issue_date: date | None = None
    place: str | None = None
    organ_name: str | None = None
    signer_name: str | None = None
    signer_position: str | None = None
    signer_competence: str | None = None
    priority: int | None = None
    due_date: date | None = None
    to_places: str | None = None
    page_amount: int | None = None
    promulgation_amount: int | None = None
    classification: str | None = None
    sources: dict[str, str] = field(default_factory=dict)

    def missing(self) -> list[str]:
        return [name for name in REQUIRED if getattr(self, name) is None]


@dataclass(frozen=True, slots=True)
class ClerkDocument:
    header: DocumentHeader
    pdf: bytes
    pdf_name: str
    attachments: tuple[Attachment, ...]
    draft: ClerkDraft


def read_clerk_mail(raw: bytes) -> ClerkMail:
    """Sender, recipients (To and Cc), Subject, plain-text body and files of a clerk's mail."""
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        sender = parseaddr(str(message.get("From", "")))[1].lower()
        recipients = tuple(
            dict.fromkeys(
                a.lower() for _, a in getaddresses([str(v) for k in ("To", "Cc") for v in message.get_all(k, [])]) if a
            )
        )
        subject = " ".join(str(message.get("Subject", "")).split())
        body = _body_text(message)
        pdf, pdf_name, others = None, "", []
        for part in message.iter_attachments():
            name = part.get_filename() or ""
            data = part.get_payload(decode=True)
            if not isinstance(data, bytes):
                continue
            media_type = part.get_content_type()
            is_pdf = media_type == "application/pdf" or name.lower().endswith(".pdf")
            if is_pdf and pdf is None:
                pdf, pdf_name = data, name or "van-ban.pdf"
            else:
                others.append(Attachment(name or "dinh-kem.bin", media_type, data))
    except EnvelopeError:
        raise
    except Exception as exc:  # the stdlib parser is lenient, but a header it cannot decode must not escape
        raise EnvelopeError.of(
            "MIME_MALFORMED", None, f"the clerk's mail cannot be read ({type(exc).__name__})"
        ) from None
    return ClerkMail(sender, recipients, nfc(subject), nfc(body), pdf, pdf_name, tuple(others))


def _body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    text = str(part.get_content())
    if part.get_content_type() == "text/html":
        text = html.unescape(re.sub(r"<br\s*/?>|</p>|</div>", "\n", text, flags=re.I))
        text = re.sub(r"<[^>]+>", "", text)
    return text


_SUBJECT_CODE = re.compile(r"^\s*(?:Số\s*:?\s*)?(\d{1,11})/([^\s:]{1,30})\s*[:–-]\s*(.+)$", re.I)
_REPLY_PREFIX = re.compile(r"^\s*(?:(?:Fwd?|Re|TL|Chuyển tiếp)\s*:\s*)+", re.I)


def draft_from(mail: ClerkMail, heading: Heading | None) -> ClerkDraft:
    """Merge form, Subject and first page, in that order of authority."""
    draft = ClerkDraft()
    form = parse_form(mail.body)
    _set_form_values(draft, form)
    subject = _REPLY_PREFIX.sub("", mail.subject)
    if match := _SUBJECT_CODE.match(subject):
        _offer(draft, "number", match[1], "subject")
        _offer(draft, "notation", match[2], "subject")
        subject = match[3]
    _offer(draft, "subject", subject.strip() or None, "subject")
    if heading is not None:
        for name in ("number", "notation", "type_name", "subject", "issue_date", "place", "organ_name"):
            _offer(draft, name, getattr(heading, name), "pdf")
        for name in ("signer_name", "signer_position", "signer_competence"):
            _offer(draft, name, getattr(heading, name), "pdf")
    return draft


def _offer(draft: ClerkDraft, name: str, value: object, source: str) -> None:
    if value is not None and value != "" and getattr(draft, name) is None:
        setattr(draft, name, value)
        draft.sources[name] = source


def _set_form_values(draft: ClerkDraft, form: dict[str, str]) -> None:
    problems: list[Problem] = []
    for name, value in form.items():
        try:
            parsed: object
            if name in ("issue_date", "due_date"):
                parsed = parse_date(value, name)
            elif name == "priority":
                parsed = parse_priority(value)
            elif name in ("page_amount", "promulgation_amount"):
                parsed = parse_count(value, name)
            else:
                parsed = value
        except EnvelopeError as exc:
            problems.extend(exc.problems)
            continue
        _offer(draft, name, parsed, "form")
    if problems:
        raise EnvelopeError(problems)


def clerk_document(
    raw: bytes,
    directory: MailboxDirectory,
    *,
    inspector: PdfInspector = inspect_pdf,
    pdf_limits: PdfLimits | None = None,
    allow_unnumbered: bool = False,
) -> ClerkDocument:
    """The document header for a clerk's mail, or one ``EnvelopeError`` listing every field that is missing.

    The gateway passes ``inspect_pdf_isolated`` as ``inspector``: the PDF comes from outside. With
    ``allow_unnumbered`` (the submission path, where the gateway keeps the register) a missing number is not a
    problem: the header is left in the "not yet numbered" state of docs/envelope.md §4.5.
    """
    mail = read_clerk_mail(raw)
    if mail.pdf is None:
        raise EnvelopeError.of("PDF_MISSING", "attachment", "attach the signed document as a PDF file")
    info = inspector(mail.pdf, pdf_limits)
    draft = draft_from(mail, read_heading(info.first_page_text))
    if draft.classification and (found := find_declared_classification(draft.classification)):
        raise EnvelopeError(found.problem(FIELD_PATHS["classification"]))  # refused before anything is built
    problems: list[Problem] = []
    sender = directory.by_mailbox(mail.sender) if mail.sender else None
    if sender is None:
        problems.append(Problem("SENDER_UNKNOWN", "From", f"{mail.sender or 'no address'} is not a records office"))
    recipients: list[Organization] = []
    for index, address in enumerate(mail.recipients):
        agency = directory.by_mailbox(address)
        if agency is None:
            problems.append(Problem("RECIPIENT_UNKNOWN", f"To[{index}]", f"{address} is not a records office"))
        else:
            recipients.append(Organization(organ_id=agency.organ_id, organ_name=agency.name, email=address))
    if not mail.recipients:
        problems.append(Problem("FIELD_MISSING", "To", "address the mail to the recipients' records offices"))
    missing = [name for name in draft.missing() if not (allow_unnumbered and name == "number")]
    problems += [Problem("FIELD_MISSING", FIELD_PATHS[name], _HINTS[name]) for name in missing]
    if problems:
        raise EnvelopeError(problems)
    assert sender is not None
    header = _header(draft, sender, mail.sender, tuple(recipients), info)
    return ClerkDocument(header, mail.pdf, mail.pdf_name, mail.attachments, draft)


_HINTS = {
    "number": "write 'Số: 15/QĐ-UBND' in the mail body, or send the PDF with its heading",
    "notation": "write 'Ký hiệu: QĐ-UBND' in the mail body",
    "issue_date": "write 'Ngày ban hành: 02/03/2026' in the mail body",
    "type_name": "write 'Loại văn bản: Quyết định' in the mail body",
    "subject": "put the summary (trích yếu) in the Subject line",
    "signer_position": "write 'Chức vụ: Phó Chủ tịch' in the mail body",
    "signer_name": "write 'Người ký: Nguyễn Văn A' in the mail body",
}


def _header(
    draft: ClerkDraft, sender: AgencyInfo, mailbox: str, to: tuple[Organization, ...], info: PdfInfo
) -> DocumentHeader:
    # draft.missing() was empty (but for the number, when left to the gateway): the required fields are set
    number, notation, issued = draft.number or "", draft.notation or "", draft.issue_date or date.min
    code = Code(number, notation)
    return DocumentHeader(
        from_=Organization(organ_id=sender.organ_id, organ_name=sender.name, email=mailbox),
        to=to,
        document_id=DocumentHeader.make_document_id(sender.organ_id, issued, code),
        code=code,
        promulgation_info=PromulgationInfo(place=draft.place or "", date=issued),
        document_type=DocumentType(type_name=draft.type_name or ""),
        subject=draft.subject or "",
        signer_info=SignerInfo(
            competence=draft.signer_competence or "",
            position=draft.signer_position or "",
            full_name=draft.signer_name or "",
        ),
        due_date=draft.due_date,
        other_info=OtherInfo(
            priority=draft.priority,
            page_amount=draft.page_amount or info.page_count,
            promulgation_amount=draft.promulgation_amount,
        ),
        to_places=tuple(p.strip() for p in (draft.to_places or "").split(";") if p.strip()),
    )


def build_from_clerk_mail(
    raw: bytes,
    directory: MailboxDirectory,
    *,
    sent_at: datetime | None = None,
    inspector: PdfInspector = inspect_pdf,
    pdf_limits: PdfLimits | None = None,
) -> bytes:
    """The complete (unsigned) envelope for a clerk's mail; the PDF and attachments travel byte for byte."""
    document = clerk_document(raw, directory, inspector=inspector, pdf_limits=pdf_limits)
    return build_document(
        document.header, document.pdf, document.attachments, sent_at=sent_at, pdf_name=document.pdf_name
    )
