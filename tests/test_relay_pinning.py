"""Pinned peers, on real sockets: the relay listener takes a pinned peer's mail only over the pinned certificate and
refuses another one our own CA issued for the same name (5xx, enhanced code, session closed); the relay client
refuses to hand mail to a server presenting another certificate, and the queue keeps the item for a retry with the
reason an operator reads in ``queue list``."""

from __future__ import annotations

import asyncio
import json
import smtplib
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import select, update

from certs import context, dkim
from certs.store import CertificateRecord
from gateway import queue
from gateway.blobs import BlobStore
from gateway.home import Home
from gateway.ledger.store import LedgerEntry
from gateway.queue import Task
from gateway.smtp import pinning
from gateway.smtp.relay import RelayHandler
from gateway.smtp.server import ListenerOptions, start_relay
from gateway.smtp.tls import gateway_certificate, server_context
from gateway.workers.relay import relay_one
from gateway.workers.services import Services
from registry import db, peers
from tests.fixtures.smtp import free_port, serving
from tests.fixtures.workers import cli

HOSTED = "vanthu@syt.camau.lienthong.test"
OWN_DOMAIN = "camau.lienthong.test"
PEER_DOMAIN = "quocgia.lienthong.test"
SYT, STC = "000.00.22.H12", "000.00.15.H12"


@dataclass
class Credential:
    chain: Path  # certificate + issuing CA, as a gateway serves it
    key: Path
    fingerprint: str


@dataclass
class Relay:
    port: int
    home: Home
    pinned: Credential  # two valid certificates our CA issued for the peer's name; only the first is pinned
    other: Credential
    peer_dkim: list[dkim.DkimKey]


def credentials(home: Home, host: str, folder: Path) -> list[Credential]:
    sessions = db.open_registry(home.database_url)
    with sessions() as session:
        records = session.scalars(select(CertificateRecord).where(CertificateRecord.host == host)).all()
    issuing = context.trust_files(home).issuing_cert.read_bytes()
    found = []
    for index, record in enumerate(records):
        cert_file, key_file = record.cert_file(home.keys_dir), record.key_file(home.keys_dir)
        assert cert_file is not None
        assert key_file is not None
        pem = cert_file.read_bytes()
        chain = folder / f"{host}-{index}.pem"
        chain.write_bytes(pem + issuing)
        der = x509.load_pem_x509_certificate(pem).public_bytes(Encoding.DER)
        found.append(Credential(chain, key_file, pinning.fingerprint(der)))
    return found


@pytest.fixture
def relay(demo_home: Home, tmp_path: Path) -> Iterator[Relay]:
    cli(demo_home, "ca", "init")
    cli(demo_home, "cert", "issue", "tls", "--host", OWN_DOMAIN)
    cli(demo_home, "cert", "issue", "tls", "--host", PEER_DOMAIN)  # stands in for the peer's own CA
    cli(demo_home, "cert", "issue", "tls", "--host", PEER_DOMAIN)  # as valid, same CA, same name: not the pinned one
    pinned, other = credentials(demo_home, PEER_DOMAIN, tmp_path)
    assert pinned.fingerprint != other.fingerprint
    peer_keys = [dkim.generate(tmp_path / "peer-dkim", "p1", dkim.DkimAlgorithm.ED25519)]
    cli(demo_home, "peer", "add", "quocgia", "--host", "127.0.0.1", "--port", "2525", "--domain", PEER_DOMAIN,
        "--dkim-selector", "p1", "--dkim-key", peer_keys[0].txt_value, "--tls-cert", str(pinned.chain))  # fmt: skip
    sessions = db.open_registry(demo_home.database_url)
    handler = RelayHandler(sessions, BlobStore(demo_home.blobs_dir), "camau")
    port = free_port()
    tls = server_context(demo_home, gateway_certificate(demo_home, sessions), require_client=True)

    async def start() -> list[asyncio.Server]:
        return [await start_relay(handler, tls, ListenerOptions("127.0.0.1", port, timeout_seconds=10))]

    with serving(start):
        yield Relay(port, demo_home, pinned, other, peer_keys)


def client_tls(relay: Relay, credential: Credential) -> ssl.SSLContext:
    tls = ssl.create_default_context(cafile=str(relay.home.keys_dir / "ca" / "root.pem"))
    tls.check_hostname = False
    tls.load_cert_chain(credential.chain, credential.key)
    return tls


def message(relay: Relay) -> bytes:
    body = (
        f"From: vanthu@vpcp.{PEER_DOMAIN}\r\nTo: {HOSTED}\r\nSubject: t\r\nMessage-ID: <p1@{PEER_DOMAIN}>\r\n"
        "Date: Mon, 02 Mar 2026 09:00:00 +0700\r\nLienthong-Kind: document\r\n\r\nbody\r\n"
    ).encode()
    return dkim.sign(body, PEER_DOMAIN, relay.peer_dkim) + body


def arrivals(home: Home) -> int:
    sessions = db.open_registry(home.database_url)
    with sessions() as session:
        return sum(1 for item in queue.listing(session) if item.task == Task.ARRIVE)


def test_the_pinned_certificate_is_accepted(relay: Relay) -> None:
    with smtplib.SMTP("127.0.0.1", relay.port, timeout=30) as client:
        client.starttls(context=client_tls(relay, relay.pinned))
        assert client.sendmail(f"vanthu@vpcp.{PEER_DOMAIN}", [HOSTED], message(relay)) == {}
    assert arrivals(relay.home) == 1


def test_another_valid_certificate_for_the_same_name_is_refused_and_the_session_closed(relay: Relay) -> None:
    with smtplib.SMTP("127.0.0.1", relay.port, timeout=30) as client:
        client.starttls(context=client_tls(relay, relay.other))
        client.ehlo("peer.test")
        code, reply = client.mail(f"vanthu@vpcp.{PEER_DOMAIN}")
        assert code == 550
        assert b"5.7.1 [PEER_PIN_MISMATCH]" in reply
        text = b" ".join(reply.split())  # the reply may be folded over several lines
        assert relay.other.fingerprint.encode() in text
        assert relay.pinned.fingerprint.encode() in text
        with pytest.raises(smtplib.SMTPServerDisconnected):
            client.rcpt(HOSTED)
    assert arrivals(relay.home) == 0


def test_rollover_accepts_old_and_new_until_the_old_pin_is_dropped(relay: Relay) -> None:
    cli(
        relay.home,
        "peer",
        "set",
        "quocgia",
        "--tls-fingerprint",
        f"{relay.pinned.fingerprint},{relay.other.fingerprint}",
    )
    for credential in (relay.pinned, relay.other):
        with smtplib.SMTP("127.0.0.1", relay.port, timeout=30) as client:
            client.starttls(context=client_tls(relay, credential))
            client.ehlo("peer.test")
            assert client.mail(f"vanthu@vpcp.{PEER_DOMAIN}")[0] == 250
    cli(relay.home, "peer", "set", "quocgia", "--tls-fingerprint", relay.other.fingerprint)
    with smtplib.SMTP("127.0.0.1", relay.port, timeout=30) as client:
        client.starttls(context=client_tls(relay, relay.pinned))
        client.ehlo("peer.test")
        assert client.mail(f"vanthu@vpcp.{PEER_DOMAIN}")[0] == 550


def test_without_a_pin_chain_and_names_decide_as_before(relay: Relay) -> None:
    cli(relay.home, "peer", "set", "quocgia", "--no-pin")
    with smtplib.SMTP("127.0.0.1", relay.port, timeout=30) as client:
        client.starttls(context=client_tls(relay, relay.other))
        assert client.sendmail(f"vanthu@vpcp.{PEER_DOMAIN}", [HOSTED], message(relay)) == {}
    assert arrivals(relay.home) == 1


# -- the relay client --------------------------------------------------------------------------------------------


def queue_relay(relay: Relay, services: Services) -> int:
    """A signed document for the hosted agency, queued for 'self': a peer entry that points at our own listener,
    whose certificate (issued for our domain) is the server certificate the client sees."""
    body = (
        f"From: vanthu@stc.{OWN_DOMAIN}\r\nTo: {HOSTED}\r\nSubject: t\r\nMessage-ID: <c1@{OWN_DOMAIN}>\r\n"
        "Date: Mon, 02 Mar 2026 09:00:00 +0700\r\nLienthong-Kind: document\r\n\r\nbody\r\n"
    ).encode()
    blob = services.blobs.put(dkim.sign(body, OWN_DOMAIN, services.dkim_keys) + body)
    payload = {"peer": "self", "mail_from": f"vanthu@stc.{OWN_DOMAIN}", "rcpt_tos": [HOSTED], "blob": blob,
               "kind": "document", "document_id": "c1", "recipient": "000.00.22.H12"}  # fmt: skip
    with services.sessions.begin() as session:
        return queue.enqueue(session, Task.RELAY, f"relay:{blob}", payload, datetime.now(UTC))


@pytest.fixture
def services(relay: Relay) -> Iterator[Services]:
    cli(relay.home, "dkim", "keygen")
    key = context.dkim_signing_keys(relay.home)[0]
    sessions = db.open_registry(relay.home.database_url)
    with sessions.begin() as session:
        peers.add(session, "self", "127.0.0.1", OWN_DOMAIN, relay.port, dkim_selector=key.selector,
                  dkim_public_key=key.txt_value)  # fmt: skip
    built = Services.from_home(relay.home)
    try:
        yield built
    finally:
        built.close()


def own_fingerprint(relay: Relay) -> str:
    return credentials(relay.home, OWN_DOMAIN, relay.home.root)[0].fingerprint


def test_client_refuses_a_server_with_another_certificate_and_retries(relay: Relay, services: Services) -> None:
    cli(relay.home, "peer", "set", "self", "--tls-fingerprint", relay.pinned.fingerprint)
    item_id = queue_relay(relay, services)
    assert relay_one(services, "w1")
    listed = json.loads(cli(relay.home, "queue", "list", "--json"))
    [item] = [row for row in listed if row["id"] == item_id]
    assert item["state"] == "pending"  # retried later, not given up
    assert "PinMismatch" in item["last_error"]
    assert own_fingerprint(relay) in item["last_error"]
    assert relay.pinned.fingerprint in item["last_error"]
    assert arrivals(relay.home) == 0


def test_client_hands_over_to_the_pinned_server(relay: Relay, services: Services) -> None:
    cli(relay.home, "peer", "set", "self", "--tls-fingerprint", f"{relay.pinned.fingerprint},{own_fingerprint(relay)}")
    item_id = queue_relay(relay, services)
    assert relay_one(services, "w1")
    listed = json.loads(cli(relay.home, "queue", "list", "--json"))
    [item] = [row for row in listed if row["id"] == item_id]
    assert (item["state"], item["last_error"]) == ("done", None)
    assert arrivals(relay.home) == 1


def test_a_relayed_receipt_counts_as_sent_only_once_the_peer_took_it(relay: Relay, services: Services) -> None:
    """``receipt_sent`` is the hand-over, recorded by the relay worker on the peer's 250: a receipt built but not
    yet relayed (here, refused by the client's pin check) has no such event; once relayed it has exactly one."""
    body = (
        f"From: {HOSTED}\r\nTo: vanthu@stc.{OWN_DOMAIN}\r\nSubject: r\r\nMessage-ID: <r1@{OWN_DOMAIN}>\r\n"
        "Date: Mon, 02 Mar 2026 09:00:00 +0700\r\nLienthong-Kind: receipt\r\n\r\nbody\r\n"
    ).encode()
    blob = services.blobs.put(dkim.sign(body, OWN_DOMAIN, services.dkim_keys) + body)
    payload = {"peer": "self", "mail_from": HOSTED, "rcpt_tos": [HOSTED], "blob": blob, "kind": "receipt",
               "document_id": "d1", "recipient": SYT, "sender": STC, "status": "01"}  # fmt: skip
    with services.sessions.begin() as session:
        queue.enqueue(session, Task.RELAY, f"relay:{blob}", payload, datetime.now(UTC))

    def receipt_events() -> list[dict[str, object]]:
        with services.sessions() as session:
            entries = session.scalars(select(LedgerEntry).order_by(LedgerEntry.seq)).all()
            return [e.data() for e in entries if e.kind == "receipt_sent"]

    cli(relay.home, "peer", "set", "self", "--tls-fingerprint", relay.pinned.fingerprint)
    assert relay_one(services, "w1")
    assert receipt_events() == []  # built, queued, not handed over: not sent

    cli(relay.home, "peer", "set", "self", "--tls-fingerprint", own_fingerprint(relay))
    with services.sessions.begin() as session:
        session.execute(update(queue.QueueItem).values(next_attempt_at=datetime.now(UTC)))
    assert relay_one(services, "w1")
    [event] = receipt_events()
    assert (event["document_id"], event["organ_id"], event["counterpart"]) == ("d1", SYT, STC)
    assert event["content_sha256"] == blob
    details = event["details"]
    assert isinstance(details, dict)
    assert (details["peer"], details["status"]) == ("self", "01")
    assert str(details["answer"]).startswith("2.0.0 Accepted from self")
