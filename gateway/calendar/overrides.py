"""The override file: days off and working days a province announces, applied without a new release.

The `holidays` package knows the national rules; provinces and the government add days every year (an extra day off
after a storm, a make-up Saturday the package does not know). Those go in a small TOML file in the home:

    [[day_off]]
    date = "2026-12-31"
    name = "Nghỉ bù theo Quyết định ..."

    [[working_day]]
    date = "2027-02-06"
    name = "Làm bù cho ngày 15/02/2027"

``day_off`` also removes a make-up working day; ``working_day`` also cancels a public holiday. A missing file means
no overrides, so a fresh home works without one.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

from gateway.errors import ConfigError

OverrideKind = Literal["day_off", "working_day"]
_KINDS: tuple[OverrideKind, ...] = ("day_off", "working_day")
_FIELDS = frozenset({"date", "name"})


class OverrideFileError(ConfigError):
    """The override file is unreadable or an entry is invalid; the message names the file, entry and field."""


@dataclass(frozen=True)
class Override:
    day: date
    kind: OverrideKind
    name: str


@dataclass(frozen=True)
class Overrides:
    """The parsed file: at most one entry per date."""

    entries: tuple[Override, ...] = ()
    source: str = ""
    present: bool = False

    def by_date(self) -> dict[date, Override]:
        return {entry.day: entry for entry in self.entries}

    def canonical(self) -> list[list[str]]:
        """What the calendar version hashes: the rules, not the file's comments or layout."""
        return [[e.day.isoformat(), e.kind, e.name] for e in sorted(self.entries, key=lambda e: e.day)]


def load_overrides(path: Path | None) -> Overrides:
    """Read the override file at ``path``; ``None`` or a missing file gives no overrides."""
    if path is None:
        return Overrides()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Overrides(source=str(path))
    except OSError as exc:
        raise OverrideFileError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise OverrideFileError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise OverrideFileError(f"{path}: invalid TOML: {exc}") from None
    return parse_overrides(data, str(path))


def parse_overrides(data: dict[str, Any], source: str) -> Overrides:
    """Validate parsed TOML; every error names the file, the entry (``day_off[2]``) and the field."""
    unknown = sorted(set(data) - set(_KINDS))
    if unknown:
        raise OverrideFileError(f"{source}: {unknown[0]}: unknown table; expected [[day_off]] or [[working_day]]")
    seen: dict[date, str] = {}
    entries: list[Override] = []
    for kind in _KINDS:
        items = data.get(kind, [])
        if not isinstance(items, list):
            raise OverrideFileError(f"{source}: {kind}: expected an array of tables, written [[{kind}]]")
        for index, item in enumerate(items, start=1):
            where = f"{source}: {kind}[{index}]"
            entry = _entry(item, kind, where)
            if entry.day in seen:
                raise OverrideFileError(
                    f"{where}.date = {entry.day.isoformat()!r}: already listed as {seen[entry.day]}"
                )
            seen[entry.day] = f"{kind}[{index}]"
            entries.append(entry)
    return Overrides(tuple(sorted(entries, key=lambda e: e.day)), source, present=True)


def _entry(item: object, kind: OverrideKind, where: str) -> Override:
    if not isinstance(item, dict):
        raise OverrideFileError(f"{where}: expected a table with 'date' and 'name'")
    extra = sorted(set(item) - _FIELDS)
    if extra:
        raise OverrideFileError(f"{where}.{extra[0]}: unknown field; expected only 'date' and 'name'")
    if "date" not in item:
        raise OverrideFileError(f"{where}.date: required field is missing")
    value = item["date"]
    if isinstance(value, str):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise OverrideFileError(f'{where}.date = {value!r}: expected a date such as "2026-12-31"') from None
    elif isinstance(value, date) and type(value) is date:
        day = value
    else:
        shown = value.isoformat() if isinstance(value, date) else repr(value)
        raise OverrideFileError(f'{where}.date = {shown}: expected a date such as "2026-12-31" (no time of day)')
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        raise OverrideFileError(f"{where}.name = {name!r}: expected a non-empty text saying why")
    return Override(day, kind, name.strip())
