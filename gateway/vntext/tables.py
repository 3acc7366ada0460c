"""Character tables of the legacy Vietnamese encodings, written from the published code charts.

TCVN3 is TCVN 5712:1993 in its "ABC" form (the .VnTime fonts): one byte per letter. Only lower-case accented letters
have codes; upper case was shown by switching to the .VnTimeH font, so upper-case words arrive as ASCII capitals
around lower-case codes (``convert`` restores the case from the surrounding word). VNI-Windows writes a base letter
followed by a mark byte, with a few letters (đ, ơ, ư and the i/y variants) as single bytes.

Both are given here as the characters a Latin-1/cp1252 decoder produces from those bytes (0xA1-0xFE decode the same
way in both), because that is how legacy text reaches us: mislabelled as Western European.
"""

from __future__ import annotations

import unicodedata

# -- TCVN3 (ABC) ---------------------------------------------------------------------------------------------
# Each row: the five tones (grave, hook, tilde, acute, dot) of one vowel, as byte values.
_TCVN3_TONED: dict[str, tuple[int, int, int, int, int]] = {
    "a": (0xB5, 0xB6, 0xB7, 0xB8, 0xB9),
    "ă": (0xBB, 0xBC, 0xBD, 0xBE, 0xC6),
    "â": (0xC7, 0xC8, 0xC9, 0xCA, 0xCB),
    "e": (0xCC, 0xCE, 0xCF, 0xD0, 0xD1),
    "ê": (0xD2, 0xD3, 0xD4, 0xD5, 0xD6),
    "i": (0xD7, 0xD8, 0xDC, 0xDD, 0xDE),
    "o": (0xDF, 0xE1, 0xE2, 0xE3, 0xE4),
    "ô": (0xE5, 0xE6, 0xE7, 0xE8, 0xE9),
    "ơ": (0xEA, 0xEB, 0xEC, 0xED, 0xEE),
    "u": (0xEF, 0xF1, 0xF2, 0xF3, 0xF4),
    "ư": (0xF5, 0xF6, 0xF7, 0xF8, 0xF9),
    "y": (0xFA, 0xFB, 0xFC, 0xFD, 0xFE),
}
_TONE_MARKS = ("\u0300", "\u0309", "\u0303", "\u0301", "\u0323")  # grave, hook above, tilde, acute, dot below

_TCVN3_PLAIN: dict[int, str] = {
    0xA1: "Ă",
    0xA2: "Â",
    0xA3: "Ê",
    0xA4: "Ô",
    0xA5: "Ơ",
    0xA6: "Ư",
    0xA7: "Đ",
    0xA8: "ă",
    0xA9: "â",
    0xAA: "ê",
    0xAB: "ô",
    0xAC: "ơ",
    0xAD: "ư",
    0xAE: "đ",
}


def _compose(base: str, mark: str) -> str:
    return unicodedata.normalize("NFC", base + mark)


def _tcvn3_table() -> dict[str, str]:
    table = {chr(code): letter for code, letter in _TCVN3_PLAIN.items()}
    for vowel, codes in _TCVN3_TONED.items():
        for code, mark in zip(codes, _TONE_MARKS, strict=True):
            table[chr(code)] = _compose(vowel, mark)
    return table


TCVN3: dict[str, str] = _tcvn3_table()
"""Latin-1 character (as decoded from a TCVN3 byte) -> Unicode letter."""

# -- VNI-Windows ---------------------------------------------------------------------------------------------
# Mark bytes (lower-case and upper-case forms) after a base vowel, and the combining marks they stand for.
_VNI_TONES: dict[str, str] = {
    "ø": "\u0300",
    "ù": "\u0301",
    "û": "\u0309",
    "õ": "\u0303",
    "ï": "\u0323",
    "Ø": "\u0300",
    "Ù": "\u0301",
    "Û": "\u0309",
    "Õ": "\u0303",
    "Ï": "\u0323",
}
# Circumflex (a, e, o) alone or with a tone.
_VNI_CIRCUMFLEX: dict[str, str] = {
    "â": "",
    "á": "\u0301",
    "à": "\u0300",
    "å": "\u0309",
    "ã": "\u0303",
    "ä": "\u0323",
    "Â": "",
    "Á": "\u0301",
    "À": "\u0300",
    "Å": "\u0309",
    "Ã": "\u0303",
    "Ä": "\u0323",
}
# Breve (a only) alone or with a tone.
_VNI_BREVE: dict[str, str] = {
    "ê": "",
    "é": "\u0301",
    "è": "\u0300",
    "ú": "\u0309",
    "ü": "\u0303",
    "ë": "\u0323",
    "Ê": "",
    "É": "\u0301",
    "È": "\u0300",
    "Ú": "\u0309",
    "Ü": "\u0303",
    "Ë": "\u0323",
}
# Letters written as one byte.
VNI_SINGLE: dict[str, str] = {
    "ñ": "đ",
    "Ñ": "Đ",
    "ô": "ơ",
    "Ô": "Ơ",
    "ö": "ư",
    "Ö": "Ư",
    "í": "í",
    "Í": "Í",
    "ì": "ì",
    "Ì": "Ì",
    "æ": "ỉ",
    "Æ": "Ỉ",
    "ó": "ĩ",
    "Ó": "Ĩ",
    "ò": "ị",
    "Ò": "Ị",
    "î": "ỵ",
    "Î": "Ỵ",
}


def _vni_pairs() -> dict[str, str]:
    pairs: dict[str, str] = {}
    for base in "aeouyAEOUY":
        for mark_char, tone in _VNI_TONES.items():
            pairs[base + mark_char] = _compose(base, tone)
    for base in "ôÔöÖ":  # ơ and ư with a tone
        for mark_char, tone in _VNI_TONES.items():
            pairs[base + mark_char] = _compose(VNI_SINGLE[base], tone)
    for base in "aeoAEO":
        for mark_char, tone in _VNI_CIRCUMFLEX.items():
            pairs[base + mark_char] = _compose(base, "\u0302" + tone)
    for base in "aA":
        for mark_char, tone in _VNI_BREVE.items():
            pairs[base + mark_char] = _compose(base, "\u0306" + tone)
    return pairs


VNI_PAIRS: dict[str, str] = _vni_pairs()
"""Two characters (base vowel + mark byte, as decoded from VNI bytes) -> Unicode letter."""

# -- VIQR (RFC 1456) -----------------------------------------------------------------------------------------
VIQR_MODIFIERS: dict[str, str] = {"(": "\u0306", "^": "\u0302", "+": "\u031b"}
VIQR_TONES: dict[str, str] = {"'": "\u0301", "`": "\u0300", "?": "\u0309", "~": "\u0303", ".": "\u0323"}
