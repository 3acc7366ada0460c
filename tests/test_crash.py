"""SIGKILL at random moments under a stream of submissions: every accepted document is delivered exactly once, with
its receipt, once the gateway has been restarted and has caught up.

The gateway is a real `lienthong serve` process on a demo home (SQLite, Maildir, its own CA); a client thread submits
500 documents over SMTP/TLS and retries whatever it did not see a 250 for; a killer thread SIGKILLs the gateway at
random moments and starts it again.
"""

from __future__ import annotations

import random
import re
import signal
import smtplib
import ssl
import subprocess
import threading
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gateway.documents import IncomingDocument, OutgoingRecipient
from gateway.envelope.model import VIETNAM, Code, Organization
from gateway.home import Home
from gateway.ledger.store import verify
from registry import db
from tests.fixtures.envelope import build_valid, make_header
from tests.fixtures.smtp import free_port
from tests.fixtures.workers import cli, halt, spawn_serve
from tests.mailboxes import maildir_messages
from tests.test_serve import credentials

DOCUMENTS = 500
PATIENCE_SECONDS = 180
STC, STC_MAIL = "000.00.15.H12", "vanthu@stc.camau.lienthong.test"
SYT, SYT_MAIL = "000.00.22.H12", "vanthu@syt.camau.lienthong.test"


def document(n: int) -> bytes:
    header = make_header(
        from_=Organization(STC, organ_name="Sở Tài chính tỉnh Cà Mau", email=STC_MAIL),
        code=Code(str(n), "STC-VP"),
        issued=datetime.now(VIETNAM).date(),
    )
    header = replace(header, to=(Organization(SYT, organ_name="Sở Y tế tỉnh Cà Mau", email=SYT_MAIL),))
    return build_valid(header)


class Gateway:
    def __init__(self, home: Home) -> None:
        self.home = home
        self.process: subprocess.Popen[str] | None = None
        self.lock = threading.Lock()
        self.kills = 0

    def start(self) -> None:
        process = spawn_serve(self.home, subprocess.DEVNULL)
        assert process.stdout is not None
        assert "listening" in process.stdout.readline()
        self.process = process

    def kill(self) -> None:
        with self.lock:
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(30)
            self.kills += 1
            self.start()

    def stop(self) -> None:
        halt(self.process, grace_seconds=60)


def document_ids(raws: list[bytes]) -> list[str]:
    return [re.search(rb"(?m)^Lienthong-Document-Id: (.+?)\r$", raw).group(1).decode() for raw in raws]  # type: ignore[union-attr]


@pytest.mark.slow
def test_sigkill_under_load_loses_nothing_and_duplicates_nothing(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    cli(home, "init", "--demo", "--with-pki")
    port = free_port()
    text = home.config_path.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^submission_port = \d+$", f"submission_port = {port}", text)
    text = re.sub(r"(?m)^submission_tls_port = \d+$", "submission_tls_port = 0", text)
    text = re.sub(r"(?m)^relay_port = \d+$", "relay_port = 0", text)
    text += "\n[queue]\nretry_base_seconds = 1\nlease_seconds = 5\n"  # a killed worker's item returns in 5 s
    home.config_path.write_text(text, encoding="utf-8")
    login, password = credentials(home, "clerk")
    tls = ssl.create_default_context(cafile=str(home.keys_dir / "ca" / "root.pem"))
    tls.check_hostname = False  # chain verified; the demo domain does not resolve here

    gateway = Gateway(home)
    gateway.start()
    done = threading.Event()
    rng = random.Random(20261125)

    def killer() -> None:
        while not done.wait(rng.uniform(0.5, 2.0)):
            gateway.kill()

    accepted: set[int] = set()
    killing = threading.Thread(target=killer, daemon=True)
    killing.start()
    try:
        client: smtplib.SMTP | None = None
        for n in range(1, DOCUMENTS + 1):
            data = document(n)
            # A real client retries a temporary failure for as long as its queue lifetime allows, not a fixed number
            # of times: under a slow machine, several kills in a row may each land before this document got through.
            deadline = time.monotonic() + PATIENCE_SECONDS
            failures: list[str] = []
            while n not in accepted:
                if time.monotonic() > deadline:
                    pytest.fail(f"document {n} not accepted within {PATIENCE_SECONDS} s; last errors: {failures[-5:]}")
                try:
                    if client is None:
                        client = smtplib.SMTP("127.0.0.1", port, timeout=30)
                        client.starttls(context=tls)
                        client.login(login, password)
                    client.sendmail(login, [SYT_MAIL], data)
                    accepted.add(n)
                except (OSError, smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, ssl.SSLError) as exc:
                    failures.append(repr(exc))
                    client = None  # the gateway died under us: reconnect and send the same document again
                    time.sleep(0.2)
                except smtplib.SMTPResponseException as exc:
                    if exc.smtp_code >= 500:
                        pytest.fail(f"document {n} refused: {exc}")
                    failures.append(repr(exc))
                    client = None
                    time.sleep(0.2)
        if client is not None:
            client.quit()
    finally:
        done.set()
        killing.join(60)
    try:
        assert accepted == set(range(1, DOCUMENTS + 1))
        # Kills while the workers process, deliver and receipt what was accepted, too, not only during submission.
        sessions = db.session_factory(db.make_engine(home.database_url))
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            with sessions() as session:
                sent = session.scalar(select(func.count()).select_from(OutgoingRecipient)) or 0
            if sent >= DOCUMENTS:
                break
            if gateway.kills < 6 and rng.random() < 0.3:
                gateway.kill()
            time.sleep(1)
    finally:
        gateway.stop()
    assert gateway.kills >= 3

    delivered = document_ids(maildir_messages(home, SYT_MAIL))
    receipts = maildir_messages(home, STC_MAIL, "receipt")
    with sessions() as session:
        numbers = sorted(session.scalars(select(IncomingDocument.incoming_number)))
        states = set(session.scalars(select(OutgoingRecipient.state)))
        assert verify(session).intact
    assert len(delivered) == DOCUMENTS  # exactly once each
    assert len(set(delivered)) == DOCUMENTS
    assert numbers == list(range(1, DOCUMENTS + 1))  # incoming numbers without gaps or repeats
    assert len(receipts) == DOCUMENTS
    assert states == {"sent"}
