"""Conversion of legacy Vietnamese text to NFC Unicode (TCVN3, VNI-Windows, VIQR, cp1258-decomposed)."""

from __future__ import annotations

import re
import unicodedata

from gateway.vntext.tables import TCVN3, VIQR_MODIFIERS, VIQR_TONES, VNI_PAIRS, VNI_SINGLE

ENCODINGS = ("TCVN3", "VNI", "VIQR", "cp1258")


def nfc(text: str) -> str:
    """The form text is stored and compared in (TCVN 6909 as used by the state: precomposed, NFC)."""
    return unicodedata.normalize("NFC", text)


def convert_legacy(text: str, encoding: str) -> str:
    """``text`` (legacy bytes mis-decoded as Latin-1/cp1252, or VIQR ASCII) as NFC Unicode.

    Raises ValueError for an unknown encoding name: a programming error, not bad input.
    """
    if encoding == "TCVN3":
        return nfc(_from_tcvn3(text))
    if encoding == "VNI":
        return nfc(_VNI_PATTERN.sub(_vni_replace, text))
    if encoding == "VIQR":
        return nfc(_from_viqr(text))
    if encoding == "cp1258":
        return nfc(text)
    raise ValueError(f"unknown legacy encoding {encoding!r}; expected one of {', '.join(ENCODINGS)}")


# -- TCVN3 -----------------------------------------------------------------------------------------------------
_TCVN3_TRANS = str.maketrans(TCVN3)
_WORD = re.compile(r"\S+")


def _from_tcvn3(text: str) -> str:
    """Translate byte by byte, then restore upper case inside words typed in the .VnTimeH (capitals) font.

    TCVN3 has no codes for upper-case toned letters: "QUYẾT" was typed as the bytes of "QUYết" shown in a capitals
    font. A word whose ASCII letters are all capitals (two at least, so "Mỹ" stays "Mỹ") is therefore upper-cased.
    """

    def word(match: re.Match[str]) -> str:
        original = match.group(0)
        converted = original.translate(_TCVN3_TRANS)
        ascii_letters = [c for c in original if c.isascii() and c.isalpha()]
        if converted != original and len(ascii_letters) >= 2 and all(c.isupper() for c in ascii_letters):
            return converted.upper()
        return converted

    return _WORD.sub(word, text)


# -- VNI: two-character sequences first, then single characters ----------------------------------------------
_VNI_ALL = {**VNI_SINGLE, **VNI_PAIRS}
_VNI_PATTERN = re.compile("|".join(re.escape(k) for k in sorted(_VNI_ALL, key=len, reverse=True)))


def _vni_replace(match: re.Match[str]) -> str:
    return _VNI_ALL[match.group(0)]


# -- VIQR ------------------------------------------------------------------------------------------------------
_VIQR_PATTERN = re.compile(
    r"\\(?P<esc>[(^+'`?~.\\])"
    r"|(?<![A-Za-z])(?P<dd>[dD][dD])"
    r"|(?P<vowel>[aeiouyAEIOUY])(?P<mod>[(^+])?(?P<tone>['`?~.])?"
)
_VALID_MODIFIER = {"(": "aA", "^": "aeoAEO", "+": "ouOU"}


def _from_viqr(text: str) -> str:
    """RFC 1456 mnemonics; a word-final "." or "?" is punctuation unless a lower-case word follows it."""

    def replace(match: re.Match[str]) -> str:
        if match.group("esc"):
            return match.group("esc")
        if match.group("dd"):
            return "đ" if match.group("dd")[0] == "d" else "Đ"
        vowel, mod, tone = match.group("vowel"), match.group("mod"), match.group("tone")
        marks = ""
        tail = ""
        if mod:
            if vowel in _VALID_MODIFIER[mod]:
                marks += VIQR_MODIFIERS[mod]
            else:
                tail += mod
        if tone:
            # after an invalid modifier, leave the rest alone
            if tail or (tone in ".?" and not _tone_context(text, match.end(), modified=bool(marks))):
                tail += tone
            else:
                marks += VIQR_TONES[tone]
        return unicodedata.normalize("NFC", vowel + marks) + tail

    return _VIQR_PATTERN.sub(replace, text)


def _tone_context(text: str, end: int, *, modified: bool) -> bool:
    """Whether a "." or "?" that ends at ``end`` is a tone mark rather than punctuation.

    It is a tone inside a word, before punctuation ("nghi.." is "nghị."), before a lower-case word (a sentence
    does not go on in lower case), or right after a vowel modifier ("So+? Y te^'", "cu+?") unless it is a "." at
    the very end. A "." or "?" at the end of the text or before a capital is punctuation: VIQR writers escape it
    ("\\.") when they mean a tone there.
    """
    rest = text[end : end + 2]
    if rest[:1].isalpha() or rest[:1] in (".", "?", ",", ";", ":", "!", ")"):
        return True
    if modified and (rest[:1] == " " or (rest == "" and text[end - 1] == "?")):
        return True
    return len(rest) == 2 and rest[0] == " " and rest[1].islower()
