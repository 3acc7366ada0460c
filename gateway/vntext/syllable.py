"""Is this token a well-formed Vietnamese syllable? The yardstick for telling real text from mojibake.

A syllable is (initial consonant) + vowel nucleus + (final consonant) with at most one tone mark. The nuclei and
which of them need or refuse a final consonant follow standard Vietnamese orthography; mojibake such as "nhaân"
(VNI bytes read as Latin-1) or "tổnh" (VNI read as TCVN3) fails on the nucleus or the final.
"""

from __future__ import annotations

import re
import unicodedata

TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")

_INITIALS = (
    "ngh", "ng", "nh", "ch", "gh", "gi", "kh", "ph", "qu", "th", "tr",
    "b", "c", "d", "đ", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x",
)  # fmt: skip
_FINALS = ("ch", "ng", "nh", "c", "m", "n", "p", "t")
_STOPS = frozenset({"ch", "c", "p", "t"})
_STOP_TONES = frozenset({"\u0301", "\u0323"})
_VOWELS = frozenset("aeiouy")

_OPEN = "open"  # takes no final consonant (ends in a glide)
_CLOSED = "closed"  # needs a final consonant
_ANY = "any"
_NUCLEI: dict[str, str] = {
    **dict.fromkeys(["a", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y", "oa", "oe", "uê", "uy", "uơ"], _ANY),
    **dict.fromkeys(["ă", "â", "iê", "yê", "uô", "ươ", "oă", "uâ", "uyê"], _CLOSED),
    **dict.fromkeys(
        ["ai", "ao", "au", "ay", "âu", "ây", "eo", "êu", "ia", "iu", "oi", "ôi", "ơi", "ua", "ui", "ưa", "ưi", "ưu"],
        _OPEN,
    ),
    **dict.fromkeys(["oai", "oay", "oao", "oeo", "uôi", "ươi", "ươu", "iêu", "yêu", "uya", "uây", "uyu"], _OPEN),
}
_PALATAL_NUCLEI = frozenset({"a", "ê", "i", "y", "uy", "oa", "uê"})  # the only ones before "nh"/"ch"

# Letters that only Unicode Vietnamese uses (never produced by decoding TCVN3/VNI bytes as Latin-1).
_SPECIFIC = frozenset("ăđơưĩũĂĐƠƯĨŨ")


def is_syllable(token: str) -> bool:
    """One Unicode token (any case, NFC or NFD) forms a Vietnamese syllable with one tone mark at most, placed on
    the vowel that carries it (old and new placement both accepted for oa, oe, uy: "hòa"/"hoà")."""
    decomposed = unicodedata.normalize("NFD", token.lower())
    tones = [c for c in decomposed if c in TONE_MARKS]
    if len(tones) > 1 or not _tones_on_vowels(decomposed):
        return False
    bare = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in TONE_MARKS))
    tone_at = _tone_index(decomposed) if tones else None
    initials = [i for i in _INITIALS if bare.startswith(i)] + [""]
    finals = [f for f in _FINALS if bare.endswith(f)] + [""]
    for initial in initials:
        for final in finals:
            nucleus = bare[len(initial) : len(bare) - len(final)]
            kind = _NUCLEI.get(nucleus)
            if kind is None or (kind == _OPEN and final) or (kind == _CLOSED and not final):
                continue
            if final in ("nh", "ch") and nucleus not in _PALATAL_NUCLEI:
                continue
            if final in _STOPS and (not tones or tones[0] not in _STOP_TONES):
                continue  # a syllable ending in p, t, c, ch takes the sắc or nặng tone only
            if tone_at is not None and tone_at - len(initial) not in _tone_positions(nucleus, final):
                continue
            return True
    return False


def _tone_index(decomposed: str) -> int:
    """Index, among the base letters, of the letter the tone mark sits on."""
    index = -1
    for char in decomposed:
        if char in TONE_MARKS:
            return index
        if not unicodedata.combining(char):
            index += 1
    return index


def _tone_positions(nucleus: str, final: str) -> set[int]:
    modified = [i for i, c in enumerate(nucleus) if c in "ăâêôơư"]
    if modified:
        return {modified[-1]}  # "ươ" -> ơ, "uyê" -> ê, "iêu" -> ê
    if len(nucleus) == 1:
        return {0}
    if len(nucleus) == 3:
        return {1}  # "oài", "oáy", "khuỷu"
    if final:
        return {1}  # "hoàn", "huỳnh"
    return {0, 1} if nucleus in ("oa", "oe", "uy") else {0}  # "hòa"/"hoà"; "của", "kìa", "tài"


def _tones_on_vowels(decomposed: str) -> bool:
    """Tone marks sit on vowels ("ñ" is n + tilde: not a Vietnamese letter)."""
    base = ""
    for char in decomposed:
        if char in TONE_MARKS and base not in _VOWELS:
            return False
        if not unicodedata.combining(char):
            base = char
    return True


def is_vietnamese_specific(char: str) -> bool:
    """A character that appears in Unicode Vietnamese but never in Latin-1 mojibake."""
    return char in _SPECIFIC or "\u1ea0" <= char <= "\u1ef9"


_TOKEN = re.compile(r"[^\s,.;:!?()\[\]{}\"'/\\\-–—<>=*&%$#@+`~^|0-9]+")


def tokens(text: str) -> list[str]:
    """Whitespace/punctuation-separated tokens; legacy symbols such as ¸ µ ® § stay inside their word."""
    return _TOKEN.findall(text)
