"""Bulk import and export of agencies in the shape the national hubs publish (CSV or JSON).

Columns: ``code, parent_code, name, mail, phone, fax`` as the hubs list them, plus the optional ``short_name,
gateway, status, suspended_since`` that lienthong keeps. Import checks every row before touching the database and
either applies the whole file in one transaction or nothing, so an operator fixes all bad rows in one go and never
meets a half-imported registry. Re-importing the same file changes nothing.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from gateway.errors import InputError
from registry.agencies import AgencySpec, describe_cycle, find_cycle
from registry.models import Agency, AgencyMailbox, AgencyStatus, utcnow

Format = Literal["csv", "json"]
COLUMNS = ("code", "parent_code", "name", "mail", "phone", "fax", "short_name", "gateway", "status", "suspended_since")
REQUIRED_COLUMNS = ("code", "name")
MAIL_SEPARATOR = ";"


class ImportRejected(InputError):
    """The file had bad rows; ``problems`` lists every one, and nothing was imported."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        rows = len({p.split(":", 1)[0] for p in problems})
        super().__init__(f"{source}: {rows} bad row(s), nothing imported\n" + "\n".join(problems))
        self.problems = list(problems)


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Row:
    number: int
    values: Mapping[str, str | None]  # None: the column is absent from the file or the cell is empty

    def get(self, column: str) -> str | None:
        value = self.values.get(column)
        if value is None:
            return None
        value = value.strip()
        return value or None


def format_for(path: str, given: str | None) -> Format:
    """The format named on the command line, else the one the file name's extension says."""
    name = given or path.rsplit(".", 1)[-1].lower()
    if name == "csv":
        return "csv"
    if name == "json":
        return "json"
    raise InputError(f"format {name!r}: expected csv or json (name the file *.csv or *.json, or pass --format)")


def _parse_csv(text: str, source: str) -> list[_Row]:
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    unknown = [c for c in header if c not in COLUMNS]
    if unknown:
        raise InputError(
            f"{source}: header: unknown column(s) {', '.join(map(repr, unknown))}; expected {', '.join(COLUMNS)}"
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise InputError(
            f"{source}: header: missing column(s) {', '.join(missing)}; the first row must name the columns"
        )
    rows = []
    for index, record in enumerate(reader):
        # Rows as a spreadsheet numbers them: the header is row 1.
        if None in record:
            rows.append(_Row(index + 2, {"__error__": "more cells than the header has columns"}))
            continue
        rows.append(_Row(index + 2, {k: v for k, v in record.items() if k is not None}))
    return rows


def _json_value(value: Any, column: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if column == "mail" and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return MAIL_SEPARATOR.join(value)
    if isinstance(value, int | float) and not isinstance(value, bool) and column in ("phone", "fax"):
        return str(value)
    raise ValueError(f"{column}: expected a string" + (" or a list of strings" if column == "mail" else ""))


def _parse_json(text: str, source: str) -> list[_Row]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{source}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    if not isinstance(data, list):
        raise InputError(f"{source}: expected a JSON list of objects, one per agency")
    rows = []
    for index, item in enumerate(data):
        number = index + 1  # 1-based position in the list
        if not isinstance(item, dict):
            rows.append(_Row(number, {"__error__": "expected an object with code, parent_code, name, mail, ..."}))
            continue
        unknown = [k for k in item if k not in COLUMNS]
        if unknown:
            rows.append(_Row(number, {"__error__": f"unknown key(s) {', '.join(map(repr, unknown))}"}))
            continue
        try:
            rows.append(_Row(number, {k: _json_value(v, k) for k, v in item.items()}))
        except ValueError as exc:
            rows.append(_Row(number, {"__error__": str(exc)}))
    return rows


def parse(data: bytes, fmt: Format, source: str) -> list[_Row]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{source}: not UTF-8 text (byte {exc.start}); save the file as UTF-8") from None
    return _parse_csv(text, source) if fmt == "csv" else _parse_json(text, source)


def _spec(row: _Row, existing: Agency | None) -> tuple[AgencySpec | None, list[str]]:
    if "__error__" in row.values:
        return None, [str(row.values["__error__"])]
    problems: list[str] = []
    status = row.get("status") or (existing.status if existing else AgencyStatus.ACTIVE.value)
    since_text = row.get("suspended_since")
    since: date | None = None
    if since_text:
        try:
            since = date.fromisoformat(since_text)
        except ValueError:
            problems.append(f"suspended_since {since_text!r}: expected a date YYYY-MM-DD")
    if status == AgencyStatus.SUSPENDED.value and since is None:
        since = existing.suspended_since if existing and existing.suspended_since else date.today()
    mail = row.get("mail")
    spec = AgencySpec(
        organ_id=row.get("code") or "",
        name=row.get("name") or "",
        short_name=row.get("short_name") or (existing.short_name if existing else None),
        parent_id=row.get("parent_code"),
        mailboxes=tuple(a.strip() for a in mail.split(MAIL_SEPARATOR) if a.strip()) if mail else (),
        gateway=row.get("gateway") or (existing.gateway if existing else None),
        phone=row.get("phone"),
        fax=row.get("fax"),
        status=status,
        suspended_since=since if status == AgencyStatus.SUSPENDED.value else None,
    )
    if not row.get("code"):
        problems.insert(0, "code: required, the agency's OrganId such as 000.00.00.H12")
        return None, problems
    return spec, [*spec.problems(), *problems]


def _validate(session: Session, rows: list[_Row]) -> tuple[list[AgencySpec], dict[str, Agency], list[str]]:
    existing = {a.organ_id: a for a in session.scalars(select(Agency).options(selectinload(Agency.mailboxes)))}
    problems: list[str] = []
    specs: list[tuple[int, AgencySpec]] = []
    first_row: dict[str, int] = {}
    for row in rows:
        code = row.get("code")
        spec, found = _spec(row, existing.get(code) if code else None)
        problems.extend(f"row {row.number}: {p}" for p in found)
        if spec is None or found:
            if code:
                first_row.setdefault(code, row.number)
            continue
        if code in first_row:
            problems.append(f"row {row.number}: code {code!r}: already given on row {first_row[code]}")
            continue
        first_row[spec.organ_id] = row.number
        specs.append((row.number, spec))
    in_file = {s.organ_id: s for _, s in specs}
    parents = {code: a.parent_id for code, a in existing.items()}
    parents.update({code: s.parent_id for code, s in in_file.items()})
    owners = {m.address: code for code, a in existing.items() if code not in in_file for m in a.mailboxes}
    owner_rows: dict[str, int] = {}
    for number, spec in specs:
        if spec.parent_id and spec.parent_id not in in_file and spec.parent_id not in existing:
            problems.append(f"row {number}: parent_code {spec.parent_id!r}: no such agency in the file or the registry")
        elif find_cycle(spec.organ_id, spec.parent_id, parents.get):
            cycle = find_cycle(spec.organ_id, spec.parent_id, parents.get) or []
            problems.append(f"row {number}: parent_code {spec.parent_id!r}: makes a loop ({describe_cycle(cycle)})")
        for address in spec.normalised_mailboxes():
            if address in owner_rows:
                problems.append(f"row {number}: mail {address!r}: also given on row {owner_rows[address]}")
            elif address in owners:
                problems.append(f"row {number}: mail {address!r}: already the mailbox of agency {owners[address]}")
            owner_rows.setdefault(address, number)
    problems.sort(key=lambda p: int(p.split(":", 1)[0].removeprefix("row ")))
    return [s for _, s in specs], existing, problems


def _parents_first(specs: list[AgencySpec]) -> list[AgencySpec]:
    by_code = {s.organ_id: s for s in specs}
    ordered: list[AgencySpec] = []
    placed: set[str] = set()

    def place(spec: AgencySpec) -> None:
        if spec.organ_id in placed:
            return
        placed.add(spec.organ_id)
        if spec.parent_id in by_code:
            place(by_code[spec.parent_id])
        ordered.append(spec)

    for spec in specs:
        place(spec)
    return ordered


def _apply(session: Session, spec: AgencySpec, agency: Agency | None, local_gateway: str, report: ImportReport) -> None:
    wanted = spec.normalised_mailboxes()
    fields = {
        "name": spec.name.strip(),
        "short_name": spec.short_name,
        "parent_id": spec.parent_id,
        "gateway": spec.gateway or local_gateway,
        "phone": spec.phone,
        "fax": spec.fax,
        "status": spec.status,
        "suspended_since": spec.suspended_since,
    }
    if agency is None:
        agency = Agency(organ_id=spec.organ_id, **fields)
        session.add(agency)
        report.created.append(spec.organ_id)
        changed = False
    else:
        changed = spec.organ_id in report.updated or any(getattr(agency, k) != v for k, v in fields.items())
        for key, value in fields.items():
            setattr(agency, key, value)
    have = {m.address: m for m in agency.mailboxes}
    for index, address in enumerate(wanted):
        if address in have:
            if have[address].is_primary != (index == 0):
                have[address].is_primary = index == 0
                changed = True
        else:
            agency.mailboxes.append(AgencyMailbox(address=address, is_primary=index == 0))
            changed = True
    if changed:
        agency.updated_at = utcnow()
        if spec.organ_id not in report.created:
            report.updated.append(spec.organ_id)
    elif spec.organ_id not in report.created:
        report.unchanged.append(spec.organ_id)
    session.flush()


def import_agencies(
    session: Session, data: bytes, fmt: Format, local_gateway: str, source: str = "file"
) -> ImportReport:
    """Validate every row, then apply them all (the caller commits) or raise ``ImportRejected`` with every problem."""
    rows = parse(data, fmt, source)
    specs, existing, problems = _validate(session, rows)
    if problems:
        raise ImportRejected(source, problems)
    report = ImportReport()
    wanted = {s.organ_id: s.normalised_mailboxes() for s in specs}
    # Phase one frees addresses and primary flags, so moves between agencies never trip a unique index midway.
    for code, addresses in wanted.items():
        agency = existing.get(code)
        if agency is None:
            continue
        primary = addresses[0] if addresses else None
        for mailbox in list(agency.mailboxes):
            if mailbox.address not in addresses:
                agency.mailboxes.remove(mailbox)
                report.updated.append(code)
            elif mailbox.is_primary and mailbox.address != primary:
                mailbox.is_primary = False
    session.flush()
    for spec in _parents_first(specs):
        _apply(session, spec, existing.get(spec.organ_id), local_gateway, report)
    report.updated = sorted(set(report.updated))
    report.unchanged = [c for c in report.unchanged if c not in report.updated]
    return report


def export_rows(session: Session) -> list[dict[str, str | None]]:
    agencies = session.scalars(select(Agency).options(selectinload(Agency.mailboxes)).order_by(Agency.organ_id))
    return [
        {
            "code": a.organ_id,
            "parent_code": a.parent_id,
            "name": a.name,
            "mail": MAIL_SEPARATOR.join(m.address for m in a.mailboxes) or None,
            "phone": a.phone,
            "fax": a.fax,
            "short_name": a.short_name,
            "gateway": a.gateway,
            "status": a.status,
            "suspended_since": a.suspended_since.isoformat() if a.suspended_since else None,
        }
        for a in agencies
    ]


def export_agencies(session: Session, fmt: Format) -> str:
    """Every agency, parents' codes included, in a file ``import_agencies`` reads back unchanged."""
    rows = export_rows(session)
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({k: v or "" for k, v in row.items()} for row in rows)
    return out.getvalue()
