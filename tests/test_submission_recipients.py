"""RCPT TO at submission: an address no agency of the registry has is refused at once with 550 5.1.1.

The listeners are the ones ``lienthong serve`` opens (``gateway.serve.start``) on a demo home with its PKI, on
SQLite and PostgreSQL; the client is stdlib smtplib over TLS, as a clerk's mail client. The intake is the real one,
so what was accepted is read back from the submissions table and the queue.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gateway import queue
from gateway.home import Home
from gateway.intake import SubmissionRecord
from gateway.serve import start
from gateway.workers.services import Services
from tests.fixtures.smtp import free_port, serving
from tests.fixtures.workers import cli
from tests.test_serve import configure, credentials

HOSTED = "vanthu@syt.camau.lienthong.test"  # Sở Y tế, hosted here
SUSPENDED = "vanthu@huyennamcan.camau.lienthong.test"  # in the registry, suspended: the worker refuses it with a notice
REMOTE = "vanthu@ubnd.hanoi.lienthong.test"  # an agency hosted by a peer gateway
UNKNOWN = "vanthu@syt.camau.lienthong.tset"  # a typing mistake: no agency has it


@dataclass
class Listener:
    home: Home
    port: int
    sessions: sessionmaker[Session]

    def client(self) -> smtplib.SMTP:
        context = ssl.create_default_context(cafile=str(self.home.keys_dir / "ca" / "root.pem"))
        context.check_hostname = False  # the chain is verified; the demo's domain does not resolve here
        client = smtplib.SMTP("127.0.0.1", self.port, timeout=30)
        client.starttls(context=context)
        client.login(*credentials(self.home, "clerk"))
        return client

    def submissions(self) -> list[SubmissionRecord]:
        with self.sessions() as session:
            return list(session.scalars(select(SubmissionRecord).order_by(SubmissionRecord.id)))


@pytest.fixture
def listener(tmp_path: Path, db_url: str) -> Iterator[Listener]:
    home = Home(tmp_path / "home")
    args = ["init", "--demo", "--with-pki"]
    if not db_url.startswith("sqlite"):
        args += ["--database-url", db_url]
    cli(home, *args)
    cli(home, "peer", "add", "hanoi", "--host", "127.0.0.1", "--port", "2525", "--domain", "hanoi.lienthong.test")
    hanoi = ["--name", "Ủy ban nhân dân thành phố Hà Nội", "--short", "UBND", "--mail", REMOTE, "--gateway", "hanoi"]
    cli(home, "agency", "add", "000.00.00.H01", *hanoi)
    port = free_port()
    configure(home, port, 0, tls_host=None)
    services = Services.from_home(home)

    async def open_listeners() -> list[asyncio.Server]:
        return list((await start(home, services)).servers)

    try:
        with serving(open_listeners):
            yield Listener(home, port, services.sessions)
    finally:
        services.close()


def mail(sender: str, *recipients: str) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"] = sender, ", ".join(recipients)
    msg["Date"] = "Mon, 02 Mar 2026 09:15:00 +0700"
    msg["Message-ID"] = "<rcpt-test@stc.camau.lienthong.test>"
    msg["Subject"] = "Thử nghiệm"
    msg.set_content("Nội dung.\n")
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


def test_an_unknown_recipient_is_refused_at_rcpt_and_the_known_ones_go_through(listener: Listener) -> None:
    with listener.client() as client:
        sender = str(client.user)
        assert client.mail(sender)[0] == 250
        code, text = client.rcpt(UNKNOWN)
        assert (code, text.split()[:2]) == (550, [b"5.1.1", b"[RECIPIENT_UNKNOWN]"])
        assert UNKNOWN.encode() in text
        assert client.rcpt(HOSTED)[0] == 250  # the same transaction goes on
        assert client.rcpt(REMOTE)[0] == 250  # hosted by a peer gateway: the relay takes it there
        assert client.rcpt(SUSPENDED)[0] == 250  # still in the registry; refused later with a reason
        code, text = client.data(mail(sender, HOSTED, REMOTE, SUSPENDED))
        assert code == 250, text

    [record] = listener.submissions()
    assert record.rcpt_tos.split(",") == [HOSTED, REMOTE, SUSPENDED]
    with listener.sessions() as session:
        assert queue.counts(session) == {"pending": 1}  # the accepted message is durable and waits for processing


def test_smtplib_sends_to_the_rest_and_reports_the_refused_one(listener: Listener) -> None:
    """What a mail client sees: the refusal comes back per recipient, the message goes to the recipients taken."""
    with listener.client() as client:
        sender = str(client.user)
        refused = client.sendmail(sender, [UNKNOWN, HOSTED], mail(sender, HOSTED))
    assert list(refused) == [UNKNOWN]
    assert refused[UNKNOWN][0] == 550
    [record] = listener.submissions()
    assert record.rcpt_tos == HOSTED


def test_a_mail_whose_headers_name_the_refused_recipient_is_refused_whole(listener: Listener) -> None:
    """A document goes to all its recipients or to none: the reply names the address to correct."""
    with listener.client() as client:
        sender = str(client.user)
        with pytest.raises(smtplib.SMTPDataError) as refused:
            client.sendmail(sender, [HOSTED, UNKNOWN], mail(sender, HOSTED, UNKNOWN))
        assert refused.value.smtp_code == 550
        assert refused.value.smtp_error.startswith(b"5.1.1 [RECIPIENT_UNKNOWN]")
        assert UNKNOWN.encode() in refused.value.smtp_error
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            client.sendmail(sender, [UNKNOWN], mail(sender, UNKNOWN))  # no recipient left: nothing is sent
    assert listener.submissions() == []


def test_an_agency_added_while_running_is_taken_at_once(listener: Listener) -> None:
    """Refusals are not remembered: the clerk who sent too early succeeds as soon as the operator adds the agency."""
    new = "vanthu@sxd.camau.lienthong.test"
    with listener.client() as client:
        sender = str(client.user)
        assert client.mail(sender)[0] == 250
        assert client.rcpt(new)[0] == 550
        cli(listener.home, "agency", "add", "000.00.20.H12", "--name", "Sở Xây dựng", "--short", "SXD", "--mail", new)
        assert client.rcpt(new)[0] == 250
        assert client.data(mail(sender, new))[0] == 250
    [record] = listener.submissions()
    assert record.rcpt_tos == new
