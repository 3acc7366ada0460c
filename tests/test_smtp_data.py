"""The bulk DATA reader gives what aiosmtpd's line reader gives: checked over real sockets against both."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP

from gateway.smtp.protocol import ConnectionCounter, HardenedSMTP
from tests.fixtures.smtp import free_port, read_reply, serving


class Keep:
    """Keeps what each DATA delivered."""

    def __init__(self) -> None:
        self.contents: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.contents.append(envelope.original_content)
        return "250 2.0.0 kept"


def _start(factory: Any) -> Any:
    async def start() -> list[asyncio.Server]:
        return [await asyncio.get_running_loop().create_server(factory, "127.0.0.1", port)]

    port = free_port()
    return start, port


@pytest.fixture(params=["bulk", "aiosmtpd"])
def server(request: pytest.FixtureRequest) -> Iterator[tuple[int, Keep]]:
    """One plain listener with our protocol, one with aiosmtpd's, so every case checks both agree."""
    keep = Keep()
    counter = ConnectionCounter(10)
    limit = 4096

    def factory() -> SMTP:
        if request.param == "bulk":
            return HardenedSMTP(keep, counter=counter, data_size_limit=limit, auth_required=False)
        return SMTP(keep, data_size_limit=limit, auth_required=False)

    start, port = _start(factory)
    with serving(start):
        yield port, keep


def session(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    assert read_reply(sock).startswith(b"220")
    sock.sendall(b"EHLO client.test\r\n")
    assert read_reply(sock).startswith(b"250")
    return sock


def send_data(sock: socket.socket, body: bytes, pieces: int = 1) -> bytes:
    sock.sendall(b"MAIL FROM:<a@b.test>\r\n")
    assert read_reply(sock).startswith(b"250")
    sock.sendall(b"RCPT TO:<c@d.test>\r\n")
    assert read_reply(sock).startswith(b"250")
    sock.sendall(b"DATA\r\n")
    assert read_reply(sock).startswith(b"354")
    step = max(1, len(body) // pieces)
    for at in range(0, len(body), step):
        sock.sendall(body[at : at + step])
        if pieces > 1:
            time.sleep(0.001)  # let the server see each piece on its own
    return read_reply(sock)


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        (b".\r\n", b""),  # empty message: the end marker right after DATA
        (b"one line\r\n.\r\n", b"one line\r\n"),
        (b"..dotted\r\n.\r\n", b".dotted\r\n"),  # dot removed from the first line too
        (b"a\r\n...\r\n.x\r\n.\r\n", b"a\r\n..\r\nx\r\n"),  # the first dot of every dotted line goes
        (b"a\r\n.\r\nb\r\n", b"a\r\n"),  # the marker ends it; what follows is the next command
    ],
)
def test_content_matches_rfc_5321_transparency(server: tuple[int, Keep], sent: bytes, kept: bytes) -> None:
    port, keep = server
    with session(port) as sock:
        assert send_data(sock, sent).startswith(b"250")
    assert keep.contents == [kept]


@pytest.mark.parametrize("pieces", [1, 7, 400])
def test_end_marker_split_across_reads(server: tuple[int, Keep], pieces: int) -> None:
    port, keep = server
    body = b"".join(b"line %04d with some text\r\n" % n for n in range(100)) + b".\r\n"
    with session(port) as sock:
        assert send_data(sock, body, pieces=pieces).startswith(b"250")
    assert keep.contents == [body[:-3]]


def test_commands_pipelined_behind_the_data_are_answered_in_order(server: tuple[int, Keep]) -> None:
    port, keep = server
    with session(port) as sock:
        reply = send_data(sock, b"first\r\n.\r\nNOOP\r\n")
        if reply.count(b"\r\n") < 2:
            reply += read_reply(sock)
        first, second = reply.split(b"\r\n")[:2]
        assert first.startswith(b"250 2.0.0 kept")  # the message
        assert second.startswith(b"250")  # the NOOP behind it
        assert send_data(sock, b"second\r\n.\r\n").startswith(b"250")
    assert keep.contents == [b"first\r\n", b"second\r\n"]


def test_over_the_size_limit_is_552_and_the_session_goes_on(server: tuple[int, Keep]) -> None:
    port, keep = server
    with session(port) as sock:
        assert send_data(sock, b"x" * 900 + b"\r\n" + (b"y" * 70 + b"\r\n") * 100 + b".\r\n").startswith(b"552")
        assert send_data(sock, b"small\r\n.\r\n").startswith(b"250")
    assert keep.contents == [b"small\r\n"]


def test_exactly_the_size_limit_is_accepted(server: tuple[int, Keep]) -> None:
    port, keep = server
    body = (b"z" * 62 + b"\r\n") * 64  # 4096 octets
    with session(port) as sock:
        assert send_data(sock, body + b".\r\n").startswith(b"250")
    assert keep.contents == [body]


def test_a_line_over_1000_octets_is_refused(server: tuple[int, Keep]) -> None:
    port, keep = server
    with session(port) as sock:
        assert send_data(sock, b"w" * 1000 + b"\r\n.\r\n").startswith(b"500")
        assert send_data(sock, b"w" * 999 + b"\r\n.\r\n").startswith(b"250")
    assert keep.contents == [b"w" * 999 + b"\r\n"]


def test_client_leaving_mid_data_delivers_nothing(server: tuple[int, Keep]) -> None:
    port, keep = server
    sock = session(port)
    sock.sendall(b"MAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\n")
    read_reply(sock)
    sock.sendall(b"DATA\r\n")
    read_reply(sock)
    sock.sendall(b"half a message\r\n")
    sock.close()
    time.sleep(0.2)
    assert keep.contents == []
