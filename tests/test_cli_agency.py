"""``lienthong agency ...`` against a demo home, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

from gateway.home import Home
from tests.fixtures.registry import invoke, one_line_error


def _json(home: Home, *args: str) -> object:
    result = invoke(home, *args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.output)


def test_list_and_show(demo_home: Home) -> None:
    active = _json(demo_home, "agency", "list")
    everything = _json(demo_home, "agency", "list", "--all")
    assert isinstance(active, list)
    assert isinstance(everything, list)
    assert len(active) == 9
    assert len(everything) == 10
    assert "000.00.37.H12" not in {a["organ_id"] for a in active}
    shown = _json(demo_home, "agency", "show", "000.00.15.H12")
    assert isinstance(shown, dict)
    assert shown["name"] == "Sở Tài chính tỉnh Cà Mau"
    assert shown["short_name"] == "STC"
    assert shown["mail"] == ["vanthu@stc.camau.lienthong.test"]
    assert shown["hosted_here"] is True
    assert sorted(shown["accounts"]) == ["qlvb@stc.camau.lienthong.test", "vanthu@stc.camau.lienthong.test"]
    province = _json(demo_home, "agency", "show", "000.00.00.H12")
    assert isinstance(province, dict)
    assert "000.00.15.H12" in province["children"]
    table = invoke(demo_home, "agency", "list")
    assert table.exit_code == 0, table.stderr
    assert "9 agencies" in table.output


def test_add_suspend_activate(demo_home: Home) -> None:
    added = invoke(
        demo_home,
        "agency", "add", "000.00.09.H12",
        "--name", "Sở Nội vụ tỉnh Cà Mau", "--short", "SNV", "--parent", "000.00.00.H12",
        "--mail", "vanthu@snv.camau.lienthong.test", "--mail", "hanhchinh@snv.camau.lienthong.test",
        "--phone", "0290 3831 009", "--gateway", "camau",
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    shown = _json(demo_home, "agency", "show", "000.00.09.H12")
    assert isinstance(shown, dict)
    assert shown["mail"] == ["vanthu@snv.camau.lienthong.test", "hanhchinh@snv.camau.lienthong.test"]
    assert (shown["parent_id"], shown["phone"]) == ("000.00.00.H12", "0290 3831 009")

    assert invoke(demo_home, "agency", "suspend", "000.00.09.H12", "--since", "2026-01-01").exit_code == 0
    shown = _json(demo_home, "agency", "show", "000.00.09.H12")
    assert isinstance(shown, dict)
    assert (shown["status"], shown["suspended_since"]) == ("suspended", "2026-01-01")
    assert invoke(demo_home, "agency", "activate", "000.00.09.H12").exit_code == 0
    shown = _json(demo_home, "agency", "show", "000.00.09.H12")
    assert isinstance(shown, dict)
    assert (shown["status"], shown["suspended_since"]) == ("active", None)


def test_agency_errors_name_the_field(demo_home: Home) -> None:
    cases = [
        (("agency", "show", "000.00.H12"), "ORGID '000.00.H12': expected AAA.BB.CC.Xnn"),
        (("agency", "show", "000.00.99.H12"), "agency '000.00.99.H12' is not in the registry"),
        (("agency", "add", "000.00.H12", "--name", "X", "--short", "X"), "ORGID '000.00.H12': expected AAA.BB.CC.Xnn"),
        (
            ("agency", "add", "000.00.09.H12", "--name", "X", "--short", "X", "--parent", "000.00.98.H12"),
            "--parent '000.00.98.H12': no such agency; add the parent first",
        ),
        (
            ("agency", "add", "000.00.09.H12", "--name", "X", "--short", "X", "--mail", "vanthu@"),
            "--mail 'vanthu@': expected a plain address",
        ),
        (
            ("agency", "add", "000.00.15.H12", "--name", "X", "--short", "X"),
            "ORGID '000.00.15.H12': this agency already exists",
        ),
        (("agency", "suspend", "000.00.15.H12", "--since", "1/7/2025"), "--since '1/7/2025': expected a date"),
        (("agency", "import", "nowhere.csv"), "FILE 'nowhere.csv': cannot read"),
        (("agency", "import", "agencies.xlsx"), "format 'xlsx': expected csv or json"),
        (("agency", "export", "-o", "agencies.txt"), "format 'txt': expected csv or json"),
    ]
    for args, expected in cases:
        message = one_line_error(invoke(demo_home, *args))
        assert expected in message, (args, message)


def test_export_and_import(demo_home: Home, tmp_path: Path) -> None:
    csv_out = invoke(demo_home, "agency", "export")
    assert csv_out.exit_code == 0, csv_out.stderr
    assert csv_out.output.startswith("code,parent_code,name,mail,phone,fax,short_name,gateway,status,suspended_since")
    json_file = tmp_path / "agencies.json"
    assert invoke(demo_home, "agency", "export", "-o", str(json_file)).exit_code == 0
    assert len(json.loads(json_file.read_text(encoding="utf-8"))) == 10

    again = invoke(demo_home, "agency", "import", str(json_file))
    assert again.exit_code == 0, again.stderr
    assert "0 created, 0 updated, 10 unchanged" in again.output

    new = tmp_path / "hub.txt"
    new.write_text(
        "code,parent_code,name,mail,phone,fax\n"
        "000.00.09.H12,000.00.00.H12,Sở Nội vụ,vanthu@snv.camau.lienthong.test,,\n"
        "000.00.15.H12,000.00.00.H12,Sở Tài chính (đổi tên),vanthu@stc.camau.lienthong.test,,\n",
        encoding="utf-8",
    )
    imported = invoke(demo_home, "agency", "import", str(new), "--format", "csv")
    assert imported.exit_code == 0, imported.stderr
    assert "1 created, 1 updated, 0 unchanged" in imported.output
    shown = _json(demo_home, "agency", "show", "000.00.15.H12")
    assert isinstance(shown, dict)
    assert shown["name"] == "Sở Tài chính (đổi tên)"
    assert shown["short_name"] == "STC"  # not in the file: kept


def test_bad_import_reports_every_row_and_imports_nothing(demo_home: Home, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "code,parent_code,name,mail,phone,fax\n"
        "000.00.09.H12,000.00.00.H12,Sở Nội vụ,,,\n"
        "000.00.H12,,Bad,,,\n"
        "000.00.10.H12,000.00.10.H12,Self,,,\n",
        encoding="utf-8",
    )
    result = invoke(demo_home, "agency", "import", str(bad))
    assert result.exit_code != 0
    lines = result.stderr.splitlines()
    assert lines[0] == f"lienthong: error: {bad}: 2 bad row(s), nothing imported"
    assert lines[1].startswith("row 3: code '000.00.H12': expected AAA.BB.CC.Xnn")
    assert lines[2] == "row 4: parent_code '000.00.10.H12': an agency cannot be its own parent"
    listed = _json(demo_home, "agency", "list", "--all")
    assert isinstance(listed, list)
    assert len(listed) == 10


def test_set_changes_only_what_is_given(demo_home: Home) -> None:
    before = _json(demo_home, "agency", "show", "000.00.15.H12")
    assert isinstance(before, dict)
    moved = invoke(demo_home, "agency", "set", "000.00.15.H12", "--gateway", "quocgia", "--phone", "0290 3000 000")
    assert moved.exit_code == 0, moved.stderr
    assert f"000.00.15.H12 gateway: {before['gateway']} -> quocgia" in moved.output
    after = _json(demo_home, "agency", "show", "000.00.15.H12")
    assert isinstance(after, dict)
    assert (after["gateway"], after["phone"], after["hosted_here"]) == ("quocgia", "0290 3000 000", False)
    changed = {"gateway", "phone", "hosted_here", "updated_at"}
    assert {k: v for k, v in after.items() if k not in changed} == {k: v for k, v in before.items() if k not in changed}
    assert invoke(demo_home, "agency", "set", "000.00.15.H12", "--no-parent").exit_code == 0
    top = _json(demo_home, "agency", "show", "000.00.15.H12")
    assert isinstance(top, dict)
    assert top["parent_id"] is None


def test_set_errors_name_the_option(demo_home: Home) -> None:
    cases = [
        (("agency", "set", "000.00.15.H12"), "nothing to change"),
        (("agency", "set", "000.00.15.H12", "--gateway", "Quốc Gia"), "--gateway 'Quốc Gia': expected a gateway name"),
        (("agency", "set", "000.00.15.H12", "--short", "S T C"), "--short 'S T C': expected 1-32 letters"),
        (("agency", "set", "000.00.15.H12", "--name", " "), "--name: required"),
        (("agency", "set", "000.00.15.H12", "--parent", "000.00.98.H12"), "agency '000.00.98.H12' is not in the"),
        (("agency", "set", "000.00.00.H12", "--parent", "000.00.15.H12"), "would make a loop in the parent chain"),
        (("agency", "set", "000.00.15.H12", "--parent", "000.00.00.H12", "--no-parent"), "give one of them"),
        (("agency", "set", "000.00.99.H12", "--phone", "123"), "agency '000.00.99.H12' is not in the registry"),
    ]
    for args, expected in cases:
        message = one_line_error(invoke(demo_home, *args))
        assert expected in message, (args, message)
