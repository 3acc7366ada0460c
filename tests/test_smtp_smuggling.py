"""Bare CR / LF anywhere in a session is refused with 5.6.11 and the connection closed (SMTP smuggling family)."""

from __future__ import annotations

import base64
import re
import socket
import ssl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.smtp.guard import LineEndingGuard, crlf_only
from tests.fixtures.smtp import CLERK, PASSWORD, SubmissionServer, read_reply


@pytest.mark.parametrize(
    "chunks",
    [
        [b"EHLO x\n"],
        [b"EHLO x\r\r\n"],
        [b"DATA\r\n", b"line\n.\r\n"],
        [b"a\r\n", b"\n.\r\n"],  # <LF>.<CR><LF>
        [b"a\r", b"x\r\n"],  # CR at a chunk's end followed by something else
        [b"a\r\n.\r", b"\r\n"],
        [b"\n"],
        [b"a\rb\r\n"],
    ],
)
def test_guard_flags_bare_line_endings(chunks: list[bytes]) -> None:
    guard = LineEndingGuard()
    assert any(guard.feed(chunk) for chunk in chunks)


@pytest.mark.parametrize(
    "chunks",
    [
        [b"EHLO x\r\n", b"MAIL FROM:<a@b.c>\r\n"],
        [b"EHLO x\r", b"\nNOOP\r\n"],  # CRLF split across chunks
        [b"\r", b"\n"],
        [b"line one\r\n.line\r\n.\r\n"],
        [b""],
    ],
)
def test_guard_accepts_crlf_streams(chunks: list[bytes]) -> None:
    guard = LineEndingGuard()
    assert not any(guard.feed(chunk) for chunk in chunks)


def _tls_session(server: SubmissionServer) -> ssl.SSLSocket:
    raw = socket.create_connection(("127.0.0.1", server.implicit_port), timeout=10)
    sock = server.tls.client_context().wrap_socket(raw, server_hostname="localhost")
    sock.recv(4096)  # greeting
    return sock


def _read_all(sock: socket.socket) -> bytes:
    received = b""
    while True:
        try:
            chunk = sock.recv(4096)
        except (ConnectionResetError, ssl.SSLError):
            break
        if not chunk:
            break
        received += chunk
    return received


@pytest.mark.parametrize(
    "payload",
    [
        b"EHLO client.test\n",
        b"EHLO client.test\r\r\n",
        b"EHLO client.test\r\nNOOP\n",
    ],
)
def test_bare_line_ending_in_commands_closes_session(submission_server: SubmissionServer, payload: bytes) -> None:
    sock = _tls_session(submission_server)
    sock.sendall(payload)
    reply = _read_all(sock)
    sock.close()
    assert b"550 5.6.11 [BARE_LINE_ENDING]" in reply


def test_smuggled_second_message_in_data_is_refused(submission_server: SubmissionServer) -> None:
    sock = _tls_session(submission_server)
    token = base64.b64encode(f"\0{CLERK.login}\0{PASSWORD}".encode()).decode()
    sock.sendall(b"EHLO client.test\r\n")
    read_reply(sock)
    sock.sendall(f"AUTH PLAIN {token}\r\n".encode())
    assert read_reply(sock).startswith(b"235")
    sock.sendall(f"MAIL FROM:<{CLERK.mailbox}>\r\n".encode())
    assert read_reply(sock).startswith(b"250")
    sock.sendall(b"RCPT TO:<vanthu@stc.camau.lienthong.test>\r\n")
    assert read_reply(sock).startswith(b"250")
    sock.sendall(b"DATA\r\n")
    assert read_reply(sock).startswith(b"354")
    smuggled = (
        b"From: a@b.test\r\n\r\nfirst\r\n\n.\r\n"
        b"MAIL FROM:<evil@x.test>\r\nRCPT TO:<vanthu@stc.camau.lienthong.test>\r\nDATA\r\nforged\r\n.\r\n"
    )
    sock.sendall(smuggled)
    reply = _read_all(sock)
    sock.close()
    assert b"550 5.6.11" in reply
    assert b"250" not in reply
    assert submission_server.intake.accepted == []


@given(st.lists(st.binary(max_size=12).map(lambda b: bytes(b"\r\na."[x % 4] for x in b)), max_size=8))
def test_guard_agrees_with_a_plain_reading_of_the_whole_stream(chunks: list[bytes]) -> None:
    """However the stream is cut into chunks, the guard flags exactly the streams with a bare CR or LF (a CR at
    the very end is not yet bare: its LF may still come)."""
    stream = b"".join(chunks)
    guard = LineEndingGuard()
    for chunk in chunks:
        guard.feed(chunk)
    assert guard.violation == bool(re.search(rb"\r(?!\n|\Z)|(?<!\r)\n", stream))


@given(st.binary(max_size=24).map(lambda b: bytes(b"\r\na."[x % 4] for x in b)))
def test_crlf_only_is_the_guards_rule_for_whole_bytes(data: bytes) -> None:
    assert crlf_only(data) == (not re.search(rb"\r(?!\n)|(?<!\r)\n", data))
