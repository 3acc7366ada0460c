"""The two times every event keeps (Art. 11), and the calendar version that links them.

A ledger event stores ``(technical_utc, effective_local, calendar_version)``. The version is a hash of everything
that decided the effective time: the `holidays` package version, the calendar settings and the override entries,
plus a rules number bumped when this code changes its semantics. Storing the ``basis`` text once per version lets
anyone re-derive an effective time years later with the same inputs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version as package_version

from gateway.calendar.overrides import Overrides
from gateway.config import CalendarSettings

# Bump when the meaning of the settings or the arithmetic changes, so old and new results never share a version.
RULES_REVISION = 1
HOLIDAYS_VERSION = package_version("holidays")


@dataclass(frozen=True)
class CalendarVersion:
    id: str
    label: str
    basis: str

    def __str__(self) -> str:
        return self.id


def calendar_version(settings: CalendarSettings, overrides: Overrides) -> CalendarVersion:
    basis = {
        "rules": RULES_REVISION,
        "holidays": HOLIDAYS_VERSION,
        "settings": settings.model_dump(mode="json", exclude={"overrides_file"}),
        "overrides": overrides.canonical(),
    }
    text = json.dumps(basis, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    label = (
        f"{settings.country} holidays {HOLIDAYS_VERSION}; {len(settings.profiles)} profile(s), "
        f"{len(settings.agencies)} agency schedule(s), {len(overrides.entries)} override(s); rules r{RULES_REVISION}"
    )
    return CalendarVersion(digest, label, text)


@dataclass(frozen=True)
class EffectiveTime:
    """What happened (UTC) and when it counts (local office time), with the calendar that decided it."""

    technical_utc: datetime
    effective_local: datetime
    shifted: bool
    calendar_version: str

    def as_record(self) -> dict[str, str | bool]:
        """The columns a ledger event stores; times to the millisecond, the technical one in UTC."""
        return {
            "technical_utc": self.technical_utc.astimezone(UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "effective_local": self.effective_local.isoformat(timespec="milliseconds"),
            "shifted": self.shifted,
            "calendar_version": self.calendar_version,
        }
