"""Reading a document's metadata off the text of its first page (Decree 30/2020 layout).

The layout is fixed by regulation: issuing organ (upper case) and national motto side by side, "Số: 15/QĐ-UBND",
"Cà Mau, ngày 02 tháng 3 năm 2026", the type name in capitals (none for a công văn, whose summary follows "V/v"),
the summary, the body, then recipients and the signer block ("KT. CHỦ TỊCH" / "PHÓ CHỦ TỊCH" / name). Text
extraction may merge the two columns onto one line, so each pattern searches within lines rather than expecting a
line to hold one item. Whatever cannot be found is listed in ``missing``: this is a helper that fills gaps in a
clerk's mail, never an authority over metadata the sender stated.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

# Decree 30/2020 Art. 7 and Annex III: type name -> abbreviation ("" for types that have none).
DOCUMENT_TYPES: dict[str, str] = {
    "Nghị quyết": "NQ",
    "Quyết định": "QĐ",
    "Chỉ thị": "CT",
    "Quy chế": "QC",
    "Quy định": "QyĐ",
    "Thông cáo": "TC",
    "Thông báo": "TB",
    "Hướng dẫn": "HD",
    "Chương trình": "CTr",
    "Kế hoạch": "KH",
    "Phương án": "PA",
    "Đề án": "ĐA",
    "Dự án": "DA",
    "Báo cáo": "BC",
    "Biên bản": "BB",
    "Tờ trình": "TTr",
    "Hợp đồng": "HĐ",
    "Công điện": "CĐ",
    "Bản ghi nhớ": "BGN",
    "Bản thỏa thuận": "BTT",
    "Giấy ủy quyền": "GUQ",
    "Giấy mời": "GM",
    "Giấy giới thiệu": "GGT",
    "Giấy nghỉ phép": "GNP",
    "Phiếu gửi": "PG",
    "Phiếu chuyển": "PC",
    "Phiếu báo": "PB",
    "Công văn": "",
    "Thư công": "",
}
CONG_VAN = "Công văn"
_BY_UPPER = {name.upper(): name for name in DOCUMENT_TYPES}
_BY_ABBREVIATION = {abbr.upper(): name for name, abbr in DOCUMENT_TYPES.items() if abbr}

REQUIRED = (
    "organ_name",
    "number",
    "notation",
    "place",
    "issue_date",
    "type_name",
    "subject",
    "signer_position",
    "signer_name",
)


@dataclass(slots=True)
class Heading:
    number: str | None = None
    notation: str | None = None
    place: str | None = None
    issue_date: date | None = None
    type_name: str | None = None
    subject: str | None = None
    signer_competence: str | None = None  # "KT. CHỦ TỊCH", "TM. ỦY BAN NHÂN DÂN"; absent when the head signs
    signer_position: str | None = None
    signer_name: str | None = None
    organ_name: str | None = None
    missing: list[str] = field(default_factory=list)


_MOTTO = re.compile(r"CỘNG\s+HÒA\s+XÃ\s+HỘI\s+CHỦ\s+NGHĨA\s+VIỆT\s+NAM|Độc\s+lập\s*-\s*Tự\s+do\s*-\s*Hạnh\s+phúc", re.I)
_NUMBER = re.compile(r"\bS[ốo]\s*[:.]?\s*(\d{1,11})\s*/\s*([0-9A-Za-zĐđ][\w./-]{0,29})")
_PLACE_DATE = re.compile(
    r"(?P<place>[^\d,:]{2,60}?)\s*,\s*ng[àa]y\s+(?P<d>\d{1,2})\s+th[áa]ng\s+(?P<m>\d{1,2})\s+n[ăa]m\s+(?P<y>\d{4})",
    re.I,
)
_SUBJECT_PREFIX = re.compile(r"^(?:V/v|Về việc)\s*:?\s*", re.I)
_BODY_START = re.compile(r"^(?:Căn cứ|Kính gửi|Điều\s+\d|Theo\b|Thực hiện\b|Nơi nhận)", re.I)
_COMPETENCE = re.compile(r"(?:^|\s)((?:KT|TM|TL|TUQ|Q)\.\s*(\S.*))$")


def _competence(line: str) -> str | None:
    match = _COMPETENCE.search(line)
    return match.group(1) if match and _is_upper_line(match.group(2)) else None


def _is_name(line: str) -> bool:
    words = line.split()
    return 2 <= len(words) <= 6 and all(w.isalpha() and w[0].isupper() and w[1:].islower() for w in words)


def _is_upper_line(line: str) -> bool:
    letters = [c for c in line if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


def read_heading(first_page_text: str) -> Heading:
    """Whatever the first page states of the document's metadata; absent fields are named in ``missing``."""
    text = unicodedata.normalize("NFC", first_page_text)
    lines = [re.sub(r"\s+", " ", line).strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    heading = Heading()
    number_at = _read_number(lines, heading)
    date_at = _read_place_date(lines, heading)
    _read_organ(lines, heading, min(i for i in (number_at, date_at, len(lines)) if i is not None))
    start = max(i for i in (number_at, date_at, -1) if i is not None) + 1
    _read_type_and_subject(lines, heading, start)
    _read_signer(lines, heading)
    heading.missing = [name for name in REQUIRED if getattr(heading, name) is None]
    return heading


def _read_number(lines: list[str], heading: Heading) -> int | None:
    for index, line in enumerate(lines):
        match = _NUMBER.search(line)
        if match:
            heading.number = match.group(1)
            heading.notation = match.group(2).rstrip(".")
            return index
    return None


def _read_place_date(lines: list[str], heading: Heading) -> int | None:
    for index, line in enumerate(lines):
        match = _PLACE_DATE.search(_NUMBER.sub(" ", _MOTTO.sub(" ", line)))
        if not match:
            continue
        try:
            heading.issue_date = date(int(match["y"]), int(match["m"]), int(match["d"]))
        except ValueError:
            return index  # "ngày 31 tháng 2": the line is there, the date is not
        heading.place = match["place"].strip(" -") or None
        return index
    return None


def _read_organ(lines: list[str], heading: Heading, end: int) -> None:
    parts = []
    for line in lines[:end]:
        rest = _MOTTO.sub(" ", line)
        rest = _NUMBER.sub(" ", rest).strip(" -")
        if rest and _is_upper_line(rest):
            parts.append(rest)
    heading.organ_name = " ".join(parts) or None


def _read_type_and_subject(lines: list[str], heading: Heading, start: int) -> None:
    for index in range(start, min(start + 6, len(lines))):
        line = lines[index]
        if _SUBJECT_PREFIX.match(line) and line[:3].lower() == "v/v":
            heading.type_name = CONG_VAN
            heading.subject = _collect_subject(lines, index, _SUBJECT_PREFIX.sub("", line))
            return
        name = _BY_UPPER.get(line.rstrip(":").upper()) if _is_upper_line(line) else None
        if name:
            heading.type_name = name
            if index + 1 < len(lines):
                heading.subject = _collect_subject(lines, index + 1, lines[index + 1])
            return
    if heading.notation:  # no type line: the notation's first part names the type ("QĐ-UBND")
        heading.type_name = _BY_ABBREVIATION.get(heading.notation.split("-")[0].upper())


def _collect_subject(lines: list[str], index: int, first: str) -> str | None:
    parts = [first] if first else []
    for line in lines[index + 1 : index + 3]:
        if _is_upper_line(line) or _BODY_START.match(line) or line.endswith(":"):
            break
        parts.append(line)
    subject = " ".join(parts).strip()
    return subject or None


def _read_signer(lines: list[str], heading: Heading) -> None:
    tail = [line for line in lines[-8:] if not (line.startswith("(") and line.endswith(")"))]
    name_at = next((i for i in range(len(tail) - 1, -1, -1) if _is_name(tail[i])), None)
    if name_at is None:
        return
    heading.signer_name = tail[name_at]
    if name_at == 0:
        return
    position = tail[name_at - 1]
    competence = _competence(position)
    if competence:  # "TM. ỦY BAN NHÂN DÂN" right above the name: no separate position line
        heading.signer_competence = competence
        return
    position = _strip_left_column(position)
    if _is_upper_line(position):
        heading.signer_position = position
    if name_at >= 2:
        heading.signer_competence = _competence(tail[name_at - 2])


def _strip_left_column(line: str) -> str:
    """Drop a merged "Nơi nhận" item ("- Lưu: VT. PHÓ CHỦ TỊCH" -> "PHÓ CHỦ TỊCH")."""
    if not line.startswith("-"):
        return line
    words = line.split()
    kept: list[str] = []
    for word in reversed(words):
        if not (word.isalpha() and word.isupper()):
            break
        kept.insert(0, word)
    return " ".join(kept) if kept else line
