"""``lienthong agency ...``: list, show, add, set, suspend/activate, import and export agencies."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from sqlalchemy import select

from gateway.cli.init import registry_sessions
from gateway.cli.output import emit_mapping, emit_rows, json_option
from gateway.errors import InputError
from gateway.home import Home
from registry import agencies, exchange
from registry.agencies import AgencySpec
from registry.models import Account, Agency
from registry.organ_id import check_organ_id

CLI_LABELS = {
    "organ_id": "ORGID",
    "parent_id": "--parent",
    "name": "--name",
    "mailboxes": "--mail",
    "phone": "--phone",
    "fax": "--fax",
    "short_name": "--short",
    "gateway": "--gateway",
    "status": "status",
    "suspended_since": "--since",
}

_COLUMNS = (
    ("organ_id", "OrganId"),
    ("short_name", "Short"),
    ("name", "Name"),
    ("parent_id", "Parent"),
    ("mailbox", "Mailbox"),
    ("gateway", "Gateway"),
    ("status", "Status"),
)


@click.group("agency")
def agency_group() -> None:
    """Agencies in the registry (OrganId, name, parent, records-office mailboxes, hosting gateway)."""


@agency_group.command("list")
@json_option
@click.option("--all", "include_all", is_flag=True, help="Include suspended agencies.")
@click.pass_obj
def list_command(home: Home, as_json: bool, include_all: bool) -> None:
    """List the active agencies (all of them with --all)."""
    with registry_sessions(home)() as session:
        found = agencies.listing(session, include_suspended=include_all)
        rows = [agencies.record(a) for a in found]
    if not as_json:
        for row in rows:
            row["mailbox"] = row["mail"][0] if row["mail"] else None
            if row["suspended_since"]:
                row["status"] = f"{row['status']} since {row['suspended_since']}"
    emit_rows(rows, _COLUMNS, as_json=as_json, title=None if as_json else f"{len(rows)} agencies")


@agency_group.command("show")
@click.argument("organ_id", metavar="ORGID")
@json_option
@click.pass_obj
def show_command(home: Home, organ_id: str, as_json: bool) -> None:
    """Everything the registry holds about one agency."""
    check_organ_id(organ_id, "ORGID")
    with registry_sessions(home)() as session:
        agency = agencies.get(session, organ_id)
        data = agencies.record(agency)
        data["hosted_here"] = agencies.is_local(agency, home.settings.gateway.name)
        data["children"] = list(session.scalars(select(Agency.organ_id).where(Agency.parent_id == organ_id)))
        data["accounts"] = list(session.scalars(select(Account.login).where(Account.organ_id == organ_id)))
    if not as_json:
        data = {k: ", ".join(v) if isinstance(v, list) else v for k, v in data.items()}
    emit_mapping(data, as_json=as_json)


@agency_group.command("add")
@click.argument("organ_id", metavar="ORGID")
@click.option("--name", required=True, help="Full name, e.g. 'Sở Tài chính tỉnh Cà Mau'.")
@click.option("--short", "short_name", required=True, help="Short name used in document notations, e.g. STC.")
@click.option("--parent", "parent_id", help="OrganId of the parent agency.")
@click.option("--mail", "mailboxes", multiple=True, help="Records-office mailbox (repeat; the first is primary).")
@click.option("--gateway", help="Gateway hosting the agency (default: this gateway).")
@click.option("--phone")
@click.option("--fax")
@click.pass_obj
def add_command(
    home: Home,
    organ_id: str,
    name: str,
    short_name: str,
    parent_id: str | None,
    mailboxes: tuple[str, ...],
    gateway: str | None,
    phone: str | None,
    fax: str | None,
) -> None:
    """Add one agency."""
    spec = AgencySpec(organ_id, name, short_name, parent_id, mailboxes, gateway, phone, fax, labels=CLI_LABELS)
    problems = spec.problems()
    if problems:
        raise InputError("; ".join(problems))
    with registry_sessions(home).begin() as session:
        agency = agencies.add(session, spec, home.settings.gateway.name)
        click.echo(f"added {agency.organ_id} {agency.name} (gateway {agency.gateway})")


@agency_group.command("set")
@click.argument("organ_id", metavar="ORGID")
@click.option("--name", help="New full name.")
@click.option("--short", "short_name", help="New short name.")
@click.option("--parent", "parent_id", help="OrganId of the new parent agency.")
@click.option("--no-parent", is_flag=True, help="Make it a top-level agency.")
@click.option("--gateway", help="Gateway that hosts it from now on (this gateway's name, or a peer's).")
@click.option("--phone")
@click.option("--fax")
@click.pass_obj
def set_command(
    home: Home,
    organ_id: str,
    name: str | None,
    short_name: str | None,
    parent_id: str | None,
    no_parent: bool,
    gateway: str | None,
    phone: str | None,
    fax: str | None,
) -> None:
    """Change an agency's name, short name, parent, hosting gateway, phone or fax (only what is given)."""
    check_organ_id(organ_id, "ORGID")
    if parent_id is not None and no_parent:
        raise InputError("--parent and --no-parent: give one of them")
    given = {"name": name, "short_name": short_name, "gateway": gateway, "phone": phone, "fax": fax}
    changes: dict[str, str | None] = {key: value for key, value in given.items() if value is not None}
    if parent_id is not None or no_parent:
        changes["parent_id"] = parent_id
    if not changes:
        raise InputError(
            "nothing to change: give at least one of --name, --short, --parent/--no-parent, --gateway, --phone, --fax"
        )
    with registry_sessions(home).begin() as session:
        before = agencies.record(agencies.get(session, organ_id))
        after = agencies.record(agencies.update(session, organ_id, changes, CLI_LABELS))
    for key in sorted(changes):
        click.echo(f"{organ_id} {key}: {before.get(key)} -> {after.get(key)}")


def _today(home: Home) -> date:
    return datetime.now(ZoneInfo(home.settings.calendar.timezone)).date()


@agency_group.command("suspend")
@click.argument("organ_id", metavar="ORGID")
@click.option("--since", help="Date the agency stopped operating, YYYY-MM-DD (default: today).")
@click.pass_obj
def suspend_command(home: Home, organ_id: str, since: str | None) -> None:
    """Suspend an agency; it stays in the registry so old documents still resolve."""
    check_organ_id(organ_id, "ORGID")
    try:
        day = date.fromisoformat(since) if since else _today(home)
    except ValueError:
        raise InputError(f"--since {since!r}: expected a date YYYY-MM-DD") from None
    with registry_sessions(home).begin() as session:
        agencies.suspend(session, organ_id, day)
    click.echo(f"suspended {organ_id} since {day.isoformat()}")


@agency_group.command("activate")
@click.argument("organ_id", metavar="ORGID")
@click.pass_obj
def activate_command(home: Home, organ_id: str) -> None:
    """Make a suspended agency active again."""
    check_organ_id(organ_id, "ORGID")
    with registry_sessions(home).begin() as session:
        agencies.activate(session, organ_id)
    click.echo(f"activated {organ_id}")


_FORMAT = click.Choice(["csv", "json"])


@agency_group.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--format", "fmt", type=_FORMAT, help="csv or json (default: from the file name).")
@click.pass_obj
def import_command(home: Home, file: Path, fmt: str | None) -> None:
    """Import agencies (code, parent_code, name, mail, phone, fax, ...); all rows or none."""
    kind = exchange.format_for(file.name, fmt)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise InputError(f"FILE {str(file)!r}: cannot read: {exc.strerror}") from None
    with registry_sessions(home).begin() as session:
        report = exchange.import_agencies(session, data, kind, home.settings.gateway.name, source=str(file))
    click.echo(
        f"imported {file}: {len(report.created)} created, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged"
    )


@agency_group.command("export")
@click.option("--format", "fmt", type=_FORMAT, help="csv or json (default: from -o's extension, else csv).")
@click.option(
    "-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="File to write (default: stdout)."
)
@click.pass_obj
def export_command(home: Home, fmt: str | None, output: Path | None) -> None:
    """Export every agency in the import format."""
    kind = exchange.format_for(output.name if output else "stdout.csv", fmt)
    with registry_sessions(home)() as session:
        text = exchange.export_agencies(session, kind)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        raise InputError(f"--output {str(output)!r}: cannot write: {exc.strerror}") from None
    click.echo(f"exported to {output}")


def register(group: click.Group) -> None:
    """Attach this module's commands to the top-level group."""
    group.add_command(agency_group)
