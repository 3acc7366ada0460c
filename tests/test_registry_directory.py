"""The registry behind the envelope's directory: answers, and how long a running gateway remembers them."""

from __future__ import annotations

import time
from datetime import date

from sqlalchemy.orm import Session, sessionmaker

from gateway.envelope.registry_directory import RegistryDirectory
from registry import agencies, demo

STC, STC_MAIL = "000.00.15.H12", "vanthu@stc.camau.lienthong.test"


def test_without_a_ttl_every_question_reaches_the_registry(
    sessions: sessionmaker[Session], demo_credentials: list[demo.Credential]
) -> None:
    directory = RegistryDirectory(sessions)
    first = directory.lookup(STC)
    assert first is not None
    assert first.active
    with sessions.begin() as session:
        agencies.suspend(session, STC, date(2026, 11, 25))
    info = directory.lookup(STC)
    assert info is not None
    assert not info.active


def test_answers_are_remembered_for_the_ttl_then_asked_again(
    sessions: sessionmaker[Session], demo_credentials: list[demo.Credential]
) -> None:
    directory = RegistryDirectory(sessions, ttl_seconds=0.5)
    before = directory.by_mailbox(STC_MAIL.upper())
    assert before is not None
    assert before.organ_id == STC
    assert before.active
    assert directory.lookup("000.00.99.H12") is None  # unknown answers are remembered too
    with sessions.begin() as session:
        agencies.suspend(session, STC, date(2026, 11, 25))
    assert directory.by_mailbox(STC_MAIL) == before  # within the TTL: the remembered answer
    time.sleep(0.6)
    after = directory.by_mailbox(STC_MAIL)
    assert after is not None
    assert not after.active  # the suspension has reached it


def test_the_memory_is_bounded(sessions: sessionmaker[Session], demo_credentials: list[demo.Credential]) -> None:
    directory = RegistryDirectory(sessions, ttl_seconds=60, size=10)
    for n in range(25):
        assert directory.by_mailbox(f"nobody{n}@nowhere.test") is None
    assert len(directory._seen) <= 10
    assert directory.lookup(STC) is not None
