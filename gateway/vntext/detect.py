"""Recognising legacy-encoded Vietnamese, with a low false-positive rate on Unicode Vietnamese and on English.

The test is constructive: a text is called TCVN3 or VNI only if it has tokens that are not Vietnamese syllables and
converting it from that encoding turns (nearly) all of them into valid syllables without spoiling the others.
Valid Unicode Vietnamese has no such tokens; English words with a stray accent ("café", "Müller", "Microsoft®")
do not become Vietnamese syllables when converted. VIQR needs several marked words, a fair share of the words, and
no non-ASCII letters at all. cp1258 text is recognised by a combining tone mark after a precomposed letter ("ê" +
U+0301), which a Unicode normaliser never produces: plain NFD text (macOS) is not legacy, ``nfc`` fixes it.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass

from gateway.vntext.convert import convert_legacy, nfc
from gateway.vntext.syllable import TONE_MARKS, is_syllable, is_vietnamese_specific, tokens


@dataclass(frozen=True, slots=True)
class LegacyText:
    encoding: str  # "TCVN3" | "VNI" | "VIQR" | "cp1258"
    suggestion: str  # the text converted to NFC Unicode, to show to the sender


def detect_legacy(text: str) -> LegacyText | None:
    """The legacy encoding ``text`` appears to be in, with the converted text; None for Unicode or plain ASCII."""
    if not text:
        return None
    if _is_cp1258_decomposed(text):
        return LegacyText("cp1258", nfc(text))
    if text.isascii():
        return _detect_viqr(text)
    if any(is_vietnamese_specific(c) for c in nfc(text)):
        return None  # real Unicode Vietnamese is present: mojibake does not produce these letters
    return _detect_byte_encoding(text)


def _is_cp1258_decomposed(text: str) -> bool:
    previous = ""
    for char in text:
        if char in TONE_MARKS and previous and unicodedata.decomposition(previous):
            return True
        previous = char
    return False


def _bad_tokens(text: str) -> int:
    """Non-ASCII tokens that are not syllables, or have a capital after a small letter ("vÒ", "viÖc": TCVN3
    codes for small letters sit where Latin-1 has capitals). A lone symbol ("·", "×") is punctuation, not a word."""
    return sum(1 for token in tokens(text) if _is_bad(token))


def _is_bad(token: str) -> bool:
    if token.isascii() or (len(token) == 1 and not token.isalpha()):
        return False
    if not is_syllable(token):
        return True
    return any(a.islower() and b.isupper() for a, b in itertools.pairwise(token))


def _detect_byte_encoding(text: str) -> LegacyText | None:
    bad = _bad_tokens(text)
    if bad == 0:
        return None
    best: tuple[int, int, str, str] | None = None  # (remaining bad, -fixed, encoding, converted)
    for encoding in ("TCVN3", "VNI"):
        converted = convert_legacy(text, encoding)
        remaining = _bad_tokens(converted)
        # Nearly everything fixed (a foreign name may stay foreign), nothing spoiled.
        if remaining * 5 > bad or remaining >= bad:
            continue
        candidate = (remaining, -(bad - remaining), encoding, converted)
        if best is None or candidate < best:
            best = candidate
    if best is None:
        return None
    return LegacyText(best[2], best[3])


# -- VIQR ------------------------------------------------------------------------------------------------------
_VIQR_WORD = re.compile(
    r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|dd|[bcdghklmnpqrstvx])?"
    r"(?:[aeiouy][(^+]?['`?~.]?){1,3}"
    r"(?:ch|ng|nh|[cmnpt])?['`?~.]?",
    re.IGNORECASE,
)
_STRONG = re.compile(r"^dd|[aeiouy][(^+]|['`?~.][a-z]|['`~]$", re.IGNORECASE)
_TRAILING_PUNCT = re.compile(r"[,;:!)\]\"»]+$")
_MIN_MARKED = 2
_MIN_SHARE = 0.25


def _detect_viqr(text: str) -> LegacyText | None:
    words = [_TRAILING_PUNCT.sub("", w).lstrip('(["«') for w in text.split()]
    words = [w for w in words if any(c.isalpha() for c in w)]
    if not words:
        return None
    marked = sum(1 for w in words if _is_marked_viqr(w) or (w[-1:] in ".?" and _is_marked_viqr(w[:-1])))
    if marked < _MIN_MARKED or marked < _MIN_SHARE * len(words):
        return None
    return LegacyText("VIQR", convert_legacy(text, "VIQR"))


def _is_marked_viqr(word: str) -> bool:
    return bool(_VIQR_WORD.fullmatch(word) and _STRONG.search(word))
