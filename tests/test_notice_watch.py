"""The notice watch picks exactly the recipients still silent past each deadline, once, whatever else the registry
holds: answered, partly answered, too recent and too old documents side by side (SQLite and PostgreSQL).

The documents are written as the processing and receipt workers write them, so that every case the SQL window
must tell apart is present at once; tests/test_notices.py drives the same watch through real submissions.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from gateway.documents import OutgoingDocument, OutgoingRecipient
from gateway.home import Home
from gateway.intake import SubmissionRecord
from gateway.queue import QueueItem, Task
from gateway.workers.notice_watch import watch_once
from gateway.workers.services import Services
from tests.fixtures.workers import signing_services
from tests.test_worker_process import STC, STC_MAIL

# Friday 13 Feb 2026 17:30 in Vietnam; by Tuesday 24 Feb 17:00 both the 4 and the 16 office hours have passed.
ACCEPTED = datetime(2026, 2, 13, 10, 30, tzinfo=UTC)
NOW = datetime(2026, 2, 24, 10, 0, 1, tzinfo=UTC)
R1, R2, R3 = "000.00.01.H12", "000.00.02.H12", "000.00.03.H12"


@pytest.fixture
def services(demo_home: Home) -> Services:
    return signing_services(demo_home, {STC: STC_MAIL}, lambda: NOW)


def _document(services: Services, name: str, recipients: str, accepted: datetime, answered: dict[str, str]) -> None:
    with services.sessions.begin() as session:
        submission = SubmissionRecord(
            login=STC_MAIL,
            organ_id=STC,
            mail_from=f"{name}@stc.camau.lienthong.test",
            rcpt_tos=recipients,
            content_sha256=name.ljust(64, "0"),
            size=1,
            peer="127.0.0.1",
            received_at=accepted,
            state="processed",
        )
        session.add(submission)
        session.flush()
        session.add(
            OutgoingDocument(
                document_id=name,
                submission_id=submission.id,
                organ_id=STC,
                message_id=f"<{name}@test>",
                signed_sha256="0" * 64,
                mic="mic",
                recipients=recipients,
                accepted_at=accepted,
                effective_accepted_at=accepted,
                calendar_version="test",
            )
        )
        for organ_id, state in answered.items():
            session.add(
                OutgoingRecipient(
                    document_id=name,
                    organ_id=organ_id,
                    state=state,
                    sent_at=accepted + timedelta(hours=1),
                    effective_sent_at=accepted + timedelta(hours=1),
                    calendar_version="test",
                    receipt_sha256="1" * 64,
                )
            )


def _notices(services: Services) -> set[tuple[str, str, str, str]]:
    with services.sessions() as session:
        items = session.scalars(select(QueueItem).where(QueueItem.task == Task.NOTICE)).all()
    found = set()
    for item in items:
        payload = json.loads(item.payload)
        found.add((payload["kind"], payload["document_id"], payload["recipient"], payload["to"]))
    return found


def test_only_silent_recipients_past_their_deadline_are_noticed_once(services: Services) -> None:
    _document(services, "silent", R1, ACCEPTED, {})
    _document(services, "partly", f"{R1},{R2},{R3}", ACCEPTED, {R2: "sent"})
    _document(services, "answered", f"{R1},{R2}", ACCEPTED, {R1: "sent", R2: "sent"})
    _document(services, "refused", R1, ACCEPTED, {R1: "refused"})  # a refusal is an answer too
    _document(services, "too-old", R1, NOW - timedelta(days=61), {})
    _document(services, "too-recent", R1, NOW - timedelta(hours=1), {})

    assert watch_once(services, now=NOW) == 6
    expected = {
        (kind, document, recipient, f"{document}@stc.camau.lienthong.test")
        for kind in ("warning", "non-delivery")
        for document, recipient in (("silent", R1), ("partly", R1), ("partly", R3))
    }
    assert _notices(services) == expected
    assert watch_once(services, now=NOW + timedelta(minutes=1)) == 0  # queued already: not again
    assert _notices(services) == expected


def test_a_warning_comes_before_the_non_delivery_deadline(services: Services) -> None:
    _document(services, "silent", f"{R1},{R2}", ACCEPTED, {R1: "sent"})
    monday_noon = datetime(2026, 2, 23, 5, 0, tzinfo=UTC)  # 5 office hours after Monday 07:00 in Vietnam
    assert watch_once(services, now=monday_noon) == 1
    assert {kind for kind, *_ in _notices(services)} == {"warning"}
    assert watch_once(services, now=NOW) == 1
    assert {kind for kind, *_ in _notices(services)} == {"warning", "non-delivery"}
