"""The durable queue: idempotent enqueue, exclusive claims under concurrency, leases, back-off, operator actions."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from gateway import queue
from gateway.errors import InputError, NotFoundError

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def put(sessions: sessionmaker[Session], key: str, at: datetime = NOW) -> int:
    with sessions.begin() as session:
        return queue.enqueue(session, "deliver", key, {"recipient": "000.00.15.H12"}, now=at)


def test_enqueue_is_idempotent_on_the_key(sessions: sessionmaker[Session]) -> None:
    first = put(sessions, "deliver:doc-1:000.00.15.H12")
    again = put(sessions, "deliver:doc-1:000.00.15.H12")
    other = put(sessions, "deliver:doc-1:000.00.16.H12")
    assert first == again
    assert other != first
    with sessions() as session:
        assert queue.counts(session) == {"pending": 2}


def test_claim_complete_cycle(sessions: sessionmaker[Session]) -> None:
    item_id = put(sessions, "deliver:doc-1:a")
    with sessions.begin() as session:
        item = queue.claim(session, "w1", NOW)
        assert item is not None
        assert item.id == item_id
        assert item.attempts == 1
        assert item.data() == {"recipient": "000.00.15.H12"}
    with sessions.begin() as session:
        assert queue.claim(session, "w2", NOW) is None  # held by w1
        queue.complete(session, item_id, "w1", NOW)
    with sessions() as session:
        assert queue.counts(session) == {"done": 1}


def test_not_due_items_wait(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        queue.enqueue(session, "deliver", "k-later", {}, now=NOW, not_before=NOW + timedelta(minutes=10))
    with sessions.begin() as session:
        assert queue.claim(session, "w", NOW) is None
        item = queue.claim(session, "w", NOW + timedelta(minutes=10))
        assert item is not None


def test_expired_lease_returns_the_item(sessions: sessionmaker[Session]) -> None:
    item_id = put(sessions, "k")
    with sessions.begin() as session:
        assert queue.claim(session, "crashed-worker", NOW, lease=timedelta(minutes=5)) is not None
    with sessions.begin() as session:
        assert queue.claim(session, "w2", NOW + timedelta(minutes=4)) is None
        item = queue.claim(session, "w2", NOW + timedelta(minutes=6))
        assert item is not None
        assert item.attempts == 2
    with sessions.begin() as session, pytest.raises(NotFoundError, match="not claimed by crashed-worker"):
        queue.complete(session, item_id, "crashed-worker", NOW)


def test_failures_back_off_then_give_up(sessions: sessionmaker[Session]) -> None:
    policy = queue.RetryPolicy(base=timedelta(minutes=1), cap=timedelta(minutes=8), max_attempts=5, jitter=0.0)
    item_id = put(sessions, "k")
    now = NOW
    delays = []
    for _ in range(5):
        with sessions.begin() as session:
            item = queue.claim(session, "w", now)
            assert item is not None
            state = queue.fail(session, item_id, "w", "peer refused: 451 4.3.0", now, policy)
            if state is queue.State.FAILED:
                break
            delays.append(session.get(queue.QueueItem, item_id).next_attempt_at - now)  # type: ignore[union-attr]
            now = session.get(queue.QueueItem, item_id).next_attempt_at  # type: ignore[union-attr]
    assert delays == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    with sessions() as session:
        item = session.get(queue.QueueItem, item_id)
        assert item is not None
        assert item.state == "failed"
        assert item.last_error == "peer refused: 451 4.3.0"


def test_jitter_stays_within_bounds() -> None:
    policy = queue.RetryPolicy(jitter=0.1)
    rng = random.Random(7)
    for attempts in range(1, 12):
        delay = policy.delay(attempts, rng)
        nominal = min(policy.cap, policy.base * (1 << (attempts - 1)))
        assert nominal * 0.9 <= delay <= nominal * 1.1


def test_operator_retry_and_drop(sessions: sessionmaker[Session]) -> None:
    item_id = put(sessions, "k")
    with sessions.begin() as session:
        queue.drop(session, item_id, NOW)
    with sessions.begin() as session:
        assert queue.claim(session, "w", NOW + timedelta(days=1)) is None
        queue.retry(session, item_id, NOW)
    with sessions.begin() as session:
        assert queue.claim(session, "w", NOW) is not None
        with pytest.raises(InputError, match="is claimed"):
            queue.drop(session, item_id, NOW)
    with sessions.begin() as session, pytest.raises(NotFoundError):
        queue.retry(session, 999_999, NOW)


@pytest.mark.parametrize("action", [queue.drop, queue.retry])
def test_an_expired_claim_can_be_dropped_or_retried_but_not_a_live_one(
    sessions: sessionmaker[Session], action: Callable[[Session, int, datetime], None]
) -> None:
    item_id = put(sessions, "k")
    with sessions.begin() as session:
        assert queue.claim(session, "stuck-worker", NOW, lease=timedelta(minutes=5)) is not None
    with sessions.begin() as session, pytest.raises(InputError, match="is claimed"):
        action(session, item_id, NOW + timedelta(minutes=5))  # the last moment of the lease
    with sessions.begin() as session:
        action(session, item_id, NOW + timedelta(days=3))
    with sessions() as session:
        [item] = queue.listing(session)
        assert (item.state, item.lease_until) == ("dropped" if action is queue.drop else "pending", None)
    with sessions.begin() as session, pytest.raises(NotFoundError, match="not claimed by stuck-worker"):
        queue.fail(session, item_id, "stuck-worker", "late", NOW + timedelta(days=3))  # its worker lost it


def test_held_lists_what_a_worker_claimed_and_did_not_close(sessions: sessionmaker[Session]) -> None:
    first, second = put(sessions, "a"), put(sessions, "b")
    with sessions.begin() as session:
        assert queue.held(session, "w1") == []
        assert queue.claim(session, "w1", NOW) is not None
        assert queue.claim(session, "w2", NOW) is not None
    with sessions.begin() as session:
        assert (queue.held(session, "w1"), queue.held(session, "w2")) == ([first], [second])
        queue.complete(session, first, "w1", NOW)
        assert queue.held(session, "w1") == []


def test_concurrent_workers_never_share_an_item(sessions: sessionmaker[Session]) -> None:
    total = 60
    for n in range(total):
        put(sessions, f"deliver:doc-{n}:a")
    taken: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(name: str) -> None:
        try:
            while True:
                with sessions.begin() as session:
                    item = queue.claim(session, name, NOW)
                    if item is None:
                        return
                    queue.complete(session, item.id, name, NOW)
                    with lock:
                        taken.append(item.id)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert sorted(taken) == sorted(set(taken))
    assert len(taken) == total
