"""``lienthong envelope from-mail``: a clerk's plain mail -> an envelope, with agencies from a real registry.

The home is made by ``lienthong init --demo`` on SQLite and on PostgreSQL (``demo_home``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.envelope.parse import parse
from gateway.envelope.registry_directory import open_directory
from gateway.home import Home
from tests import pdfs
from tests.fixtures.envelope import clerk_mail
from tests.fixtures.registry import invoke, one_line_error

UBND = "Văn thư UBND tỉnh <vanthu@ubnd.camau.lienthong.test>"
TO = "vanthu@stc.camau.lienthong.test, Sở Y tế <VanThu@SYT.camau.lienthong.test>"
SENT = "2026/03/02 09:30:00"


def _mail(tmp_path: Path, name: str = "clerk.eml", **kwargs: object) -> Path:
    path = tmp_path / name
    path.write_bytes(clerk_mail(**{"sender": UBND, "to": TO, **kwargs}))
    return path


def test_registry_answers_by_mailbox(demo_home: Home) -> None:
    directory = open_directory(demo_home)
    stc = directory.by_mailbox("VanThu@STC.camau.lienthong.test")
    assert stc is not None
    assert (stc.organ_id, stc.name, stc.active) == ("000.00.15.H12", "Sở Tài chính tỉnh Cà Mau", True)
    assert stc.mailboxes == ("vanthu@stc.camau.lienthong.test",)
    suspended = directory.by_mailbox("vanthu@huyennamcan.camau.lienthong.test")
    assert suspended is not None
    assert suspended.active is False
    assert directory.by_mailbox("vanthu@nowhere.example") is None
    assert directory.by_mailbox("not an address") is None
    assert directory.lookup("000.00.15.H12") == stc


def test_builds_an_envelope_the_validator_accepts(demo_home: Home, tmp_path: Path) -> None:
    mail = _mail(tmp_path, pdf=pdfs.make_decision_pdf(), body="Độ khẩn: Khẩn\nSố bản: 3\n")
    out = tmp_path / "out.eml"
    result = invoke(demo_home, "envelope", "from-mail", str(mail), "--sent-at", SENT, "-o", str(out), "--json")
    assert result.exit_code == 0, result.output + result.stderr
    summary = json.loads(result.stdout)
    assert summary["built"] is True
    assert summary["document_id"] == "000.00.00.H12,2026/03/02,15/QĐ-UBND"
    assert summary["to"] == ["000.00.15.H12", "000.00.22.H12"]
    assert summary["sources"]["number"] == "pdf"
    assert summary["sources"]["priority"] == "form"
    env = parse(out.read_bytes())
    assert env.from_addr == "vanthu@ubnd.camau.lienthong.test"
    assert env.main_pdf is not None
    assert env.main_pdf.data == pdfs.make_decision_pdf()  # the signed PDF travels byte for byte
    checked = invoke(demo_home, "envelope", "check", str(out), "--now", "2026/03/03 08:00:00", "--json")
    assert checked.exit_code == 0, checked.output
    assert json.loads(checked.stdout)["valid"] is True


def test_reports_one_line_per_missing_field_and_exits_3(demo_home: Home, tmp_path: Path) -> None:
    mail = _mail(tmp_path, pdf=pdfs.make_ascii_pdf(), subject="Về việc họp giao ban")
    out = tmp_path / "out.eml"
    result = invoke(demo_home, "envelope", "from-mail", str(mail), "-o", str(out))
    assert result.exit_code == 3
    lines = result.stdout.splitlines()
    fields = [line.split("] ", 1)[1].split(":", 1)[0] for line in lines]
    assert fields == [
        "Code/CodeNumber",
        "Code/CodeNotation",
        "PromulgationInfo/PromulgationDate",
        "DocumentType/TypeName",
        "SignerInfo/Position",
        "SignerInfo/FullName",
    ]
    assert all(line.startswith("cannot build: [FIELD_MISSING] ") for line in lines)
    assert "Ngày ban hành: 02/03/2026" in result.output  # each line says what to write in the mail
    assert not out.exists()
    as_json = json.loads(invoke(demo_home, "envelope", "from-mail", str(mail), "-o", str(out), "--json").stdout)
    assert as_json["built"] is False
    assert as_json["codes"] == ["FIELD_MISSING"] * 6


def test_unknown_sender_and_recipient_come_from_the_registry(demo_home: Home, tmp_path: Path) -> None:
    mail = _mail(
        tmp_path,
        pdf=pdfs.make_decision_pdf(),
        sender="vanthu@camau.gov.vn",
        to="vanthu@stc.camau.lienthong.test, vanthu@khac.example",
    )
    result = invoke(demo_home, "envelope", "from-mail", str(mail), "--json", "-o", str(tmp_path / "out.eml"))
    assert result.exit_code == 3
    problems = json.loads(result.stdout)["problems"]
    assert [(p["code"], p["field"]) for p in problems] == [("SENDER_UNKNOWN", "From"), ("RECIPIENT_UNKNOWN", "To[1]")]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_json_needs_a_file_for_the_envelope(demo_home: Home, tmp_path: Path) -> None:
    mail = _mail(tmp_path, pdf=pdfs.make_decision_pdf())
    error = one_line_error(invoke(demo_home, "envelope", "from-mail", str(mail), "--json"))
    assert "-o FILE" in error


def test_no_home_is_a_clear_error(tmp_path: Path) -> None:
    mail = _mail(tmp_path, pdf=pdfs.make_decision_pdf())
    error = one_line_error(invoke(tmp_path / "nohome", "envelope", "from-mail", str(mail)))
    assert "no lienthong home" in error
