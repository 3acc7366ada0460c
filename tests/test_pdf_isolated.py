"""Inspection in a worker process: same answers, plus a hard timeout and a memory cap that kill the worker."""

from __future__ import annotations

import pytest

from gateway.envelope.errors import EnvelopeError
from gateway.envelope.pdf import PdfLimits, inspect_pdf, inspect_pdf_isolated
from tests import pdfs


def test_same_answer_as_in_process() -> None:
    data = pdfs.make_decision_pdf()
    assert inspect_pdf_isolated(data) == inspect_pdf(data)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (pdfs.make_pdf(["x"], encrypt_password="p"), "PDF_ENCRYPTED"),
        (pdfs.make_pdf(["x"], version="1.3"), "PDF_VERSION"),
        (pdfs.make_truncated_pdf(), "PDF_UNREADABLE"),
        (b"not a pdf", "PDF_UNREADABLE"),
    ],
    ids=["encrypted", "old", "truncated", "text"],
)
def test_errors_cross_the_process_boundary(data: bytes, code: str) -> None:
    with pytest.raises(EnvelopeError) as caught:
        inspect_pdf_isolated(data)
    assert caught.value.primary.code == code
    assert caught.value.primary.field == "pdf"


def test_timeout_kills_the_worker() -> None:
    # A PDF with many pages takes more than a millisecond to read: the limit, not the file, decides here.
    with pytest.raises(EnvelopeError) as caught:
        inspect_pdf_isolated(pdfs.make_many_pages_pdf(1500), PdfLimits(timeout_seconds=0.001))
    assert caught.value.primary.code == "PDF_TOO_COMPLEX"
    assert "longer than" in caught.value.primary.detail


def test_memory_cap_stops_a_bomb_that_passes_pypdf_limits() -> None:
    # pypdf may inflate 3 GB here, the worker may map 300 MB: the cap, not pypdf, must stop the 400 MB bomb ...
    limits = PdfLimits(max_stream_bytes=3 << 30, max_memory_bytes=300 << 20, timeout_seconds=60)
    with pytest.raises(EnvelopeError) as caught:
        inspect_pdf_isolated(pdfs.make_bomb_pdf(), limits)
    assert caught.value.primary.code == "PDF_TOO_COMPLEX"
    assert "memory" in caught.value.primary.detail
    # ... while an ordinary document fits in the same cap.
    assert inspect_pdf_isolated(pdfs.make_decision_pdf(), limits).page_count == 1
