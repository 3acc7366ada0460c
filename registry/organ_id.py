"""The agency identifier (mã định danh, OrganId) of QCVN 102:2016, validated as a structured but opaque string.

Four dot-separated parts, ``AAA.BB.CC.Xnn`` (e.g. ``000.00.00.H12``): three numeric parts of at least 3, 2 and 2
digits, then an upper-case group letter followed by at least two digits. The standard's amendment SĐ1:2022 widened
the field to 35 characters so longer codes fit; the parts may therefore be wider than the classic widths, but the
whole code never exceeds 35 characters. Nothing else is read into the code: its parts are not decoded.
"""

from __future__ import annotations

import re

from gateway.errors import InputError

MAX_LENGTH = 35
PATTERN = re.compile(r"^[0-9]{3,}\.[0-9]{2,}\.[0-9]{2,}\.[A-Z][0-9]{2,}$")
EXPECTED = (
    "expected AAA.BB.CC.Xnn: four dot-separated parts, three of digits and a last one of an upper-case group letter"
    f" and two digits, at most {MAX_LENGTH} characters, e.g. 000.00.00.H12"
)


def organ_id_problem(text: str) -> str | None:
    """What is wrong with ``text`` as an OrganId, or None when it is valid."""
    if len(text) > MAX_LENGTH:
        return f"{len(text)} characters; {EXPECTED}"
    if not PATTERN.fullmatch(text):
        return EXPECTED
    return None


def is_organ_id(text: str) -> bool:
    return organ_id_problem(text) is None


def check_organ_id(text: str, field: str = "organ id") -> str:
    """``text`` itself when valid; otherwise an InputError naming ``field``, the value and the rule."""
    problem = organ_id_problem(text)
    if problem:
        raise InputError(f"{field} {text!r}: {problem}")
    return text
