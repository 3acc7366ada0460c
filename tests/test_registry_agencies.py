"""Agencies: adding, the parent chain (no loops), suspension, mailbox ownership."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session, sessionmaker

from gateway.errors import InputError, NotFoundError
from registry import agencies
from registry.agencies import AgencySpec
from tests.fixtures.registry import DEMO_GATEWAY


def _add(session: Session, organ_id: str, parent: str | None = None, mail: tuple[str, ...] = ()) -> None:
    agencies.add(session, AgencySpec(organ_id, f"Agency {organ_id}", "AG", parent, mail), DEMO_GATEWAY)


def test_add_and_read_back(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        _add(session, "000.00.00.H12", mail=("VanThu@UBND.camau.lienthong.test", "so2@ubnd.camau.lienthong.test"))
        _add(session, "000.00.15.H12", parent="000.00.00.H12")
    with sessions() as session:
        province = agencies.get(session, "000.00.00.H12")
        assert province.primary_mailbox == "vanthu@ubnd.camau.lienthong.test"  # normalised, first is primary
        assert [m.address for m in province.mailboxes] == [
            "vanthu@ubnd.camau.lienthong.test",
            "so2@ubnd.camau.lienthong.test",
        ]
        assert agencies.is_local(province, DEMO_GATEWAY)
        assert province.created_at.tzinfo is not None
        found = agencies.by_mailbox(session, "so2@ubnd.camau.lienthong.test")
        assert found is not None
        assert found.organ_id == "000.00.00.H12"
        assert agencies.get(session, "000.00.15.H12").parent_id == "000.00.00.H12"


def test_refusals_name_the_field(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        _add(session, "000.00.00.H12", mail=("vanthu@ubnd.camau.lienthong.test",))
    cases = [
        (AgencySpec("000.00.00.H12", "Again"), "code '000.00.00.H12': this agency already exists"),
        (AgencySpec("000.00.01.H12", "VP", parent_id="000.00.09.H12"), "parent_code '000.00.09.H12': no such agency"),
        (
            AgencySpec("000.00.01.H12", "VP", mailboxes=("vanthu@ubnd.camau.lienthong.test",)),
            "mail 'vanthu@ubnd.camau.lienthong.test': already the mailbox of agency 000.00.00.H12",
        ),
        (AgencySpec("000.00.01.H12", " "), "name: required"),
        (AgencySpec("000.00.01.H12", "x" * 201), "name: 201 characters, at most 200"),
        (AgencySpec("000.00.01.H12", "VP", short_name="V P"), "short_name 'V P': expected"),
        (AgencySpec("000.00.01.H12", "VP", mailboxes=("not an address",)), "mail 'not an address': expected"),
        (AgencySpec("000.00.01.H12", "VP", phone="call me"), "phone 'call me': expected"),
        (AgencySpec("000.00.01.H12", "VP", gateway="Ca Mau"), "gateway 'Ca Mau': expected"),
        (AgencySpec("000.00.01.H12", "VP", parent_id="000.00.01.H12"), "cannot be its own parent"),
    ]
    for spec, message in cases:
        with pytest.raises(InputError) as caught, sessions.begin() as session:
            agencies.add(session, spec, DEMO_GATEWAY)
        assert message in caught.value.message
    with sessions() as session:
        assert [a.organ_id for a in agencies.listing(session)] == ["000.00.00.H12"]


def test_parent_cycles_are_refused(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        _add(session, "000.00.00.H12")
        _add(session, "000.00.01.H12", parent="000.00.00.H12")
        _add(session, "000.01.01.H12", parent="000.00.01.H12")
    with pytest.raises(InputError) as caught, sessions.begin() as session:
        agencies.set_parent(session, "000.00.00.H12", "000.01.01.H12")
    assert "000.00.00.H12 -> 000.01.01.H12 -> 000.00.01.H12 -> 000.00.00.H12" in caught.value.message
    with pytest.raises(InputError), sessions.begin() as session:
        agencies.set_parent(session, "000.00.01.H12", "000.00.01.H12")
    with sessions.begin() as session:  # a legal move still works
        agencies.set_parent(session, "000.01.01.H12", "000.00.00.H12")
    with sessions() as session:
        assert agencies.get(session, "000.00.00.H12").parent_id is None
        assert agencies.get(session, "000.01.01.H12").parent_id == "000.00.00.H12"


def test_suspend_keeps_the_agency_readable_and_activate_restores_it(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        _add(session, "000.00.37.H12")
        agencies.suspend(session, "000.00.37.H12", date(2025, 7, 1))
    with sessions() as session:
        assert agencies.listing(session, include_suspended=False) == []
        agency = agencies.get(session, "000.00.37.H12")
        assert (agency.status, agency.suspended_since) == ("suspended", date(2025, 7, 1))
    with sessions.begin() as session:
        agencies.activate(session, "000.00.37.H12")
    with sessions() as session:
        agency = agencies.get(session, "000.00.37.H12")
        assert (agency.status, agency.suspended_since) == ("active", None)
        with pytest.raises(NotFoundError, match=r"'000\.00\.99\.H12' is not in the registry"):
            agencies.suspend(session, "000.00.99.H12", date(2025, 7, 1))


def test_demo_province_shape(sessions: sessionmaker[Session], demo_credentials: object) -> None:
    with sessions() as session:
        everything = {a.organ_id: a for a in agencies.listing(session)}
        active = agencies.listing(session, include_suspended=False)
    assert everything["000.00.00.H12"].name == "Ủy ban nhân dân tỉnh Cà Mau"
    assert everything["000.00.00.H12"].parent_id is None
    district = everything["000.00.37.H12"]
    assert (district.name, district.status, district.suspended_since) == (
        "Ủy ban nhân dân huyện Năm Căn",
        "suspended",
        date(2025, 7, 1),
    )
    assert len(active) == len(everything) - 1
    assert all(a.primary_mailbox and a.primary_mailbox.endswith(".camau.lienthong.test") for a in everything.values())
    assert everything["000.00.15.H12"].primary_mailbox == "vanthu@stc.camau.lienthong.test"
