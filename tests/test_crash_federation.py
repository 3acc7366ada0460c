"""SIGKILL either of two federated gateways at random moments: every accepted document crosses exactly once, and its
receipt comes back exactly once, once both are restarted and have caught up.

A province gateway and a national axis gateway (tests/gateways.py, real ``lienthong serve`` processes, each with its
own CA, registry and ports, peers pinned to each other). A client submits a stream of documents from the Sở Tài chính
to the Government Office at the province and retries whatever it did not see a 250 for; a killer thread SIGKILLs one
of the two gateways, in a random order, at random moments and starts it again (tests/crashes.py, shared with
tests/test_crash.py). The kills go on while the backlog drains, and each waits (3 s at most) for a moment when the
victim's workers hold an item of a step drawn at random: at the province processing, the document's relay and the
receipt's recording, at the national gateway the document's arrival and the receipt's relay back. A step takes
milliseconds, so kills timed by the clock alone mostly found the workers idle or relaying; the test checks that kills
landed inside steps that cross the wire on both sides.

DOCUMENTS is 400, not test_crash.py's 500: the kills, not the submissions, set the length here. Each restart spawns a
listener and a worker process and a killed worker's items wait out their lease, so the backlog drains at five to ten
documents a second under kills on two shared cores. 400 documents gave 1-2 min runs (10-37 s of submission, 40-90 s of
draining) with each gateway killed 5-15 times, leaving room for a busier machine within the three minutes the test
may take.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from hashlib import sha256
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from gateway.documents import IncomingDocument, OutgoingDocument, OutgoingRecipient
from gateway.queue import QueueItem, State
from gateway.receipts.mdn import read_receipt
from tests.crashes import Killer, Victim, submit_stream
from tests.gateways import STC_MAIL, VPCP, VPCP_MAIL, make_pair, running
from tests.mailboxes import document_ids, maildir_messages
from tests.test_federation import client_tls, document, ledger, queue_state
from tests.test_serve import credentials

DOCUMENTS = 400
DRAIN_KILLS = 20
PATIENCE_SECONDS = 180
DRAIN_SECONDS = 600


def all_done(sessions: sessionmaker[Session]) -> bool:
    """Nothing left in a gateway's queue: no item waiting, claimed, failed or dropped."""
    with sessions() as session:
        return not session.scalar(select(func.count()).where(QueueItem.state != State.DONE.value))


def drained(province: Victim, national: Victim) -> bool:
    """Every receipt recorded at the sender, and both queues empty (the receipts' relay and the notices too)."""
    with province.sessions() as session:
        sent = session.scalar(select(func.count()).where(OutgoingRecipient.state == "sent")) or 0
    return sent == DOCUMENTS and all_done(province.sessions) and all_done(national.sessions)


def taken_again(sessions: sessionmaker[Session]) -> Counter[str]:
    """By task, the items a worker took more than once: after a kill (its lease ran out) or after a failed attempt
    (a relay while the peer was down)."""
    with sessions() as session:
        return Counter(session.scalars(select(QueueItem.task).where(QueueItem.attempts > 1)))


def once_each(events: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    """The events of one kind by DocumentId, after checking no document has two."""
    counts = Counter(event["document_id"] for event in events if event["kind"] == kind)
    assert set(counts.values()) == {1}, [(document_id, n) for document_id, n in counts.items() if n != 1]
    return {event["document_id"]: event for event in events if event["kind"] == kind}


@pytest.mark.slow
def test_sigkill_of_either_gateway_loses_nothing_and_duplicates_nothing(tmp_path: Path) -> None:
    # A killed worker's claim returns in 5 s, and a relay that failed while the peer was down is tried again within
    # 4 s (the defaults, 5 min and up to an hour, are for production, not for a test that kills every few seconds).
    province, national = make_pair(tmp_path, queue={"lease_seconds": 5, "retry_cap_seconds": 4})
    login, password = credentials(province.home, "clerk")
    assert login == STC_MAIL
    # The steps each side's kills aim at: at the province, processing, the document's relay and the receipt's
    # recording; at the national gateway, the document's arrival and the receipt's relay back.
    victims = [
        Victim("province", province, ("process", "relay", "receipt")),
        Victim("national", national, ("arrive", "relay")),
    ]
    at_province, at_national = victims
    killer = Killer(victims, random.Random(20261205), pause=(0.5, 2.0))
    began = time.monotonic()
    with running(province, national):
        with killer:
            accepted = submit_stream(
                province.submission,
                client_tls(province.home),
                login,
                password,
                [VPCP_MAIL],
                lambda n: document(str(n)),
                DOCUMENTS,
                PATIENCE_SECONDS,
            )
            assert accepted == set(range(1, DOCUMENTS + 1))
            submitted = time.monotonic()
            kills_while_submitting = sum(victim.kills for victim in victims)
            # The backlog drains across both gateways while the killer goes on, up to DRAIN_KILLS more kills.
            deadline = time.monotonic() + DRAIN_SECONDS
            while not drained(at_province, at_national) and killer.count() < kills_while_submitting + DRAIN_KILLS:
                if killer.error is not None:
                    break  # raised as the killer stops
                assert time.monotonic() < deadline, queue_state(province, national)
                time.sleep(0.5)
        killed = time.monotonic()
        # Then without kills, until nothing is left in either queue: a stuck item fails here.
        while not drained(at_province, at_national):
            assert time.monotonic() < deadline, queue_state(province, national)
            time.sleep(0.5)
        finished = time.monotonic()
    held = {victim.name: victim.held for victim in victims}
    assert all(victim.kills >= 3 for victim in victims), held
    assert kills_while_submitting >= 1, "no kill while documents were submitted"
    # Kills inside the steps that cross the wire, on both sides (not only while a side idled or processed).
    assert any({"relay", "receipt"} & set(tasks) for tasks in victims[0].held), held
    assert any({"arrive", "relay"} & set(tasks) for tasks in victims[1].held), held
    assert killer.count() > kills_while_submitting, "no kill while the backlog drained"
    interrupted = {victim.name: taken_again(victim.sessions) for victim in victims}
    print(
        f"\n{DOCUMENTS} documents submitted in {submitted - began:.0f} s, drained {finished - submitted:.0f} s later"
        f" (the last {finished - killed:.0f} s without kills);"
        f" kills while submitting: {kills_while_submitting}, in all: {[(v.name, v.kills) for v in victims]};"
        f" queue items held at each kill: {held}; items taken more than once: {interrupted}"
    )

    # The Government Office's records office holds every document exactly once, numbered 1..N without gaps.
    delivered = maildir_messages(national.home, VPCP_MAIL)
    delivered_ids = document_ids(delivered)
    assert len(delivered_ids) == len(set(delivered_ids)) == DOCUMENTS
    with at_national.sessions() as session:
        incoming = {row.document_id: row for row in session.scalars(select(IncomingDocument))}
    assert sorted(row.incoming_number for row in incoming.values()) == list(range(1, DOCUMENTS + 1))
    assert {row.organ_id for row in incoming.values()} == {VPCP}
    assert set(incoming) == set(delivered_ids)
    # ... and they are the documents the client submitted: DocumentId "{OrganId},{date},{number}/{notation}".
    assert sorted(document_id.split(",", 2)[2] for document_id in delivered_ids) == sorted(
        f"{n}/STC-NS" for n in range(1, DOCUMENTS + 1)
    )

    # The Sở Tài chính holds exactly one receipt per document, and each recipient row is "sent" with its number.
    receipts = [read_receipt(raw) for raw in maildir_messages(province.home, STC_MAIL, "receipt")]
    receipt_ids = [receipt.document_id for receipt in receipts]
    assert len(receipt_ids) == len(set(receipt_ids)) == DOCUMENTS
    assert {receipt.status_code for receipt in receipts} == {"01"}
    assert all(receipt.incoming_number == incoming[receipt.document_id].incoming_number for receipt in receipts)
    with at_province.sessions() as session:
        outgoing = {row.document_id: row for row in session.scalars(select(OutgoingDocument))}
        sent = session.scalars(select(OutgoingRecipient)).all()
    assert len(sent) == DOCUMENTS
    assert {row.state for row in sent} == {"sent"}
    assert set(outgoing) == {row.document_id for row in sent} == set(incoming) == set(receipt_ids)
    for row in sent:
        assert row.incoming_number == incoming[row.document_id].incoming_number
    receipt_hashes = {sha256(raw).hexdigest() for raw in maildir_messages(province.home, STC_MAIL, "receipt")}
    assert {row.receipt_sha256 for row in sent} == receipt_hashes

    # Both ledgers verify and tell the same story about the same bytes, once per document: what the province signed
    # is what it relayed and what the national gateway delivered; the receipt the national gateway sent is the one
    # the province recorded.
    province_events, national_events = ledger(province.home), ledger(national.home)
    assert {e["kind"] for e in province_events} == {"submitted", "accepted", "relayed", "receipt_received"}
    assert {e["kind"] for e in national_events} == {"delivered", "receipt_sent"}
    assert sum(e["kind"] == "submitted" for e in province_events) >= DOCUMENTS  # retried submissions count too
    accepted_events = once_each(province_events, "accepted")
    relayed = once_each(province_events, "relayed")
    received = once_each(province_events, "receipt_received")
    arrived = once_each(national_events, "delivered")
    receipt_sent = once_each(national_events, "receipt_sent")
    assert set(accepted_events) == set(relayed) == set(received) == set(arrived) == set(receipt_sent) == set(outgoing)
    delivered_hashes = {sha256(raw).hexdigest() for raw in delivered}
    by_receipt = {row.document_id: row.receipt_sha256 for row in sent}
    for document_id, document_row in outgoing.items():
        signed = document_row.signed_sha256
        assert accepted_events[document_id]["content_sha256"] == relayed[document_id]["content_sha256"] == signed
        assert arrived[document_id]["content_sha256"] == incoming[document_id].message_sha256 == signed
        assert signed in delivered_hashes
        assert receipt_sent[document_id]["content_sha256"] == received[document_id]["content_sha256"]
        assert received[document_id]["content_sha256"] == by_receipt[document_id]
        assert arrived[document_id]["details"]["incoming_number"] == incoming[document_id].incoming_number
