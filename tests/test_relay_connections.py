"""Kept relay connections, against a real SMTP server on loopback: reuse, a peer that hung up, failures, expiry."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import aiosmtplib
import pytest
from aiosmtpd.smtp import SMTP

from gateway.workers.relay_connections import RelayConnections
from tests.fixtures.smtp import free_port, serving
from tests.gateways import wait_for


class Peer:
    """What the peer saw: connections opened, messages taken; ``refuse`` makes it answer 554 to the next DATA."""

    def __init__(self) -> None:
        self.connections = 0
        self.messages: list[bytes] = []
        self.protocols: list[SMTP] = []
        self.refuse = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            self.refuse = False
            return "554 5.6.0 not today"
        self.messages.append(envelope.original_content)
        return "250 2.0.0 taken"


@pytest.fixture
def peer() -> Iterator[tuple[Peer, int]]:
    seen = Peer()
    port = free_port()

    def factory() -> SMTP:
        seen.connections += 1
        protocol = SMTP(seen, auth_required=False, hostname="peer.test")
        seen.protocols.append(protocol)
        return protocol

    async def start() -> list[asyncio.Server]:
        return [await asyncio.get_running_loop().create_server(factory, "127.0.0.1", port)]

    with serving(start):
        yield seen, port


@pytest.fixture
def connections() -> Iterator[RelayConnections]:
    kept = RelayConnections(idle_seconds=30)
    try:
        yield kept
    finally:
        kept.close()


def send(connections: RelayConnections, port: int, body: bytes) -> str:
    async def open_connection() -> aiosmtplib.SMTP:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False, timeout=10)
        await client.connect()
        return client

    async def use(client: aiosmtplib.SMTP) -> str:
        errors, message = await client.sendmail("a@one.test", ["b@peer.test"], body)
        assert not errors
        return message

    return connections.send(("127.0.0.1", port), open_connection, use)


def test_messages_to_one_peer_share_a_connection(peer: tuple[Peer, int], connections: RelayConnections) -> None:
    seen, port = peer
    for n in range(5):
        assert "taken" in send(connections, port, b"Subject: %d\r\n\r\nbody\r\n" % n)
    assert seen.connections == 1
    assert len(seen.messages) == 5
    assert connections.kept == 1


def test_a_peer_that_hung_up_gets_a_fresh_connection(peer: tuple[Peer, int], connections: RelayConnections) -> None:
    seen, port = peer
    send(connections, port, b"Subject: 1\r\n\r\nx\r\n")
    session = seen.protocols[0]
    session.loop.call_soon_threadsafe(session.transport.close)  # type: ignore[union-attr]  # the peer hangs up
    time.sleep(0.1)
    assert "taken" in send(connections, port, b"Subject: 2\r\n\r\nx\r\n")
    assert seen.connections == 2
    assert len(seen.messages) == 2


def test_a_failed_message_closes_its_connection(peer: tuple[Peer, int], connections: RelayConnections) -> None:
    seen, port = peer
    send(connections, port, b"Subject: 1\r\n\r\nx\r\n")
    seen.refuse = True
    with pytest.raises(aiosmtplib.SMTPDataError) as refused:
        send(connections, port, b"Subject: 2\r\n\r\nx\r\n")
    assert refused.value.code == 554
    assert connections.kept == 0
    send(connections, port, b"Subject: 3\r\n\r\nx\r\n")
    assert seen.connections == 2  # a new session after the failure


def test_idle_connections_are_closed_after_a_while(peer: tuple[Peer, int]) -> None:
    seen, port = peer
    connections = RelayConnections(idle_seconds=0.2)
    try:
        send(connections, port, b"Subject: 1\r\n\r\nx\r\n")
        assert connections.kept == 1
        assert wait_for(lambda: connections.kept == 0, 5.0)
        assert wait_for(lambda: seen.protocols[0].transport is None or seen.protocols[0].transport.is_closing(), 5.0)
    finally:
        connections.close()


def test_close_says_quit_to_every_kept_connection(peer: tuple[Peer, int]) -> None:
    seen, port = peer
    connections = RelayConnections()
    send(connections, port, b"Subject: 1\r\n\r\nx\r\n")
    connections.close()
    assert wait_for(lambda: seen.protocols[0].transport is None or seen.protocols[0].transport.is_closing(), 5.0)
    assert connections.kept == 0
