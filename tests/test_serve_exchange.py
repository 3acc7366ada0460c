"""The running gateway end to end: a clerk submits over SMTP, the workers sign, deliver and return receipts.

`lienthong init --demo --with-pki` then `lienthong serve` as a real process, a real TLS session from smtplib,
and the results read back from the Maildirs and the database, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import os
import shutil
import signal
import smtplib
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.documents import IncomingDocument, OutgoingRecipient
from gateway.envelope.model import VIETNAM
from gateway.home import Home
from gateway.ledger.store import verify
from gateway.receipts.mdn import read_receipt
from registry import db
from tests.fixtures.smtp import free_port
from tests.fixtures.workers import cli, reap, spawn_serve
from tests.mailboxes import maildir_messages
from tests.pdfs import make_decision_pdf
from tests.test_serve import configure, credentials
from tests.test_worker_process import SKHCN, STC_MAIL, SYT, envelope


@pytest.fixture
def pki_home(tmp_path: Path, db_url: str) -> Home:
    home = Home(tmp_path / "home")
    args = ["init", "--demo", "--with-pki"]
    if not db_url.startswith("sqlite"):
        args += ["--database-url", db_url]
    cli(home, *args)
    return home


@pytest.fixture
def gateway(pki_home: Home) -> Iterator[tuple[Home, int, subprocess.Popen[str]]]:
    port = free_port()
    configure(pki_home, port, 0, tls_host=None)  # the demo's TLS certificate is for the gateway's domain
    process = spawn_serve(pki_home, subprocess.PIPE)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "listening on 127.0.0.1:" in line, line + (process.stderr.read() if process.stderr else "")
        yield pki_home, port, process
    finally:
        reap(process)


def test_clerk_submission_is_delivered_and_receipted(gateway: tuple[Home, int, subprocess.Popen[str]]) -> None:
    home, port, process = gateway
    login, password = credentials(home, "clerk")
    assert login == STC_MAIL
    today = datetime.now(VIETNAM).date()
    context = ssl.create_default_context(cafile=str(home.keys_dir / "ca" / "root.pem"))
    context.check_hostname = False  # the chain is verified; the demo's domain does not resolve on this machine
    data = envelope(issued=today)
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.starttls(context=context)
        client.login(login, password)
        recipients = ["vanthu@syt.camau.lienthong.test", "vanthu@skhcn.camau.lienthong.test"]
        assert client.sendmail(login, recipients, data) == {}

    deadline = time.monotonic() + 90
    while len(maildir_messages(home, STC_MAIL, "receipt")) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    receipts = [read_receipt(raw) for raw in maildir_messages(home, STC_MAIL, "receipt")]
    assert len(receipts) == 2, process.stderr.read() if process.poll() is not None and process.stderr else ""
    assert {r.status_code for r in receipts} == {"01"}
    assert len(maildir_messages(home, "vanthu@syt.camau.lienthong.test")) == 1
    assert len(maildir_messages(home, "vanthu@skhcn.camau.lienthong.test")) == 1

    sessions = db.session_factory(db.make_engine(home.database_url))
    with sessions() as session:
        numbers = {row.organ_id: row.incoming_number for row in session.scalars(select(IncomingDocument))}
        states = {row.organ_id: row.state for row in session.scalars(select(OutgoingRecipient))}
        assert verify(session).intact
    assert numbers == {SYT: 1, SKHCN: 1}
    assert states == {SYT: "sent", SKHCN: "sent"}

    process.send_signal(signal.SIGTERM)
    assert process.wait(60) == 0


def test_send_command_submits_like_an_agency_system(
    gateway: tuple[Home, int, subprocess.Popen[str]], tmp_path: Path
) -> None:
    home, port, _process = gateway
    login, password = credentials(home, "system")  # the agency system account of the Sở Tài chính
    (tmp_path / "password").write_text(password + "\n", encoding="utf-8")
    (tmp_path / "doc.pdf").write_bytes(make_decision_pdf())
    today = datetime.now(VIETNAM).date().isoformat()
    common = ["--home", str(home.root), "send", "--from", "000.00.15.H12", "--to", SYT, "--to", SKHCN,
              "--pdf", str(tmp_path / "doc.pdf"), "--number", "21", "--notation", "STC-VP", "--date", today,
              "--place", "Cà Mau", "--subject", "Về việc thử nghiệm gửi từ hệ thống", "--page-amount", "1",
              "--login", login, "--password-file", str(tmp_path / "password"), "--port", str(port)]  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "gateway.cli", *common], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"000.00.15.H12,{today.replace('-', '/')},21/STC-VP: 250 2.0.0 Accepted")

    deadline = time.monotonic() + 90
    while len(maildir_messages(home, STC_MAIL, "receipt")) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert {read_receipt(raw).status_code for raw in maildir_messages(home, STC_MAIL, "receipt")} == {"01"}

    (tmp_path / "wrong").write_text("not the password\n", encoding="utf-8")
    wrong = subprocess.run(
        [sys.executable, "-m", "gateway.cli", *common[:-4], "--password-file", str(tmp_path / "wrong"),
         "--port", str(port)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert wrong.returncode != 0
    assert wrong.stderr.strip().splitlines()[-1].startswith("lienthong: error: 535 5.7.8 [AUTH_FAILED]")


def test_swaks_submission(gateway: tuple[Home, int, subprocess.Popen[str]], tmp_path: Path) -> None:
    """The same exchange with swaks as the client, the tool operators use to test mail servers."""
    swaks = shutil.which("swaks")
    if swaks is None:
        if os.environ.get("LIENTHONG_REQUIRE_SERVICES") == "1":
            pytest.fail("swaks is not installed (apt-get install swaks)")
        pytest.skip("swaks is not installed")
    home, port, _process = gateway
    login, password = credentials(home, "clerk")
    eml = tmp_path / "doc.eml"
    eml.write_bytes(envelope(issued=datetime.now(VIETNAM).date()))
    result = subprocess.run(
        [swaks, "--server", "127.0.0.1", "--port", str(port), "--tls", "--auth", "PLAIN",
         "--auth-user", login, "--auth-password", password, "--from", login,
         "--to", "vanthu@syt.camau.lienthong.test,vanthu@skhcn.camau.lienthong.test", "--data", str(eml)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "250 2.0.0 Accepted as submission" in result.stdout
    deadline = time.monotonic() + 90
    while len(maildir_messages(home, STC_MAIL, "receipt")) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert {read_receipt(raw).status_code for raw in maildir_messages(home, STC_MAIL, "receipt")} == {"01"}
