"""Which agency a records-office mailbox belongs to, as both listeners ask it at RCPT.

Submission takes a recipient any agency of the registry owns (hosted here or by a peer), the relay listener only
one an active agency hosted here owns; the question and its cost are the same. RCPT runs on the event loop, so a
remembered answer is used without a thread hop and a database query goes to a thread (``TtlCache``, kept
``[gateway] registry_cache_seconds``). Only admitted mailboxes are remembered: an agency or a mailbox just added is
taken at once, while one just removed is still taken for up to that long, as everywhere else in the gateway. Misses
are never remembered, so a client trying addresses at random cannot fill the cache.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from gateway.errors import InputError
from gateway.ttl_cache import TtlCache
from registry import agencies
from registry.models import Agency


class MailboxOwners:
    """``organ_of(mailbox)``: the OrganId of the agency owning ``mailbox`` when ``admit`` takes it, else None."""

    def __init__(
        self, sessions: sessionmaker[Session], admit: Callable[[Agency], bool], ttl_seconds: float = 0.0
    ) -> None:
        self._sessions = sessions
        self._admit = admit
        self._owners: TtlCache[str, str | None] = TtlCache(ttl_seconds)

    def _load(self, mailbox: str) -> str | None:
        with self._sessions() as session:
            try:
                agency = agencies.by_mailbox(session, mailbox)
            except InputError:  # not a mailbox at all: nobody owns it
                return None
            return agency.organ_id if agency is not None and self._admit(agency) else None

    def _remembered(self, mailbox: str) -> str | None:
        return self._owners.get(mailbox, lambda: self._load(mailbox), keep=lambda organ_id: organ_id is not None)

    async def organ_of(self, mailbox: str) -> str | None:
        return self._owners.peek(mailbox) or await asyncio.to_thread(self._remembered, mailbox)


def any_agency(agency: Agency) -> bool:
    """Submission: every agency of the registry, suspended ones too (the worker's notice says it is suspended)."""
    return True


def hosted_here(gateway_name: str) -> Callable[[Agency], bool]:
    """The relay listener: only active agencies this gateway hosts; anything else is another gateway's to take."""
    return lambda agency: agency.gateway == gateway_name and agency.active
