"""The registry database behind the envelope's small Protocols: the one place the envelope code touches ``registry``.

``RegistryDirectory`` answers both questions the envelope code asks: by OrganId (``AgencyDirectory``, for the
validator's sender and recipient rules) and by records-office mailbox (``MailboxDirectory``, for clerk mail).

A gateway asks the same few questions for every document (its sender, its recipients, the mailbox of each receipt),
each costing two queries; with ``ttl_seconds`` answers are remembered that long, so a change in the registry (an
agency suspended, a mailbox added) reaches a running gateway within that time. The CLI asks once and keeps nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from gateway.envelope.directory import AgencyInfo
from gateway.errors import ConfigError, InputError
from gateway.home import Home

if TYPE_CHECKING:
    from registry.models import Agency


class RegistryDirectory:
    def __init__(self, sessions: sessionmaker[Session], ttl_seconds: float = 0.0, size: int = 4096) -> None:
        self._sessions = sessions
        self.ttl_seconds = ttl_seconds
        self._size = size
        self._seen: dict[tuple[str, str], tuple[float, AgencyInfo | None]] = {}
        self._lock = threading.Lock()

    def _remembered(self, key: tuple[str, str], ask: Callable[[], AgencyInfo | None]) -> AgencyInfo | None:
        if self.ttl_seconds <= 0:
            return ask()
        now = time.monotonic()
        with self._lock:
            hit = self._seen.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        answer = ask()
        with self._lock:
            if len(self._seen) >= self._size:
                self._seen.clear()  # bounded: an unknown-address flood cannot grow it without end
            self._seen[key] = (now + self.ttl_seconds, answer)
        return answer

    def lookup(self, organ_id: str) -> AgencyInfo | None:
        return self._remembered(("organ", organ_id), lambda: self._lookup(organ_id))

    def by_mailbox(self, mailbox: str) -> AgencyInfo | None:
        """The agency owning the records-office ``mailbox``; None for an unknown or malformed address."""
        return self._remembered(("mailbox", mailbox.lower()), lambda: self._by_mailbox(mailbox))

    def _lookup(self, organ_id: str) -> AgencyInfo | None:
        from registry.models import Agency

        with self._sessions() as session:
            agency = session.get(Agency, organ_id)
            return None if agency is None else _info(agency)

    def _by_mailbox(self, mailbox: str) -> AgencyInfo | None:
        from registry import agencies

        with self._sessions() as session:
            try:
                agency = agencies.by_mailbox(session, mailbox)
            except InputError:  # not an address at all: no agency owns it
                return None
            return None if agency is None else _info(agency)


def _info(agency: Agency) -> AgencyInfo:
    mailboxes = tuple(m.address.lower() for m in agency.mailboxes)
    return AgencyInfo(agency.organ_id, agency.name, agency.active, mailboxes)


def open_directory(home: Home) -> RegistryDirectory:
    """The registry of ``home``; a clear error when there is none (``--no-registry`` skips the look-ups)."""
    if not home.exists():
        raise ConfigError(f"no lienthong home at {home.root} (run 'lienthong init', or check with --no-registry)")
    from registry.db import open_registry

    return RegistryDirectory(open_registry(home.database_url))
