"""Building envelopes: metadata + PDF + attachments -> the exact bytes of an RFC 5322 message.

``build_inner`` produces the multipart/mixed entity that the signing step wraps in multipart/signed; the outer headers
are produced separately (``outer_headers``) because they stay outside the signature. Both are pure functions of their
input (no clock, no random boundary), so building twice gives identical bytes and an export/import round trip gives
back the same message.
"""

from __future__ import annotations

import email.utils
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache

import jinja2

from gateway.addresses import Address
from gateway.envelope.edxml import fmt_date, write_metadata
from gateway.envelope.errors import EnvelopeError
from gateway.envelope.mime import (
    check_media_type,
    encode_header_value,
    filename_params,
    multipart,
    part_bytes,
    sha256_hex,
    text_digest_bytes,
)
from gateway.envelope.model import (
    VIETNAM,
    Attachment,
    DocumentHeader,
    Kind,
    ManifestEntry,
    Metadata,
    StatusHeader,
    TraceHeader,
    TraceHeaderList,
)
from gateway.errors import InputError

SUMMARY_NAME = "tom-tat.txt"
METADATA_NAME = "edxml-header.xml"
PRIORITY_NAMES = {0: "Thường", 1: "Khẩn", 2: "Thượng khẩn", 3: "Hỏa tốc", 4: "Hỏa tốc hẹn giờ"}
STATUS_NAMES = {
    "01": "Đã đến",
    "02": "Từ chối tiếp nhận",
    "03": "Đã tiếp nhận",
    "04": "Phân công",
    "05": "Đang xử lý",
    "06": "Hoàn thành",
    "13": "Lấy lại",
    "15": "Đồng ý lấy lại / cập nhật",
    "16": "Từ chối lấy lại / cập nhật",
}


@dataclass(frozen=True, slots=True)
class Built:
    metadata: Metadata  # with the manifest filled in
    inner: bytes  # the multipart/mixed entity, headers included: what gets signed


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def content_id(key: str, n: int) -> str:
    return f"{n}.{key_digest(key)[:24]}@lienthong"


@cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("gateway.envelope", "templates"),
        autoescape=False,  # noqa: S701 - plain text for mail clients, never HTML
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


def render_summary(meta: Metadata, file_names: Sequence[str]) -> bytes:
    h = meta.header
    text = (
        _templates()
        .get_template("summary.txt.j2")
        .render(
            kind=meta.kind.value,
            h=h,
            files=file_names,
            date=lambda d: fmt_date(d) or "",
            priority_name=(
                PRIORITY_NAMES.get(h.other_info.priority or 0, "")
                if isinstance(h, DocumentHeader) and h.other_info and h.other_info.priority
                else ""
            ),
            status_name=STATUS_NAMES.get(h.status_code, "") if isinstance(h, StatusHeader) else "",
        )
    )
    return text_digest_bytes(text.encode("utf-8"))


def with_sender_trace(header: DocumentHeader, trace: TraceHeaderList | None, sent_at: datetime) -> TraceHeaderList:
    trace = trace or TraceHeaderList()
    if any(th.organ_id == header.from_.organ_id for th in trace.trace_headers):
        return trace
    stamp = sent_at.astimezone(VIETNAM).replace(microsecond=0)
    return replace(trace, trace_headers=(*trace.trace_headers, TraceHeader(header.from_.organ_id, stamp)))


def sent_time(meta: Metadata) -> datetime:
    """The Date of the message: the sender's last trace timestamp (document) or the status timestamp."""
    h = meta.header
    if isinstance(h, StatusHeader):
        if h.timestamp is None:
            raise EnvelopeError.of("FIELD_MISSING", "Timestamp")
        return h.timestamp
    stamps = [
        th.timestamp for th in (meta.trace.trace_headers if meta.trace else ()) if th.organ_id == h.from_.organ_id
    ]
    if not stamps:
        raise EnvelopeError.of("FIELD_MISSING", "TraceHeader", "no trace header of the sender")
    return stamps[-1]


def build_inner(meta: Metadata, files: Sequence[Attachment]) -> Built:
    """The multipart/mixed entity for ``meta`` (its manifest is ignored and recomputed) and ``files`` in order."""
    key = meta.key
    summary = render_summary(meta, [f.file_name for f in files])
    manifest = [ManifestEntry(content_id(key, 1), "text/plain", SUMMARY_NAME, len(summary), sha256_hex(summary))]
    encoded_files = []
    for n, f in enumerate(files, start=3):
        media_type = check_media_type(f.media_type, f"attachment {f.file_name!r}")
        if not f.file_name or len(f.file_name) > 255:
            raise EnvelopeError.of("FIELD_INVALID", "AttachmentName", "a file name of 1 to 255 characters is needed")
        digest_bytes = text_digest_bytes(f.data) if media_type.startswith("text/") else f.data
        cid = content_id(key, n)
        manifest.append(
            ManifestEntry(cid, media_type, f.file_name, len(digest_bytes), sha256_hex(digest_bytes), f.description)
        )
        encoded_files.append(part_bytes(media_type, cid, f"attachment;\r\n {filename_params(f.file_name)}", f.data))
    meta = replace(meta, manifest=tuple(manifest))
    parts = [
        part_bytes('text/plain; charset="utf-8"', content_id(key, 1), "inline", summary),
        part_bytes('application/xml; charset="utf-8"', content_id(key, 2), "inline", write_metadata(meta)),
        *encoded_files,
    ]
    return Built(meta, multipart(parts))


def subject_line(header: DocumentHeader) -> str:
    """The Subject header: "{number}/{notation}: {summary}" on one line (whitespace runs become one space)."""
    return " ".join(f"{header.code}: {header.subject}".split())


def _mailbox(value: str, field: str) -> str:
    try:
        return str(Address.parse(value))
    except InputError:
        raise EnvelopeError.of("FIELD_INVALID", field, f"{value!r} is not a records-office mailbox") from None


def outer_headers(meta: Metadata, to_mailboxes: Sequence[str] | None = None) -> bytes:
    """The top-level headers (everything outside the signature), ending before the inner entity."""
    h = meta.header
    sender = _mailbox(h.from_.email, "From/Email")
    if isinstance(h, DocumentHeader):
        recipients = [_mailbox(t.email, f"To[{i}]/Email") for i, t in enumerate(h.to)]
        subject = subject_line(h)
        document_id = h.document_id
    else:
        recipients = [_mailbox(m, "To") for m in (to_mailboxes or ())]
        subject = f"Trạng thái {h.status_code} – {h.response_for.code or h.response_for.document_id}"
        document_id = h.response_for.document_id
    if not recipients:
        raise EnvelopeError.of("FIELD_MISSING", "To", "at least one recipient mailbox is needed")
    domain = sender.rpartition("@")[2]
    message_id = f"<{key_digest(f'lienthong:{meta.kind.value}:{meta.key}')[:40]}@{domain}>"
    lines = [
        f"From: {sender}",
        "To: " + ",\r\n ".join(recipients),
        f"Date: {email.utils.format_datetime(sent_time(meta).astimezone(VIETNAM))}",
        f"Message-ID: {message_id}",
        f"Subject: {encode_header_value('Subject', subject)}",
        "MIME-Version: 1.0",
        f"Lienthong-Kind: {meta.kind.value}",
        f"Lienthong-Document-Id: {encode_header_value('Lienthong-Document-Id', document_id)}",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def build_from(
    meta: Metadata,
    files: Sequence[Attachment],
    *,
    sent_at: datetime | None = None,
    to_mailboxes: Sequence[str] | None = None,
) -> bytes:
    """A complete unsigned envelope from metadata (its manifest is recomputed) and the files in part order."""
    if isinstance(meta.header, DocumentHeader):
        meta = replace(meta, trace=with_sender_trace(meta.header, meta.trace, sent_at or datetime.now(VIETNAM)))
    built = build_inner(meta, files)
    return outer_headers(built.metadata, to_mailboxes) + built.inner


def build_document(
    header: DocumentHeader,
    pdf: bytes,
    attachments: Sequence[Attachment] = (),
    *,
    trace: TraceHeaderList | None = None,
    sent_at: datetime | None = None,
    pdf_name: str | None = None,
) -> bytes:
    """A complete unsigned document envelope; ``sent_at`` (default now) is used only if the trace lacks the sender."""
    name = pdf_name or f"{header.code.number}-{header.code.notation}.pdf".replace("/", "-")
    files = [Attachment(name, "application/pdf", pdf), *attachments]
    return build_from(Metadata(Kind.DOCUMENT, header, trace, ()), files, sent_at=sent_at)


def build_status(header: StatusHeader, to_mailboxes: Sequence[str], *, trace: TraceHeaderList | None = None) -> bytes:
    """A complete unsigned status package addressed to the original sender's records office."""
    return build_from(Metadata(Kind.STATUS, header, trace, ()), [], to_mailboxes=to_mailboxes)
