"""The main document's PDF checks, on real files: readable, hostile, encrypted, old, bombs."""

from __future__ import annotations

import pytest

from gateway.envelope.errors import EnvelopeError
from gateway.envelope.pdf import PdfLimits, inspect_pdf
from tests import pdfs


def _code(data: bytes, limits: PdfLimits | None = None) -> str:
    with pytest.raises(EnvelopeError) as caught:
        inspect_pdf(data, limits)
    assert caught.value.primary.field == "pdf"
    return caught.value.primary.code


def test_reads_a_vietnamese_decision() -> None:
    info = inspect_pdf(pdfs.make_decision_pdf())
    assert info.version == "1.7"
    assert info.page_count == 1
    assert not info.encrypted
    assert not info.has_signatures
    assert info.object_count > 5
    lines = info.first_page_text.splitlines()
    assert "Số: 15/QĐ-UBND" in lines
    assert "Cà Mau, ngày 02 tháng 3 năm 2026" in lines
    assert "Về việc ban hành quy chế làm việc của Ủy ban nhân dân tỉnh" in lines


def test_only_the_first_page_text_is_returned() -> None:
    info = inspect_pdf(pdfs.make_pdf(["Trang một", "Trang hai", "Trang ba"], version="1.4"))
    assert info.page_count == 3
    assert info.version == "1.4"
    assert info.first_page_text == "Trang một"


def test_signature_field_is_reported() -> None:
    assert inspect_pdf(pdfs.make_pdf(["Đã ký số"], signature_field=True)).has_signatures


@pytest.mark.parametrize("password", ["secret", ""])
def test_encrypted_is_refused(password: str) -> None:
    assert _code(pdfs.make_pdf(["Mật khẩu"], encrypt_password=password)) == "PDF_ENCRYPTED"


def test_owner_password_only_may_be_allowed() -> None:
    data = pdfs.make_pdf(["Chỉ hạn chế quyền sửa"], encrypt_password="")
    info = inspect_pdf(data, PdfLimits(allow_empty_user_password=True))
    assert info.encrypted
    assert info.first_page_text == "Chỉ hạn chế quyền sửa"
    assert _code(pdfs.make_pdf(["x"], encrypt_password="user"), PdfLimits(allow_empty_user_password=True)) == (
        "PDF_ENCRYPTED"
    )


@pytest.mark.parametrize("version", ["1.0", "1.3"])
def test_old_versions_are_refused(version: str) -> None:
    assert _code(pdfs.make_pdf(["Cũ"], version=version)) == "PDF_VERSION"


def test_catalog_version_raises_an_old_header() -> None:
    catalog = b"<< /Type /Catalog /Pages 2 0 R /Version /1.6 >>"
    pages = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"
    assert inspect_pdf(pdfs.assemble([catalog, pages, page], version="1.3")).version == "1.6"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello, not a pdf",
        b"<html><body>%PDF-1.7</body></html>" + b" " * 2000,
        pdfs.make_garbage_pdf(),
        pdfs.make_truncated_pdf(),
        pdfs.make_no_pages_pdf(),
        pdfs.make_page_tree_cycle_pdf(),
    ],
    ids=["empty", "text", "late-header", "garbage", "truncated", "no-pages", "page-cycle"],
)
def test_broken_files_are_unreadable(data: bytes) -> None:
    assert _code(data) == "PDF_UNREADABLE"


def test_decompression_bomb_is_refused_not_read_silently() -> None:
    data = pdfs.make_bomb_pdf()
    assert len(data) < 10_000
    assert _code(data) == "PDF_TOO_COMPLEX"


def test_stream_limit_is_the_configured_one() -> None:
    # 3 MB of content: over a 1 MB limit, under the default.
    data = pdfs.make_bomb_pdf(3)
    assert _code(data, PdfLimits(max_stream_bytes=1 << 20)) == "PDF_TOO_COMPLEX"
    assert inspect_pdf(data).page_count == 1


def test_page_limit() -> None:
    data = pdfs.make_many_pages_pdf(300)
    assert inspect_pdf(data, PdfLimits(max_pages=300)).page_count == 300
    assert _code(data, PdfLimits(max_pages=299)) == "PDF_TOO_COMPLEX"


def test_object_limit() -> None:
    data = pdfs.make_many_objects_pdf(1000)
    assert inspect_pdf(data, PdfLimits(max_objects=2000)).object_count == 1005
    assert _code(data, PdfLimits(max_objects=999)) == "PDF_TOO_COMPLEX"


def test_size_limit() -> None:
    data = pdfs.make_decision_pdf()
    assert _code(data, PdfLimits(max_bytes=len(data) - 1)) == "PDF_TOO_COMPLEX"
