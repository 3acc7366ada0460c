"""Forbidden content markers (regulation Art. 4.1): classified documents and denunciations.

The rule is "the document IS classified / IS a denunciation", not "the document MENTIONS secrecy or denunciations".
State agencies routinely write about both ("Luật Bảo vệ bí mật nhà nước", "báo cáo công tác giải quyết khiếu nại,
tố cáo"), and refusing those would stop ordinary business. So:

- classification: a stamp (MẬT, TỐI MẬT, TUYỆT MẬT, optionally with "tài liệu"/"văn bản"; English SECRET,
  TOP SECRET, CONFIDENTIAL) standing alone on a line, in a segment of a line set off by " - ", "," or "|" next to
  other stamps ("MẬT - HỎA TỐC"), in brackets ("[MẬT]"), or as an upper-case word whose neighbours are not
  upper-case words (so "LUẬT BẢO VỆ BÍ MẬT NHÀ NƯỚC" and "ĐỔI MẬT KHẨU" do not match); or a declaration
  "Độ mật: <value>" / "Classification: <value>" whose value is not a "none" value;
- denunciation: a line (the subject, the type name) that starts with "Đơn tố cáo", "Đơn thư tố cáo", "Thư tố cáo",
  "Đơn khiếu nại, tố cáo", "Tố cáo ..." (capital T) or "V/v tố cáo ...". "Xử lý đơn tố cáo" or "giải quyết
  khiếu nại, tố cáo" (a report ABOUT denunciations) does not match.

Matching is on NFC, case-folded text, so NFD input and any case compare alike. Diacritics may be missing only when
the whole text has none (a clerk typing without accents): "DO MAT: TOI MAT" matches then, while in accented text
"mát"/"mặt" never stand in for "mật".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from gateway.envelope.errors import Problem

CLASSIFIED = "CLASSIFIED"
DENUNCIATION = "DENUNCIATION"


@dataclass(frozen=True, slots=True)
class ForbiddenMarker:
    reason_code: str  # CLASSIFIED | DENUNCIATION
    marker: str  # the marker as the rule names it ("TỐI MẬT"), never the surrounding content
    where: str | None = None  # "line 4", or the field name

    def problem(self, field: str | None = None) -> Problem:
        return Problem(self.reason_code, field or self.where, f"marker {self.marker!r}")


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


_STAMPS = {"mật": "MẬT", "tối mật": "TỐI MẬT", "tuyệt mật": "TUYỆT MẬT"}
_EN_STAMPS = {"secret": "SECRET", "top secret": "TOP SECRET", "confidential": "CONFIDENTIAL"}
_STAMP_PREFIX = re.compile(r"^(?:tài liệu|văn bản|hồ sơ|tai lieu|van ban|ho so)\s+")
_SEGMENT_SPLIT = re.compile(r"\s+[-–—|]\s+|\s*[,;|]\s*|\s{2,}|\t")
_BRACKETED = re.compile(r"[\[(«<{]\s*([^\]\)»>}\n]{1,20}?)\s*[\])»>}]")
_DECLARATION = re.compile(
    r"(?:^|\n|\s)(?:mức\s+)?(?:độ\s+mật|muc\s+do\s+mat|do\s+mat|classification|security\s+classification)"
    r"\s*:\s*([^\n]{0,40})"
)
_NONE_VALUES = frozenset(
    {"", "0", "-", "không", "khong", "thường", "thuong", "bình thường", "binh thuong", "none", "unclassified"}
)
_PUNCT = " \t*_\"'.:;!-–—[](){}«»<>"


def _stamp(segment: str, ascii_only: bool) -> str | None:
    """The stamp a whole segment is (folded text in), or None."""
    value = _STAMP_PREFIX.sub("", segment.strip(_PUNCT))
    if value in _STAMPS:
        return _STAMPS[value]
    if value in _EN_STAMPS:
        return _EN_STAMPS[value]
    if ascii_only:
        plain = {_strip_accents(k): v for k, v in _STAMPS.items()}
        if value in plain and value != "mat":  # "mat" alone is "mặt"/"mát" as often as "mật"
            return plain[value]
    return None


_UPPER_STAMP = re.compile(r"(?<![\w])(TUYỆT MẬT|TỐI MẬT|MẬT)(?![\w])")


def _is_upper_word(token: str) -> bool:
    word = token.strip(_PUNCT)
    return len(word) > 1 and word.isalpha() and word.isupper()


def _upper_stamp(line: str) -> str | None:
    """An upper-case stamp word not part of an upper-case phrase ("BÍ MẬT NHÀ NƯỚC", "ĐỔI MẬT KHẨU")."""
    for match in _UPPER_STAMP.finditer(line):
        before = line[: match.start()].split()
        after = line[match.end() :].split()
        if (before and _is_upper_word(before[-1])) or (after and _is_upper_word(after[0])):
            continue
        return match.group(1)
    return None


_DENUNCIATION = re.compile(
    r"^(?:v/v\s*:?\s*|về việc\s+|ve viec\s+)?"
    r"(?:(?:đơn|don)(?:\s+(?:thư|thu))?\s+(?:(?:khiếu nại|khieu nai)\s*[,/-]?\s*)?|(?:thư|thu)\s+)?"
    r"(?:tố cáo|to cao)\b"
)


def _denunciation(raw_line: str, folded: str, ascii_only: bool) -> bool:
    text = folded.strip(_PUNCT)
    if not ascii_only:
        text = text.replace("to cao", "\x00")  # accents present: the unaccented form is not the word
    match = _DENUNCIATION.match(text)
    if match is None:
        return False
    # A line that starts straight with "tố cáo" must do so with a capital: lower case is a wrapped continuation
    # of a sentence such as "... giải quyết khiếu nại,\ntố cáo".
    starts_bare = match.group(0).startswith(("tố cáo", "to cao"))
    return not starts_bare or raw_line.strip(_PUNCT)[:1].isupper()


def find_forbidden(text: str, *, field: str | None = None) -> ForbiddenMarker | None:
    """The first forbidden marker in ``text`` (a subject, a metadata value or a PDF's first-page text)."""
    text = unicodedata.normalize("NFC", text)
    ascii_only = _strip_accents(text).isascii() and text.isascii()
    lines = text.splitlines() or [""]
    for number, raw in enumerate(lines, start=1):
        where = field if field and len(lines) == 1 else (f"{field}, line {number}" if field else f"line {number}")
        folded = _fold(raw)
        found = _classification(raw, folded, ascii_only)
        if found:
            return ForbiddenMarker(CLASSIFIED, found, where)
        if _denunciation(raw, folded, ascii_only):
            return ForbiddenMarker(DENUNCIATION, "ĐƠN TỐ CÁO", where)
    return None


def _classification(raw: str, folded: str, ascii_only: bool) -> str | None:
    for segment in _SEGMENT_SPLIT.split(folded):
        found = _stamp(segment, ascii_only)
        # A lone "mật" in lower case is a wrapped word ("bí\nmật"), not a stamp.
        if found and not (found == "MẬT" and unicodedata.normalize("NFC", raw).strip(_PUNCT) == "mật"):
            return found
    for match in _BRACKETED.finditer(folded):
        found = _stamp(match.group(1), ascii_only)
        if found:
            return found
    upper = _upper_stamp(unicodedata.normalize("NFC", raw))
    if upper:
        return upper
    declaration = _DECLARATION.search(folded if not ascii_only else _strip_accents(folded))
    if declaration and declaration.group(1).strip(_PUNCT) not in _NONE_VALUES:
        return "ĐỘ MẬT"
    return None


def find_declared_classification(value: str, *, field: str | None = None) -> ForbiddenMarker | None:
    """An explicit classification field (edXML ``OtherInfo/Secret``, our own field): any real value refuses."""
    folded = _fold(value).strip(_PUNCT)
    if folded in _NONE_VALUES or _strip_accents(folded) in _NONE_VALUES:
        return None
    return ForbiddenMarker(CLASSIFIED, value.strip()[:30], field)
