"""Legacy-encoded and decomposed metadata text: refused, or converted where the sender's configuration says so."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import main
from gateway.config import settings_from_mapping
from gateway.envelope.errors import EnvelopeError
from gateway.envelope.model import SignerInfo
from gateway.envelope.parse import parse
from gateway.envelope.validate import check, is_refusal
from gateway.errors import ConfigError
from tests.fixtures.envelope import NOW, SENDER_ID, build_valid, make_header
from tests.test_vntext_properties import to_tcvn3, to_viqr, to_vni

SUBJECT = "Về việc tổ chức hội nghị tổng kết công tác năm 2025"
SIGNER = "Nguyễn Văn An"


def _legacy_envelope(encode: Callable[[str], str]) -> bytes:
    signer = SignerInfo("KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", encode(SIGNER))
    return build_valid(make_header(subject=encode(SUBJECT), signer_info=signer))


@pytest.mark.parametrize(("encoding", "encode"), [("TCVN3", to_tcvn3), ("VNI", to_vni), ("VIQR", to_viqr)])
def test_refused_with_the_unicode_text_suggested_when_the_sender_is_not_listed(encoding, encode) -> None:
    raw = _legacy_envelope(encode)
    with pytest.raises(EnvelopeError) as caught:
        check(raw, now=NOW, convert_legacy=("000.00.15.H12",))  # someone else is listed
    problems = {p.field: p for p in caught.value.problems}
    assert problems["Subject"].code == "TEXT_NOT_UNICODE"
    assert problems["Subject"].suggestion == SUBJECT
    assert encoding in problems["Subject"].detail
    assert "convert_legacy" in problems["Subject"].detail
    assert problems["SignerInfo/FullName"].suggestion == SIGNER
    assert {p.code for p in caught.value.problems} == {"TEXT_NOT_UNICODE"}


@pytest.mark.parametrize(("encoding", "encode"), [("TCVN3", to_tcvn3), ("VNI", to_vni), ("VIQR", to_viqr)])
def test_converted_and_reported_when_the_sender_is_listed(encoding, encode) -> None:
    raw = _legacy_envelope(encode)
    received = parse(raw)
    env = check(raw, now=NOW, convert_legacy=(SENDER_ID,))
    assert env.metadata is not None
    assert env.metadata.header.subject == SUBJECT
    assert env.metadata.header.signer_info is not None
    assert env.metadata.header.signer_info.full_name == SIGNER
    assert env.subject == f"15/QĐ-UBND: {SUBJECT}"  # the Subject header, decoded, is converted too
    reported = {c.field: c for c in env.conversions}
    assert (reported["Subject"].encoding, reported["Subject"].original) == (encoding, encode(SUBJECT))
    assert reported["Subject"].converted == SUBJECT
    assert reported["SignerInfo/FullName"].converted == SIGNER
    assert "Subject header" in reported
    # what was signed and hashed is exactly what was received
    assert env.parts == received.parts
    assert env.raw_sha256 == received.raw_sha256
    assert received.metadata is not None
    assert received.metadata.header.subject == encode(SUBJECT)


def test_a_classified_stamp_typed_in_tcvn3_is_refused_as_classified_not_as_encoding() -> None:
    raw = build_valid(make_header(subject=to_tcvn3("Kế hoạch phòng thủ năm 2026 (Tối mật)")))
    with pytest.raises(EnvelopeError) as caught:
        check(raw, now=NOW)
    assert caught.value.primary.code == "CLASSIFIED"
    assert is_refusal(caught.value)  # so none of its content is stored


def test_nfd_text_is_converted_for_every_sender_and_reported() -> None:
    decomposed = unicodedata.normalize("NFD", SUBJECT)
    env = check(build_valid(make_header(subject=decomposed)), now=NOW)
    assert env.metadata is not None
    assert env.metadata.header.subject == SUBJECT
    assert {(c.field, c.encoding) for c in env.conversions} >= {("Subject", "NFD"), ("Subject header", "NFD")}


def test_unicode_text_is_not_touched() -> None:
    raw = build_valid()
    received = parse(raw)
    env = check(raw, now=NOW, convert_legacy=(SENDER_ID,))
    assert env.conversions == ()
    assert env.metadata == received.metadata


def test_setting_validates_organ_ids() -> None:
    settings = settings_from_mapping({"envelope": {"convert_legacy": [SENDER_ID, "000.00.15.H12"]}})
    assert settings.envelope.convert_legacy == (SENDER_ID, "000.00.15.H12")
    assert settings_from_mapping({}).envelope.convert_legacy == ()
    with pytest.raises(ConfigError, match=r"envelope\.convert_legacy .*'000\.00\.15\.h12': expected AAA\.BB\.CC\.Xnn"):
        settings_from_mapping({"envelope": {"convert_legacy": ["000.00.15.h12"]}})
    with pytest.raises(ConfigError, match="listed twice"):
        settings_from_mapping({"envelope": {"convert_legacy": [SENDER_ID, SENDER_ID]}})
    with pytest.raises(ConfigError, match=r"envelope\.convert: unknown key"):
        settings_from_mapping({"envelope": {"convert": [SENDER_ID]}})


def _check_cli(home: Path, eml: Path) -> tuple[int, dict[str, object]]:
    args = ["--home", str(home), "envelope", "check", str(eml), "--no-registry", "--now", "2026/03/03 08:00:00"]
    result = CliRunner().invoke(main, [*args, "--json"], catch_exceptions=False)
    return result.exit_code, json.loads(result.output)


def test_cli_check_reads_the_setting_from_the_home(tmp_path: Path) -> None:
    eml = tmp_path / "tcvn3.eml"
    eml.write_bytes(_legacy_envelope(to_tcvn3))
    home = tmp_path / "home"
    home.mkdir()
    (home / "lienthong.toml").write_text("[envelope]\nconvert_legacy = []\n", encoding="utf-8")
    code, out = _check_cli(home, eml)
    assert code == 3
    assert "TEXT_NOT_UNICODE" in out["codes"]
    (home / "lienthong.toml").write_text(f'[envelope]\nconvert_legacy = ["{SENDER_ID}"]\n', encoding="utf-8")
    code, out = _check_cli(home, eml)
    assert code == 0, out
    conversions = {c["field"]: c for c in out["conversions"]}
    assert conversions["Subject"] == {
        "field": "Subject",
        "encoding": "TCVN3",
        "original": to_tcvn3(SUBJECT),
        "converted": SUBJECT,
    }
    text = CliRunner().invoke(
        main, ["--home", str(home), "envelope", "check", str(eml), "--no-registry", "--now", "2026/03/03 08:00:00"]
    )
    assert text.exit_code == 0
    assert f"converted: Subject (TCVN3): {to_tcvn3(SUBJECT)!r} -> {SUBJECT!r}" in text.output


def test_cli_check_names_a_bad_setting(tmp_path: Path) -> None:
    eml = tmp_path / "ok.eml"
    eml.write_bytes(build_valid())
    (tmp_path / "lienthong.toml").write_text('[envelope]\nconvert_legacy = ["H12"]\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["--home", str(tmp_path), "envelope", "check", str(eml), "--no-registry"])
    assert result.exit_code == 2
    assert "envelope.convert_legacy" in result.stderr
    assert "expected AAA.BB.CC.Xnn" in result.stderr
