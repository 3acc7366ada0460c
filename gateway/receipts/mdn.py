"""The automatic receipt (hồi báo, edXML status 01) and the refusal notice (status 02), as signed RFC 8098 MDNs.

A receipt is what the sender's gateway records as the *sent time* (Art. 11.2), so it must bind to exactly what was
received: it carries a Received-Content-MIC over the exact signed bytes the recipient got, which the sender compares
with the MIC it stored when it signed. A mismatch is a failure, never a warning (AS2's lesson). The receipt also
carries the recipient's incoming number and both received times — technical (UTC) and effective (Art. 11.3) with the
calendar version — so that either side can re-derive the figure later.

Layout: outer headers (``Lienthong-Kind: receipt``), then ``multipart/signed`` wrapping ``multipart/report;
report-type=disposition-notification`` with three parts: the Vietnamese text, the ``message/disposition-notification``
fields, and the edXML status package (``application/xml``).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.header import Header
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser
from email.utils import format_datetime
from functools import cache

import jinja2
from cryptography import x509

from certs.keys import SigningKey
from certs.multipart import split_signed
from certs.smime import sign_entity
from gateway import __version__
from gateway.addresses import Address
from gateway.envelope.edxml import write_metadata
from gateway.envelope.edxml_read import read_metadata
from gateway.envelope.model import Kind, Metadata, Organization, ResponseFor, StatusHeader
from gateway.errors import LienthongError
from gateway.reasons import reason

ARRIVED, REFUSED = "01", "02"
_VIETNAM_FORMAT = "%d/%m/%Y %H:%M:%S"


class ReceiptError(LienthongError):
    """A message that claims to be a receipt but is not a well-formed one."""


class ReceiptMismatch(LienthongError):
    """The receipt's MIC differs from what we signed: the recipient did not get our bytes. Raise an alert."""


@dataclass(frozen=True, slots=True)
class DeliveryFacts:
    """What the receiving gateway observed; everything a receipt states."""

    document_id: str
    original_message_id: str
    original_sender: Organization  # the agency that sent the document (receives this receipt)
    recipient: Organization  # the receiving agency (signs this receipt)
    final_recipient: str  # its records-office mailbox
    mic: str  # base64 SHA-256 of the exact signed bytes received
    received_at: datetime  # technical, aware
    effective_at: datetime  # Art. 11, aware, Vietnam time
    calendar_version: str
    incoming_number: int | None = None  # None when refused
    reason_code: str | None = None  # set when refused
    detail: str = ""
    subject: str = ""

    @property
    def refused(self) -> bool:
        return self.reason_code is not None


@dataclass(frozen=True, slots=True)
class Receipt:
    """A receipt as read back by the sender's gateway (its signature is verified separately, on ``signed``)."""

    document_id: str
    original_message_id: str
    final_recipient: str
    disposition: str
    mic: str
    status_code: str
    incoming_number: int | None
    received_at: datetime
    effective_at: datetime
    calendar_version: str
    reason_code: str | None
    signed: bytes  # the exact signed entity, for verification and evidence


@cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("gateway.receipts", "templates"),
        autoescape=False,  # noqa: S701 (plain text, never HTML)
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


def _b64_part(content_type: str, data: bytes, disposition: str | None = None) -> bytes:
    encoded = base64.b64encode(data)
    lines = b"\r\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
    head = f"Content-Type: {content_type}\r\nContent-Transfer-Encoding: base64\r\n"
    if disposition:
        head += f"Content-Disposition: {disposition}\r\n"
    return head.encode("ascii") + b"\r\n" + lines + b"\r\n"


def _field_value(value: str) -> str:
    if any(c in value for c in "\r\n\0"):
        raise ReceiptError(f"receipt field value {value!r} contains a line break or NUL")
    return value


def _notification_fields(facts: DeliveryFacts, reporting_domain: str) -> bytes:
    disposition = "automatic-action/MDN-sent-automatically; processed"
    if facts.refused:
        disposition += f"/error: {facts.reason_code}"
    fields = [
        ("Reporting-UA", f"{reporting_domain}; lienthong {__version__}"),
        ("Final-Recipient", f"rfc822; {Address.parse(facts.final_recipient)}"),
        ("Original-Message-ID", facts.original_message_id),
        ("Disposition", disposition),
        ("Received-Content-MIC", f"{facts.mic}, sha-256"),
        ("Lienthong-Document-Id", facts.document_id),
        ("Lienthong-Received-At", facts.received_at.astimezone(UTC).isoformat(timespec="milliseconds")),
        ("Lienthong-Effective-Received-At", facts.effective_at.isoformat(timespec="milliseconds")),
        ("Lienthong-Calendar-Version", facts.calendar_version),
    ]
    if facts.incoming_number is not None:
        fields.append(("Lienthong-Incoming-Number", str(facts.incoming_number)))
    if facts.reason_code is not None:
        fields.append(("Lienthong-Reason", facts.reason_code))
    return "".join(f"{name}: {_field_value(value)}\r\n" for name, value in fields).encode("utf-8")


def _status_xml(facts: DeliveryFacts) -> bytes:
    status = StatusHeader(
        from_=facts.recipient,
        response_for=ResponseFor(organ_id=facts.original_sender.organ_id, document_id=facts.document_id),
        status_code=REFUSED if facts.refused else ARRIVED,
        timestamp=facts.effective_at,
        description=(f"[{facts.reason_code}] {reason(facts.reason_code).vi}" if facts.reason_code else "Đã đến"),
    )
    return write_metadata(Metadata(Kind.STATUS, status, None, ()))


def build_report(facts: DeliveryFacts, reporting_domain: str) -> bytes:
    """The ``multipart/report`` entity (headers, empty line, body) that gets signed."""
    text = (
        _templates()
        .get_template("delivery.txt.j2")
        .render(
            document_id=facts.document_id,
            subject=facts.subject,
            refused=facts.refused,
            final_recipient=facts.final_recipient,
            incoming_number=facts.incoming_number,
            reason_code=facts.reason_code,
            reason_vi=reason(facts.reason_code).vi if facts.reason_code else "",
            detail=facts.detail,
            received_local=facts.received_at.astimezone(facts.effective_at.tzinfo).strftime(_VIETNAM_FORMAT),
            effective_local=facts.effective_at.strftime(_VIETNAM_FORMAT),
            received_utc=facts.received_at.astimezone(UTC).isoformat(timespec="seconds"),
            mic=facts.mic,
        )
        .replace("\n", "\r\n")
        .encode("utf-8")
    )
    parts = [
        _b64_part('text/plain; charset="utf-8"', text),
        b"Content-Type: message/disposition-notification\r\n\r\n" + _notification_fields(facts, reporting_domain),
        _b64_part('application/xml; charset="utf-8"', _status_xml(facts), "inline; filename=status.edxml.xml"),
    ]
    boundary = "=_lt_mdn_" + hashlib.sha256(b"".join(parts)).hexdigest()[:32]
    delimiter = f"--{boundary}\r\n".encode("ascii")
    body = b"".join(delimiter + part for part in parts) + f"--{boundary}--\r\n".encode("ascii")
    head = f'Content-Type: multipart/report; report-type=disposition-notification; boundary="{boundary}"\r\n\r\n'
    return head.encode("ascii") + body


def build_receipt(
    facts: DeliveryFacts,
    reporting_domain: str,
    certificate: x509.Certificate,
    key: SigningKey,
    chain: Sequence[x509.Certificate] = (),
) -> bytes:
    """The complete signed receipt message, from the recipient's records office to the sender's."""
    signed = sign_entity(build_report(facts, reporting_domain), certificate, key, chain)
    to = facts.original_sender.email
    if not to:
        raise ReceiptError(f"original sender {facts.original_sender.organ_id} has no records-office mailbox")
    key_text = f"lienthong:receipt:{facts.document_id}:{facts.final_recipient}"
    message_id = f"<{hashlib.sha256(key_text.encode()).hexdigest()[:40]}@{Address.parse(facts.final_recipient).domain}>"
    kind_word = "Từ chối tiếp nhận" if facts.refused else "Hồi báo"
    subject = Header(f"{kind_word}: {facts.document_id}", "utf-8").encode(maxlinelen=76, linesep="\r\n")
    headers = [
        ("From", str(Address.parse(facts.final_recipient))),
        ("To", str(Address.parse(to))),
        ("Date", format_datetime(facts.received_at.astimezone(facts.effective_at.tzinfo))),
        ("Message-ID", message_id),
        ("In-Reply-To", facts.original_message_id),
        ("References", facts.original_message_id),
        ("Subject", subject),
        ("MIME-Version", "1.0"),
        ("Lienthong-Kind", "receipt"),
        ("Lienthong-Document-Id", Header(facts.document_id, "utf-8").encode(linesep="\r\n")),
        ("Content-Type", signed.content_type),
    ]
    return "".join(f"{name}: {value}\r\n" for name, value in headers).encode("utf-8") + b"\r\n" + signed.body


def _aware(value: str, field: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ReceiptError(f"receipt field {field}: {value!r} is not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise ReceiptError(f"receipt field {field}: {value!r} has no UTC offset")
    return parsed


def read_receipt(raw: bytes) -> Receipt:
    """Read a receipt's fields; classification by the top-level header only, never by Subject."""
    top = BytesHeaderParser(policy=policy.compat32).parsebytes(raw.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n")
    if str(top.get("Lienthong-Kind", "")).strip().lower() != "receipt":
        raise ReceiptError("not a receipt: the top-level Lienthong-Kind header is not 'receipt'")
    try:
        signed = split_signed(raw).content
    except LienthongError as exc:
        raise ReceiptError(f"receipt is not S/MIME signed: {exc}") from None
    report = BytesParser(policy=policy.compat32).parsebytes(signed)
    if report.get_content_type() != "multipart/report":
        raise ReceiptError(f"receipt body is {report.get_content_type()}, not multipart/report")
    fields: Message | None = None
    status_code = ""
    for part in report.walk():
        if part.get_content_type() == "message/disposition-notification":
            # The email package reads a message/* part as a nested message: its headers are the MDN fields.
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                fields = payload[0]
        elif part.get_content_type() == "application/xml":
            header = read_metadata(bytes(part.get_payload(decode=True) or b"")).header
            status_code = getattr(header, "status_code", "")
    if fields is None:
        raise ReceiptError("receipt has no message/disposition-notification part")

    def need(name: str) -> str:
        value = fields.get(name) if fields is not None else None
        if not value:
            raise ReceiptError(f"receipt field {name} is missing")
        return str(value).strip()

    mic_field = need("Received-Content-MIC")
    mic, _, algorithm = (p.strip() for p in mic_field.partition(","))
    if algorithm.lower() != "sha-256":
        raise ReceiptError(f"receipt field Received-Content-MIC: algorithm {algorithm!r}, expected sha-256")
    number = fields.get("Lienthong-Incoming-Number")
    return Receipt(
        document_id=need("Lienthong-Document-Id"),
        original_message_id=need("Original-Message-ID"),
        final_recipient=need("Final-Recipient").split(";", 1)[-1].strip(),
        disposition=need("Disposition"),
        mic=mic,
        status_code=status_code,
        incoming_number=int(number) if number and str(number).strip().isdigit() else None,
        received_at=_aware(need("Lienthong-Received-At"), "Lienthong-Received-At"),
        effective_at=_aware(need("Lienthong-Effective-Received-At"), "Lienthong-Effective-Received-At"),
        calendar_version=need("Lienthong-Calendar-Version"),
        reason_code=(str(fields.get("Lienthong-Reason")).strip() if fields.get("Lienthong-Reason") else None),
        signed=signed,
    )


def check_mic(receipt: Receipt, sent_mic: str) -> None:
    """Compare the receipt's MIC with the one stored at sending; a mismatch is a failure (and an alert)."""
    if receipt.mic != sent_mic:
        raise ReceiptMismatch(
            f"receipt for {receipt.document_id} from {receipt.final_recipient}: Received-Content-MIC {receipt.mic} "
            f"differs from the MIC of what was sent ({sent_mic}); the recipient did not receive our bytes"
        )
