"""The relay worker's SMTP client (gateway/workers/smtp_client.py) against a real aiosmtpd server: a canonical
message arrives byte for byte, with the same MAIL FROM SIZE, as aiosmtplib's own path would deliver it, dots
included; refused recipients behave as aiosmtplib's ``sendmail`` promises; everything else still takes
aiosmtplib's path."""

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
        self.mail_options: list[list[str]] = []
        self.rcpts: list[list[str]] = []
        self.refuse = False
        self.unknown: set[str] = set()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if address in self.unknown:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            return "554 5.6.0 refused for the test"
        self.received.append(envelope.original_content)
        self.mail_options.append(list(envelope.mail_options))
        self.rcpts.append(list(envelope.rcpt_tos))
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
    assert recorder.mail_options[0] == recorder.mail_options[1] == [f"SIZE={len(message)}"]


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


async def _send_on_one_connection(port: int, messages: list[tuple[list[str], bytes]]) -> list[object]:
    """Each message's outcome (the sendmail result or the exception), all on one session as the relay keeps it."""
    outcomes: list[object] = []
    async with RelayClient(hostname="127.0.0.1", port=port, start_tls=False, timeout=10) as client:
        for rcpts, message in messages:
            try:
                outcomes.append(await client.sendmail("a@peer.test", rcpts, message))
            except aiosmtplib.SMTPException as exc:
                outcomes.append(exc)
    return outcomes


def test_one_refused_recipient_is_reported_and_the_others_get_the_message(server: tuple[Recorder, int]) -> None:
    recorder, port = server
    recorder.unknown = {"gone@here.test"}
    [(errors, reply)] = asyncio.run(_send_on_one_connection(port, [(["gone@here.test", "b@here.test"], MESSAGES[0])]))
    assert set(errors) == {"gone@here.test"}
    assert errors["gone@here.test"].code == 550
    assert "OK" in reply
    assert recorder.rcpts == [["b@here.test"]]
    assert recorder.received == [MESSAGES[0]]


def test_all_recipients_refused_raises_and_the_session_stays_usable(server: tuple[Recorder, int]) -> None:
    recorder, port = server
    recorder.unknown = {"gone@here.test"}
    refused, delivered = asyncio.run(
        _send_on_one_connection(port, [(["gone@here.test"], MESSAGES[1]), (["b@here.test"], MESSAGES[0])])
    )
    assert isinstance(refused, aiosmtplib.SMTPRecipientsRefused)
    assert [exc.recipient for exc in refused.recipients] == ["gone@here.test"]
    assert isinstance(delivered, tuple)
    assert recorder.received == [MESSAGES[0]]  # RSET cleared the refused envelope: nothing of it was delivered


def test_an_address_with_a_control_character_is_refused_as_aiosmtplib_refuses_it(server: tuple[Recorder, int]) -> None:
    recorder, port = server
    for client_class in (RelayClient, aiosmtplib.SMTP):

        async def send(client_class: type[aiosmtplib.SMTP] = client_class) -> None:
            async with client_class(hostname="127.0.0.1", port=port, start_tls=False, timeout=10) as client:
                await client.sendmail("a@peer.test", ["b\x00@here.test"], MESSAGES[0])

        with pytest.raises(ValueError, match="control character"):
            asyncio.run(send())
    assert recorder.received == []
