"""SIGKILL at random moments under a stream of submissions: every accepted document is delivered exactly once, with
its receipt, once the gateway has been restarted and has caught up.

The gateway is a real `lienthong serve` process on a demo home (SQLite, Maildir, its own CA); a client submits 500
documents over SMTP/TLS and retries whatever it did not see a 250 for; a killer thread SIGKILLs the gateway at random
moments and starts it again (tests/crashes.py, shared with tests/test_crash_federation.py, which kills either of two
federated gateways).
"""

from __future__ import annotations

import random
import ssl
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
from tests.crashes import Killer, Victim, submit_stream
from tests.fixtures.envelope import build_valid, make_header
from tests.fixtures.smtp import free_port
from tests.fixtures.workers import cli
from tests.gateways import Gateway, halt, set_config, start
from tests.mailboxes import document_ids, maildir_messages
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


@pytest.mark.slow
def test_sigkill_under_load_loses_nothing_and_duplicates_nothing(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    cli(home, "init", "--demo", "--with-pki")
    gateway = Gateway(home, free_port(), 0)  # no relay listener: sender and recipient are both hosted here
    # A killed worker's item returns in 5 s.
    set_config(home, gateway.submission, 0, "\n[queue]\nretry_base_seconds = 1\nlease_seconds = 5\n")
    login, password = credentials(home, "clerk")
    tls = ssl.create_default_context(cafile=str(home.keys_dir / "ca" / "root.pem"))
    tls.check_hostname = False  # chain verified; the demo domain does not resolve here

    start(gateway)
    victim = Victim("gateway", gateway)
    rng = random.Random(20261125)
    killer = Killer([victim], rng, pause=(0.5, 2.0))
    try:
        with killer:
            accepted = submit_stream(
                gateway.submission, tls, login, password, [SYT_MAIL], document, DOCUMENTS, PATIENCE_SECONDS
            )
        assert accepted == set(range(1, DOCUMENTS + 1))
        # Kills while the workers process, deliver and receipt what was accepted, too, not only during submission.
        sessions = db.session_factory(db.make_engine(home.database_url))
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            with sessions() as session:
                sent = session.scalar(select(func.count()).select_from(OutgoingRecipient)) or 0
            if sent >= DOCUMENTS:
                break
            if victim.kills < 6 and rng.random() < 0.3:
                killer.kill(victim)
            time.sleep(1)
    finally:
        halt(gateway)
    assert victim.kills >= 3

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
