"""Every refusal carries an enhanced status code (RFC 3463), aiosmtpd's own replies included: a client or an
operator reading a log can tell a syntax error (5.5.x) from a policy refusal (5.7.x) without parsing English."""

from __future__ import annotations

import base64
import re
import socket
import ssl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.smtp.protocol import with_enhanced_code
from tests.fixtures.smtp import CLERK, PASSWORD, SubmissionServer, read_reply

AUTH = b"AUTH PLAIN " + base64.b64encode(f"\0{CLERK.login}\0{PASSWORD}".encode())
MAIL = f"MAIL FROM:<{CLERK.mailbox}>".encode()
ENHANCED = re.compile(rb"^[45]\d\d[ -][45]\.\d{1,3}\.\d{1,3}(?: |\r\n)")


def _session(server: SubmissionServer) -> ssl.SSLSocket:
    """Implicit TLS: on the STARTTLS port every command before STARTTLS is answered 530 5.7.0 alone."""
    raw = socket.create_connection(("127.0.0.1", server.implicit_port), timeout=10)
    sock = server.tls.client_context().wrap_socket(raw, server_hostname="localhost")
    read_reply(sock)  # greeting
    return sock


@pytest.mark.parametrize(
    ("commands", "expected"),
    [
        ([b"FOO bar"], b"500 5.5.2 "),  # unknown command
        ([b"MAIL FROM:<a@b.test>"], b"503 5.5.1 "),  # before EHLO
        ([b"EHLO client.test", AUTH, b"MAIL FROM:"], b"501 5.5.4 "),  # syntax
        ([b"EHLO client.test", AUTH, b"RCPT TO:<a@b.test>"], b"503 5.5.1 "),  # RCPT before MAIL
        ([b"EHLO client.test", AUTH, MAIL, MAIL], b"503 5.5.1 "),  # nested MAIL
    ],
)
def test_library_refusals_carry_an_enhanced_code(
    submission_server: SubmissionServer, commands: list[bytes], expected: bytes
) -> None:
    with _session(submission_server) as sock:
        reply = b""
        for command in commands:
            sock.sendall(command + b"\r\n")
            reply = read_reply(sock)
        last = reply.split(b"\r\n")[-2] + b"\r\n"
        assert last.startswith(expected), reply
        assert ENHANCED.match(last), reply


@given(
    st.sampled_from(["421", "450", "451", "500", "501", "502", "503", "504", "530", "535", "550", "552", "554"]),
    st.sampled_from([" ", "-"]),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60),
)
def test_any_refusal_line_leaves_with_one_enhanced_code(code: str, separator: str, text: str) -> None:
    line = with_enhanced_code(f"{code}{separator}{text}")
    assert ENHANCED.match(line.encode() + b"\r\n"), line
    assert line.startswith(code + separator)
    if not re.match(r"[245]\.\d{1,3}\.\d{1,3}(?: |$)", text):
        assert line.endswith(text)  # the text is kept whole, only prefixed


def test_replies_that_already_have_one_or_are_not_refusals_are_unchanged() -> None:
    for line in (
        "250 OK",
        "220 ready",
        "550 5.7.1 [SENDER_MISMATCH] From is not yours",
        "354 End data with <CR><LF>.<CR><LF>",
    ):
        assert with_enhanced_code(line) == line
