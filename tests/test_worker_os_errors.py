"""An ``OSError`` in a worker step (disk full, a broken mount, a directory in the wrong place) is a failed attempt of
ours: recorded with the error for ``queue list``, retried after back-off, given up after ``max_attempts``, and once
the cause is removed the document is delivered exactly once, with no partial copy left in the Maildir's ``tmp/``.

The failures are real: a real Maildir whose directories are replaced by a file, or whose ``new/`` lies on another
file system so that the rename out of ``tmp/`` fails (the tests run as root, whom permissions do not stop)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway import queue
from gateway.documents import IncomingDocument
from gateway.home import Home
from gateway.queue import QueueItem, RetryPolicy, Task
from gateway.workers.deliver import deliver_one
from gateway.workers.notices import notice_one
from gateway.workers.process import process_one
from gateway.workers.runner import run_step
from gateway.workers.services import Services
from tests.fixtures.workers import cli, signing_services
from tests.test_worker_process import SKHCN, STC, STC_MAIL, SYT, envelope, submit

NOW = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
SYT_MAIL, SKHCN_MAIL = "vanthu@syt.camau.lienthong.test", "vanthu@skhcn.camau.lienthong.test"
BACK_OFF = timedelta(minutes=1)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def services(demo_home: Home, clock: Clock) -> Services:
    agencies = {STC: STC_MAIL, SYT: SYT_MAIL, SKHCN: SKHCN_MAIL}
    services = signing_services(demo_home, agencies, clock)
    services = replace(services, retry=RetryPolicy(base=BACK_OFF, max_attempts=3, jitter=0))
    submit(services, envelope())
    assert process_one(services, "w1")
    return services


@pytest.fixture
def elsewhere() -> Iterator[Path]:
    """A directory on another file system than the home, where a rename from the home fails (EXDEV)."""
    try:
        path = Path(tempfile.mkdtemp(dir="/dev/shm"))
    except OSError:
        pytest.skip("no /dev/shm")
    try:
        yield path
    finally:
        shutil.rmtree(path)


def deliver_item(services: Services, recipient: str) -> QueueItem:
    return only_item(services, Task.DELIVER, recipient)


def only_item(services: Services, task: str, key_part: str) -> QueueItem:
    with services.sessions() as session:
        [item] = [i for i in queue.listing(session) if i.task == task and key_part in i.dedup_key]
        return item


def break_office(services: Services, mailbox: str) -> Path:
    """Put a regular file where the mailbox's domain directory goes; every Maildir operation under it fails."""
    office = services.mailboxes.maildir(mailbox).parent.parent
    office.mkdir(parents=True, exist_ok=True)
    office.rmdir()
    office.write_bytes(b"not a directory")
    return office


def run_deliveries(services: Services) -> None:
    while run_step(services, deliver_one, "w1"):
        pass


def delivered(services: Services, mailbox: str) -> list[str]:
    """The messages in the Maildir's ``new/``, after checking that ``tmp/`` is empty and the arrival recorded once."""
    maildir = services.mailboxes.maildir(mailbox)
    assert list((maildir / "tmp").iterdir()) == []
    with services.sessions() as session:
        recorded = session.scalars(select(IncomingDocument.mailbox).where(IncomingDocument.mailbox == mailbox)).all()
    names = sorted(p.name for p in (maildir / "new").iterdir())
    assert len(recorded) == len(names)
    return names


def test_a_mailbox_that_cannot_be_written_is_retried_after_back_off_and_delivered_once(
    services: Services, clock: Clock
) -> None:
    office = break_office(services, SYT_MAIL)

    run_deliveries(services)
    item = deliver_item(services, SYT)
    assert (item.state, item.attempts, item.claimed_by) == ("pending", 1, "w1")
    assert item.last_error is not None
    assert item.last_error.startswith("NotADirectoryError: [Errno 20] Not a directory: ")
    assert item.next_attempt_at == NOW + BACK_OFF
    assert deliver_item(services, SKHCN).state == "done"  # the other recipient is not held up

    clock.now = NOW + BACK_OFF - timedelta(seconds=1)
    assert not run_step(services, deliver_one, "w1")  # not before the back-off

    office.unlink()
    clock.now = NOW + BACK_OFF
    run_deliveries(services)
    item = deliver_item(services, SYT)
    assert (item.state, item.attempts) == ("done", 2)
    assert len(delivered(services, SYT_MAIL)) == 1
    assert not run_step(services, deliver_one, "w1")


def test_a_failed_rename_leaves_no_temporary_file_and_the_retry_succeeds(
    services: Services, clock: Clock, elsewhere: Path
) -> None:
    maildir = services.mailboxes.ensure(SYT_MAIL)
    if os.stat(maildir).st_dev == os.stat(elsewhere).st_dev:
        pytest.skip("/dev/shm is on the same file system as the home")
    (maildir / "new").rmdir()
    (maildir / "new").symlink_to(elsewhere)  # tmp/ is written and fsync'd; the rename into new/ fails

    run_deliveries(services)
    item = deliver_item(services, SYT)
    assert (item.state, item.attempts) == ("pending", 1)
    assert item.last_error is not None
    assert item.last_error.startswith("OSError: [Errno 18] Invalid cross-device link: ")
    assert list((maildir / "tmp").iterdir()) == []
    assert list(elsewhere.iterdir()) == []

    (maildir / "new").unlink()
    (maildir / "new").mkdir()
    clock.now = NOW + BACK_OFF
    run_deliveries(services)
    assert deliver_item(services, SYT).state == "done"
    assert len(delivered(services, SYT_MAIL)) == 1


def test_the_error_is_given_up_after_max_attempts_and_shown_in_queue_list(
    services: Services, clock: Clock, demo_home: Home
) -> None:
    office = break_office(services, SYT_MAIL)
    for attempt in range(services.retry.max_attempts):
        clock.now = NOW + attempt * timedelta(hours=1)
        run_deliveries(services)
    item = deliver_item(services, SYT)
    assert (item.state, item.attempts) == ("failed", services.retry.max_attempts)
    [listed] = [row for row in json.loads(cli(demo_home, "queue", "list", "--json")) if row["id"] == item.id]
    assert listed["state"] == "failed"
    assert listed["last_error"].startswith("NotADirectoryError: [Errno 20] Not a directory: ")

    office.unlink()
    cli(demo_home, "queue", "retry", str(item.id))  # the operator fixed the disk; the CLI's clock is the real one
    clock.now = datetime.now(UTC)
    run_deliveries(services)
    assert deliver_item(services, SYT).state == "done"
    assert len(delivered(services, SYT_MAIL)) == 1


def test_a_notice_that_cannot_be_delivered_is_a_failed_attempt(services: Services, clock: Clock) -> None:
    office = break_office(services, STC_MAIL)  # the sender's records office, where its acceptance notice goes
    assert run_step(services, notice_one, "w1")
    item = only_item(services, Task.NOTICE, "acceptance")
    assert (item.state, item.attempts) == ("pending", 1)  # not rolled back with the step: the claim came first
    assert item.last_error is not None
    assert item.last_error.startswith("NotADirectoryError: [Errno 20] Not a directory: ")

    office.unlink()
    clock.now = NOW + BACK_OFF
    assert run_step(services, notice_one, "w1")
    assert only_item(services, Task.NOTICE, "acceptance").state == "done"
    maildir = services.mailboxes.maildir(STC_MAIL)
    assert (len(list((maildir / "new").iterdir())), list((maildir / "tmp").iterdir())) == (1, [])
