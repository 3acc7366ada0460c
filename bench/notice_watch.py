"""Cost of one pass of the notice watch over a province's 60 days of documents; prints figures (no assertions).

The watch runs every minute for as long as the gateway runs. Here a demo home (SQLite, in a temporary directory)
holds DOCUMENTS documents accepted over the last 60 days, three recipients each, all answered but one document in
SILENT_EVERY: one recipient of those stays silent. The first pass queues their warnings and non-delivery notices;
the passes after it find them queued and queue nothing — that steady state is what the gateway pays every minute.

Run: .venv/bin/python bench/notice_watch.py [documents] [silent_every]
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from click.testing import CliRunner
from sqlalchemy import insert

from gateway.cli import main as cli
from gateway.documents import OutgoingDocument, OutgoingRecipient
from gateway.home import Home
from gateway.intake import SubmissionRecord
from gateway.workers.notice_watch import watch_once
from gateway.workers.services import Services

STC, STC_MAIL = "000.00.15.H12", "vanthu@stc.camau.lienthong.test"
RECIPIENTS = ("000.00.01.H12", "000.00.02.H12", "000.00.03.H12")


def seed(services: Services, documents: int, silent_every: int, now: datetime) -> None:
    span = timedelta(days=60) / documents
    submissions, outgoing, answered = [], [], []
    for n in range(documents):
        accepted = now - timedelta(days=60) + span * (n + 1) - timedelta(hours=20)
        submissions.append(
            {
                "id": n + 1,
                "login": STC_MAIL,
                "organ_id": STC,
                "mail_from": STC_MAIL,
                "rcpt_tos": ",".join(RECIPIENTS),
                "content_sha256": f"{n:064x}",
                "size": 1,
                "peer": "127.0.0.1",
                "received_at": accepted,
                "state": "processed",
            }
        )
        outgoing.append(
            {
                "document_id": f"doc-{n}",
                "submission_id": n + 1,
                "organ_id": STC,
                "message_id": f"<{n}@bench>",
                "signed_sha256": "0" * 64,
                "mic": "mic",
                "recipients": ",".join(RECIPIENTS),
                "accepted_at": accepted,
                "effective_accepted_at": accepted,
                "calendar_version": "bench",
            }
        )
        heard = RECIPIENTS[1:] if n % silent_every == 0 else RECIPIENTS
        answered.extend(
            {
                "document_id": f"doc-{n}",
                "organ_id": organ_id,
                "state": "sent",
                "sent_at": accepted,
                "effective_sent_at": accepted,
                "calendar_version": "bench",
                "receipt_sha256": "1" * 64,
            }
            for organ_id in heard
        )
    with services.sessions.begin() as session:
        session.execute(insert(SubmissionRecord), submissions)
        session.execute(insert(OutgoingDocument), outgoing)
        session.execute(insert(OutgoingRecipient), answered)


def timed(label: str, services: Services, now: datetime) -> None:
    wall, cpu = time.perf_counter(), time.process_time()
    queued = watch_once(services, now=now)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"  {label:<28} {wall * 1e3:>9.1f} ms wall {cpu * 1e3:>9.1f} ms CPU   {queued:>6} notices queued")


def main() -> None:
    documents = int(sys.argv[1]) if len(sys.argv) > 1 else 60_000
    silent_every = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "home"
        for args in (["init", "--demo", "--with-pki"],):
            result = CliRunner().invoke(cli, ["--home", str(root), *args])
            assert result.exit_code == 0, result.output
        services = Services.from_home(Home(root))
        now = datetime.now(UTC)
        seed(services, documents, silent_every, now)
        print(f"notice watch: {documents} documents over 60 days, one in {silent_every} with a silent recipient")
        timed("first pass", services, now)
        for n in range(3):
            timed(f"steady pass {n + 1}", services, now + timedelta(minutes=n + 1))
        services.close()


if __name__ == "__main__":
    main()
