"""Register numbers: consecutive, independent per agency/year/kind, never duplicated under concurrency."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy.orm import Session, sessionmaker

from gateway.errors import InputError, NotFoundError
from registry.sequences import allocate

STC, SKHCN = "000.00.15.H12", "000.00.11.H12"


def test_numbers_are_consecutive_and_independent(sessions: sessionmaker[Session], demo_credentials: object) -> None:
    with sessions.begin() as session:
        got = [allocate(session, STC, 2026, "outgoing") for _ in range(3)]
        got += [allocate(session, STC, 2026, "incoming"), allocate(session, STC, 2027, "outgoing")]
        got += [allocate(session, SKHCN, 2026, "outgoing")]
    assert got == [1, 2, 3, 1, 1, 1]
    with sessions.begin() as session:
        assert allocate(session, STC, 2026, "outgoing") == 4


def test_rolled_back_allocation_is_not_consumed(sessions: sessionmaker[Session], demo_credentials: object) -> None:
    session = sessions()
    assert allocate(session, STC, 2026, "outgoing") == 1
    session.rollback()
    session.close()
    with sessions.begin() as session:
        assert allocate(session, STC, 2026, "outgoing") == 1


def test_refusals(sessions: sessionmaker[Session], demo_credentials: object) -> None:
    with sessions.begin() as session:
        with pytest.raises(NotFoundError, match=r"'000\.00\.99\.H12' is not in the registry"):
            allocate(session, "000.00.99.H12", 2026, "outgoing")
        with pytest.raises(InputError, match="kind 'sideways': expected outgoing or incoming"):
            allocate(session, STC, 2026, "sideways")
        with pytest.raises(InputError, match="year 26"):
            allocate(session, STC, 26, "outgoing")
        # The refusal left the transaction usable.
        assert allocate(session, STC, 2026, "outgoing") == 1


def test_concurrent_allocations_never_collide(sessions: sessionmaker[Session], demo_credentials: object) -> None:
    threads, per_thread = 8, 25

    def worker(_: int) -> list[int]:
        numbers = []
        for _ in range(per_thread):
            with sessions.begin() as session:  # one transaction per number, as a clerk's submission would be
                numbers.append(allocate(session, STC, 2026, "incoming"))
        return numbers

    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(worker, range(threads)))
    every = sorted(n for numbers in results for n in numbers)
    assert every == list(range(1, threads * per_thread + 1))
    assert all(numbers == sorted(numbers) for numbers in results)  # each caller sees its own numbers rise
