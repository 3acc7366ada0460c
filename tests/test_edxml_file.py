"""The all-in-one .edxml file: export -> import round trips without loss; foreign files import; bad ones refuse."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from gateway.envelope.build import build_document
from gateway.envelope.edxml_file import export_edxml, import_edxml
from gateway.envelope.errors import EnvelopeError
from gateway.envelope.model import Attachment
from gateway.envelope.parse import parse
from gateway.envelope.validate import validate
from tests.fixtures.envelope import NOW, build_valid, make_header, make_trace
from tests.test_envelope_roundtrip import FILES, HEADERS, STAMPS, TRACES


def test_export_import_gives_back_the_same_message(decision_pdf, directory):
    files = [Attachment("Phụ lục 1.xlsx", "application/vnd.ms-excel", bytes(range(256)) * 3, "Bảng số liệu")]
    raw = build_valid(pdf=decision_pdf, attachments=files, trace=make_trace())
    exported = export_edxml(parse(raw))
    assert b"<edXML:AttachmentEncoded>" in exported
    assert b"lt:" not in exported
    assert b"urn:lienthong" not in exported
    assert import_edxml(exported) == raw
    validate(parse(import_edxml(exported)), now=NOW, directory=directory)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow], phases=[Phase.generate, Phase.shrink]
)
@given(header=HEADERS, trace=TRACES, files=FILES, sent=STAMPS)
def test_export_import_round_trip(header, trace, files, sent):
    raw = build_document(header, b"%PDF-1.7 pretend", files, trace=trace, sent_at=sent)
    back = parse(import_edxml(export_edxml(parse(raw))))
    original = parse(raw)
    assert back.metadata == original.metadata
    assert [p.data for p in back.parts] == [p.data for p in original.parts]


def test_foreign_file_without_prefix_with_author_and_vendor_extensions():
    xml = """<?xml version="1.0" encoding="UTF-8"?>
<edXMLEnvelope xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">
 <edXMLHeader><MessageHeader>
  <From><OrganId>000.00.00.H12</OrganId><OrganName>UBND tỉnh Cà Mau</OrganName><Email>vanthu@camau.gov.vn</Email></From>
  <To><OrganId>000.00.01.H12</OrganId><Email>vanthu@stc.camau.gov.vn</Email></To>
  <DocumentId>000.00.00.H12,2026/03/02,15/QĐ-UBND</DocumentId>
  <Code><CodeNumber>15</CodeNumber><CodeNotation>QĐ-UBND</CodeNotation></Code>
  <PromulgationInfo><Place>Cà Mau</Place><PromulgationDate>02/03/2026</PromulgationDate></PromulgationInfo>
  <DocumentType><TypeName>Quyết định</TypeName></DocumentType>
  <Subject>Về việc ban hành quy chế</Subject>
  <Author><Competence>KT. CHỦ TỊCH</Competence><FullName>Nguyễn Văn An</FullName></Author>
  <ResponseForTask><Anything>ignored</Anything></ResponseForTask>
  <ApplicationType>vendor</ApplicationType>
 </MessageHeader>
 <TraceHeaderList><TraceHeader><OrganId>000.00.00.H12</OrganId><Timestamp>02/03/2026 09:30:00</Timestamp></TraceHeader>
 </TraceHeaderList></edXMLHeader>
 <edXMLBody><edXMLManifest><Reference><ContentId>cid:1</ContentId><ContentType>application/pdf</ContentType>
  <AttachmentName>qd15.pdf</AttachmentName></Reference></edXMLManifest>
  <AttachmentEncoded><Attachment><ContentId>cid:1</ContentId><Value>JVBERi0xLjcK</Value></Attachment></AttachmentEncoded>
 </edXMLBody>
</edXMLEnvelope>"""
    env = parse(import_edxml(xml.encode()))
    assert env.metadata is not None
    header = env.metadata.header
    assert header.signer_info is not None
    assert header.signer_info.full_name == "Nguyễn Văn An"
    assert header.promulgation_info.date.isoformat() == "2026-03-02"  # type: ignore[union-attr]
    assert env.parts[2].data == b"%PDF-1.7\n"
    assert env.date.isoformat() == "2026-03-02T09:30:00+07:00"


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda x: x.replace(b"<edXML:Value>", b"<edXML:Value>!!!"), "METADATA_XML"),
        (
            lambda x: x.replace(b"</edXML:AttachmentEncoded>", b"").replace(b"<edXML:AttachmentEncoded>", b""),
            "MANIFEST_PART_MISSING",
        ),
        (lambda x: b'<!DOCTYPE x [<!ENTITY a "aaaa">]>' + x.split(b"?>", 1)[1], "METADATA_XML"),
        (lambda x: x[: len(x) // 2], "METADATA_XML"),
    ],
)
def test_bad_files_are_refused_with_a_reason(valid_envelope, mutate, code):
    exported = export_edxml(parse(valid_envelope))
    with pytest.raises(EnvelopeError) as info:
        import_edxml(mutate(exported))
    if code:
        assert info.value.primary.code == code


def test_classified_document_is_not_exported():
    raw = build_document(make_header(classification="Mật"), b"%PDF-1.7", sent_at=NOW)
    with pytest.raises(EnvelopeError) as info:
        export_edxml(parse(raw))
    assert info.value.primary.code == "CLASSIFIED"
