"""The relay worker's SMTP client (gateway/workers/smtp_client.py) against a real aiosmtpd server: a canonical
message arrives byte for byte as aiosmtplib's own DATA phase would deliver it, dots included, and everything else
still takes aiosmtplib's path."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import aiosmtplib
import pytest
from aiosmtpd.controller import Controller

from gateway.workers.smtp_client import RelayClient, canonical, dot_stuffed
from tests.fixtures.smtp import free_port


class Recorder:
    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.refuse = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            return "554 5.6.0 refused for the test"
        self.received.append(envelope.original_content)
        return "250 2.0.0 OK"


@pytest.fixture
def server() -> Iterator[tuple[Recorder, int]]:
    recorder = Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield recorder, port
    finally:
        controller.stop()


MESSAGES = [
    b"Subject: t\r\n\r\nplain body\r\n",
    b"Subject: t\r\n\r\n.a line with a dot\r\n..two\r\n.\r\nlast\r\n",
    b".Starts-With-Dot: x\r\n\r\nbody\r\n",
    b"Subject: t\r\n\r\n" + b"QUJD" * 19 + b"\r\n" * 3000,
]


async def _send(client_class: type[aiosmtplib.SMTP], port: int, message: bytes) -> None:
    client = client_class(hostname="127.0.0.1", port=port, start_tls=False, timeout=10)
    async with client:
        await client.sendmail("a@peer.test", ["b@here.test"], message)


@pytest.mark.parametrize("message", MESSAGES)
def test_a_canonical_message_arrives_as_aiosmtplib_would_deliver_it(
    server: tuple[Recorder, int], message: bytes
) -> None:
    recorder, port = server
    assert canonical(message)
    asyncio.run(_send(RelayClient, port, message))
    asyncio.run(_send(aiosmtplib.SMTP, port, message))
    ours, theirs = recorder.received
    assert ours == theirs == message


def test_a_message_with_bare_line_endings_takes_aiosmtplibs_path(server: tuple[Recorder, int]) -> None:
    recorder, port = server
    message = b"Subject: t\n\nbare LF\nand a bare CR\r here\r\n"
    assert not canonical(message)
    asyncio.run(_send(RelayClient, port, message))
    assert recorder.received == [b"Subject: t\r\n\r\nbare LF\r\nand a bare CR\r\n here\r\n"]


def test_a_refusal_after_the_data_is_an_smtp_data_error(server: tuple[Recorder, int]) -> None:
    recorder, port = server
    recorder.refuse = True
    with pytest.raises(aiosmtplib.SMTPDataError) as refused:
        asyncio.run(_send(RelayClient, port, MESSAGES[0]))
    assert refused.value.code == 554


def test_dot_stuffing() -> None:
    assert dot_stuffed(b".a\r\nb\r\n.c\r\n") == b"..a\r\nb\r\n..c\r\n.\r\n"
    assert not canonical(b"no final line ending")
