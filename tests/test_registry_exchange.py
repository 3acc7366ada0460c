"""Import and export of agencies in the national hubs' shape: round trips, idempotence, all-or-nothing."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import delete, update
from sqlalchemy.orm import Session, sessionmaker

from registry import agencies, exchange
from registry.exchange import ImportRejected
from registry.models import Account, Agency
from tests.fixtures.registry import DEMO_GATEWAY

# Parents on later rows than their children on purpose: the file's order must not matter.
HUB_CSV = (
    "code,parent_code,name,mail,phone,fax\n"
    "000.00.15.H12,000.00.00.H12,Sở Tài chính tỉnh Cà Mau,vanthu@stc.camau.lienthong.test,0290 3831 015,0290 3831 016\n"
    '000.00.01.H12,000.00.00.H12,"Văn phòng UBND tỉnh Cà Mau, bộ phận văn thư",'
    "vanthu@vp.camau.lienthong.test;so2@vp.camau.lienthong.test,,\n"
    "000.00.00.H12,,Ủy ban nhân dân tỉnh Cà Mau,vanthu@ubnd.camau.lienthong.test,,\n"
    "000.00.00.H41,,Ủy ban nhân dân tỉnh Nghệ An,vanthu@ubnd.nghean.lienthong.test,,\n"
)


def _import(sessions: sessionmaker[Session], data: str, fmt: exchange.Format = "csv") -> exchange.ImportReport:
    with sessions.begin() as session:
        return exchange.import_agencies(session, data.encode("utf-8"), fmt, DEMO_GATEWAY, source="hub.csv")


def _export(sessions: sessionmaker[Session], fmt: exchange.Format) -> str:
    with sessions() as session:
        return exchange.export_agencies(session, fmt)


def _snapshot(sessions: sessionmaker[Session]) -> list[dict[str, object]]:
    with sessions() as session:
        return [agencies.record(a) for a in agencies.listing(session)]


def test_hub_csv_imports_with_parents_after_children(sessions: sessionmaker[Session]) -> None:
    report = _import(sessions, HUB_CSV)
    assert sorted(report.created) == ["000.00.00.H12", "000.00.00.H41", "000.00.01.H12", "000.00.15.H12"]
    with sessions() as session:
        office = agencies.get(session, "000.00.01.H12")
        assert office.name == "Văn phòng UBND tỉnh Cà Mau, bộ phận văn thư"
        assert office.parent_id == "000.00.00.H12"
        assert office.primary_mailbox == "vanthu@vp.camau.lienthong.test"
        assert len(office.mailboxes) == 2
        assert office.gateway == DEMO_GATEWAY  # no gateway column: hosted here
        assert agencies.get(session, "000.00.15.H12").fax == "0290 3831 016"


def test_reimport_changes_nothing(sessions: sessionmaker[Session]) -> None:
    _import(sessions, HUB_CSV)
    before = _snapshot(sessions)
    report = _import(sessions, HUB_CSV)
    assert (report.created, report.updated, len(report.unchanged)) == ([], [], 4)
    assert _snapshot(sessions) == before  # updated_at included: nothing was touched


def test_changed_rows_update_and_mailboxes_move(sessions: sessionmaker[Session]) -> None:
    _import(sessions, HUB_CSV)
    changed = (
        HUB_CSV.replace("Sở Tài chính tỉnh Cà Mau", "Sở Tài chính")
        # the second mailbox of the office moves to the finance department and becomes its primary
        .replace(
            "vanthu@stc.camau.lienthong.test,0290", "so2@vp.camau.lienthong.test;vanthu@stc.camau.lienthong.test,0290"
        )
        .replace(";so2@vp.camau.lienthong.test,,", ",,")
    )
    report = _import(sessions, changed)
    assert report.updated == ["000.00.01.H12", "000.00.15.H12"]
    assert sorted(report.unchanged) == ["000.00.00.H12", "000.00.00.H41"]
    with sessions() as session:
        finance = agencies.get(session, "000.00.15.H12")
        assert finance.name == "Sở Tài chính"
        assert finance.primary_mailbox == "so2@vp.camau.lienthong.test"
        assert [m.address for m in agencies.get(session, "000.00.01.H12").mailboxes] == [
            "vanthu@vp.camau.lienthong.test"
        ]


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_import_round_trip(
    sessions: sessionmaker[Session], demo_credentials: object, fmt: exchange.Format
) -> None:
    exported = _export(sessions, fmt)
    if fmt == "json":
        rows = json.loads(exported)
        assert {"code", "parent_code", "name", "mail", "phone", "fax"} <= set(rows[0])
    before = _snapshot(sessions)
    assert _import(sessions, exported, fmt).created == []
    assert _snapshot(sessions) == before
    # Into an empty registry: the same agencies come out again, byte for byte.
    with sessions.begin() as session:
        session.execute(update(Agency).values(parent_id=None))
        session.execute(delete(Account))
        session.execute(delete(Agency))
    report = _import(sessions, exported, fmt)
    assert len(report.created) == len(before)
    assert _export(sessions, fmt) == exported
    district = next(r for r in _snapshot(sessions) if r["organ_id"] == "000.00.37.H12")
    assert (district["status"], district["suspended_since"]) == ("suspended", "2025-07-01")


def test_json_accepts_a_list_of_mailboxes(sessions: sessionmaker[Session]) -> None:
    data = [{"code": "000.00.00.H12", "name": "UBND", "mail": ["a@ubnd.camau.lienthong.test", "b@x.test"]}]
    _import(sessions, json.dumps(data), "json")
    with sessions() as session:
        assert agencies.get(session, "000.00.00.H12").primary_mailbox == "a@ubnd.camau.lienthong.test"


def test_every_bad_row_is_reported_and_nothing_imported(sessions: sessionmaker[Session]) -> None:
    _import(sessions, "code,name\n000.00.00.H12,UBND\n")
    before = _snapshot(sessions)
    bad = """\
code,parent_code,name,mail,phone,fax
000.00.01.H12,000.00.00.H12,Văn phòng,vanthu@vp.camau.lienthong.test,,
000.00.H12,,Bad code,,,
000.00.02.H12,000.00.77.H12,Unknown parent,,,
000.00.03.H12,,,,,
000.00.04.H12,,Bad mail,not-an-address,,
000.00.05.H12,,Same mail,vanthu@vp.camau.lienthong.test,,
000.00.01.H12,,Duplicate,,,
000.00.06.H12,000.00.07.H12,Loop A,,,
000.00.07.H12,000.00.06.H12,Loop B,,,
000.00.08.H12,,A good row,,,
"""
    with pytest.raises(ImportRejected) as caught:
        _import(sessions, bad)
    problems = caught.value.problems
    assert problems == [
        "row 3: code '000.00.H12': expected AAA.BB.CC.Xnn: four dot-separated parts, three of digits and a last one"
        " of an upper-case group letter and two digits, at most 35 characters, e.g. 000.00.00.H12",
        "row 4: parent_code '000.00.77.H12': no such agency in the file or the registry",
        "row 5: name: required, the agency's full name",
        "row 6: mail 'not-an-address': expected a plain address such as vanthu@stc.camau.gov.vn",
        "row 7: mail 'vanthu@vp.camau.lienthong.test': also given on row 2",
        "row 8: code '000.00.01.H12': already given on row 2",
        "row 9: parent_code '000.00.07.H12': makes a loop (000.00.06.H12 -> 000.00.07.H12 -> 000.00.06.H12)",
        "row 10: parent_code '000.00.06.H12': makes a loop (000.00.07.H12 -> 000.00.06.H12 -> 000.00.07.H12)",
    ]
    assert caught.value.message.startswith("hub.csv: 8 bad row(s), nothing imported\nrow 3: ")
    assert _snapshot(sessions) == before  # the good rows 2 and 11 were not imported either


def test_cycle_with_the_registry_is_refused(sessions: sessionmaker[Session]) -> None:
    _import(sessions, "code,parent_code,name\n000.00.00.H12,,UBND\n000.00.01.H12,000.00.00.H12,VP\n")
    with pytest.raises(ImportRejected) as caught:
        _import(sessions, "code,parent_code,name\n000.00.00.H12,000.00.01.H12,UBND\n")
    assert caught.value.problems == [
        "row 2: parent_code '000.00.01.H12': makes a loop (000.00.00.H12 -> 000.00.01.H12 -> 000.00.00.H12)"
    ]


@pytest.mark.parametrize(
    ("data", "fmt", "message"),
    [
        ("code,name,region\n", "csv", "hub.csv: header: unknown column(s) 'region'"),
        ("parent_code,name\n", "csv", "hub.csv: header: missing column(s) code"),
        ("{}", "json", "hub.csv: expected a JSON list of objects"),
        ("[{", "json", "hub.csv: invalid JSON at line 1 column 3"),
    ],
)
def test_file_level_problems(sessions: sessionmaker[Session], data: str, fmt: exchange.Format, message: str) -> None:
    with pytest.raises(exchange.InputError) as caught:
        _import(sessions, data, fmt)
    assert caught.value.message.startswith(message)


def test_json_row_problems(sessions: sessionmaker[Session]) -> None:
    data = json.dumps([{"code": "000.00.00.H12", "name": 5}, "x", {"code": "000.00.01.H12", "name": "VP", "zip": 1}])
    with pytest.raises(ImportRejected) as caught:
        _import(sessions, data, "json")
    assert caught.value.problems == [
        "row 1: name: expected a string",
        "row 2: expected an object with code, parent_code, name, mail, ...",
        "row 3: unknown key(s) 'zip'",
    ]


def test_not_utf8_is_refused(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(exchange.InputError, match="not UTF-8"), sessions.begin() as session:
        exchange.import_agencies(session, "code,name\n000.00.00.H12,Cà Mau\n".encode("cp1258"), "csv", "x", "f.csv")
