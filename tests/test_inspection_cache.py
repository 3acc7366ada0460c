"""The PDF inspection cache in front of the isolated inspector: one inspection per PDF, refusals never cached."""

from __future__ import annotations

import pytest

from gateway.envelope.errors import EnvelopeError
from gateway.envelope.pdf import PdfInfo, PdfLimits, inspect_pdf
from gateway.workers.services import CachedInspector
from tests.pdfs import make_ascii_pdf


def test_same_pdf_is_inspected_once_and_refusals_are_recomputed() -> None:
    calls: list[int] = []

    def counting(data: bytes, limits: PdfLimits | None) -> PdfInfo:
        calls.append(len(data))
        return inspect_pdf(data, limits)

    cached = CachedInspector(counting, size=2)
    pdf = make_ascii_pdf()
    first = cached(pdf, None)
    assert cached(pdf, None) == first
    assert len(calls) == 1
    assert cached(pdf, PdfLimits(max_pages=5)).page_count == first.page_count  # other limits: inspected again
    assert len(calls) == 2
    for _ in range(2):
        with pytest.raises(EnvelopeError):
            cached(b"%PDF-1.7 broken", None)
    assert len(calls) == 4  # the refusal was not remembered
    cached(make_ascii_pdf("other"), None)
    cached(pdf, None)  # evicted by the size limit of two: inspected again
    assert len(calls) == 6
