"""Which dates are special: public holidays, make-up working days, and the province's overrides.

Whether an ordinary date is a working day depends on the weekly profile in force (a per-agency, seasonal matter);
this module only answers for the dates that break the weekly pattern, so it is shared by every schedule. Each year
is computed once from `holidays` and cached, because effective() runs on every received message.

`holidays` lists the day OFF of a government swap but not the Saturday worked in exchange. Its VN class keeps the
swap as ``special_public_holidays`` entries ``(month, day, from_month, from_day)`` and exposes the worked days as
the public ``weekend_workdays`` set of each holidays object; we read that set, so a new package release that adds
next year's swap brings its make-up Saturday with it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date
from typing import Literal

import holidays

from gateway.calendar.overrides import Overrides
from gateway.errors import ConfigError

DayKind = Literal["day_off", "working_day"]
DaySource = Literal["holidays", "override"]


@dataclass(frozen=True)
class SpecialDay:
    """A date that does not follow the weekly pattern."""

    day: date
    kind: DayKind
    name: str
    source: DaySource


class DayBook:
    """The special dates of one country plus an override file, cached per year."""

    def __init__(self, country: str, overrides: Overrides, language: str = "vi") -> None:
        try:
            probe = holidays.country_holidays(country, years=())
        except NotImplementedError:
            raise ConfigError(
                f"calendar.country = {country!r}: the holidays package has no such country (expected e.g. 'VN')"
            ) from None
        self._country = country
        self._language = language if language in getattr(probe, "supported_languages", ()) else None
        self._overrides = overrides.by_date()
        self._years: dict[int, dict[date, SpecialDay]] = {}
        self._lock = threading.Lock()

    def special(self, day: date) -> SpecialDay | None:
        """The entry for ``day`` if it breaks the weekly pattern, else None."""
        year = self._years.get(day.year)
        if year is None:
            year = self._year(day.year)
        return year.get(day)

    def year(self, year: int) -> list[SpecialDay]:
        """Every special date of ``year`` in date order."""
        found = self._years.get(year)
        return sorted((found if found is not None else self._year(year)).values(), key=lambda s: s.day)

    def _year(self, year: int) -> dict[date, SpecialDay]:
        with self._lock:
            cached = self._years.get(year)
            if cached is not None:
                return cached
            book = holidays.country_holidays(self._country, years=year, language=self._language)
            days: dict[date, SpecialDay] = {
                d: SpecialDay(d, "day_off", str(name), "holidays") for d, name in sorted(book.items())
            }
            for worked in sorted(book.weekend_workdays):
                if worked.year == year and worked not in days:
                    days[worked] = SpecialDay(worked, "working_day", _makeup_name(book, worked), "holidays")
            for override in self._overrides.values():
                if override.day.year == year:
                    days[override.day] = SpecialDay(override.day, override.kind, override.name, "override")
            self._years[year] = days
            return days


def _makeup_name(book: holidays.HolidayBase, worked: date) -> str:
    """Name a make-up working day after the day off it pays for, from the package's substitution table."""
    table = getattr(book, "special_public_holidays", {})
    for year, entries in table.items():
        for entry in entries if entries and isinstance(entries[0], tuple) else (entries,):
            if len(entry) >= 4:
                to_month, to_day, from_month, from_day, *from_year = entry
                if date(from_year[0] if from_year else year, from_month, from_day) == worked:
                    return f"Làm bù cho ngày nghỉ {date(year, to_month, to_day).strftime('%d/%m/%Y')}"
    return "Ngày làm bù"
