"""A full disk at submission: ``452 4.3.1 [TEMP_STORAGE]``, nothing recorded for that message, nothing accepted
before it damaged, and the same message accepted and delivered once the space is back.

The disk is really full: ``lienthong serve`` runs in a private mount namespace (``unshare --mount``) where its blob
store is a small tmpfs, filled up to a little more than one document's room by a filler file. The test frees the
space by deleting the filler through ``/proc/PID/root``, which sees that namespace's mounts. Everything else (the
SQLite registry, the Maildirs) stays on the ordinary disk. Needs root or unprivileged user namespaces, as CI has.
"""

from __future__ import annotations

import os
import re
import shutil
import smtplib
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gateway.documents import OutgoingRecipient
from gateway.envelope.model import VIETNAM, Code, Organization
from gateway.home import Home
from gateway.intake import SubmissionRecord
from gateway.ledger.store import verify
from registry import db
from tests.fixtures.envelope import build_valid, make_header
from tests.fixtures.smtp import free_port
from tests.fixtures.workers import cli, reap
from tests.mailboxes import maildir_messages
from tests.test_serve import credentials

STC, STC_MAIL = "000.00.15.H12", "vanthu@stc.camau.lienthong.test"
SYT, SYT_MAIL = "000.00.22.H12", "vanthu@syt.camau.lienthong.test"
TMPFS_BYTES = 4 << 20
# Mounts the tmpfs over the blob folder, leaves ROOM bytes free, then becomes `lienthong serve` (same pid).
_MOUNT = (
    'mount -t tmpfs -o size="$2" lienthong-test "$1" && head -c "$3" /dev/zero > "$1/filler" && shift 3 && exec "$@"'
)


def document(n: int) -> bytes:
    header = make_header(
        from_=Organization(STC, organ_name="Sở Tài chính tỉnh Cà Mau", email=STC_MAIL),
        code=Code(str(n), "STC-VP"),
        issued=datetime.now(VIETNAM).date(),
    )
    return build_valid(replace(header, to=(Organization(SYT, organ_name="Sở Y tế tỉnh Cà Mau", email=SYT_MAIL),)))


def _namespaces_usable() -> bool:
    unshare = shutil.which("unshare")
    if unshare is None:
        return False
    probe = subprocess.run([unshare, "--mount", "true"], capture_output=True, timeout=30, check=False)
    return probe.returncode == 0


@pytest.fixture
def home(tmp_path: Path) -> Home:
    if not _namespaces_usable():
        message = "cannot make a mount namespace here (unshare --mount): run as root, as CI does"
        if os.environ.get("LIENTHONG_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    made = Home(tmp_path / "home")
    cli(made, "init", "--demo", "--with-pki")
    text = made.config_path.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^submission_port = \d+$", f"submission_port = {free_port()}", text)
    text = re.sub(r"(?m)^submission_tls_port = \d+$", "submission_tls_port = 0", text)
    text = re.sub(r"(?m)^relay_port = \d+$", "relay_port = 0", text)
    made.config_path.write_text(text + "\n[queue]\nretry_base_seconds = 1\n", encoding="utf-8")
    made = Home(made.root)
    made.blobs_dir.mkdir(parents=True, exist_ok=True)
    return made


@pytest.fixture
def serving_on_a_small_disk(home: Home) -> Iterator[tuple[Home, subprocess.Popen[str], Path]]:
    """The gateway, and the filler file as the test process can reach it (inside the gateway's namespace)."""
    room = len(document(1)) * 3 // 2  # one document fits, a second does not
    command = [sys.executable, "-m", "gateway.cli", "--home", str(home.root), "serve"]
    unshare = ["unshare", "--mount", "--propagation", "private", "sh", "-c", _MOUNT, "sh"]
    process = subprocess.Popen(
        [*unshare, str(home.blobs_dir), str(TMPFS_BYTES), str(TMPFS_BYTES - room), *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert "listening" in process.stdout.readline()
        yield home, process, Path(f"/proc/{process.pid}/root") / home.blobs_dir.relative_to("/") / "filler"
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                reap(process)


def _client(home: Home) -> smtplib.SMTP:
    port = int(re.search(r"(?m)^submission_port = (\d+)$", home.config_path.read_text()).group(1))  # type: ignore[union-attr]
    tls = ssl.create_default_context(cafile=str(home.keys_dir / "ca" / "root.pem"))
    tls.check_hostname = False  # chain verified; the demo domain does not resolve here
    client = smtplib.SMTP("127.0.0.1", port, timeout=60)
    client.starttls(context=tls)
    login, password = credentials(home, "clerk")
    client.login(login, password)
    return client


def _submissions(home: Home) -> int:
    with db.session_factory(db.make_engine(home.database_url))() as session:
        return session.scalar(select(func.count()).select_from(SubmissionRecord)) or 0


def test_a_full_disk_is_temporary_and_loses_nothing(
    serving_on_a_small_disk: tuple[Home, subprocess.Popen[str], Path],
) -> None:
    home, process, filler = serving_on_a_small_disk
    login, _ = credentials(home, "clerk")
    client = _client(home)
    client.sendmail(login, [SYT_MAIL], document(1))
    assert _submissions(home) == 1

    with pytest.raises(smtplib.SMTPDataError) as caught:
        client.sendmail(login, [SYT_MAIL], document(2))
    assert caught.value.smtp_code == 452
    assert b"4.3.1 [TEMP_STORAGE]" in caught.value.smtp_error
    assert _submissions(home) == 1  # nothing recorded for the message the disk could not hold
    assert client.noop()[0] == 250  # the session and the gateway go on
    leftovers = [p.name for p in filler.parent.rglob("*") if p.is_file() and p.name != "filler" and "tmp" in p.name]
    assert leftovers == []  # no partial temporary file left in the blob store

    filler.unlink()  # the operator frees space; the sender retries the same message, as its queue would
    client.sendmail(login, [SYT_MAIL], document(2))
    client.quit()
    assert _submissions(home) == 2

    sessions = db.session_factory(db.make_engine(home.database_url))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with sessions() as session:
            if (session.scalar(select(func.count()).select_from(OutgoingRecipient)) or 0) >= 2:
                break
        time.sleep(0.5)
    assert process.poll() is None
    delivered = maildir_messages(home, SYT_MAIL, "document")
    assert len(delivered) == 2  # both documents, each once; the first one survived the full disk intact
    assert len(maildir_messages(home, STC_MAIL, "receipt")) == 2
    with sessions() as session:
        assert verify(session).intact
        assert set(session.scalars(select(OutgoingRecipient.state))) == {"sent"}
