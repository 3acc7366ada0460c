"""What the crash tests share (tests/test_crash.py, tests/test_crash_federation.py): a client that submits a stream of
documents and sends again whatever it did not see a 250 for, as a real client's queue does, and a killer that
SIGKILLs gateways at random moments and starts each again at once, as a supervisor would."""

from __future__ import annotations

import contextlib
import random
import signal
import smtplib
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gateway.queue import QueueItem, State
from registry import db
from tests.gateways import Gateway, start


@dataclass
class Victim:
    """A gateway the killer may kill, and what the kills hit: the tasks of the queue items its workers held (claimed,
    lease running) at each kill, so that a run can show it killed relaying, arrivals and receipts, not only idling.

    ``steps``: the tasks a kill should interrupt. A step takes a few milliseconds of a second, so a kill at a moment
    picked by the clock alone mostly finds the workers idle or in the longest step; with ``steps``, each kill first
    waits (a moment at most) until the workers hold an item of one of them, drawn at random — still a random moment,
    but one inside that step."""

    name: str
    gateway: Gateway
    steps: tuple[str, ...] = ()
    kills: int = 0
    held: list[tuple[str, ...]] = field(default_factory=list)
    sessions: sessionmaker[Session] = field(init=False)

    def __post_init__(self) -> None:
        self.sessions = db.session_factory(db.make_engine(self.gateway.home.database_url))

    def held_tasks(self) -> tuple[str, ...]:
        now = datetime.now(UTC)
        with self.sessions() as session:
            claimed = select(QueueItem.task).where(QueueItem.state == State.CLAIMED.value, QueueItem.lease_until > now)
            return tuple(sorted(session.scalars(claimed)))

    def await_step(self, step: str, seconds: float, done: threading.Event) -> tuple[str, ...] | None:
        """Poll until the workers hold a ``step`` item: what they hold then, or None after ``seconds``."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not done.is_set():
            if step in (held := self.held_tasks()):
                return held
            time.sleep(0.005)
        return None


class Killer:
    """SIGKILLs a randomly chosen gateway every ``pause`` seconds (a random span) from a thread of its own while used
    as a context manager, and restarts it before the next kill. The victims are drawn in rounds, each once per round
    in a random order: with a plain draw of one of two gateways, a dozen kills leave one of them fewer than three about
    once in thirty runs. ``kill`` may also be called directly (after the thread stopped): one lock keeps a kill and
    its restart together."""

    def __init__(self, victims: Sequence[Victim], rng: random.Random, pause: tuple[float, float]) -> None:
        self.victims = victims
        self.rng = rng
        self.pause = pause
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.error: BaseException | None = None

    def kill(self, victim: Victim, held: tuple[str, ...] | None = None) -> None:
        """``held``: what the victim's workers were seen holding a moment ago; looked up now when not given."""
        with self.lock:
            process = victim.gateway.process
            assert process is not None
            victim.held.append(victim.held_tasks() if held is None else held)  # just before: workers may still finish
            process.send_signal(signal.SIGKILL)
            process.wait(30)
            victim.kills += 1
            start(victim.gateway)

    def count(self) -> int:
        return sum(victim.kills for victim in self.victims)

    def _run(self) -> None:
        try:
            rounds: list[Victim] = []
            while not self.done.wait(self.rng.uniform(*self.pause)):
                rounds = rounds or self.rng.sample(list(self.victims), len(self.victims))
                victim = rounds.pop()
                held = victim.await_step(self.rng.choice(victim.steps), 3.0, self.done) if victim.steps else None
                if not self.done.is_set():
                    self.kill(victim, held)
        except BaseException as exc:  # a gateway that did not come back: the test must say so, not wait for it
            self.error = exc
            raise

    def __enter__(self) -> Killer:
        self.thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.done.set()
        self.thread.join(60)
        assert not self.thread.is_alive(), "the killer is stuck restarting a gateway"
        if self.error is not None and error is None:
            raise self.error


def submit_stream(
    port: int,
    tls: ssl.SSLContext,
    login: str,
    password: str,
    recipients: list[str],
    documents: Callable[[int], bytes],
    count: int,
    patience_seconds: float,
) -> set[int]:
    """Submit documents 1..``count`` over one session at a time, reconnecting and sending the same document again
    after anything but a 250 or a 5xx (a 5xx fails the test: these documents are all valid). Returns the numbers of
    the documents the gateway accepted, which is all of them unless one was not accepted within
    ``patience_seconds`` — then the test fails naming it: a real client retries a temporary failure for as long as
    its queue lifetime allows, not a fixed number of times, since several kills in a row may each land before this
    document got through on a slow machine."""
    accepted: set[int] = set()
    client: smtplib.SMTP | None = None
    for n in range(1, count + 1):
        data = documents(n)
        deadline = time.monotonic() + patience_seconds
        failures: list[str] = []
        while n not in accepted:
            if time.monotonic() > deadline:
                pytest.fail(f"document {n} not accepted within {patience_seconds} s; last errors: {failures[-5:]}")
            try:
                if client is None:
                    client = smtplib.SMTP("127.0.0.1", port, timeout=30)
                    client.starttls(context=tls)
                    client.login(login, password)
                client.sendmail(login, recipients, data)
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
        with contextlib.suppress(OSError, smtplib.SMTPException):  # a kill after the last 250: accepted all the same
            client.quit()
    return accepted
