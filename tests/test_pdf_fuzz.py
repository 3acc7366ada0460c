"""Random damage to real PDFs: inspection answers with an EnvelopeError or a result, never anything else."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.envelope.errors import EnvelopeError
from gateway.envelope.pdf import PdfLimits, inspect_pdf
from tests import pdfs

SEEDS = (pdfs.make_decision_pdf(), pdfs.make_ascii_pdf("Xin chao"), pdfs.make_many_pages_pdf(3))
LIMITS = PdfLimits(max_stream_bytes=8 << 20, max_pages=50)


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "cut", "insert", "digit"]))
        if action == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif action == "cut":
            del data[at : at + draw(st.integers(1, 64))]
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        else:  # numbers drive offsets, lengths and counts: the likeliest place for a crash
            data[at : at + 1] = str(draw(st.integers(0, 10**9))).encode()
        if not data:
            break
    return bytes(data)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged())
def test_damaged_pdfs_raise_only_envelope_errors(data: bytes) -> None:
    code = None
    try:
        info = inspect_pdf(data, LIMITS)
    except EnvelopeError as exc:
        code = exc.primary.code
    else:
        assert info.page_count >= 1
    assert code in {None, "PDF_UNREADABLE", "PDF_ENCRYPTED", "PDF_VERSION", "PDF_TOO_COMPLEX"}
