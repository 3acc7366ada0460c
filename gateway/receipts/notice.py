"""Notices the gateway itself issues to the sender's records office, PEC-style.

- **acceptance** — the submission passed every check and was signed and sent on (chấp nhận);
- **non-acceptance** — it was refused, with the reason code and each problem (không chấp nhận);
- **warning** — a recipient has not answered with a receipt after the configured office hours;
- **non-delivery** — it still has not after the final limit: the gateway stops waiting;
- **mic-alert** — a receipt came back whose Received-Content-MIC is not the MIC stored at sending: the recipient did
  not confirm the bytes that were sent, so the document is not confirmed (an alert, copied to the operator);
- **receipt-alert** — a receipt came back signed by an agency the document was not sent to: it confirms nothing, and
  someone holding a trusted certificate tried to (an alert, copied to the operator).

A notice is ``Lienthong-Kind: notice`` with ``Lienthong-Notice`` naming which, S/MIME-signed with the certificate of
the agency operating the gateway (``[notices] operator``), and carries a JSON part a program can read and a text part
a clerk can. Like receipts, it is classified by its top-level headers only.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from email import policy
from email.header import Header
from email.parser import BytesParser
from email.utils import format_datetime
from enum import StrEnum
from functools import cache

import jinja2

from certs.lifecycle import Signer
from certs.multipart import split_signed
from certs.smime import sign_entity
from gateway.addresses import Address
from gateway.errors import LienthongError
from gateway.reasons import reason


class NoticeKind(StrEnum):
    ACCEPTANCE = "acceptance"
    NON_ACCEPTANCE = "non-acceptance"
    WARNING = "warning"
    NON_DELIVERY = "non-delivery"
    MIC_ALERT = "mic-alert"
    RECEIPT_ALERT = "receipt-alert"


#: The alerts: sent with ``Importance: high`` and a copy to the operator's records office.
ALERTS = frozenset({NoticeKind.MIC_ALERT, NoticeKind.RECEIPT_ALERT})


_TITLES = {
    NoticeKind.ACCEPTANCE: ("Thông báo chấp nhận", "Acceptance notice", "The gateway accepted the document."),
    NoticeKind.NON_ACCEPTANCE: ("Thông báo không chấp nhận", "Non-acceptance notice", "Nothing was sent."),
    NoticeKind.WARNING: (
        "Cảnh báo chưa có hồi báo",
        "Warning: no receipt yet",
        "The gateway keeps trying; the recipient has not confirmed arrival yet.",
    ),
    NoticeKind.NON_DELIVERY: (
        "Thông báo không chuyển được",
        "Non-delivery notice",
        "The recipient did not confirm arrival within the limit; the gateway stopped waiting.",
    ),
    NoticeKind.MIC_ALERT: (
        "CẢNH BÁO: hồi báo không khớp mã băm văn bản đã gửi",
        "ALERT: receipt MIC mismatch",
        "Văn bản phải được coi là CHƯA được xác nhận đã đến; liên hệ cơ quan nhận và gửi lại nếu cần. Hồi báo của cơ"
        " quan nhận không được đưa vào hộp thư văn thư.\n"
        "The document must be treated as NOT confirmed; contact the recipient and send again if needed. The"
        " recipient's receipt was not put into the records-office mailbox.",
    ),
    NoticeKind.RECEIPT_ALERT: (
        "CẢNH BÁO: hồi báo từ cơ quan không phải nơi nhận văn bản",
        "ALERT: receipt from an agency the document was not sent to",
        "Hồi báo này không xác nhận văn bản đã đến bất kỳ nơi nhận nào và không được đưa vào hộp thư văn thư; thời"
        " điểm gửi không được ghi nhận. Đề nghị quản trị cổng kiểm tra cơ quan đã ký hồi báo.\n"
        "This receipt confirms arrival at none of the recipients and was not put into the records-office mailbox; no"
        " sent time was recorded. The gateway's operator should look into the agency that signed it.",
    ),
}


class NoticeError(LienthongError):
    """A message that claims to be a notice but is not a well-formed one."""


@dataclass(frozen=True, slots=True)
class Notice:
    kind: NoticeKind
    to: str  # the sender's records-office mailbox
    submission: int | None
    document_id: str
    at: datetime
    effective_at: datetime
    calendar_version: str
    reason_code: str | None = None
    problems: tuple[str, ...] = ()
    recipient: str | None = None  # warning / non-delivery: which recipient is silent; alerts: whose receipt
    # acceptance: "number" and "code" the gateway assigned; mic-alert: "recipient_name", "stored_mic", "receipt_mic"
    # and "receipt_sha256" (where the unconfirming receipt is kept); receipt-alert: "recipient_name",
    # "receipt_sha256" and "recipients" (the OrganIds the document was sent to)
    details: dict[str, str] = field(default_factory=dict)
    cc: tuple[str, ...] = ()  # alerts: the operator's records office, so that the alert reaches more than a clerk

    def key(self) -> str:
        """What makes a notice unique: one of each kind per submission (and recipient)."""
        return f"{self.kind.value}:{self.submission}:{self.document_id}:{self.recipient or ''}"


@cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("gateway.receipts", "templates"),
        autoescape=False,  # noqa: S701 (plain text, never HTML)
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


def _b64(content_type: str, data: bytes) -> bytes:
    encoded = base64.b64encode(data)
    lines = b"\r\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
    return f"Content-Type: {content_type}\r\nContent-Transfer-Encoding: base64\r\n\r\n".encode() + lines + b"\r\n"


def _json(notice: Notice) -> bytes:
    data = asdict(notice)
    data["kind"] = notice.kind.value
    data["at"] = notice.at.isoformat(timespec="milliseconds")
    data["effective_at"] = notice.effective_at.isoformat(timespec="milliseconds")
    data["problems"] = list(notice.problems)
    data["cc"] = list(notice.cc)
    return json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")


def build_notice(notice: Notice, signer: Signer, from_mailbox: str, domain: str) -> bytes:
    """The complete signed notice message (unsigned by DKIM: it stays on this gateway)."""
    title_vi, title_en, explanation = _TITLES[notice.kind]
    why = reason(notice.reason_code) if notice.reason_code else None
    text = (
        _templates()
        .get_template("notice.txt.j2")
        .render(
            title_vi=title_vi,
            title_en=title_en,
            explanation=explanation,
            document_id=notice.document_id,
            submission=notice.submission,
            reason_code=notice.reason_code,
            reason_vi=why.vi if why else "",
            reason_en=why.en if why else "",
            problems=notice.problems,
            recipient=notice.recipient,
            details=notice.details,
            at_local=notice.at.astimezone(notice.effective_at.tzinfo).strftime("%d/%m/%Y %H:%M:%S"),
            effective_local=notice.effective_at.strftime("%d/%m/%Y %H:%M:%S"),
        )
        .replace("\n", "\r\n")
        .encode("utf-8")
    )
    parts = [_b64('text/plain; charset="utf-8"', text), _b64("application/json", _json(notice))]
    boundary = "=_lt_notice_" + hashlib.sha256(b"".join(parts)).hexdigest()[:32]
    body = b"".join(f"--{boundary}\r\n".encode() + part for part in parts) + f"--{boundary}--\r\n".encode()
    entity = f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'.encode() + body
    signed = sign_entity(entity, signer.certificate, signer.key, signer.chain)
    message_id = hashlib.sha256(f"lienthong:notice:{notice.key()}".encode()).hexdigest()[:40]
    headers = [
        ("From", str(Address.parse(from_mailbox))),
        ("To", str(Address.parse(notice.to))),
        *([("Cc", ", ".join(str(Address.parse(cc)) for cc in notice.cc))] if notice.cc else []),
        *([("Importance", "high")] if notice.kind in ALERTS else []),
        ("Date", format_datetime(notice.at.astimezone(notice.effective_at.tzinfo))),  # when it was issued
        ("Message-ID", f"<{message_id}@{domain}>"),
        ("Subject", Header(f"{title_vi}: {notice.document_id or notice.submission}", "utf-8").encode(linesep="\r\n")),
        ("MIME-Version", "1.0"),
        ("Lienthong-Kind", "notice"),
        ("Lienthong-Notice", notice.kind.value),
        ("Lienthong-Document-Id", Header(notice.document_id or "-", "utf-8").encode(linesep="\r\n")),
        ("Content-Type", signed.content_type),
    ]
    return "".join(f"{k}: {v}\r\n" for k, v in headers).encode("utf-8") + b"\r\n" + signed.body


def read_notice(raw: bytes) -> dict[str, object]:
    """The notice's JSON part (its signature is verified separately with ``certs.verify.Verifier``)."""
    top = BytesParser(policy=policy.compat32).parsebytes(raw.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n")
    if str(top.get("Lienthong-Kind", "")).strip() != "notice":
        raise NoticeError("not a notice: the top-level Lienthong-Kind header is not 'notice'")
    inner = BytesParser(policy=policy.compat32).parsebytes(split_signed(raw).content)
    for part in inner.walk():
        if part.get_content_type() == "application/json":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                data: dict[str, object] = json.loads(payload)
                return data
    raise NoticeError("notice has no application/json part")


def problem_lines(problems: Sequence[tuple[str, str | None]]) -> tuple[str, ...]:
    return tuple(f"[{code}] {field}" if field else f"[{code}]" for code, field in problems)
