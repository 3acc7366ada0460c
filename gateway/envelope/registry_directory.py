"""The registry database behind the envelope's small Protocols: the one place the envelope code touches ``registry``.

``RegistryDirectory`` answers both questions the envelope code asks: by OrganId (``AgencyDirectory``, for the
validator's sender and recipient rules) and by records-office mailbox (``MailboxDirectory``, for clerk mail).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from gateway.envelope.directory import AgencyInfo
from gateway.errors import ConfigError, InputError
from gateway.home import Home

if TYPE_CHECKING:
    from registry.models import Agency


class RegistryDirectory:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def lookup(self, organ_id: str) -> AgencyInfo | None:
        from registry.models import Agency

        with self._sessions() as session:
            agency = session.get(Agency, organ_id)
            return None if agency is None else _info(agency)

    def by_mailbox(self, mailbox: str) -> AgencyInfo | None:
        """The agency owning the records-office ``mailbox``; None for an unknown or malformed address."""
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
