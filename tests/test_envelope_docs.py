"""docs/envelope.md stays true: its examples are exactly what the builder produces, and they validate."""

from __future__ import annotations

import re
from pathlib import Path

from gateway.envelope.build import build_status
from gateway.envelope.model import Organization, ResponseFor, StaffInfo, StatusHeader
from gateway.envelope.parse import parse
from gateway.envelope.validate import validate
from tests.fixtures.envelope import ISSUED, NOW, RECIPIENT_IDS, SENDER_ID, build_valid, make_header, make_trace
from tests.pdfs import make_ascii_pdf

DOC = Path(__file__).resolve().parent.parent / "docs" / "envelope.md"


def _first_block_after(heading: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index(heading) :]
    match = re.search(r"```\n(.*?)```", section, re.DOTALL)
    assert match is not None
    return match.group(1)


def test_document_example_is_what_the_builder_writes(directory):
    raw = build_valid(
        make_header(to_places=("Như Điều 3;",), content=""), make_ascii_pdf("Quyet dinh 15"), trace=make_trace()
    )
    assert _first_block_after("### 6.1") == raw.decode("ascii").replace("\r\n", "\n")
    validate(parse(raw), now=NOW, directory=directory)


def test_status_example_is_what_the_builder_writes(directory):
    status = StatusHeader(
        from_=Organization(RECIPIENT_IDS[0], organ_name="Sở Tài chính tỉnh Cà Mau", email="vanthu@stc.camau.gov.vn"),
        response_for=ResponseFor(SENDER_ID, "15/QĐ-UBND", ISSUED, make_header().document_id),
        status_code="03",
        timestamp=NOW,
        staff_info=StaffInfo("Văn phòng", "Lê Văn Cường", "cuong@stc.camau.gov.vn", ""),
        description="Đã vào sổ văn bản đến số 120",
    )
    raw = build_status(status, ["vanthu@camau.gov.vn"])
    assert _first_block_after("### 6.2") == raw.decode("ascii").replace("\r\n", "\n")
    validate(parse(raw), now=NOW, directory=directory)
