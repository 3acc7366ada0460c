"""Real PDF files for the tests: readable Vietnamese documents and hostile ones.

The readable ones are laid out by fpdf2 with a DejaVu TrueType font (Debian's fonts-dejavu-core), so that pypdf
extracts the same Vietnamese text a records office typed. The hostile ones (bombs, many pages, many objects,
truncated, old header) are assembled byte by byte with a correct cross-reference table, so each fails for the one
reason it is meant to and no other.
"""

from __future__ import annotations

import functools
import io
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject, TextStringObject

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILE = FONT_DIR / "DejaVuSerif.ttf"

# The heading of a typical decision, as it stands on the first page (Decree 30/2020 layout, read line by line).
DECISION_PAGE: list[str] = [
    "ỦY BAN NHÂN DÂN",
    "TỈNH CÀ MAU",
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "Độc lập - Tự do - Hạnh phúc",
    "Số: 15/QĐ-UBND",
    "Cà Mau, ngày 02 tháng 3 năm 2026",
    "QUYẾT ĐỊNH",
    "Về việc ban hành quy chế làm việc của Ủy ban nhân dân tỉnh",
    "CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH CÀ MAU",
    "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;",
    "QUYẾT ĐỊNH:",
    "Điều 1. Ban hành kèm theo Quyết định này Quy chế làm việc.",
    "Nơi nhận:",
    "- Như Điều 3;",
    "- Lưu: VT.",
    "KT. CHỦ TỊCH",
    "PHÓ CHỦ TỊCH",
    "Nguyễn Văn An",
]


def _page_lines(page: str | Sequence[str]) -> list[str]:
    return page.split("\n") if isinstance(page, str) else list(page)


CREATED = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def make_pdf(
    pages: Sequence[Sequence[str]] | Sequence[str],
    *,
    version: str = "1.7",
    encrypt_password: str | None = None,
    signature_field: bool = False,
    font_size: int = 11,
) -> bytes:
    """A real PDF, one entry of ``pages`` per page.

    Each page is either a list of lines or one string whose lines are separated by "\\n"
    (so ``make_pdf(["first page", "second page"])`` has two pages). ``version`` is written in the header;
    ``encrypt_password`` encrypts with AES-128 (user password, empty owner permissions aside);
    ``signature_field`` adds an (unsigned) AcroForm /Sig field, the way a signing tool prepares a document.
    """
    pdf = FPDF(format="A4")
    pdf.set_creation_date(CREATED)  # the same pages give the same bytes, whenever they are made
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font("DejaVu", fname=str(FONT_FILE))
    pdf.set_font("DejaVu", size=font_size)
    for page in pages or [[]]:
        pdf.add_page()
        for line in _page_lines(page):
            pdf.cell(text=line, new_x="LMARGIN", new_y="NEXT")
    data = bytes(pdf.output())
    if encrypt_password is not None or signature_field:
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
        if signature_field:
            _add_signature_field(writer)
        if encrypt_password is not None:
            writer.encrypt(
                user_password=encrypt_password, owner_password=encrypt_password + "-owner", algorithm="AES-128"
            )
        out = io.BytesIO()
        writer.write(out)
        data = out.getvalue()
    return set_version(data, version)


def _add_signature_field(writer: PdfWriter) -> None:
    field = DictionaryObject(
        {
            NameObject("/FT"): NameObject("/Sig"),
            NameObject("/T"): TextStringObject("Signature1"),
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Widget"),
            NameObject("/Rect"): ArrayObject([NumberObject(0)] * 4),
            NameObject("/F"): NumberObject(132),
        }
    )
    ref = writer._add_object(field)
    page = writer.pages[0]
    page[NameObject("/Annots")] = ArrayObject([ref])
    writer._root_object[NameObject("/AcroForm")] = DictionaryObject(
        {NameObject("/Fields"): ArrayObject([ref]), NameObject("/SigFlags"): NumberObject(3)}
    )


def set_version(data: bytes, version: str) -> bytes:
    """Rewrite the header's version in place (same length: the cross-reference offsets stay right)."""
    if not data.startswith(b"%PDF-") or len(version) != 3:
        raise ValueError(f"cannot set version {version!r}")
    return b"%PDF-" + version.encode("ascii") + data[8:]


def make_decision_pdf(**kwargs: object) -> bytes:
    """A one-page decision of the Cà Mau people's committee with a complete heading and signer block."""
    return make_pdf([DECISION_PAGE], **kwargs)  # type: ignore[arg-type]


# -- hand-assembled files -------------------------------------------------------------------------------------


def assemble(objects: Sequence[bytes], *, version: str = "1.7", root: int = 1) -> bytes:
    """A PDF from numbered object bodies (object i+1 is ``objects[i]``) with an exact xref table."""
    out = bytearray(f"%PDF-{version}\n%\xe2\xe3\xcf\xd3\n".encode("latin-1"))
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref_at = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root {root} 0 R >>\nstartxref\n{xref_at}\n%%EOF\n".encode()
    return bytes(out)


def _stream(payload: bytes, extra: str = "") -> bytes:
    return f"<< /Length {len(payload)} {extra}>>\nstream\n".encode() + payload + b"\nendstream"


_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def _page_objects(page_count: int, content_ref: int, first_page_obj: int) -> list[bytes]:
    kids = " ".join(f"{first_page_obj + i} 0 R" for i in range(page_count))
    pages = f"<< /Type /Pages /Kids [{kids}] /Count {page_count} >>".encode()
    page = (
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {content_ref} 0 R "
        f"/Resources << /Font << /F1 3 0 R >> >> >>"
    ).encode()
    return [pages, *([page] * page_count)]


@functools.cache
def make_bomb_pdf(decompressed_mb: int = 400) -> bytes:
    """A one-page PDF (well under 1 MB) whose content stream inflates to ``decompressed_mb`` MB.

    The stream is compressed twice (/Filter [/FlateDecode /FlateDecode]): zeros compress about 1000:1 and the
    already-compressed zeros again, so the file stays small while a reader that does not limit decompression
    allocates hundreds of megabytes.
    """
    inner = zlib.compressobj(9)
    chunk = b" " * (1 << 20)
    parts = [inner.compress(chunk) for _ in range(decompressed_mb)]
    parts.append(inner.flush())
    once = b"".join(parts)
    twice = zlib.compress(once, 9)
    content = _stream(twice, "/Filter [/FlateDecode /FlateDecode] ")
    catalog = b"<< /Type /Catalog /Pages 2 0 R >>"
    # objects: 1 catalog, 2 pages, 3 font, 4 page, 5 content
    pages = _page_objects(1, content_ref=5, first_page_obj=4)
    return assemble([catalog, pages[0], _FONT, pages[1], content])


def _simple_text_stream(text: str) -> bytes:
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return _stream(f"BT /F1 12 Tf 72 770 Td ({escaped}) Tj ET".encode("latin-1"))


@functools.cache
def make_many_pages_pdf(n: int, *, text: str = "Page") -> bytes:
    """A PDF with ``n`` pages sharing one small ASCII content stream (a page-count bomb costs the sender nothing)."""
    catalog = b"<< /Type /Catalog /Pages 2 0 R >>"
    content_ref = 4 + n
    pages = _page_objects(n, content_ref=content_ref, first_page_obj=4)
    return assemble([catalog, pages[0], _FONT, *pages[1:], _simple_text_stream(text)])


@functools.cache
def make_many_objects_pdf(n: int) -> bytes:
    """A valid one-page PDF that also carries ``n`` unreferenced objects in its cross-reference table."""
    catalog = b"<< /Type /Catalog /Pages 2 0 R >>"
    pages = _page_objects(1, content_ref=5, first_page_obj=4)
    filler = [b"<< /Filler true >>"] * n
    return assemble([catalog, pages[0], _FONT, pages[1], _simple_text_stream("Objects"), *filler])


def make_ascii_pdf(text: str = "Hello", *, version: str = "1.7") -> bytes:
    """A minimal one-page PDF with a Type1 Helvetica text line: no font embedding, for fast structural tests."""
    catalog = b"<< /Type /Catalog /Pages 2 0 R >>"
    pages = _page_objects(1, content_ref=5, first_page_obj=4)
    return assemble([catalog, pages[0], _FONT, pages[1], _simple_text_stream(text)], version=version)


def make_truncated_pdf() -> bytes:
    """The first half of a real PDF: no xref, no trailer, streams cut in the middle."""
    data = make_decision_pdf()
    return data[: len(data) // 2]


def make_garbage_pdf() -> bytes:
    """A PDF header followed by noise: looks like a PDF to a sniffer, is none."""
    return b"%PDF-1.7\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"


def make_no_pages_pdf() -> bytes:
    """A syntactically valid PDF whose page tree is empty."""
    return assemble([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"])


def make_page_tree_cycle_pdf() -> bytes:
    """A page tree whose /Kids points back at itself: a naive reader recurses forever."""
    catalog = b"<< /Type /Catalog /Pages 2 0 R >>"
    pages = b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>"
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"
    return assemble([catalog, pages, page])


def refused_pdfs() -> dict[str, tuple[bytes, str]]:
    """Files every inspector must refuse for the same reason, wherever it runs (in process, in a fresh worker or in
    a warm pool), keyed by test id, each with the reason code it must give on the ``pdf`` field."""
    return {
        "encrypted": (make_pdf(["x"], encrypt_password="p"), "PDF_ENCRYPTED"),
        "old": (make_pdf(["x"], version="1.3"), "PDF_VERSION"),
        "truncated": (make_truncated_pdf(), "PDF_UNREADABLE"),
        "text": (b"not a pdf", "PDF_UNREADABLE"),
    }
