"""The receiving gateway goes down: the sender queues and retries, warns its records office, and delivers when the
peer returns — exactly once, with the receipt, nothing lost.

The warning counts OFFICE hours, and this test may run at night, on a weekend or on Tết. It does not fake the clock:
the province's configuration makes every hour office time (a profile open 00:00-24:00 every day, and the days
around now marked as working days in the override file, which cancels a public holiday) and sets
``warning_office_hours`` to 0.001 (3.6 s). The notice watch looks at least ten times per warning period, at most
once a second (gateway/workers/runner.py), so the warning comes a few seconds into the outage.
"""

from __future__ import annotations

from datetime import datetime
from hashlib import sha256
from pathlib import Path

from gateway import queue
from gateway.home import Home
from gateway.receipts.notice import read_notice
from registry import db
from tests.gateways import (
    STC,
    STC_MAIL,
    VPCP,
    VPCP_MAIL,
    always_office_hours,
    make_pair,
    openssl_verify,
    running,
    start,
    stop,
    wait_for,
)
from tests.mailboxes import maildir_messages
from tests.test_federation import check_exchange, ledger, queue_state, submit

WARNING_OFFICE_HOURS = 0.001
NON_DELIVERY_OFFICE_HOURS = 1.0  # far beyond the test: the document must be delivered, not given up


def notices(home: Home, kind: str) -> list[bytes]:
    """The notices of one kind in the Sở Tài chính's records office."""
    return [raw for raw in maildir_messages(home, STC_MAIL, "notice") if read_notice(raw)["kind"] == kind]


def test_peer_outage_warns_then_delivers_once_when_the_peer_returns(tmp_path: Path) -> None:
    province, national = make_pair(tmp_path)
    province.home = always_office_hours(province.home, WARNING_OFFICE_HOURS, NON_DELIVERY_OFFICE_HOURS)
    sessions = db.session_factory(db.make_engine(province.home.database_url))
    with running(province, national):
        stop(national)
        submit(province)

        # The sender's records office is warned while the peer is down.
        assert wait_for(lambda: bool(notices(province.home, "warning")), 45), queue_state(province)
        [warning] = notices(province.home, "warning")
        data = read_notice(warning)
        assert (data["recipient"], data["to"]) == (VPCP, STC_MAIL)
        document_id = str(data["document_id"])
        assert document_id.startswith(f"{STC},")
        root = province.home.keys_dir / "ca" / "root.pem"  # the operator's certificate is from the province's CA
        verified = openssl_verify(warning, root, tmp_path)
        assert verified.returncode == 0, verified.stderr
        [event] = [e for e in ledger(province.home) if e["kind"] == "warning"]
        assert (event["document_id"], event["organ_id"], event["counterpart"]) == (document_id, STC, VPCP)
        assert event["content_sha256"] == sha256(warning).hexdigest()
        assert not data.get("problems")
        # Every hour is office time here: the warning's effective time is its technical time, not shifted.
        assert datetime.fromisoformat(event["effective_at"]) == datetime.fromisoformat(event["at"])

        # Meanwhile the relay is retried, nothing has reached the Government Office and no receipt came back.
        def retried() -> bool:
            with sessions() as session:
                return any(i.task == "relay" and i.attempts >= 2 for i in queue.listing(session))

        assert wait_for(retried, 30), queue_state(province)
        with sessions() as session:
            [relay] = [i for i in queue.listing(session) if i.task == "relay"]
        assert relay.state in ("pending", "claimed")
        assert "Connect" in (relay.last_error or "") or "refused" in (relay.last_error or "")
        assert maildir_messages(province.home, STC_MAIL, "receipt") == []
        assert maildir_messages(national.home, VPCP_MAIL) == []

        # The peer returns: delivered once, receipt back, every check of the normal exchange holds.
        start(national)
        check_exchange(
            province,
            national,
            tmp_path,
            province_events=("submitted", "accepted", "warning", "relayed", "receipt_received"),
        )
        with sessions() as session:
            assert {i.state for i in queue.listing(session)} == {"done"}
        # The watch kept running throughout: still one warning, and no non-delivery notice.
        assert len(notices(province.home, "warning")) == 1
        assert notices(province.home, "non-delivery") == []
        assert len(notices(province.home, "acceptance")) == 1
