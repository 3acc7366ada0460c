"""Build -> parse round trips over generated metadata (Vietnamese included), and determinism of the bytes."""

from __future__ import annotations

import hashlib
import unicodedata
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from gateway.envelope.build import build_document, build_status, subject_line
from gateway.envelope.model import (
    VIETNAM,
    Attachment,
    Bussiness,
    BussinessDocumentInfo,
    Code,
    DocumentHeader,
    DocumentType,
    Organization,
    OtherInfo,
    PromulgationInfo,
    Receiver,
    ReplacementInfo,
    ResponseFor,
    SignerInfo,
    StaffInfo,
    StatusHeader,
    TraceHeader,
    TraceHeaderList,
)
from gateway.envelope.parse import parse
from gateway.envelope.validate import validate
from tests.fixtures.envelope import AGENCIES, NOW, RECIPIENT_IDS, SENDER_ID, make_header
from tests.pdfs import make_ascii_pdf

VIETNAMESE = "ăâđêôơưĂÂĐÊÔƠƯàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ"
CHARS = st.one_of(
    st.sampled_from(VIETNAMESE),
    st.characters(blacklist_categories=("Cs", "Cc", "Cn", "Co")),
    st.sampled_from("\n\r\t &<>\"'"),
)
TEXT = st.text(CHARS, max_size=40)
SHORT = st.text(CHARS, max_size=12)
ORGAN_ID = st.text(st.sampled_from("0123456789.ABCDEFGHXYZ"), min_size=1, max_size=35)
MAILBOX = st.sampled_from(["vanthu@camau.gov.vn", "vanthu@stc.camau.gov.vn", "a.b-c@x1.example.vn"])
DATES = st.dates(min_value=datetime(1950, 1, 1).date(), max_value=datetime(2099, 12, 31).date())
STAMPS = st.datetimes(min_value=datetime(1950, 1, 1), max_value=datetime(2099, 12, 31)).map(
    lambda d: d.replace(microsecond=0, tzinfo=VIETNAM)
)
SMALL_INT = st.none() | st.integers(min_value=-5, max_value=999)


def _org(organ_id: st.SearchStrategy[str] = ORGAN_ID) -> st.SearchStrategy[Organization]:
    return st.builds(
        Organization, organ_id, SHORT, TEXT, SHORT, MAILBOX, SHORT, st.just(""), st.sampled_from(["", "camau.gov.vn"])
    )


HEADERS = st.builds(
    DocumentHeader,
    from_=_org(),
    to=st.lists(_org(), min_size=1, max_size=3).map(tuple),
    document_id=TEXT,
    code=st.builds(Code, SHORT, SHORT),
    promulgation_info=st.builds(PromulgationInfo, SHORT, st.none() | DATES),
    document_type=st.builds(DocumentType, SHORT, SHORT, SHORT),
    subject=TEXT,
    content=TEXT,
    signer_info=st.none() | st.builds(SignerInfo, SHORT, SHORT, SHORT),
    due_date=st.none() | DATES,
    other_info=st.none()
    | st.builds(
        OtherInfo, SMALL_INT, SHORT, SHORT, SMALL_INT, SMALL_INT, SHORT, st.lists(SHORT, max_size=2).map(tuple)
    ),
    response_for=st.lists(st.builds(ResponseFor, ORGAN_ID, SHORT, st.none() | DATES, TEXT), max_size=2).map(tuple),
    steering_type=SMALL_INT,
    to_places=st.lists(SHORT, max_size=3).map(tuple),
    classification=st.just(""),
)
TRACES = st.none() | st.builds(
    TraceHeaderList,
    st.lists(st.builds(TraceHeader, ORGAN_ID, STAMPS), max_size=2).map(tuple),
    st.none()
    | st.builds(
        Bussiness,
        TEXT,
        SMALL_INT,
        TEXT,
        SMALL_INT,
        st.none() | st.builds(StaffInfo, SHORT, SHORT, SHORT, SHORT),
        st.none()
        | st.builds(
            BussinessDocumentInfo,
            SHORT,
            SHORT,
            st.lists(st.builds(Receiver, ORGAN_ID, SHORT), max_size=2).map(tuple),
        ),
        st.lists(st.builds(ReplacementInfo, TEXT, st.lists(ORGAN_ID, max_size=2).map(tuple)), max_size=2).map(tuple),
    ),
)
FILES = st.lists(
    st.builds(
        Attachment,
        st.text(CHARS.filter(lambda c: c not in "\r\n\t"), min_size=1, max_size=80),
        st.sampled_from(["application/octet-stream", "text/plain", "image/png", "application/pdf"]),
        st.binary(max_size=300),
        SHORT,
    ),
    max_size=3,
)


@settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
)
@given(header=HEADERS, trace=TRACES, pdf=st.binary(max_size=500), files=FILES, sent=STAMPS)
def test_build_parse_round_trip(header, trace, pdf, files, sent):
    raw = build_document(header, pdf, files, trace=trace, sent_at=sent)
    assert raw == build_document(header, pdf, files, trace=trace, sent_at=sent), "building is deterministic"
    env = parse(raw)
    assert env.metadata is not None
    assert env.metadata.header == header
    got_trace = env.metadata.trace
    assert got_trace is not None
    expected = trace.trace_headers if trace else ()
    assert got_trace.trace_headers[: len(expected)] == expected
    if not any(th.organ_id == header.from_.organ_id for th in expected):
        assert got_trace.trace_headers[-1] == TraceHeader(header.from_.organ_id, sent)
    assert got_trace.bussiness == (trace.bussiness if trace else None)
    assert [p.data for p in env.parts[2:]] == [pdf, *(f.data for f in files)]
    assert [e.file_name for e in env.metadata.manifest[2:]] == [f.file_name for f in files]
    for part, entry in zip([env.parts[0], *env.parts[2:]], env.metadata.manifest, strict=True):
        assert (part.content_id, part.size, part.sha256) == (entry.content_id, entry.size, entry.sha256)
    assert env.to_addrs == tuple(t.email for t in header.to)
    assert env.subject == subject_line(header)
    if header.document_id == " ".join(header.document_id.split()):
        assert env.document_id_header == header.document_id
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    assert b"\n" not in raw.replace(b"\r\n", b""), "CRLF everywhere"


WORDS = ["Về", "việc", "ban", "hành", "quy", "chế", "làm", "việc", "của", "Sở", "Tài", "chính", "tỉnh", "Cà", "Mau"]
PHRASE = st.lists(st.sampled_from(WORDS), min_size=1, max_size=12).map(" ".join)


@settings(max_examples=100, deadline=None)
@given(subject=PHRASE, number=st.integers(1, 9999), days_before=st.integers(0, 3000), priority=st.integers(0, 4))
def test_realistic_documents_validate(subject, number, days_before, priority):
    issued = NOW.date() - timedelta(days=days_before)
    header = make_header(code=Code(f"{number:02d}", "QĐ-UBND"), issued=issued, subject=subject)
    header = make_header(
        code=header.code, issued=issued, subject=subject, other_info=OtherInfo(priority=priority, page_amount=1)
    )
    raw = build_document(header, make_ascii_pdf(), sent_at=NOW)
    from gateway.envelope.directory import DictDirectory

    validate(parse(raw), now=NOW, directory=DictDirectory(AGENCIES))


def test_status_round_trip():
    status = StatusHeader(
        from_=Organization(RECIPIENT_IDS[0], organ_name="Sở Tài chính", email="vanthu@stc.camau.gov.vn"),
        response_for=ResponseFor(SENDER_ID, "15/QĐ-UBND", NOW.date(), make_header().document_id),
        status_code="03",
        timestamp=NOW,
        staff_info=StaffInfo("Văn phòng", "Lê Văn Cường", "cuong@stc.camau.gov.vn", ""),
        description="Đã vào sổ văn bản đến số 120",
    )
    raw = build_status(status, ["vanthu@camau.gov.vn"])
    env = parse(raw)
    assert env.kind == "status"
    assert env.metadata is not None
    assert env.metadata.header == status
    assert env.to_addrs == ("vanthu@camau.gov.vn",)
    validate(env, now=NOW)


def test_message_id_and_content_ids_derive_from_document_id(valid_envelope):
    env = parse(valid_envelope)
    digest = hashlib.sha256(f"lienthong:document:{make_header().document_id}".encode()).hexdigest()[:40]
    assert env.message_id == f"<{digest}@camau.gov.vn>"
    assert env.parts[2].content_id.startswith("3.")


@pytest.mark.parametrize("line_ending", [b"\n", b"\r\n"])
def test_digests_do_not_depend_on_line_endings_of_text(line_ending):
    data = line_ending.join([b"dong 1", b"dong 2", b""])
    raw = build_document(make_header(), make_ascii_pdf(), [Attachment("ghi-chu.txt", "text/plain", data)], sent_at=NOW)
    env = parse(raw)
    assert env.parts[3].sha256 == hashlib.sha256(b"dong 1\r\ndong 2\r\n").hexdigest()
    validate(env, now=NOW)


def test_nfd_text_is_parsed_as_sent_and_validated_to_nfc():
    decomposed = unicodedata.normalize("NFD", "Về việc ban hành quy chế")
    raw = build_document(make_header(subject=decomposed), make_ascii_pdf(), sent_at=NOW)
    env = parse(raw)
    assert env.metadata is not None
    assert env.metadata.header.subject == decomposed  # parse keeps what was sent
    valid = validate(env, now=NOW)
    assert valid.metadata is not None
    assert valid.metadata.header.subject == "Về việc ban hành quy chế"
    assert ("Subject", "NFD") in {(c.field, c.encoding) for c in valid.conversions}
    assert valid.parts == env.parts
    assert valid.raw_sha256 == hashlib.sha256(raw).hexdigest()
