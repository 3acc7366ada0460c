"""SIGTERM: idle sessions are told 421 at once, a transaction under way may finish, and the gateway exits promptly."""

from __future__ import annotations

import signal
import smtplib
import subprocess
import time

from gateway.home import Home
from tests.test_serve import client_context, credentials, message, served  # noqa: F401 - the running-gateway fixture

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
