"""OrganId validation: the QCVN 102 structure AAA.BB.CC.Xnn, at most 35 characters."""

from __future__ import annotations

import pytest

from gateway.errors import InputError
from registry.organ_id import MAX_LENGTH, check_organ_id, is_organ_id, organ_id_problem


@pytest.mark.parametrize(
    "code",
    [
        "000.00.00.G22",  # Government Office
        "000.00.04.G14",
        "000.12.30.A36",
        "000.21.36.I03",
        "000.00.00.H12",
        "000.00.13.H53",
        "0000.000.000.H123",  # wider parts, as the 35-character field allows
    ],
)
def test_valid_codes(code: str) -> None:
    assert is_organ_id(code)
    assert check_organ_id(code) == code


@pytest.mark.parametrize(
    "code",
    [
        "",
        "000.00.H12",  # three parts
        "000.00.00.00.H12",  # five parts
        "000.00.00.h12",  # lower-case group letter
        "000.00.00.H1",  # one digit after the letter
        "000.00.00.12",  # no group letter
        "00.00.00.H12",  # first part too short
        "000.0.00.H12",
        "000.00.00.HH12",
        " 000.00.00.H12",
        "000.00.00.H12\n",
        "000-00-00-H12",
        "000.00.00.Ḩ12",
        "AAA.BB.CC.X01",
        "000.00.00.H12.",
        "0" * 26 + ".00.00.H12",  # structure right but 36 characters
    ],
)
def test_invalid_codes(code: str) -> None:
    assert not is_organ_id(code)
    with pytest.raises(InputError) as caught:
        check_organ_id(code, "code")
    assert caught.value.message.startswith(f"code {code!r}: ")
    assert "AAA.BB.CC.Xnn" in caught.value.message


def test_length_limit_is_exactly_35() -> None:
    at_limit = "0" * (MAX_LENGTH - 10) + ".00.00.H12"
    assert len(at_limit) == MAX_LENGTH
    assert is_organ_id(at_limit)
    problem = organ_id_problem("0" + at_limit)
    assert problem is not None
    assert problem.startswith("36 characters")
