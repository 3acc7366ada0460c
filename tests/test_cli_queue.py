"""``lienthong queue`` and ``lienthong document show`` against a real home (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner

from gateway import queue
from gateway.cli import main
from gateway.home import Home
from gateway.ledger.events import Event, EventKind
from gateway.ledger.store import append
from registry import db

DOC = "000.00.00.H12,2026/03/02,15/UBND-VP"


def run(home: Home, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--home", str(home.root), *args])
    return result.exit_code, result.stdout, result.stderr


def test_queue_list_retry_drop(demo_home: Home) -> None:
    sessions = db.open_registry(demo_home.database_url)
    now = datetime.now(UTC)
    with sessions.begin() as session:
        first = queue.enqueue(session, "deliver", f"deliver:{DOC}:000.00.15.H12", {"r": 1}, now=now)
        queue.enqueue(session, "deliver", f"deliver:{DOC}:000.00.16.H12", {"r": 2}, now=now)
    code, out, _ = run(demo_home, "queue", "list", "--json")
    assert code == 0
    listed = json.loads(out)
    assert [row["state"] for row in listed] == ["pending", "pending"]
    assert listed[0]["key"] == f"deliver:{DOC}:000.00.15.H12"

    assert run(demo_home, "queue", "drop", str(first))[0] == 0
    code, out, _ = run(demo_home, "queue", "list", "--state", "dropped", "--json")
    assert [row["id"] for row in json.loads(out)] == [first]
    assert run(demo_home, "queue", "retry", str(first))[0] == 0
    code, out, _ = run(demo_home, "queue", "list", "--state", "dropped", "--json")
    assert json.loads(out) == []

    code, _, err = run(demo_home, "queue", "retry", "424242")
    assert code != 0
    assert err.strip() == "lienthong: error: queue item 424242: no such item"


def test_queue_drop_and_retry_take_an_expired_claim_but_not_a_live_one(demo_home: Home) -> None:
    sessions = db.open_registry(demo_home.database_url)
    now = datetime.now(UTC)
    with sessions.begin() as session:  # the live claim first: a claim takes the most overdue item, expired or not
        live = queue.enqueue(session, "deliver", f"deliver:{DOC}:000.00.16.H12", {"r": 2}, now=now)
        assert queue.claim(session, "busy", now, lease=timedelta(hours=1)) is not None
        stuck = queue.enqueue(session, "deliver", f"deliver:{DOC}:000.00.15.H12", {"r": 1}, now=now - timedelta(days=1))
        assert queue.claim(session, "gone", now - timedelta(days=1), lease=timedelta(minutes=5)) is not None
    for action in ("drop", "retry"):
        code, _, err = run(demo_home, "queue", action, str(live))
        assert code != 0
        assert f"queue item {live} is claimed" in err
    assert run(demo_home, "queue", "drop", str(stuck))[0] == 0
    assert run(demo_home, "queue", "retry", str(stuck))[0] == 0
    code, out, _ = run(demo_home, "queue", "list", "--json")
    assert {row["id"]: row["state"] for row in json.loads(out)} == {stuck: "pending", live: "claimed"}


def test_document_show_prints_the_timeline(demo_home: Home) -> None:
    sessions = db.open_registry(demo_home.database_url)
    at = datetime(2026, 3, 2, 2, 15, tzinfo=UTC)
    with sessions.begin() as session:
        append(session, Event(EventKind.SUBMITTED, at, DOC, "000.00.00.H12", content_sha256="ab" * 32))
        append(session, Event(EventKind.ACCEPTED, at, DOC, "000.00.00.H12", content_sha256="ab" * 32))
    code, out, _ = run(demo_home, "document", "show", DOC, "--json")
    assert code == 0
    timeline = json.loads(out)
    assert [row["kind"] for row in timeline] == ["submitted", "accepted"]
    assert timeline[0]["content_sha256"] == "ab" * 32
    code, out, _ = run(demo_home, "document", "show", DOC)
    assert "submitted" in out

    code, _, err = run(demo_home, "document", "show", "000.00.00.H12,2026/03/02,99/UBND-VP")
    assert code != 0
    assert "no ledger events" in err
