"""The hostile corpus: each case is a message (or a way to make one) and the reason code it must yield.

Built in code rather than stored as files, so a 25 MB bomb costs nothing in the repository; ``python -m
tests.hostile DIR`` writes every case as ``<name>.<CODE>.eml`` for testing another implementation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from gateway.envelope.build import build_inner, build_status, outer_headers, with_sender_trace
from gateway.envelope.mime import multipart, part_bytes
from gateway.envelope.model import (
    Attachment,
    DocumentHeader,
    Kind,
    Metadata,
    Organization,
    OtherInfo,
    ResponseFor,
    StatusHeader,
)
from tests.fixtures.envelope import RECIPIENT_IDS, SENDER_ID, SENT_AT, build_valid, make_header, make_trace
from tests.pdfs import (
    make_ascii_pdf,
    make_bomb_pdf,
    make_garbage_pdf,
    make_many_pages_pdf,
    make_pdf,
    make_truncated_pdf,
    set_version,
)

TOP = (
    b"From: vanthu@camau.gov.vn\r\nTo: vanthu@stc.camau.gov.vn\r\nDate: Mon, 02 Mar 2026 09:30:00 +0700\r\n"
    b"Message-ID: <x@camau.gov.vn>\r\nSubject: test\r\nMIME-Version: 1.0\r\nLienthong-Kind: document\r\n"
)


@dataclass(frozen=True)
class Case:
    name: str
    code: str | None  # None: the message is valid (tolerated variations)
    make: Callable[[], bytes]


def _valid() -> bytes:
    return build_valid(trace=make_trace())


def _replace(old: bytes, new: bytes, count: int = 1) -> Callable[[], bytes]:
    def make() -> bytes:
        raw = _valid()
        assert old in raw, old
        return raw.replace(old, new, count)

    return make


def _files(pdf: bytes | None = None) -> list[Attachment]:
    return [
        Attachment("qd.pdf", "application/pdf", pdf if pdf is not None else make_ascii_pdf()),
        Attachment("phu-luc.txt", "text/plain", "Phụ lục\r\n".encode()),
    ]


def split_parts(inner: bytes) -> list[bytes]:
    """The encoded parts of an inner entity built by ``build_inner`` (headers and base64 body each)."""
    boundary = inner.split(b'boundary="', 1)[1].split(b'"', 1)[0]
    body = inner.split(b"\r\n\r\n", 1)[1]
    pieces = body.split(b"--" + boundary + b"\r\n")[1:]
    pieces[-1] = pieces[-1].removesuffix(b"--" + boundary + b"--\r\n")
    return pieces


def _assemble(files: list[Attachment], parts_from: list[Attachment], order: list[int] | None = None) -> bytes:
    """An envelope whose manifest describes ``files`` but whose parts carry ``parts_from``."""
    header = make_header()
    meta = Metadata(Kind.DOCUMENT, header, with_sender_trace(header, make_trace(), SENT_AT), ())
    built = build_inner(meta, files)
    parts = split_parts(built.inner)[:2]
    entries = built.metadata.manifest[1:]
    for i, f in enumerate(parts_from):
        cid = entries[i].content_id if i < len(entries) else f"{i + 3}.extra@lienthong"
        parts.append(part_bytes(f.media_type, cid, "attachment", f.data))
    if order:
        parts = [parts[i] for i in order]
    return outer_headers(built.metadata) + multipart(parts)


def _bad_base64() -> bytes:
    raw = _assemble(_files(), _files())
    pdf_part = split_parts(raw[raw.index(b"Content-Type: multipart/mixed") :])[2]
    headers = pdf_part.split(b"\r\n\r\n", 1)[0]
    return raw.replace(pdf_part, headers + b"\r\n\r\nQQ\r\n")


def _unknown_recipient() -> DocumentHeader:
    header = make_header()
    return replace(header, to=(*header.to, Organization("999.99.99.Z99", organ_name="Không có", email="x@y.gov.vn")))


def _duplicate_recipient() -> DocumentHeader:
    header = make_header()
    return replace(header, to=(*header.to, header.to[0]))


def _status(code: str) -> bytes:
    status = StatusHeader(
        Organization(RECIPIENT_IDS[0], organ_name="Sở Tài chính", email="vanthu@stc.camau.gov.vn"),
        ResponseFor(SENDER_ID, "15/QĐ-UBND", SENT_AT.date(), make_header().document_id),
        code,
        SENT_AT,
    )
    return build_status(status, ["vanthu@camau.gov.vn"])


def _suspended_sender() -> DocumentHeader:
    return make_header(from_=Organization("000.00.09.H12", organ_name="Sở cũ", email="vanthu@old.camau.gov.vn"))


def _with_metadata(xml: bytes) -> Callable[[], bytes]:
    def make() -> bytes:
        summary = part_bytes('text/plain; charset="utf-8"', "1.x@lienthong", "inline", b"x")
        metadata = part_bytes("application/xml", "2.x@lienthong", "inline", xml)
        pdf = part_bytes("application/pdf", "3.x@lienthong", "attachment", make_ascii_pdf())
        return TOP + b"Lienthong-Document-Id: x\r\n" + multipart([summary, metadata, pdf])

    return make


def _nested(depth: int) -> bytes:
    body = b"Content-Type: text/plain\r\n\r\nx\r\n"
    for level in range(depth):
        b = f"b{level}".encode()
        body = (
            b'Content-Type: multipart/mixed; boundary="'
            + b
            + b'"\r\n\r\n--'
            + b
            + b"\r\n"
            + body
            + b"--"
            + b
            + b"--\r\n"
        )
    return TOP + body


def _many_parts(n: int) -> bytes:
    part = b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n"
    return TOP + b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n' + part * n + b"--b--\r\n"


def _doc(pdf: bytes | None = None, **overrides: object) -> Callable[[], bytes]:
    return lambda: build_valid(make_header(**overrides), pdf=pdf)


ENTITY_BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><edXMLEnvelope>&lol3;</edXMLEnvelope>'
)
XXE = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><edXMLEnvelope>&e;</edXMLEnvelope>'
BAD_DATE = (
    b'<edXMLEnvelope xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016"><edXMLHeader><MessageHeader>'
    b"<PromulgationInfo><PromulgationDate>2026/02/30</PromulgationDate></PromulgationInfo>"
    b"</MessageHeader></edXMLHeader></edXMLEnvelope>"
)
SECRET = (
    b'<edXMLEnvelope xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016"><edXMLHeader><MessageHeader>'
    b"<Subject>K\xe1\xba\xbf ho\xe1\xba\xa1ch</Subject><OtherInfo><Secret>M\xe1\xba\xadt</Secret></OtherInfo>"
    b"</MessageHeader></edXMLHeader></edXMLEnvelope>"
)
TCVN3_SUBJECT = "VÒ viÖc tæ chøc héi nghÞ tæng kÕt c«ng t¸c n¨m 2025"

CASES: tuple[Case, ...] = (
    # -- tolerated: these are valid ---------------------------------------------------------------------------
    Case("valid", None, _valid),
    Case("bare_lf_everywhere", None, lambda: _valid().replace(b"\r\n", b"\n")),
    # -- malformed MIME -----------------------------------------------------------------------------------------
    Case("no_boundary", "MIME_MALFORMED", lambda: TOP + b"Content-Type: multipart/mixed\r\n\r\n--x\r\n\r\n--x--\r\n"),
    Case("truncated", "MIME_MALFORMED", lambda: _valid()[: len(_valid()) * 2 // 3]),
    Case("bad_base64", "MIME_MALFORMED", lambda: _bad_base64()),
    Case(
        "unknown_encoding",
        "MIME_MALFORMED",
        _replace(b"Content-Transfer-Encoding: base64", b"Content-Transfer-Encoding: x-uuencode"),
    ),
    Case("not_multipart", "ENVELOPE_STRUCTURE", lambda: TOP + b"Content-Type: text/plain\r\n\r\nhello\r\n"),
    Case("metadata_first", "ENVELOPE_STRUCTURE", lambda: _assemble(_files(), _files(), [1, 0, 2, 3])),
    Case("multipart_inside", "ENVELOPE_STRUCTURE", lambda: _nested(3)),
    # -- bombs ------------------------------------------------------------------------------------------------
    Case("deep_nesting", "MIME_TOO_COMPLEX", lambda: _nested(50)),
    Case("thousands_of_parts", "MIME_TOO_COMPLEX", lambda: _many_parts(5000)),
    Case("huge_header", "MIME_TOO_COMPLEX", lambda: TOP + b"X-Junk: " + b"a\r\n " * 30000 + b"a\r\n" + _valid()),
    Case("many_headers", "MIME_TOO_COMPLEX", lambda: b"X-A: b\r\n" * 1000 + _valid()),
    Case("long_line", "MIME_TOO_COMPLEX", lambda: b"X-Long: " + b"a" * 5000 + b"\r\n" + _valid()),
    Case("too_big", "MESSAGE_TOO_BIG", lambda: _valid() + (b"x" * 998 + b"\r\n") * 26_500),
    # -- top headers --------------------------------------------------------------------------------------------
    Case("missing_from", "HEADER_INVALID", _replace(b"From: vanthu@camau.gov.vn\r\n", b"")),
    Case(
        "two_dates",
        "HEADER_INVALID",
        _replace(b"MIME-Version: 1.0\r\n", b"MIME-Version: 1.0\r\nDate: Tue, 03 Mar 2026 09:30:00 +0700\r\n"),
    ),
    Case("unknown_kind", "HEADER_INVALID", _replace(b"Lienthong-Kind: document", b"Lienthong-Kind: invoice")),
    Case("kind_lies", "HEADER_INVALID", _replace(b"Lienthong-Kind: document", b"Lienthong-Kind: status")),
    Case(
        "nul_in_header", "HEADER_INVALID", _replace(b"MIME-Version: 1.0\r\n", b"MIME-Version: 1.0\r\nX-Nul: a\x00b\r\n")
    ),
    Case("from_not_sender", "HEADER_INVALID", _replace(b"From: vanthu@camau.gov.vn", b"From: other@camau.gov.vn")),
    # -- manifest -----------------------------------------------------------------------------------------------
    Case(
        "wrong_digest",
        "MANIFEST_DIGEST_MISMATCH",
        lambda: _assemble(_files(), [_files()[0], Attachment("phu-luc.txt", "text/plain", b"changed")]),
    ),
    Case("missing_part", "MANIFEST_PART_MISSING", lambda: _assemble(_files(), _files()[:1])),
    Case(
        "extra_part",
        "MANIFEST_PART_EXTRA",
        lambda: _assemble(_files(), [*_files(), Attachment("x.bin", "application/octet-stream", b"x")]),
    ),
    # -- metadata XML -------------------------------------------------------------------------------------------
    Case("bad_xml", "METADATA_XML", _with_metadata(b"<edXMLEnvelope><unclosed>")),
    Case("entity_bomb", "METADATA_XML", _with_metadata(ENTITY_BOMB)),
    Case("xxe", "METADATA_XML", _with_metadata(XXE)),
    Case("wrong_root", "METADATA_XML", _with_metadata(b"<html/>")),
    Case("bad_date", "FIELD_INVALID", _with_metadata(BAD_DATE)),
    # -- metadata rules -----------------------------------------------------------------------------------------
    Case(
        "future_issue_date",
        "ISSUE_DATE_FUTURE",
        lambda: build_valid(make_header(issued=SENT_AT.date().replace(year=2027))),
    ),
    Case("document_id_mismatch", "DOCUMENT_ID_MISMATCH", _doc(document_id="000.00.00.H12,2026/03/02,16/QĐ-UBND")),
    Case("unknown_recipient", "RECIPIENT_UNKNOWN", lambda: build_valid(_unknown_recipient())),
    Case("suspended_sender", "SENDER_UNKNOWN", lambda: build_valid(_suspended_sender())),
    Case("missing_subject", "FIELD_MISSING", _doc(subject="")),
    Case("subject_too_long", "FIELD_TOO_LONG", _doc(subject="Về việc " * 80)),
    Case("priority_out_of_range", "FIELD_INVALID", _doc(other_info=OtherInfo(priority=7, page_amount=1))),
    Case("duplicate_recipient", "FIELD_INVALID", lambda: build_valid(_duplicate_recipient())),
    Case("status_code_unknown", "FIELD_INVALID", lambda: _status("99")),
    Case("legacy_tcvn3_subject", "TEXT_NOT_UNICODE", _doc(subject=TCVN3_SUBJECT)),
    # -- policy -------------------------------------------------------------------------------------------------
    Case("classified_field", "CLASSIFIED", _doc(classification="Tối mật")),
    Case("classified_secret_element", "CLASSIFIED", _with_metadata(SECRET)),
    Case("classified_subject", "CLASSIFIED", _doc(subject="MẬT - Về việc triển khai kế hoạch")),
    Case("denunciation_subject", "DENUNCIATION", _doc(subject="Đơn tố cáo ông Nguyễn Văn B")),
    Case(
        "classified_first_page",
        "CLASSIFIED",
        lambda: build_valid(pdf=make_pdf([["TỐI MẬT", "Số: 15/QĐ-UBND", "QUYẾT ĐỊNH"]])),
    ),
    # -- the main PDF -------------------------------------------------------------------------------------------
    Case("pdf_missing", "PDF_MISSING", lambda: _assemble(_files()[1:], _files()[1:])),
    Case("pdf_encrypted", "PDF_ENCRYPTED", lambda: build_valid(pdf=make_pdf([["Hello"]], encrypt_password="x"))),
    Case("pdf_version_1_3", "PDF_VERSION", lambda: build_valid(pdf=set_version(make_ascii_pdf(), "1.3"))),
    Case("pdf_garbage", "PDF_UNREADABLE", lambda: build_valid(pdf=make_garbage_pdf())),
    Case("pdf_truncated", "PDF_UNREADABLE", lambda: build_valid(pdf=make_truncated_pdf())),
    Case("pdf_bomb", "PDF_TOO_COMPLEX", lambda: build_valid(pdf=make_bomb_pdf(200))),
    Case("pdf_page_count", "PDF_PAGE_COUNT", lambda: build_valid(pdf=make_many_pages_pdf(3))),
)
