"""Parse + validate throughput for a 200 KB and a 10 MB PDF envelope, and peak memory for the 10 MB one.

Targets (issue 3): >= 200 documents/s for 200 KB on one core; peak traced memory < 3x the message size. The PDFs are
a real one-page decision (fpdf2, DejaVu font) padded to size with an embedded file of random (incompressible) bytes,
the way a scanned annex makes a PDF large without adding text. Run: .venv/bin/python bench/envelope.py
"""

from __future__ import annotations

import io
import os
import sys
import time
import tracemalloc
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

from gateway.envelope.build import build_document
from gateway.envelope.directory import AgencyInfo, DictDirectory
from gateway.envelope.model import (
    Code,
    DocumentHeader,
    DocumentType,
    Organization,
    OtherInfo,
    PromulgationInfo,
    SignerInfo,
)
from gateway.envelope.validate import check

VN = timezone(timedelta(hours=7))
NOW = datetime(2026, 3, 3, 8, 0, tzinfo=VN)
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"
LINES = [
    "ỦY BAN NHÂN DÂN TỈNH CÀ MAU",
    "Số: 15/QĐ-UBND",
    "Cà Mau, ngày 02 tháng 3 năm 2026",
    "QUYẾT ĐỊNH",
    "Về việc ban hành quy chế làm việc của Ủy ban nhân dân tỉnh",
    "KT. CHỦ TỊCH",
    "PHÓ CHỦ TỊCH",
    "Nguyễn Văn An",
]


def make_pdf(size: int) -> bytes:
    pdf = FPDF(format="A4")
    pdf.add_font("DejaVu", fname=FONT)
    pdf.set_font("DejaVu", size=11)
    pdf.add_page()
    for line in LINES:
        pdf.cell(text=line, new_x="LMARGIN", new_y="NEXT")
    base = bytes(pdf.output())
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(base)))
    writer.pdf_header = b"%PDF-1.7"
    writer.add_attachment("phu-luc-scan.bin", os.urandom(max(0, size - len(base) - 2000)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def envelope(pdf: bytes) -> bytes:
    code = Code("15", "QĐ-UBND")
    header = DocumentHeader(
        from_=Organization("000.00.00.H12", organ_name="Ủy ban nhân dân tỉnh Cà Mau", email="vanthu@camau.gov.vn"),
        to=(Organization("000.00.01.H12", organ_name="Sở Tài chính tỉnh Cà Mau", email="vanthu@stc.camau.gov.vn"),),
        document_id=DocumentHeader.make_document_id("000.00.00.H12", date(2026, 3, 2), code),
        code=code,
        promulgation_info=PromulgationInfo("Cà Mau", date(2026, 3, 2)),
        document_type=DocumentType(type_name="Quyết định"),
        subject="Về việc ban hành quy chế làm việc của Ủy ban nhân dân tỉnh",
        signer_info=SignerInfo("KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Nguyễn Văn An"),
        other_info=OtherInfo(priority=1, page_amount=1),
    )
    return build_document(header, pdf, sent_at=datetime(2026, 3, 2, 9, 30, tzinfo=VN))


DIRECTORY = DictDirectory([AgencyInfo("000.00.00.H12", "UBND"), AgencyInfo("000.00.01.H12", "STC")])


def throughput(raw: bytes, seconds: float) -> tuple[float, int]:
    check(raw, now=NOW, directory=DIRECTORY)  # warm-up (imports, template and regex caches)
    count, started = 0, time.process_time()
    while (elapsed := time.process_time() - started) < seconds or count < 3:
        check(raw, now=NOW, directory=DIRECTORY)
        count += 1
    return count / elapsed, count


def peak_memory(raw: bytes) -> int:
    tracemalloc.start()
    check(raw, now=NOW, directory=DIRECTORY)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def main() -> None:
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus; CPU time of this process (one core)")
    for label, size, seconds in (("200 KB", 200 * 1024, 5.0), ("10 MB", 10 * 1024 * 1024, 5.0)):
        raw = envelope(make_pdf(size))
        rate, count = throughput(raw, seconds)
        print(f"{label} PDF: message {len(raw) / 1024:.0f} KiB, parse+validate {rate:.1f} documents/s ({count} runs)")
        if size > 1024 * 1024:
            peak = peak_memory(raw)
            ratio = peak / len(raw)
            print(f"{label} PDF: peak traced memory {peak / 2**20:.1f} MiB = {ratio:.2f}x the message size")


if __name__ == "__main__":
    main()
