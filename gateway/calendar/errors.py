"""Errors of the calendar: bad instants from callers, and configurations with no office hours at all."""

from __future__ import annotations

from datetime import date

from gateway.errors import ConfigError, InputError


class CalendarError(InputError):
    """An instant or an amount given to the calendar is unusable (naive datetime, negative duration)."""


class NoOfficeHoursError(ConfigError):
    """A forward search found no office period: the profiles, seasons and overrides leave no working day."""

    def __init__(self, since: date, days: int) -> None:
        super().__init__(
            f"calendar: no office hours in the {days} days from {since.isoformat()}; check [calendar.profiles] "
            "weekdays/hours, the seasons and the override file"
        )
