"""What the validator needs to know about agencies, behind a small Protocol.

The registry (``registry/``) answers from its database through ``gateway.envelope.registry_directory``; tests and
tools without a database use ``DictDirectory``, a complete in-memory implementation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class AgencyInfo:
    organ_id: str
    name: str
    active: bool = True
    mailboxes: tuple[str, ...] = ()  # records-office addresses, lower case; empty when unknown


class AgencyDirectory(Protocol):
    def lookup(self, organ_id: str) -> AgencyInfo | None: ...


class DictDirectory:
    def __init__(self, agencies: Iterable[AgencyInfo] | Mapping[str, AgencyInfo]) -> None:
        values = agencies.values() if isinstance(agencies, Mapping) else agencies
        self._by_id = {a.organ_id: a for a in values}

    def lookup(self, organ_id: str) -> AgencyInfo | None:
        return self._by_id.get(organ_id)
