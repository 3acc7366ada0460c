"""The short form a clerk may type into the body of a plain e-mail ("Số: 15/QĐ-UBND", "Người ký: ...").

Labels are matched without accents, case or surrounding punctuation, so "Do khan:", "ĐỘ KHẨN :" and "độ khẩn:"
are one label; a line whose label is not known is ordinary prose and is ignored. Values are kept as typed (NFC),
and converted to dates and numbers by the ``parse_*`` helpers, which raise ``EnvelopeError`` naming the field.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from gateway.envelope.errors import EnvelopeError

# folded label -> draft field
LABELS: dict[str, str] = {
    "so": "number",
    "so van ban": "number",
    "so ky hieu": "code",
    "so, ky hieu": "code",
    "so/ky hieu": "code",
    "so va ky hieu": "code",
    "ky hieu": "notation",
    "loai van ban": "type_name",
    "the loai": "type_name",
    "trich yeu": "subject",
    "ngay ban hanh": "issue_date",
    "ngay ky": "issue_date",
    "noi ban hanh": "place",
    "dia danh": "place",
    "co quan ban hanh": "organ_name",
    "nguoi ky": "signer_name",
    "ho ten nguoi ky": "signer_name",
    "chuc vu": "signer_position",
    "chuc vu nguoi ky": "signer_position",
    "tham quyen ky": "signer_competence",
    "do khan": "priority",
    "muc do khan": "priority",
    "han xu ly": "due_date",
    "han tra loi": "due_date",
    "thoi han xu ly": "due_date",
    "noi nhan": "to_places",
    "so trang": "page_amount",
    "so ban": "promulgation_amount",
    "so ban phat hanh": "promulgation_amount",
    "do mat": "classification",
    "muc do mat": "classification",
}

# edXML path of each draft field, for error messages that match the validator's.
FIELD_PATHS: dict[str, str] = {
    "number": "Code/CodeNumber",
    "notation": "Code/CodeNotation",
    "type_name": "DocumentType/TypeName",
    "subject": "Subject",
    "issue_date": "PromulgationInfo/PromulgationDate",
    "place": "PromulgationInfo/Place",
    "organ_name": "From/OrganName",
    "signer_name": "SignerInfo/FullName",
    "signer_position": "SignerInfo/Position",
    "signer_competence": "SignerInfo/Competence",
    "priority": "OtherInfo/Priority",
    "due_date": "DueDate",
    "to_places": "ToPlaces",
    "page_amount": "OtherInfo/PageAmount",
    "promulgation_amount": "OtherInfo/PromulgationAmount",
    "classification": "lt:Classification",
}

PRIORITIES: dict[str, int] = {
    "thuong": 0,
    "khan": 1,
    "thuong khan": 2,
    "hoa toc": 3,
    "hoa toc hen gio": 4,
}


def fold(text: str) -> str:
    """Accent-, case- and space-insensitive form of a label or keyword."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return " ".join(bare.split()).strip(" .*-_")


_LINE = re.compile(r"^\s*[-*•]?\s*(?P<label>[^:\n]{1,40}?)\s*:\s*(?P<value>.*?)\s*$")
_LIST_ITEM = re.compile(r"^\s*[-+•]\s*(?P<item>.+?)\s*[;.]?\s*$")


def parse_form(body: str) -> dict[str, str]:
    """Known labels and their values; "Nơi nhận:" may continue on following "- item" lines."""
    found: dict[str, str] = {}
    lines = unicodedata.normalize("NFC", body).splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if line.rstrip() == "--":  # signature separator: the rest is the clerk's signature
            break
        if line.lstrip().startswith(">"):
            continue  # quoted text of an earlier mail
        match = _LINE.match(line)
        field = LABELS.get(fold(match["label"])) if match else None
        if match is None or field is None or field in found:
            continue
        value = match["value"]
        if field == "to_places":
            items = [value] if value else []
            while index < len(lines) and (item := _LIST_ITEM.match(lines[index])):
                items.append(item["item"])
                index += 1
            value = "; ".join(items)
        if value:
            found[field] = value
    if "code" in found:
        number, _, notation = found.pop("code").partition("/")
        found.setdefault("number", number.strip())
        if notation.strip():
            found.setdefault("notation", notation.strip())
    elif "/" in found.get("number", ""):  # "Số: 15/QĐ-UBND"
        number, _, notation = found["number"].partition("/")
        found["number"] = number.strip()
        if notation.strip():
            found.setdefault("notation", notation.strip())
    return found


_DMY = re.compile(r"^(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_WORDS = re.compile(r"ngay\s+(\d{1,2})\s+thang\s+(\d{1,2})\s+nam\s+(\d{4})")


def parse_date(value: str, field: str) -> date:
    """02/03/2026, 2026-03-02 or "ngày 02 tháng 3 năm 2026" (day first: the Vietnamese order)."""
    text = fold(value)
    try:
        if match := _DMY.match(text) or _WORDS.search(text):
            return date(int(match[3]), int(match[2]), int(match[1]))
        if match := _ISO.match(text):
            return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        pass
    raise EnvelopeError.of("FIELD_INVALID", FIELD_PATHS[field], f"{value!r} is not a date such as 02/03/2026")


def parse_priority(value: str) -> int:
    text = fold(value)
    if text in PRIORITIES:
        return PRIORITIES[text]
    if text.isdigit() and int(text) in PRIORITIES.values():
        return int(text)
    raise EnvelopeError.of(
        "FIELD_INVALID",
        FIELD_PATHS["priority"],
        f"{value!r}: use Thường, Khẩn, Thượng khẩn, Hỏa tốc or Hỏa tốc hẹn giờ",
    )


def parse_count(value: str, field: str) -> int:
    text = value.strip().split()[0] if value.strip() else ""
    if text.isdigit() and 0 < int(text) < 1000:
        return int(text)
    raise EnvelopeError.of("FIELD_INVALID", FIELD_PATHS[field], f"{value!r} is not a number from 1 to 999")
