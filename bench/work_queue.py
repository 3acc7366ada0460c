"""CPU cost of the queue and ledger bookkeeping of one worker step; prints figures (no assertions).

A worker step is two transactions: ``queue.claim``, then the work's ledger ``append``, the ``enqueue`` of the next
item and ``complete``. This measures that bookkeeping alone (process CPU time, so waits on the server do not count)
on SQLite in a temporary directory, and also on PostgreSQL when a URL is given. Use an empty, throwaway database:
the run leaves its items behind.

Run: .venv/bin/python bench/work_queue.py [postgresql+psycopg://user@127.0.0.1:5432/scratch] [items]
"""

from __future__ import annotations

import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.orm import Session, sessionmaker

from gateway import queue
from gateway.ledger.events import Event, EventKind
from gateway.ledger.store import append
from gateway.queue import Task
from registry import db


def cpu_ms_per(label: str, count: int, work: Callable[[int], None]) -> None:
    started = time.process_time()
    for n in range(count):
        work(n)
    elapsed = time.process_time() - started
    print(f"  {label:<48} {elapsed * 1e3 / count:>8.3f} ms CPU")


def run(url: str, items: int) -> None:
    db.upgrade(url)
    sessions: sessionmaker[Session] = db.open_registry(url)
    now = datetime.now(UTC)
    run_id = uuid.uuid4().hex[:8]  # keys unique to this run, so a reused database does not de-duplicate them away
    claimed: list[int] = []

    def seed(n: int) -> None:
        with sessions.begin() as session:
            queue.enqueue(session, Task.DELIVER, f"bench:{run_id}:deliver:{n}", {"n": n}, now)

    def step(n: int) -> None:
        with sessions.begin() as session:
            item = queue.claim(session, "bench", now, tasks=(Task.DELIVER,))
            assert item is not None, "the queue ran dry: is another process using this database?"
            item_id = item.id
        with sessions.begin() as session:
            event = Event(EventKind.RELAYED, now, f"bench-{run_id}-{n}", None, content_sha256="0" * 64)
            append(session, event)
            queue.enqueue(session, Task.RELAY, f"bench:{run_id}:relay:{n}", {"n": n}, now)
            queue.complete(session, item_id, "bench", now)

    def claim_only(n: int) -> None:
        with sessions.begin() as session:
            item = queue.claim(session, "bench", now, tasks=(Task.RELAY,))
            assert item is not None
            claimed.append(item.id)

    def complete_only(n: int) -> None:
        with sessions.begin() as session:
            queue.complete(session, claimed[n], "bench", now)

    warm = 20  # first executions compile and cache the statements; keep them out of the figures
    for n in range(warm):
        seed(items + n)
        step(items + n)
    print(f"{db.redact(url)} ({items} items):")
    cpu_ms_per("enqueue alone (own transaction)", items, seed)
    cpu_ms_per("full step: claim txn + append/enqueue/complete", items, step)
    cpu_ms_per("claim alone (own transaction)", items, claim_only)
    cpu_ms_per("complete alone (own transaction)", items, complete_only)
    sessions.kw["bind"].dispose()


def main() -> None:
    postgres = next((arg for arg in sys.argv[1:] if "://" in arg), None)
    items = next((int(arg) for arg in sys.argv[1:] if arg.isdigit()), 500)
    with tempfile.TemporaryDirectory() as scratch:
        run(f"sqlite:///{scratch}/bench.sqlite3", items)
    if postgres:
        run(postgres, items)


if __name__ == "__main__":
    main()
