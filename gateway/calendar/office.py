"""The office-hours calendar: office periods day by day, the Art. 11 effective time, and deadline arithmetic.

Everything is compared in UTC (aware datetimes sharing one tzinfo compare by wall clock in Python, which would be
wrong across a DST change); results are handed back in the calendar's local time zone. Periods of each day are
cached, and the holiday sets per year (see days.py), so effective() costs a few dictionary look-ups.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from gateway.calendar import working_time
from gateway.calendar.days import DayBook, SpecialDay
from gateway.calendar.effective import CalendarVersion, EffectiveTime, calendar_version
from gateway.calendar.errors import CalendarError, NoOfficeHoursError
from gateway.calendar.hours import CompiledSchedule, Schedules
from gateway.calendar.overrides import Overrides, load_overrides
from gateway.config import CalendarSettings
from gateway.home import Home

Period = tuple[datetime, datetime]
_ONE_DAY = timedelta(days=1)
SEARCH_DAYS = 366


class Calendar:
    """Office hours of one gateway: its settings, the `holidays` country and the override file."""

    def __init__(
        self,
        settings: CalendarSettings | None = None,
        overrides_path: Path | None = None,
        *,
        overrides: Overrides | None = None,
    ) -> None:
        self.settings = settings if settings is not None else CalendarSettings()
        self.zone = ZoneInfo(self.settings.timezone)
        self.overrides = overrides if overrides is not None else load_overrides(overrides_path)
        self.days = DayBook(self.settings.country, self.overrides)
        self.schedules = Schedules(self.settings)
        self.version: CalendarVersion = calendar_version(self.settings, self.overrides)
        self.search_days = SEARCH_DAYS
        self._periods: dict[tuple[CompiledSchedule, date], tuple[Period, ...]] = {}

    @classmethod
    def for_home(cls, home: Home) -> Calendar:
        return cls(home.settings.calendar, home.calendar_overrides_path)

    # -- time zones -------------------------------------------------------------------------------------------
    def utc(self, instant: datetime) -> datetime:
        if instant.tzinfo is None or instant.utcoffset() is None:
            raise CalendarError(
                f"instant {instant.isoformat()} has no time zone; give an aware datetime (UTC or with an offset)"
            )
        return instant.astimezone(UTC)

    def local(self, instant: datetime) -> datetime:
        return self.utc(instant).astimezone(self.zone)

    def local_date(self, instant: datetime) -> date:
        return self.local(instant).date()

    # -- periods ----------------------------------------------------------------------------------------------
    def schedule(self, organ_id: str | None = None) -> CompiledSchedule:
        return self.schedules.for_agency(organ_id)

    def special_day(self, day: date) -> SpecialDay | None:
        return self.days.special(day)

    def periods_on(self, day: date, organ_id: str | None = None) -> tuple[Period, ...]:
        """The office periods of ``day`` as half-open [start, end) UTC intervals; empty on a non-working day."""
        schedule = self.schedules.for_agency(organ_id)
        key = (schedule, day)
        cached = self._periods.get(key)
        if cached is None:
            cached = self._compute_periods(schedule, day)
            self._periods[key] = cached
        return cached

    def _compute_periods(self, schedule: CompiledSchedule, day: date) -> tuple[Period, ...]:
        hours = schedule.hours_on(day)
        special = self.days.special(day)
        working = special.kind == "working_day" if special is not None else day.weekday() in hours.weekdays
        if not working:
            return ()
        midnight = datetime.combine(day, time(0), tzinfo=self.zone)
        return tuple(((midnight + s).astimezone(UTC), (midnight + e).astimezone(UTC)) for s, e in hours.periods)

    def periods_from(self, instant: datetime, organ_id: str | None = None) -> Iterator[Period]:
        """Every period ending after ``instant``, in order; raises if a whole search window has none."""
        now = self.utc(instant)
        day = self.local_date(now)
        empty_days = 0
        while True:
            found = False
            for start, end in self.periods_on(day, organ_id):
                if end > now:
                    found = True
                    yield start, end
            empty_days = 0 if found else empty_days + 1
            if empty_days >= self.search_days:
                raise NoOfficeHoursError(day - (self.search_days - 1) * _ONE_DAY, self.search_days)
            day += _ONE_DAY

    def is_office_time(self, instant: datetime, organ_id: str | None = None) -> bool:
        now = self.utc(instant)
        return any(start <= now < end for start, end in self.periods_on(self.local_date(now), organ_id))

    # -- Art. 11 ----------------------------------------------------------------------------------------------
    def effective(self, instant: datetime, organ_id: str | None = None) -> EffectiveTime:
        """Unchanged inside office hours, else the start of the next office-hours period (Art. 11)."""
        now = self.utc(instant)
        start, _ = next(self.periods_from(now, organ_id))
        effective = max(now, start)
        return EffectiveTime(now, effective.astimezone(self.zone), effective != now, self.version.id)

    def explain(self, instant: datetime, organ_id: str | None = None) -> str:
        """Why an instant is or is not office time, in the words of the worked cases."""
        now = self.utc(instant)
        day = self.local_date(now)
        periods = self.periods_on(day, organ_id)
        if any(start <= now < end for start, end in periods):
            return "inside office hours"
        special = self.days.special(day)
        if not periods:
            if special is not None:
                return f"day off: {special.name}"
            return "not a working weekday"
        if now < periods[0][0]:
            return "before opening"
        if now >= periods[-1][1]:
            return "after closing"
        return "break between office periods (lunch)"

    # -- deadlines --------------------------------------------------------------------------------------------
    def add_working_days(self, instant: datetime, n: int, organ_id: str | None = None) -> datetime:
        """Close of office hours on the n-th working day after the day ``instant`` takes effect (local time)."""
        if n < 0:
            raise CalendarError(f"number of working days = {n}: expected 0 or more")
        day = working_time.effective_day(self, instant, organ_id)
        return working_time.close_of_working_day(self, day, n, organ_id).astimezone(self.zone)

    def same_day_or_next_working_day(self, instant: datetime, organ_id: str | None = None) -> datetime:
        """Decree 30/2020 deadline: the close of the next working day after the effective day."""
        return self.add_working_days(instant, 1, organ_id)

    def office_time_between(self, a: datetime, b: datetime, organ_id: str | None = None) -> timedelta:
        return working_time.office_time_between(self, a, b, organ_id)

    def office_hours_later(self, instant: datetime, duration: timedelta, organ_id: str | None = None) -> datetime:
        """The instant at which ``duration`` of office time has elapsed since ``instant`` (local time)."""
        return working_time.office_hours_later(self, instant, duration, organ_id).astimezone(self.zone)
