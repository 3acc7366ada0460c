"""The relay listener refuses everyone but registered peers: no client certificate, a certificate from an unknown
CA or for an unregistered name, a recipient not hosted here, a message without a passing DKIM signature."""

from __future__ import annotations

import asyncio
import datetime as dt
import smtplib
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from certs import context, dkim
from certs.store import CertificateRecord
from gateway import queue
from gateway.blobs import BlobStore
from gateway.home import Home
from gateway.smtp.relay import RelayHandler
from gateway.smtp.server import ListenerOptions, start_relay
from gateway.smtp.tls import gateway_certificate, server_context
from registry import db, peers
from registry.models import PeerGateway
from tests.fixtures.smtp import free_port, serving
from tests.fixtures.workers import cli

HOSTED = "vanthu@syt.camau.lienthong.test"
PEER_DOMAIN = "quocgia.lienthong.test"


@dataclass
class Relay:
    port: int
    home: Home
    peer_cert: Path  # a TLS certificate our CA issued for the registered peer's domain
    peer_key: Path
    peer_dkim: list[dkim.DkimKey]


@pytest.fixture
def relay(demo_home: Home, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Relay]:
    """The relay listener of the demo home; ``indirect`` parametrisation sets how long it remembers answers."""
    cli(demo_home, "ca", "init")
    cli(demo_home, "cert", "issue", "tls", "--host", "camau.lienthong.test")
    cli(demo_home, "cert", "issue", "tls", "--host", PEER_DOMAIN)  # stands in for the peer's own CA
    sessions = db.open_registry(demo_home.database_url)
    peer_keys = [dkim.generate(tmp_path / "peer-dkim", "p1", dkim.DkimAlgorithm.ED25519)]
    with sessions.begin() as session:
        peer = peers.add(session, "quocgia", "127.0.0.1", PEER_DOMAIN, 2525)
        peer.dkim_selector, peer.dkim_public_key = "p1", peer_keys[0].txt_value
    with sessions() as session:
        record = session.scalars(select(CertificateRecord).where(CertificateRecord.host == PEER_DOMAIN)).one()
    peer_cert, peer_key = record.cert_file(demo_home.keys_dir), record.key_file(demo_home.keys_dir)
    assert peer_cert is not None
    assert peer_key is not None
    certificate = gateway_certificate(demo_home, sessions)
    remember = float(getattr(request, "param", 0.0))
    handler = RelayHandler(sessions, BlobStore(demo_home.blobs_dir), "camau", ttl_seconds=remember)
    port = free_port()
    tls = server_context(demo_home, certificate, require_client=True)

    async def start() -> list[asyncio.Server]:
        return [await start_relay(handler, tls, ListenerOptions("127.0.0.1", port, timeout_seconds=10))]

    chain = tmp_path / "peer-chain.pem"
    chain.write_bytes(peer_cert.read_bytes() + context.trust_files(demo_home).issuing_cert.read_bytes())
    with serving(start):
        yield Relay(port, demo_home, chain, peer_key, peer_keys)


def client_tls(relay: Relay, cert: Path | None, key: Path | None) -> ssl.SSLContext:
    tls = ssl.create_default_context(cafile=str(relay.home.keys_dir / "ca" / "root.pem"))
    tls.check_hostname = False
    if cert is not None and key is not None:
        tls.load_cert_chain(cert, key)
    return tls


def handshake(relay: Relay, tls: ssl.SSLContext) -> tuple[int, bytes]:
    with smtplib.SMTP("127.0.0.1", relay.port, timeout=30) as client:
        client.starttls(context=tls)
        client.ehlo("peer.test")
        return client.mail(f"vanthu@vpcp.{PEER_DOMAIN}")


def message(relay: Relay, sign: bool = True) -> bytes:
    body = (
        f"From: vanthu@vpcp.{PEER_DOMAIN}\r\nTo: {HOSTED}\r\nSubject: t\r\nMessage-ID: <r1@{PEER_DOMAIN}>\r\n"
        "Date: Mon, 02 Mar 2026 09:00:00 +0700\r\nLienthong-Kind: document\r\n\r\nbody\r\n"
    ).encode()
    return dkim.sign(body, PEER_DOMAIN, relay.peer_dkim) + body if sign else body


def test_registered_peer_with_dkim_is_accepted_and_queued(relay: Relay) -> None:
    with smtplib.SMTP("127.0.0.1", relay.port, timeout=30) as client:
        client.starttls(context=client_tls(relay, relay.peer_cert, relay.peer_key))
        assert client.sendmail(f"vanthu@vpcp.{PEER_DOMAIN}", [HOSTED], message(relay)) == {}
    sessions = db.session_factory(db.make_engine(relay.home.database_url))
    with sessions() as session:
        [item] = queue.listing(session)
        assert item.task == "arrive"
        assert item.data()["recipient"] == "000.00.22.H12"


def test_without_client_certificate_the_handshake_fails(relay: Relay) -> None:
    with pytest.raises((ssl.SSLError, smtplib.SMTPServerDisconnected, ConnectionResetError)):
        handshake(relay, client_tls(relay, None, None))


def test_certificate_from_an_unknown_ca_fails(relay: Relay, tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, PEER_DOMAIN)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(PEER_DOMAIN)]), critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    (tmp_path / "rogue.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "rogue.key").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    with pytest.raises((ssl.SSLError, smtplib.SMTPServerDisconnected, ConnectionResetError)):
        handshake(relay, client_tls(relay, tmp_path / "rogue.pem", tmp_path / "rogue.key"))


def test_trusted_certificate_for_an_unregistered_name_is_denied(relay: Relay) -> None:
    sessions = db.session_factory(db.make_engine(relay.home.database_url))
    with sessions.begin() as session:
        session.query(PeerGateway).delete()
    code, reply = handshake(relay, client_tls(relay, relay.peer_cert, relay.peer_key))
    assert code == 550
    assert b"5.7.1 [RELAY_DENIED]" in reply
    assert PEER_DOMAIN.encode() in reply


def test_recipient_not_hosted_here_is_refused(relay: Relay) -> None:
    with smtplib.SMTP("127.0.0.1", relay.port, timeout=30) as client:
        client.starttls(context=client_tls(relay, relay.peer_cert, relay.peer_key))
        client.ehlo("peer.test")
        assert client.mail(f"vanthu@vpcp.{PEER_DOMAIN}")[0] == 250
        code, reply = client.rcpt("someone@elsewhere.test")
    assert code == 550
    assert b"[RECIPIENT_UNKNOWN]" in reply


@pytest.mark.parametrize("signed", [False, True])
def test_dkim_must_pass_for_the_peer(relay: Relay, signed: bool) -> None:
    data = message(relay, sign=signed)
    if signed:
        data = data.replace(b"body\r\n", b"bodY\r\n")  # signed, then altered
    with smtplib.SMTP("127.0.0.1", relay.port, timeout=30) as client:
        client.starttls(context=client_tls(relay, relay.peer_cert, relay.peer_key))
        with pytest.raises(smtplib.SMTPDataError) as caught:
            client.sendmail(f"vanthu@vpcp.{PEER_DOMAIN}", [HOSTED], data)
    assert caught.value.smtp_code == 550
    assert b"5.7.20 [DKIM_FAIL]" in caught.value.smtp_error


def send(relay: Relay, data: bytes | None = None) -> dict[str, tuple[int, bytes]]:
    with smtplib.SMTP("127.0.0.1", relay.port, timeout=30) as client:
        client.starttls(context=client_tls(relay, relay.peer_cert, relay.peer_key))
        return client.sendmail(f"vanthu@vpcp.{PEER_DOMAIN}", [HOSTED], data or message(relay))


@pytest.mark.parametrize("relay", [60.0], indirect=True)
def test_a_listener_that_remembers_answers_from_memory_for_its_ttl(relay: Relay) -> None:
    """The trade-off of ``registry_cache_seconds``: a peer removed a moment ago, and its DKIM key, are still known."""
    # One message sent twice, as a peer resends its stored bytes: DKIM's t= tag would make two signings differ
    # whenever they fall in different seconds.
    data = message(relay)
    assert send(relay, data) == {}
    sessions = db.session_factory(db.make_engine(relay.home.database_url))
    with sessions.begin() as session:
        session.query(PeerGateway).delete()
    assert send(relay, data) == {}  # peer, pin, hosted mailbox and DKIM key all answered from memory
    with sessions() as session:
        assert len(queue.listing(session)) == 1  # the same message twice: one arrive item (same content key)


@pytest.mark.parametrize("relay", [60.0], indirect=True)
def test_a_listener_that_remembers_never_remembers_a_refusal(relay: Relay) -> None:
    sessions = db.session_factory(db.make_engine(relay.home.database_url))
    with sessions.begin() as session:
        row = session.scalars(select(PeerGateway)).one()
        row.domain = "elsewhere.test"
    code, reply = handshake(relay, client_tls(relay, relay.peer_cert, relay.peer_key))
    assert (code, b"[RELAY_DENIED]" in reply) == (550, True)
    with sessions.begin() as session:
        session.scalars(select(PeerGateway)).one().domain = PEER_DOMAIN
    assert send(relay) == {}  # registered again: accepted at once, not refused for the TTL
