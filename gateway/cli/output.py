"""Listings for people (rich tables) and for programs (``--json``), from the same rows."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import click
from rich.console import Console
from rich.table import Table

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


def _default(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=_default))


def emit_rows(
    rows: Iterable[Mapping[str, Any]],
    columns: Sequence[tuple[str, str]],
    *,
    as_json: bool,
    title: str | None = None,
) -> None:
    """Print ``rows`` as a table of ``columns`` ((key, heading) pairs), or as a JSON list of objects."""
    materialised = [dict(row) for row in rows]
    if as_json:
        emit_json(materialised)
        return
    table = Table(title=title)
    for _, heading in columns:
        table.add_column(heading)
    for row in materialised:
        table.add_row(*("" if row.get(key) is None else _default(row[key]) for key, _ in columns))
    Console().print(table)


def emit_mapping(data: Mapping[str, Any], *, as_json: bool) -> None:
    """Print one object as ``key: value`` lines, or as JSON."""
    if as_json:
        emit_json(dict(data))
        return
    width = max((len(k) for k in data), default=0)
    for key, value in data.items():
        click.echo(f"{key.ljust(width)}  {'' if value is None else _default(value)}")
