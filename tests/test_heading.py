"""Reading metadata off a first page laid out per Decree 30/2020."""

from __future__ import annotations

import unicodedata
from datetime import date

from gateway.envelope.heading import DOCUMENT_TYPES, read_heading
from gateway.envelope.pdf import inspect_pdf
from tests import pdfs


def test_decision_from_a_real_pdf() -> None:
    heading = read_heading(inspect_pdf(pdfs.make_decision_pdf()).first_page_text)
    assert heading.missing == []
    assert heading.organ_name == "ỦY BAN NHÂN DÂN TỈNH CÀ MAU"
    assert (heading.number, heading.notation) == ("15", "QĐ-UBND")
    assert (heading.place, heading.issue_date) == ("Cà Mau", date(2026, 3, 2))
    assert heading.type_name == "Quyết định"
    assert heading.subject == "Về việc ban hành quy chế làm việc của Ủy ban nhân dân tỉnh"
    assert heading.signer_competence == "KT. CHỦ TỊCH"
    assert heading.signer_position == "PHÓ CHỦ TỊCH"
    assert heading.signer_name == "Nguyễn Văn An"


# Text extraction of a two-column heading often merges the columns onto one line.
CONG_VAN = """ỦY BAN NHÂN DÂN CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
TỈNH CÀ MAU Độc lập - Tự do - Hạnh phúc
Số: 203/UBND-VP Cà Mau, ngày 15 tháng 01 năm 2026
V/v triển khai thực hiện
kế hoạch chuyển đổi số năm 2026
Kính gửi: Các sở, ban, ngành tỉnh
Ủy ban nhân dân tỉnh đề nghị các đơn vị triển khai thực hiện.
Nơi nhận:
- Như trên; TM. ỦY BAN NHÂN DÂN
- Lưu: VT. CHỦ TỊCH
Trần Thị Bình"""


def test_cong_van_with_merged_columns() -> None:
    heading = read_heading(CONG_VAN)
    assert heading.missing == []
    assert heading.organ_name == "ỦY BAN NHÂN DÂN TỈNH CÀ MAU"
    assert (heading.number, heading.notation) == ("203", "UBND-VP")
    assert (heading.place, heading.issue_date) == ("Cà Mau", date(2026, 1, 15))
    assert heading.type_name == "Công văn"
    assert heading.subject == "triển khai thực hiện kế hoạch chuyển đổi số năm 2026"
    assert heading.signer_competence == "TM. ỦY BAN NHÂN DÂN"
    assert heading.signer_position == "CHỦ TỊCH"
    assert heading.signer_name == "Trần Thị Bình"


def test_cong_van_from_a_real_pdf_in_nfd() -> None:
    text = unicodedata.normalize("NFD", inspect_pdf(pdfs.make_pdf([CONG_VAN])).first_page_text)
    heading = read_heading(text)
    assert heading.subject == "triển khai thực hiện kế hoạch chuyển đổi số năm 2026"
    assert heading.signer_name == "Trần Thị Bình"


def test_signer_on_a_later_page_is_missing() -> None:
    heading = read_heading("\n".join(pdfs.DECISION_PAGE[:12]))
    assert heading.number == "15"
    assert heading.missing == ["signer_position", "signer_name"]


def test_head_signs_in_person() -> None:
    text = "\n".join([*pdfs.DECISION_PAGE[:12], "CHỦ TỊCH", "(Đã ký)", "Lê Văn Cường"])
    heading = read_heading(text)
    assert (heading.signer_competence, heading.signer_position, heading.signer_name) == (
        None,
        "CHỦ TỊCH",
        "Lê Văn Cường",
    )


def test_type_from_the_notation_when_the_type_line_is_missing() -> None:
    heading = read_heading("SỞ Y TẾ\nSố: 7/KH-SYT\nCà Mau, ngày 5 tháng 6 năm 2026\nnội dung")
    assert heading.type_name == "Kế hoạch"
    assert DOCUMENT_TYPES["Kế hoạch"] == "KH"
    assert heading.organ_name == "SỞ Y TẾ"


def test_impossible_date_is_missing_not_an_error() -> None:
    heading = read_heading("Số: 1/TB-UBND\nCà Mau, ngày 31 tháng 02 năm 2026\nTHÔNG BÁO\nLịch tiếp công dân")
    assert heading.issue_date is None
    assert "issue_date" in heading.missing
    assert (heading.type_name, heading.subject) == ("Thông báo", "Lịch tiếp công dân")


def test_nothing_recognisable() -> None:
    heading = read_heading("Hello world\n\n")
    assert heading.missing == [
        "organ_name",
        "number",
        "notation",
        "place",
        "issue_date",
        "type_name",
        "subject",
        "signer_position",
        "signer_name",
    ]
    assert read_heading("").missing == heading.missing
