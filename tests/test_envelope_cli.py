"""The envelope and edxml commands, end to end through the real CLI (and a real registry made by `init --demo`)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from gateway.cli import main
from tests.pdfs import make_decision_pdf

METADATA = {
    "from": {
        "organ_id": "000.00.00.H12",
        "organ_name": "Ủy ban nhân dân tỉnh Cà Mau",
        "email": "vanthu@ubnd.camau.lienthong.test",
    },
    "code": {"number": "15", "notation": "QĐ-UBND"},
    "promulgation_info": {"place": "Cà Mau", "date": "2026/03/02"},
    "document_type": {"type_name": "Quyết định"},
    "subject": "Về việc ban hành quy chế làm việc của Ủy ban nhân dân tỉnh",
    "signer_info": {"competence": "KT. CHỦ TỊCH", "position": "PHÓ CHỦ TỊCH", "full_name": "Nguyễn Văn An"},
    "other_info": {"priority": 1, "page_amount": 1},
}
STC = "000.00.15.H12=vanthu@stc.camau.lienthong.test=Sở Tài chính"


@pytest.fixture
def work(tmp_path):
    (tmp_path / "meta.json").write_text(json.dumps(METADATA, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "qd.pdf").write_bytes(make_decision_pdf())
    (tmp_path / "phu-luc.txt").write_text("Bảng số liệu\n", encoding="utf-8")
    return tmp_path


def _run(*args: str, home=None):
    prefix = ["--home", str(home)] if home else []
    return CliRunner().invoke(main, [*prefix, *args], catch_exceptions=False)


def _build(work, *extra: str):
    out = work / "qd.eml"
    result = _run(
        "envelope",
        "build",
        "--metadata",
        str(work / "meta.json"),
        "--pdf",
        str(work / "qd.pdf"),
        "--attach",
        str(work / "phu-luc.txt"),
        "--sent-at",
        "2026/03/02 09:30:00",
        "-o",
        str(out),
        *extra,
    )
    assert result.exit_code == 0, result.output
    return out


def test_build_check_show_without_registry(work):
    eml = _build(work, "--to", STC)
    result = _run("envelope", "check", str(eml), "--no-registry", "--json", "--now", "2026/03/03 08:00:00")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["valid"] is True
    shown = json.loads(_run("envelope", "show", str(eml), "--json").output)
    assert shown["metadata"]["header"]["code"] == {"number": "15", "notation": "QĐ-UBND"}
    assert [p["media_type"] for p in shown["parts"]] == [
        "text/plain",
        "application/xml",
        "application/pdf",
        "text/plain",
    ]


def test_check_lists_reason_codes_and_exits_3(work):
    eml = _build(work, "--to", STC, "--subject", "Đơn tố cáo ông Nguyễn Văn B")
    result = _run("envelope", "check", str(eml), "--no-registry", "--json", "--now", "2026/03/03 08:00:00")
    assert result.exit_code == 3
    assert json.loads(result.output)["codes"] == ["DENUNCIATION"]
    eml = _build(work, "--to", STC, "--date", "2026/03/05")
    result = _run("envelope", "check", str(eml), "--no-registry", "--json", "--now", "2026/03/03 08:00:00")
    assert result.exit_code == 3
    assert json.loads(result.output)["codes"] == ["ISSUE_DATE_FUTURE"]  # DocumentId follows --date when not given


def test_check_against_a_real_registry(work, tmp_path):
    home = tmp_path / "home"
    assert _run("init", "--demo", home=home).exit_code == 0
    good = _build(work, "--to", STC)
    result = _run("envelope", "check", str(good), "--json", "--now", "2026/03/03 08:00:00", home=home)
    assert result.exit_code == 0, result.output
    bad = _build(work, "--to", STC, "--to", "999.99.99.Z99=vanthu@nowhere.lienthong.test")
    result = _run("envelope", "check", str(bad), "--json", "--now", "2026/03/03 08:00:00", home=home)
    assert result.exit_code == 3
    assert json.loads(result.output)["codes"] == ["RECIPIENT_UNKNOWN"]


def test_edxml_export_import_round_trip(work):
    eml = _build(work, "--to", STC)
    edxml = work / "qd.edxml"
    assert _run("edxml", "export", str(eml), "-o", str(edxml)).exit_code == 0
    back = work / "back.eml"
    assert _run("edxml", "import", str(edxml), "-o", str(back)).exit_code == 0
    assert back.read_bytes() == eml.read_bytes()


def test_bad_metadata_names_the_field(work):
    (work / "bad.json").write_text(json.dumps({**METADATA, "other_info": {"priority": "cao"}}), encoding="utf-8")
    result = CliRunner().invoke(
        main, ["envelope", "build", "--metadata", str(work / "bad.json"), "--pdf", str(work / "qd.pdf"), "--to", STC]
    )
    assert result.exit_code == 2
    assert "other_info.priority" in result.output
    assert "Traceback" not in result.output
