"""Office hours, holidays and the Article 11 effective time (see docs/calendar.md)."""

from __future__ import annotations

from gateway.calendar.days import DayBook, SpecialDay
from gateway.calendar.effective import CalendarVersion, EffectiveTime
from gateway.calendar.errors import CalendarError, NoOfficeHoursError
from gateway.calendar.office import Calendar
from gateway.calendar.overrides import Override, OverrideFileError, Overrides, load_overrides

__all__ = [
    "Calendar",
    "CalendarError",
    "CalendarVersion",
    "DayBook",
    "EffectiveTime",
    "NoOfficeHoursError",
    "Override",
    "OverrideFileError",
    "Overrides",
    "SpecialDay",
    "load_overrides",
]
