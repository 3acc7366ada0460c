"""Submission over real sockets with smtplib, as a clerk's mail client would: TLS first, AUTH, alignment."""

from __future__ import annotations

import smtplib
import socket
import ssl
from email.message import EmailMessage

import pytest

from tests.fixtures.smtp import CLERK, PASSWORD, SubmissionServer, read_reply

RECIPIENT = "vanthu@syt.camau.lienthong.test"


def message(**overrides: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = overrides.get("From", CLERK.mailbox)
    msg["To"] = overrides.get("To", RECIPIENT)
    msg["Date"] = "Mon, 02 Mar 2026 09:15:00 +0700"
    msg["Message-ID"] = "<doc-1@stc.camau.lienthong.test>"
    msg["Subject"] = "15/UBND-VP Về việc thử nghiệm"
    for name in ("Cc", "Bcc"):
        if name in overrides:
            msg[name] = overrides[name]
    msg.set_content("Nội dung thử nghiệm.\n")
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


def starttls_client(server: SubmissionServer) -> smtplib.SMTP:
    client = smtplib.SMTP("127.0.0.1", server.starttls_port, timeout=10)
    client.ehlo("clerk.test")
    client.starttls(context=server.tls.client_context())
    client.ehlo("clerk.test")
    return client


def test_auth_is_not_offered_before_tls(submission_server: SubmissionServer) -> None:
    with smtplib.SMTP("127.0.0.1", submission_server.starttls_port, timeout=10) as client:
        client.ehlo("clerk.test")
        assert client.has_extn("starttls")
        assert not client.has_extn("auth")
        for command, argument in (("AUTH", "PLAIN AGZvbwBiYXI="), ("MAIL", f"FROM:<{CLERK.mailbox}>")):
            code, reply = client.docmd(command, argument)
            assert code == 530
            assert reply.startswith(b"5.7.0 Must issue a STARTTLS command first")


def test_starttls_then_auth_then_submit(submission_server: SubmissionServer) -> None:
    data = message()
    with starttls_client(submission_server) as client:
        assert client.has_extn("auth")
        client.login(CLERK.login, PASSWORD)
        refused = client.sendmail(CLERK.mailbox, [RECIPIENT], data)
        assert refused == {}
    [(submission, digest)] = submission_server.intake.accepted
    assert submission.data == data  # exact bytes, CRLF preserved
    assert submission.principal == CLERK
    assert submission.rcpt_tos == (RECIPIENT,)
    assert submission_server.intake.store.get(digest) == data


def test_implicit_tls_port_offers_auth(submission_server: SubmissionServer) -> None:
    with smtplib.SMTP_SSL(
        "127.0.0.1", submission_server.implicit_port, timeout=10, context=submission_server.tls.client_context()
    ) as client:
        client.ehlo("clerk.test")
        assert client.has_extn("auth")
        client.login(CLERK.login, PASSWORD)
        assert client.sendmail(CLERK.mailbox, [RECIPIENT], message()) == {}


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_both_advertised_mechanisms_log_in(submission_server: SubmissionServer, mechanism: str) -> None:
    """Outlook and older clients use AUTH LOGIN, most others PLAIN: each is advertised, and each really works."""
    with starttls_client(submission_server) as client:
        assert set(client.esmtp_features["auth"].upper().split()) == {"PLAIN", "LOGIN"}
        client.user, client.password = CLERK.login, PASSWORD
        authenticator = client.auth_plain if mechanism == "PLAIN" else client.auth_login
        code, _ = client.auth(mechanism, authenticator)
        assert code == 235
        assert client.sendmail(CLERK.mailbox, [RECIPIENT], message()) == {}
    with starttls_client(submission_server) as client:
        client.user, client.password = CLERK.login, "wrong"
        authenticator = client.auth_plain if mechanism == "PLAIN" else client.auth_login
        with pytest.raises(smtplib.SMTPAuthenticationError) as caught:
            client.auth(mechanism, authenticator)
        assert caught.value.smtp_code == 535


def test_a_session_that_keeps_getting_refusals_is_closed(submission_server: SubmissionServer) -> None:
    """Like an MTA's hard error limit: twenty refusals (wrong passwords here), then 421 and the connection closes;
    a new session starts afresh."""
    with starttls_client(submission_server) as client:
        client.user, client.password = CLERK.login, "wrong"  # one mechanism, one refusal per attempt
        for _ in range(19):
            with pytest.raises(smtplib.SMTPAuthenticationError):
                client.auth("PLAIN", client.auth_plain)
        assert client.noop()[0] == 250  # nineteen refusals: still served
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.auth("PLAIN", client.auth_plain)
        code, reply = client.getreply()  # the 421 that follows the twentieth refusal
        assert code == 421
        assert reply.startswith(b"4.7.0 Too many errors")
        with pytest.raises(smtplib.SMTPServerDisconnected):
            client.noop()
    with starttls_client(submission_server) as client:
        client.login(CLERK.login, PASSWORD)
        assert client.sendmail(CLERK.mailbox, [RECIPIENT], message()) == {}


def test_wrong_password_is_535(submission_server: SubmissionServer) -> None:
    with starttls_client(submission_server) as client, pytest.raises(smtplib.SMTPAuthenticationError) as caught:
        client.login(CLERK.login, "wrong")
    assert caught.value.smtp_code == 535
    assert b"5.7.8 [AUTH_FAILED]" in caught.value.smtp_error


def test_unknown_login_is_535(submission_server: SubmissionServer) -> None:
    with starttls_client(submission_server) as client, pytest.raises(smtplib.SMTPAuthenticationError):
        client.login("nobody@stc.camau.lienthong.test", PASSWORD)


def test_no_open_relay_without_auth(submission_server: SubmissionServer) -> None:
    with starttls_client(submission_server) as client:
        code, reply = client.docmd("MAIL", f"FROM:<{CLERK.mailbox}>")
        assert code == 530
        assert b"5.7.0" in reply


def test_mail_from_must_be_the_authenticated_mailbox(submission_server: SubmissionServer) -> None:
    with starttls_client(submission_server) as client:
        client.login(CLERK.login, PASSWORD)
        code, reply = client.mail("vanthu@syt.camau.lienthong.test")
        assert code == 550
        assert b"5.7.1 [SENDER_MISMATCH]" in reply


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"From": "vanthu@syt.camau.lienthong.test"}, b"[SENDER_MISMATCH] "),
        ({"To": "other@syt.camau.lienthong.test"}, b"RCPT TO not in To/Cc"),
        ({"Bcc": "hidden@syt.camau.lienthong.test"}, b"Bcc: blind copies are not allowed"),
    ],
)
def test_header_alignment_is_enforced(
    submission_server: SubmissionServer, overrides: dict[str, str], expected: bytes
) -> None:
    with starttls_client(submission_server) as client:
        client.login(CLERK.login, PASSWORD)
        with pytest.raises(smtplib.SMTPDataError) as caught:
            client.sendmail(CLERK.mailbox, [RECIPIENT], message(**overrides))
    assert caught.value.smtp_code == 550 or caught.value.smtp_code == 554
    assert expected in caught.value.smtp_error
    assert submission_server.intake.accepted == []


def test_duplicate_from_header_is_refused(submission_server: SubmissionServer) -> None:
    data = message().replace(b"From: ", b"From: vanthu@stc.camau.lienthong.test\r\nFrom: ", 1)
    with starttls_client(submission_server) as client:
        client.login(CLERK.login, PASSWORD)
        with pytest.raises(smtplib.SMTPDataError) as caught:
            client.sendmail(CLERK.mailbox, [RECIPIENT], data)
    assert b"5.6.0 [HEADER_INVALID]" in caught.value.smtp_error
    assert b"From: must appear exactly once, found 2" in caught.value.smtp_error


def test_recipient_cap_and_bad_addresses(submission_server: SubmissionServer) -> None:
    with starttls_client(submission_server) as client:
        client.login(CLERK.login, PASSWORD)
        client.mail(CLERK.mailbox)
        code, reply = client.rcpt("bad address@x.test")
        assert code in (501, 553)
        for index in range(5):
            assert client.rcpt(f"r{index}@syt.camau.lienthong.test")[0] == 250
        code, reply = client.rcpt("r9@syt.camau.lienthong.test")
        assert code == 452
        assert b"4.5.3" in reply


def test_oversized_message_is_refused(submission_server: SubmissionServer) -> None:
    with starttls_client(submission_server) as client:
        client.login(CLERK.login, PASSWORD)
        code, reply = client.mail(CLERK.mailbox, ["SIZE=5000000"])
        assert code == 552
        assert b"5.3.4 [MESSAGE_TOO_BIG]" in reply


def test_a_huge_header_block_is_refused_before_it_is_parsed(submission_server: SubmissionServer) -> None:
    """Megabytes of To: lines parsed on the event loop stalled every session for seconds (an audit measured 8 s);
    the envelope's 64 KiB header limit now applies before any parsing, and other sessions are answered meanwhile."""
    padding = b"".join(b"X-Filler-%d: %s\r\n" % (n, b"y" * 900) for n in range(300))  # about 270 KB of headers
    data = message().replace(b"\r\n\r\n", b"\r\n" + padding + b"\r\n", 1)
    with starttls_client(submission_server) as client:
        client.login(CLERK.login, PASSWORD)
        with pytest.raises(smtplib.SMTPDataError) as caught:
            client.sendmail(CLERK.mailbox, [RECIPIENT], data)
        assert caught.value.smtp_code == 552
        assert b"5.3.4 [MIME_TOO_COMPLEX]" in caught.value.smtp_error
        assert b"header block" in caught.value.smtp_error
        with starttls_client(submission_server) as other:
            assert other.noop()[0] == 250
    assert submission_server.intake.accepted == []


def test_our_own_failure_is_temporary_and_does_not_leak(submission_server: SubmissionServer) -> None:
    submission_server.intake.fail_with = RuntimeError("database password is hunter2")
    with starttls_client(submission_server) as client:
        client.login(CLERK.login, PASSWORD)
        with pytest.raises(smtplib.SMTPDataError) as caught:
            client.sendmail(CLERK.mailbox, [RECIPIENT], message())
    assert caught.value.smtp_code == 451
    assert b"hunter2" not in caught.value.smtp_error
    assert b"4.3.0" in caught.value.smtp_error


def test_commands_pipelined_before_starttls_are_discarded(submission_server: SubmissionServer) -> None:
    raw = socket.create_connection(("127.0.0.1", submission_server.starttls_port), timeout=10)
    read_reply(raw)
    raw.sendall(b"EHLO clerk.test\r\n")
    read_reply(raw)
    raw.sendall(b"STARTTLS\r\nNOOP injected\r\n")  # the NOOP must not survive the upgrade
    assert read_reply(raw).startswith(b"220")
    tls = submission_server.tls.client_context().wrap_socket(raw, server_hostname="localhost")
    tls.sendall(b"NOOP after\r\n")
    assert read_reply(tls).startswith(b"250")
    tls.sendall(b"QUIT\r\n")
    rest = b""
    while chunk := tls.recv(4096):
        rest += chunk
    tls.close()
    # Had the injected NOOP survived, its 250 would come before the 221.
    assert rest.startswith(b"221")


def test_connection_cap_answers_421(submission_server: SubmissionServer) -> None:
    held = [socket.create_connection(("127.0.0.1", submission_server.starttls_port), timeout=10) for _ in range(3)]
    try:
        for sock in held:
            assert sock.recv(4096).startswith(b"220")
        extra = socket.create_connection(("127.0.0.1", submission_server.starttls_port), timeout=10)
        reply = extra.recv(4096)
        extra.close()
        assert reply.startswith(b"421 4.7.0")
    finally:
        for sock in held:
            sock.close()


def test_tls_is_real(submission_server: SubmissionServer) -> None:
    with starttls_client(submission_server) as client:
        assert isinstance(client.sock, ssl.SSLSocket)
        assert client.sock.version() in ("TLSv1.2", "TLSv1.3")
