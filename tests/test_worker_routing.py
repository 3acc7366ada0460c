"""What the worker steps remember, and routing at acceptance: a recipient a peer gateway hosts is queued for the
relay by the processing step itself, exactly once, and ``deliver`` items queued the old way still reach the relay."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from certs.lifecycle import activate, revoke
from certs.store import CertificateRecord
from gateway import queue
from gateway.documents import OutgoingDocument
from gateway.errors import NotFoundError
from gateway.home import Home
from gateway.queue import Task
from gateway.ttl_cache import TtlCache
from gateway.workers.deliver import deliver_one
from gateway.workers.process import process_one
from gateway.workers.routes import Routes
from gateway.workers.services import Services
from gateway.workers.signers import Signers
from registry.models import Agency
from tests.fixtures.workers import cli, signing_services
from tests.test_worker_process import SKHCN, STC, STC_MAIL, SYT, envelope, submit

NOW = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
PEER = "quocgia"
SKHCN_MAIL = "vanthu@skhcn.camau.lienthong.test"


@pytest.fixture
def services(demo_home: Home) -> Services:
    return signing_services(demo_home, {STC: STC_MAIL}, lambda: NOW)


def items(services: Services, task: str) -> dict[str, tuple[str, dict[str, object]]]:
    with services.sessions() as session:
        return {i.dedup_key: (i.state, i.data()) for i in queue.listing(session) if i.task == task}


def host_on_peer(services: Services, organ_id: str) -> None:
    with services.sessions.begin() as session:
        session.execute(update(Agency).where(Agency.organ_id == organ_id).values(gateway=PEER))


def test_a_peer_hosted_recipient_gets_its_relay_item_at_acceptance(services: Services) -> None:
    host_on_peer(services, SKHCN)
    submit(services, envelope())
    assert process_one(services, "w1")
    with services.sessions() as session:
        document = session.scalars(select(OutgoingDocument)).one()
    relays = items(services, Task.RELAY)
    assert relays == {
        f"relay:{document.document_id}:{SKHCN}": (
            "pending",
            {
                "blob": document.signed_sha256,
                "peer": PEER,
                "mail_from": STC_MAIL,
                "rcpt_tos": [SKHCN_MAIL],
                "document_id": document.document_id,
                "recipient": SKHCN,
                "kind": "document",
            },
        )
    }
    assert list(items(services, Task.DELIVER)) == [f"deliver:{document.document_id}:{SYT}"]  # hosted here

    # A deliver item queued for the same recipient by a gateway before this change (or twice) relays it once.
    payload = {"document_id": document.document_id, "recipient": SKHCN, "blob": document.signed_sha256}
    with services.sessions.begin() as session:
        queue.enqueue(session, Task.DELIVER, f"deliver:{document.document_id}:{SKHCN}", payload, NOW)
    while deliver_one(services, "w1"):
        pass
    assert items(services, Task.RELAY) == relays
    assert items(services, Task.DELIVER)[f"deliver:{document.document_id}:{SKHCN}"][0] == "done"


def test_an_old_deliver_item_for_a_peer_recipient_is_handed_to_the_relay(services: Services) -> None:
    submit(services, envelope())
    assert process_one(services, "w1")  # both recipients hosted here at acceptance: deliver items
    host_on_peer(services, SKHCN)  # then the agency moves; a gateway that remembers nothing sees it at once
    services = replace(services, routes=Routes())
    while deliver_one(services, "w1"):
        pass
    (key, (state, payload)) = items(services, Task.RELAY).popitem()
    assert key.endswith(f":{SKHCN}")
    assert state == "pending"
    assert (payload["peer"], payload["mail_from"], payload["rcpt_tos"]) == (PEER, STC_MAIL, [SKHCN_MAIL])


def _serials(services: Services) -> list[str]:
    with services.sessions() as session:
        query = select(CertificateRecord.serial).where(CertificateRecord.organ_id == STC)
        return list(session.scalars(query.order_by(CertificateRecord.created_at)))


def test_the_signer_cache_honours_a_rollover_and_a_revocation_after_its_ttl(
    services: Services, demo_home: Home
) -> None:
    clock = [100.0]
    signers = Signers(demo_home.keys_dir, ttl_seconds=5.0, clock=lambda: clock[0])

    def signing_serial() -> str:
        with services.sessions.begin() as session:
            return format(signers.active(session, STC, services.chain).certificate.serial_number, "x")

    first = signing_serial()
    cli(demo_home, "cert", "issue", "smime", "--agency", STC, "--mail", STC_MAIL)
    second = next(s for s in _serials(services) if s != first)
    with services.sessions.begin() as session:
        activate(session, second)
    clock[0] += 4.9
    assert signing_serial() == first  # within the TTL the previous certificate still signs
    clock[0] += 0.2
    assert signing_serial() == second

    with services.sessions.begin() as session:
        revoke(session, second, "keyCompromise")
    assert signing_serial() == second
    clock[0] += 5.1
    with pytest.raises(NotFoundError):  # no active certificate: not remembered, asked again next time
        signing_serial()
    with services.sessions.begin() as session:
        activate(session, first)
    assert signing_serial() == first


def test_the_ttl_cache_is_bounded_and_expires() -> None:
    clock = [0.0]
    cache: TtlCache[str, int] = TtlCache(10.0, size=2, clock=lambda: clock[0])
    loads: list[str] = []

    def load(key: str) -> int:
        loads.append(key)
        return len(loads)

    for key in ("a", "b", "a", "c", "a", "b"):  # "b" is the least recently used when "c" arrives
        cache.get(key, lambda k=key: load(k))  # type: ignore[misc]
    assert loads == ["a", "b", "c", "b"]
    clock[0] = 10.0
    cache.get("a", lambda: load("a"))
    assert loads[-1] == "a"
    assert TtlCache[str, int](0.0).get("x", lambda: 7) == 7
