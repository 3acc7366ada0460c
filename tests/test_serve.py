"""`lienthong serve` as a real process: TLS from our CA, AUTH against the registry, durable 250, clean SIGTERM."""

from __future__ import annotations

import re
import signal
import smtplib
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from certs.store import CertificateRecord, CertKind
from gateway import queue
from gateway.cli.init import registry_sessions
from gateway.home import Home
from gateway.intake import SubmissionRecord
from gateway.ledger.store import LedgerEntry, verify
from gateway.receipts.notice import read_notice
from registry import db
from tests.fixtures.smtp import free_port
from tests.fixtures.workers import cli, reap, spawn_serve
from tests.mailboxes import maildir_messages

OPERATOR_MAIL = "vanthu@skhcn.camau.lienthong.test"


def credentials(home: Home, role: str) -> tuple[str, str]:
    for line in home.credentials_path.read_text(encoding="utf-8").splitlines():
        fields = line.split("\t")
        if not line.startswith("#") and fields[0] == role:
            return fields[1], fields[3]
    raise AssertionError(f"no {role} in {home.credentials_path}")


def configure(home: Home, starttls: int, implicit: int, tls_host: str | None = "localhost", relay: int = 0) -> None:
    text = home.config_path.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^submission_port = \d+$", f"submission_port = {starttls}", text)
    text = re.sub(r"(?m)^submission_tls_port = \d+$", f"submission_tls_port = {implicit}", text)
    text = re.sub(r"(?m)^relay_port = \d+$", f"relay_port = {relay}", text)
    if tls_host is not None:
        text = re.sub(r'(?m)^tls_host = ""$', f'tls_host = "{tls_host}"', text)
    home.config_path.write_text(text, encoding="utf-8")


@pytest.fixture
def served(demo_home: Home) -> Iterator[tuple[Home, int, int, subprocess.Popen[str]]]:
    with serving(demo_home) as running:
        yield running


@contextmanager
def serving(demo_home: Home, **smtp: float) -> Iterator[tuple[Home, int, int, subprocess.Popen[str]]]:
    """A running demo gateway with both submission ports; ``smtp`` adds keys to its [smtp] section."""
    ports = (free_port(), free_port())
    configure(demo_home, *ports)
    if smtp:
        text = demo_home.config_path.read_text(encoding="utf-8")
        added = "".join(f"{key} = {value}\n" for key, value in smtp.items())
        demo_home.config_path.write_text(text.replace("[smtp]\n", "[smtp]\n" + added, 1), encoding="utf-8")
    cli(demo_home, "ca", "init")
    cli(demo_home, "cert", "issue", "tls", "--host", "localhost")
    cli(demo_home, "cert", "issue", "smime", "--agency", "000.00.11.H12", "--mail", OPERATOR_MAIL)  # signs notices
    cli(demo_home, "dkim", "keygen")
    process = spawn_serve(demo_home, subprocess.PIPE)
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(2)]
        assert all("listening on 127.0.0.1:" in line for line in lines), [*lines, process.stderr.read()]  # type: ignore[union-attr]
        yield demo_home, ports[0], ports[1], process
    finally:
        reap(process)


def client_context(home: Home) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(home.keys_dir / "ca" / "root.pem"))


def message(sender: str, recipient: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"] = sender, recipient
    msg["Date"] = "Mon, 02 Mar 2026 09:15:00 +0700"
    msg["Message-ID"] = "<serve-test@stc.camau.lienthong.test>"
    msg["Subject"] = "Thử nghiệm"
    msg.set_content("Nội dung.\n")
    return msg


def test_submit_through_a_running_gateway(served: tuple[Home, int, int, subprocess.Popen[str]]) -> None:
    home, starttls, implicit, process = served
    login, password = credentials(home, "clerk")
    with smtplib.SMTP("localhost", starttls, timeout=30) as client:
        client.starttls(context=client_context(home))  # verifies our CA's chain and the host name
        client.login(login, password)
        client.send_message(message(login, "vanthu@syt.camau.lienthong.test"))
    with smtplib.SMTP_SSL("localhost", implicit, timeout=30, context=client_context(home)) as client:
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.login(login, password + "x")
        auditor, auditor_password = credentials(home, "auditor")
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.login(auditor, auditor_password)  # auditors may not submit

    sessions = db.session_factory(db.make_engine(home.database_url))
    with sessions() as session:
        [record] = session.scalars(select(SubmissionRecord)).all()
        assert record.login == login
        assert record.organ_id == "000.00.15.H12"
    # The running workers pick it up and refuse it (a plain mail is read as clerk mail, and this one has no PDF),
    # and the clerk gets a signed non-acceptance notice naming the reason.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with sessions() as session:
            if queue.counts(session) == {"done": 2}:
                break
        time.sleep(0.3)
    [notice] = maildir_messages(home, login, "notice")
    assert read_notice(notice)["kind"] == "non-acceptance"
    assert read_notice(notice)["reason_code"] == "PDF_MISSING"  # no Lienthong-Kind: clerk mail, and without a PDF
    with sessions() as session:
        assert queue.counts(session) == {"done": 2}
        kinds = [e.kind for e in session.scalars(select(LedgerEntry).order_by(LedgerEntry.seq))]
        assert kinds == ["submitted", "refused"]
        assert verify(session).intact
    assert (home.blobs_dir / record.content_sha256[:2] / record.content_sha256[2:4] / record.content_sha256).exists()

    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0
    assert process.stdout is not None
    assert "stopping" in process.stdout.read()


def failed_start(home: Home) -> subprocess.CompletedProcess[str]:
    """``lienthong serve`` run to completion: for start-ups that must fail with a message."""
    result = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "--home", str(home.root), "serve"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    return result


def test_serve_without_a_tls_certificate_says_what_to_do(demo_home: Home) -> None:
    configure(demo_home, free_port(), 0)
    cli(demo_home, "dkim", "keygen")
    result = failed_start(demo_home)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "no valid TLS certificate for host 'localhost'" in lines[0]
    assert "cert issue tls --host localhost" in lines[0]


def test_port_in_use_is_a_clear_error(demo_home: Home) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        configure(demo_home, port, 0)
        cli(demo_home, "ca", "init")
        cli(demo_home, "cert", "issue", "tls", "--host", "localhost")
        cli(demo_home, "dkim", "keygen")
        result = failed_start(demo_home)
    assert result.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


def _ready_to_serve(home: Home) -> None:
    configure(home, free_port(), 0)
    cli(home, "ca", "init")
    cli(home, "cert", "issue", "tls", "--host", "localhost")
    cli(home, "dkim", "keygen")


@pytest.mark.parametrize("key", ["tls", "dkim"])
def test_a_damaged_key_is_a_one_line_error_naming_its_file(demo_home: Home, key: str) -> None:
    _ready_to_serve(demo_home)
    if key == "tls":
        [damaged] = [p for p in (demo_home.keys_dir / "certs").glob("*.key") if _is_tls_key(demo_home, p)]
    else:
        [damaged] = (demo_home.keys_dir / "dkim").glob("*.key")
    damaged.write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    result = failed_start(demo_home)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("lienthong: error: ")
    assert str(damaged) in lines[0]
    assert "Traceback" not in result.stderr


def _is_tls_key(home: Home, key: Path) -> bool:
    with registry_sessions(home)() as session:
        records = session.scalars(select(CertificateRecord).where(CertificateRecord.kind == CertKind.TLS.value))
        return any(record.key_file(home.keys_dir) == key for record in records)


def test_a_bad_configuration_names_each_bad_key(demo_home: Home) -> None:
    _ready_to_serve(demo_home)
    text = demo_home.config_path.read_text(encoding="utf-8")
    text = text.replace("[smtp]\n", '[smtp]\nmax_recipients = "lots"\nshutdown_grace = 3\n', 1)
    demo_home.config_path.write_text(text, encoding="utf-8")
    result = failed_start(demo_home)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "smtp.max_recipients = 'lots'" in lines[0]
    assert "smtp.shutdown_grace: unknown key" in lines[0]
    assert "docs/configuration.md" in lines[0]
