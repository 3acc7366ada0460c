"""Clerk mail at processing: a submission without ``Lienthong-Kind`` is a clerk's plain mail, made into an envelope.

Clerks in ordinary mail clients (Thunderbird, Outlook) are the product's main users: they write to the recipients'
records offices, attach the signed PDF and put the summary in Subject (docs/envelope.md, clerk mail). The processing
worker turns such a mail into the structured envelope here and then treats it exactly like an envelope an agency
system built: same validation (the "not yet numbered" state allowed, so the gateway can number it), same sender
check against the submitting account's agency, same signing, recording and notices.

The conversion is a pure function of the stored bytes and the registry, so a process item retried after a crash
builds the same envelope again. When the clerk left the number to the gateway, the built envelope carries the clerk
mail's own Message-ID (the one a mail client retrying after a lost 250 sends again): numbering recognises a
resubmission by it, and never numbers one mail twice. The builder's Message-ID would not do: it derives from a
DocumentId that has no number yet, so two of the agency's documents of one notation and day would share it.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import parseaddr

from gateway.envelope.build import build_document
from gateway.envelope.clerk import MailboxDirectory, PdfInspector, clerk_document
from gateway.envelope.errors import EnvelopeError, Problem
from gateway.envelope.limits import EnvelopeLimits
from gateway.envelope.model import VIETNAM
from gateway.envelope.rawmime import walk

# The envelope's MIME limits, with room for the nesting mail clients use (mixed > related > alternative > ...).
_CLERK_LIMITS = EnvelopeLimits(max_depth=8)
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_PARSER = BytesHeaderParser(policy=compat32)
_MESSAGE_ID = re.compile(r"<[!-;=?-~]{1,240}@[!-;=?-~]{1,240}>")  # printable ASCII, no "<", ">" or space
_BUILT_MESSAGE_ID = re.compile(rb"^Message-ID: <[^>\r\n]*>\r\n", re.M)

# What the clerk calls each field (the labels of the body form), for the non-acceptance notice.
_VIETNAMESE = {
    "Code/CodeNumber": "Số",
    "Code/CodeNotation": "Ký hiệu",
    "DocumentType/TypeName": "Loại văn bản",
    "Subject": "Trích yếu (dòng Subject)",
    "PromulgationInfo/PromulgationDate": "Ngày ban hành",
    "PromulgationInfo/Place": "Nơi ban hành",
    "SignerInfo/FullName": "Người ký",
    "SignerInfo/Position": "Chức vụ",
    "SignerInfo/Competence": "Thẩm quyền ký",
    "OtherInfo/Priority": "Độ khẩn",
    "DueDate": "Hạn xử lý",
    "OtherInfo/PageAmount": "Số trang",
    "OtherInfo/PromulgationAmount": "Số bản",
    "lt:Classification": "Độ mật",
    "From": "Địa chỉ người gửi (From)",
    "From/OrganId": "Cơ quan gửi",
    "To": "Nơi nhận (địa chỉ To)",
    "attachment": "Tệp PDF đính kèm",
}


def top_headers(raw: bytes) -> Message:
    """The top-level header block only (the body is not parsed: this runs for every submission)."""
    end = _HEADER_END.search(raw)
    return _PARSER.parsebytes(raw if end is None else raw[: end.end()])


def is_clerk_mail(headers: Message) -> bool:
    return headers.get("Lienthong-Kind") is None


def as_envelope(
    raw: bytes,
    organ_id: str | None,
    directory: MailboxDirectory,
    inspector: PdfInspector,
    received_at: datetime,
) -> bytes:
    """``raw`` itself when it is an envelope; for a clerk's mail, the unsigned envelope built from it.

    Raises one ``EnvelopeError`` with every problem: the fields that could not be determined, and a From mailbox
    that belongs to another agency than the submitting account's (SENDER_MISMATCH, reported with the rest so that
    the clerk fixes everything at once). The envelope's sending time is the submission's, not the clerk's clock.
    """
    headers = top_headers(raw)
    if not is_clerk_mail(headers):
        return raw
    walk(raw, _CLERK_LIMITS)  # a MIME bomb is refused (MIME_TOO_COMPLEX, ...) before the stdlib parser sees it
    try:
        document = clerk_document(raw, directory, inspector=inspector, allow_unnumbered=True)
        header = document.header
        sent_at = received_at.astimezone(VIETNAM)
        built = build_document(header, document.pdf, document.attachments, sent_at=sent_at, pdf_name=document.pdf_name)
    except EnvelopeError as error:
        mismatch = _sender_mismatch(headers, organ_id, directory)
        if mismatch is None or any(p.code == "SENDER_MISMATCH" for p in error.problems):
            raise
        raise EnvelopeError([mismatch, *error.problems]) from None
    return built if header.code.number else _with_message_id(built, _message_id(headers, raw))


def vietnamese_field(field: str | None) -> str | None:
    """``Code/CodeNotation (Ký hiệu)``: the edXML path for the record, the clerk's own word for the clerk."""
    if field is None:
        return None
    label = _VIETNAMESE.get(field) or _VIETNAMESE.get(field.split("[", 1)[0])
    return f"{field} ({label})" if label else field


def _sender_mismatch(headers: Message, organ_id: str | None, directory: MailboxDirectory) -> Problem | None:
    address = parseaddr(str(headers.get("From", "")))[1].lower()
    agency = directory.by_mailbox(address) if address else None
    if agency is None or agency.organ_id == organ_id:
        return None
    return Problem("SENDER_MISMATCH", "From/OrganId", f"{agency.organ_id} is not the submitting account's agency")


def _message_id(headers: Message, raw: bytes) -> str:
    """The clerk mail's Message-ID; a stable one from its bytes when it has none a header may carry."""
    value = " ".join(str(headers.get("Message-ID", "")).split())
    if _MESSAGE_ID.fullmatch(value):
        return value
    return f"<{hashlib.sha256(raw).hexdigest()[:40]}@clerk.lienthong.invalid>"


def _with_message_id(built: bytes, message_id: str) -> bytes:
    """The builder writes exactly one ``Message-ID: <…>`` line in its header block: it is replaced there only."""
    end = built.find(b"\r\n\r\n")
    head, body = built[: end + 2], built[end + 2 :]
    line = b"Message-ID: " + message_id.encode("ascii") + b"\r\n"
    replaced, count = _BUILT_MESSAGE_ID.subn(lambda _: line, head, count=1)
    if count != 1:
        raise ValueError("the built envelope has no Message-ID line")
    return replaced + body
