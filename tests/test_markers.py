"""Forbidden markers (Art. 4.1): classified stamps and declarations, denunciations; and what must NOT match."""

from __future__ import annotations

import unicodedata

import pytest

from gateway.envelope.markers import ForbiddenMarker, find_declared_classification, find_forbidden
from gateway.envelope.pdf import inspect_pdf
from tests import pdfs

CLASSIFIED = [
    ("MẬT", "MẬT"),
    ("TỐI MẬT", "TỐI MẬT"),
    ("  TUYỆT MẬT  ", "TUYỆT MẬT"),
    ("Tối mật", "TỐI MẬT"),
    ("TÀI LIỆU MẬT", "MẬT"),
    ("[MẬT]", "MẬT"),
    ("(Tối mật)", "TỐI MẬT"),
    ("MẬT - HỎA TỐC", "MẬT"),
    ("Số: 15/QĐ-UBND MẬT", "MẬT"),  # two columns merged by text extraction
    ("Độ mật: Mật", "ĐỘ MẬT"),
    ("Mức độ mật: tối mật", "ĐỘ MẬT"),
    ("DO MAT: TOI MAT", "ĐỘ MẬT"),  # typed without accents
    ("TOI MAT", "TỐI MẬT"),
    ("TOP SECRET", "TOP SECRET"),
    ("Confidential", "CONFIDENTIAL"),
    ("Classification: Secret", "ĐỘ MẬT"),
    (unicodedata.normalize("NFD", "TUYỆT MẬT"), "TUYỆT MẬT"),
]

DENUNCIATIONS = [
    "Đơn tố cáo hành vi vi phạm của ông Nguyễn Văn B",
    "ĐƠN TỐ CÁO",
    "Đơn thư tố cáo cán bộ địa chính xã",
    "Đơn khiếu nại, tố cáo",
    "Thư tố cáo",
    "Tố cáo hành vi tham nhũng",
    "V/v tố cáo cán bộ xã",
    "don to cao can bo dia chinh",
    unicodedata.normalize("NFD", "Đơn tố cáo"),
]

HARMLESS = [
    "Đổi mật khẩu định kỳ",
    "ĐỔI MẬT KHẨU HỘP THƯ CÔNG VỤ",
    "Mật độ dân số tỉnh Cà Mau",
    "quan hệ mật thiết giữa các sở",
    "Mật ong rừng U Minh",
    "Luật Bảo vệ bí mật nhà nước năm 2018",
    "LUẬT BẢO VỆ BÍ MẬT NHÀ NƯỚC",
    "giữ bí mật thông tin cá nhân",
    "Quy định bảo vệ tài liệu tối mật",  # a rule ABOUT classified material is not classified
    "Mặt trận Tổ quốc Việt Nam",
    "MẶT TRẬN TỔ QUỐC",
    "Trời mát",
    "This is confidential information",
    "Secretary of the Provincial Party Committee",
    "Độ mật: không",
    "Độ mật: Thường",
    # denunciation as a topic of state management, not a denunciation
    "Báo cáo công tác tiếp công dân, giải quyết khiếu nại, tố cáo",
    "V/v giải quyết đơn tố cáo của công dân",
    "Xử lý đơn tố cáo của công dân",
    "Căn cứ Luật Tố cáo năm 2018",
    "giải quyết khiếu nại,\ntố cáo năm 2025",  # a wrapped line starting in lower case
    "bí\nmật",
    "mat do dan so",
    "Ve viec to chuc hoi nghi",
]


@pytest.mark.parametrize(("text", "marker"), CLASSIFIED)
def test_classified(text: str, marker: str) -> None:
    found = find_forbidden(text)
    assert found == ForbiddenMarker("CLASSIFIED", marker, "line 1")


@pytest.mark.parametrize("text", DENUNCIATIONS)
def test_denunciation(text: str) -> None:
    found = find_forbidden(text)
    assert found is not None
    assert found.reason_code == "DENUNCIATION"


@pytest.mark.parametrize("text", HARMLESS)
def test_harmless(text: str) -> None:
    assert find_forbidden(text) is None


def test_where_names_the_line_or_field_never_the_content() -> None:
    page = "ỦY BAN NHÂN DÂN\nSố: 15/QĐ-UBND\nTỐI MẬT\nQUYẾT ĐỊNH"
    assert find_forbidden(page) == ForbiddenMarker("CLASSIFIED", "TỐI MẬT", "line 3")
    assert find_forbidden("Đơn tố cáo ông A", field="Subject") == ForbiddenMarker(
        "DENUNCIATION", "ĐƠN TỐ CÁO", "Subject"
    )
    problem = find_forbidden("MẬT", field="Subject").problem()  # type: ignore[union-attr]
    assert (problem.code, problem.field) == ("CLASSIFIED", "Subject")


def test_stamp_on_a_real_pdf_first_page() -> None:
    page = [*pdfs.DECISION_PAGE[:5], "MẬT", *pdfs.DECISION_PAGE[5:]]
    found = find_forbidden(inspect_pdf(pdfs.make_pdf([page])).first_page_text)
    assert found is not None
    assert (found.reason_code, found.marker) == ("CLASSIFIED", "MẬT")
    assert find_forbidden(inspect_pdf(pdfs.make_decision_pdf()).first_page_text) is None


@pytest.mark.parametrize("value", ["", "  ", "0", "không", "Không", "khong", "thường", "Thuong", "Bình thường"])
def test_declared_classification_none_values(value: str) -> None:
    assert find_declared_classification(value) is None


@pytest.mark.parametrize("value", ["1", "Mật", "mat", "Tối mật", "TUYỆT MẬT", "A"])
def test_declared_classification_refuses_any_value(value: str) -> None:
    found = find_declared_classification(value, field="OtherInfo/Secret")
    assert found is not None
    assert (found.reason_code, found.where) == ("CLASSIFIED", "OtherInfo/Secret")
