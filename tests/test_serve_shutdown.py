"""SIGTERM: idle sessions are told 421 at once, a transaction under way may finish within the grace period, a
stalled one is cut off when it ends, and the gateway exits promptly."""

from __future__ import annotations

import signal
import smtplib
import subprocess
import time

from gateway.home import Home
from tests.test_serve import (  # noqa: F401 - the running-gateway fixture
    client_context,
    credentials,
    message,
    served,
    serving,
)

SYT_MAIL = "vanthu@syt.camau.lienthong.test"


def test_idle_session_ends_and_a_transaction_under_way_finishes(
    served: tuple[Home, int, int, subprocess.Popen[str]],  # noqa: F811 - the fixture imported above
) -> None:
    home, starttls, _, process = served
    login, password = credentials(home, "clerk")
    idle = smtplib.SMTP("localhost", starttls, timeout=30)
    idle.starttls(context=client_context(home))
    idle.login(login, password)
    busy = smtplib.SMTP("localhost", starttls, timeout=30)
    busy.starttls(context=client_context(home))
    busy.login(login, password)
    busy.mail(login)
    busy.rcpt(SYT_MAIL)  # a transaction has begun: the gateway must let it finish

    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    code, _ = busy.data(message(login, SYT_MAIL).as_bytes().replace(b"\n", b"\r\n").replace(b"\r\r\n", b"\r\n"))
    assert code == 250  # accepted and durable, though the gateway is stopping
    busy.close()
    assert idle.noop()[0] == 421 or _disconnected(idle)  # the idle one was told to go away
    assert process.wait(30) == 0
    assert time.monotonic() - started < 8  # no waiting out the grace period for sessions with nothing to say


def _disconnected(client: smtplib.SMTP) -> bool:
    try:
        client.noop()
    except smtplib.SMTPServerDisconnected:
        return True
    return False


def test_a_client_stalled_in_a_transaction_cannot_hold_shutdown(demo_home: Home) -> None:
    """On Python 3.12+ ``Server.wait_closed()`` waits for every connection: the grace period must be ours."""
    with serving(demo_home, shutdown_grace_seconds=1.5) as (home, starttls, _, process):
        login, password = credentials(home, "clerk")
        stalled = smtplib.SMTP("localhost", starttls, timeout=30)
        stalled.starttls(context=client_context(home))
        stalled.login(login, password)
        stalled.mail(login)
        stalled.rcpt(SYT_MAIL)
        assert stalled.docmd("DATA")[0] == 354
        stalled.send(b"Subject: never finished\r\n\r\nhalf a message")  # and nothing more: no CRLF.CRLF

        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
        elapsed = time.monotonic() - started
        assert 1.5 <= elapsed < 8  # the grace period was given, and then the session was cut off
        assert _disconnected(stalled)
        assert "still in a transaction after 1.5 s were cut off" in process.stderr.read()  # type: ignore[union-attr]
        stalled.close()
