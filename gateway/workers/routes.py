"""Where an agency is hosted and which mailbox is its records office's: the registry answer every step needs.

Routing a recipient, addressing a receipt back and naming an agency in a receipt used to load the ``Agency`` row and
then, lazily, all its mailboxes through the ORM, for every item. One Core statement answers it instead, and the
answer is kept ``[gateway] registry_cache_seconds`` (``TtlCache``), like the validator's ``RegistryDirectory``: an
agency moved to another gateway or given another primary mailbox is routed the new way within that time.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from gateway.ttl_cache import TtlCache
from registry.models import Agency, AgencyMailbox


@dataclass(frozen=True, slots=True)
class Route:
    organ_id: str
    name: str
    gateway: str  # the gateway that hosts the agency's records office
    mailbox: str | None  # its primary records-office mailbox (None: none registered, nothing can be delivered)


_PRIMARY = (AgencyMailbox.organ_id == Agency.organ_id) & AgencyMailbox.is_primary
_ROUTE = (
    select(Agency.organ_id, Agency.name, Agency.gateway, AgencyMailbox.address)
    .outerjoin(AgencyMailbox, _PRIMARY)
    .where(Agency.organ_id == bindparam("organ_id"))
)


class Routes:
    """The registry's routing answers, by OrganId; None for an agency the registry does not know."""

    def __init__(self, ttl_seconds: float = 0.0, size: int = 4096) -> None:
        self._cache: TtlCache[str, Route | None] = TtlCache(ttl_seconds, size)

    def of(self, session: Session, organ_id: str) -> Route | None:
        """Asked on the caller's transaction, so that no second connection is needed while it holds one."""
        return self._cache.get(organ_id, lambda: _load(session, organ_id))


def _load(session: Session, organ_id: str) -> Route | None:
    row = session.connection().execute(_ROUTE, {"organ_id": organ_id}).first()
    if row is None:
        return None
    return Route(row.organ_id, row.name, row.gateway, row.address)
