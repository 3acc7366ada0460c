"""``AgencyDirectory`` over the registry database: the one place the envelope code touches ``registry``."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from gateway.envelope.directory import AgencyInfo
from gateway.errors import ConfigError
from gateway.home import Home


class RegistryDirectory:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def lookup(self, organ_id: str) -> AgencyInfo | None:
        from registry.models import Agency

        with self._sessions() as session:
            agency = session.get(Agency, organ_id)
            if agency is None:
                return None
            mailboxes = tuple(m.address.lower() for m in agency.mailboxes)
            return AgencyInfo(agency.organ_id, agency.name, agency.active, mailboxes)


def open_directory(home: Home) -> RegistryDirectory:
    """The registry of ``home``; a clear error when there is none (``--no-registry`` skips the look-ups)."""
    if not home.exists():
        raise ConfigError(f"no lienthong home at {home.root} (run 'lienthong init', or check with --no-registry)")
    from registry.db import open_registry

    return RegistryDirectory(open_registry(home.database_url))
