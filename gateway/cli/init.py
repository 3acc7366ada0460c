"""``lienthong init`` (create a home, optionally with the demo province) and ``lienthong status`` (what it holds)."""

from __future__ import annotations

import json
import os
import sys
import tomllib
from collections import defaultdict
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.text import Text
from rich.tree import Tree
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from gateway.cli.output import emit_json, json_option
from gateway.config import CONFIG_FILE, Settings, settings_from_mapping
from gateway.errors import ConfigError, InputError
from gateway.home import Home
from registry import agencies, db, demo
from registry.models import Account, Agency, PeerGateway

DEMO_GATEWAY = ("camau", "camau.lienthong.test")

_TEMPLATE = """\
# lienthong configuration (docs/configuration.md describes every key).
# Every key is optional; the values written here are the defaults unless `lienthong init` was told otherwise.

[gateway]
# Short name of this gateway (a-z, 0-9, '-'); agencies hosted here name it as their gateway.
name = {name}
# Mail domain of the records-office mailboxes hosted here; also the DKIM signing domain.
domain = {domain}

[database]
# Empty: the SQLite file registry.sqlite3 in this home. Otherwise postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB
url = {url}
# Log every SQL statement (debugging only).
echo = false

[storage]
# Folders; relative paths are inside this home.
mailboxes = "mail"
blobs = "blobs"
keys = "keys"

[calendar]
# Office hours for the Article 11 time rule (docs/calendar.md).
timezone = "Asia/Ho_Chi_Minh"
country = "VN"
overrides_file = "calendar-overrides.toml"
# [calendar.profiles.standard]
# hours = ["07:00-11:00", "13:00-17:00"]
# weekdays = ["mon", "tue", "wed", "thu", "fri"]

[smtp]
# Listeners of `lienthong serve` (docs/smtp.md); port 0 disables one.
listen = "127.0.0.1"
submission_port = 10587
submission_tls_port = 10465
# Peer gateways relay here: STARTTLS with a client certificate from a trusted CA, DKIM required.
relay_port = 10025
# TLS: the active certificate from `lienthong cert issue tls --host NAME` (empty: the gateway domain), or PEM files.
tls_host = ""

[notices]
# OrganId of the agency operating this gateway: its certificate signs acceptance, non-acceptance, warning,
# non-delivery and MIC-mismatch alert notices to the sender's records office (alerts are copied to its own records
# office). Empty: no notices (the ledger still records everything).
operator = {operator}
warning_office_hours = 4
non_delivery_office_hours = 16
"""


def registry_sessions(home: Home) -> sessionmaker[Session]:
    """Sessions on the home's database, its schema brought to the current head first."""
    return db.open_registry(home.database_url, echo=home.settings.database.echo)


def _config_text(demo_wanted: bool, database_url: str | None) -> tuple[str, Settings]:
    name, domain = DEMO_GATEWAY if demo_wanted else ("lienthong", "lienthong.localhost")
    operator = demo.OPERATOR if demo_wanted else ""
    text = _TEMPLATE.format(
        name=json.dumps(name),
        domain=json.dumps(domain),
        url=json.dumps(database_url or ""),
        operator=json.dumps(operator),
    )
    return text, settings_from_mapping(tomllib.loads(text), f"--database-url {database_url!r}")


def _sqlite_path(url: str) -> Path | None:
    parsed = db.parse_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        return Path(parsed.database)
    return None


def _database_revision(url: str) -> str | None:
    path = _sqlite_path(url)
    if path is not None and not path.exists():
        return None
    engine = db.make_engine(url)
    try:
        return db.current_revision(engine)
    except Exception as exc:  # an unreachable server is the user's to fix; say which and why in one line
        raise ConfigError(f"database {db.redact(url)}: cannot connect: {str(exc).strip().splitlines()[0]}") from None
    finally:
        engine.dispose()


def _write_credentials(path: Path, credentials: list[demo.Credential]) -> None:
    # Created with its final mode, never widened then narrowed: there is no moment where others could read it.
    if path.exists():
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write("# lienthong demo accounts (generated passwords; change them with 'lienthong account passwd')\n")
        out.write("# role\tlogin\tagency\tpassword\n")
        for c in credentials:
            out.write(f"{c.role}\t{c.login}\t{c.agency or '-'}\t{c.password}\n")


@click.command("init")
@click.option("--demo", "demo_wanted", is_flag=True, help="Load the demo province (Cà Mau) and demo accounts.")
@click.option("--force", is_flag=True, help="Overwrite an existing home's configuration and ERASE its registry.")
@click.option("--database-url", help="Database URL to write into lienthong.toml (default: SQLite in the home).")
@click.option(
    "--with-pki",
    is_flag=True,
    help="With --demo: also create the provincial CA, agency and TLS certificates and DKIM keys (unencrypted keys).",
)
@click.pass_obj
def init_command(home: Home, demo_wanted: bool, force: bool, database_url: str | None, with_pki: bool) -> None:
    """Create the home directory: configuration, database schema, folders (and the demo with --demo)."""
    if with_pki and not demo_wanted:
        raise InputError(
            "--with-pki goes with --demo; for a real province run 'lienthong ca init' and issue certificates"
        )
    root = home.root
    text, settings = _config_text(demo_wanted, database_url)
    fresh = Home(root, settings)
    url = fresh.database_url
    revision = _database_revision(url)
    if not force and (home.exists() or revision is not None):
        what = f"{root / CONFIG_FILE} exists" if home.exists() else f"database {db.redact(url)} holds a registry"
        raise InputError(
            f"home {root}: already initialised ({what}); pass --force to overwrite it and erase the registry"
        )
    root.mkdir(parents=True, exist_ok=True)
    if revision is not None:
        db.downgrade(url, "base")
    db.upgrade(url)  # before the configuration is written: a database that cannot be set up leaves no half-home
    tmp = root / f".{CONFIG_FILE}.tmp"
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(fresh.config_path)
    fresh.mailboxes_dir.mkdir(parents=True, exist_ok=True)
    fresh.blobs_dir.mkdir(parents=True, exist_ok=True)
    fresh.keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    fresh.keys_dir.chmod(0o700)
    click.echo(f"initialised {root}: {fresh.config_path.name}, database {db.redact(url)}")
    if not demo_wanted:
        return
    engine = db.make_engine(url)
    try:
        with db.session_factory(engine).begin() as session:
            credentials = demo.load(session, gateway_name=settings.gateway.name, domain=settings.gateway.domain)
    finally:
        engine.dispose()
    _write_credentials(fresh.credentials_path, credentials)
    click.echo(f"demo province loaded: {len(demo.AGENCIES)} agencies (illustrative codes), {len(credentials)} accounts")
    click.echo(f"credentials (shown once; also in {fresh.credentials_path}, mode 0600):")
    for c in credentials:
        click.echo(f"  {c.role:<8} {c.login:<40} {c.agency or '-':<14} {c.password}")
    if with_pki:
        from certs.demo import provision  # the CA and its keys: only for --with-pki (pyHanko is slow to import)

        for line in provision(fresh, db.open_registry(url)):
            click.echo(line)


def _tree(rows: list[dict[str, Any]]) -> Tree:
    children: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    known = {r["organ_id"] for r in rows}
    for row in rows:
        children[row["parent_id"] if row["parent_id"] in known else None].append(row)
    tree = Tree("agencies")

    def add(node: Tree, parent: str | None) -> None:
        for row in children.get(parent, []):
            status = "" if row["status"] == "active" else f" [suspended since {row['suspended_since']}]"
            mail = f" <{row['mail'][0]}>" if row["mail"] else ""
            label = f"{row['organ_id']}  {row['name']} ({row['short_name'] or '-'}){status}{mail} @{row['gateway']}"
            add(node.add(Text(label)), row["organ_id"])

    add(tree, None)
    return tree


@click.command("status")
@json_option
@click.pass_obj
def status_command(home: Home, as_json: bool) -> None:
    """Show what the home holds: configuration, database, gateway, counts and the agencies."""
    settings = home.settings
    url = home.database_url
    revision = _database_revision(url)
    if revision is None:
        raise ConfigError(f"database {db.redact(url)}: holds no registry; run 'lienthong --home {home.root} init'")
    engine = db.make_engine(url)
    try:
        with db.session_factory(engine)() as session:
            counts = {
                "agencies": session.scalar(select(func.count()).select_from(Agency)),
                "accounts": session.scalar(select(func.count()).select_from(Account)),
                "peers": session.scalar(select(func.count()).select_from(PeerGateway)),
            }
            rows = [agencies.record(a) for a in agencies.listing(session)]
    finally:
        engine.dispose()
    data = {
        "config": str(home.config_path),
        "database": db.redact(url),
        "schema_revision": revision,
        "schema_head": db.head_revision(),
        "gateway": {"name": settings.gateway.name, "domain": settings.gateway.domain},
        "counts": counts,
        "agencies": rows,
    }
    if as_json:
        emit_json(data)
        return
    click.echo(f"config    {data['config']}")
    click.echo(f"database  {data['database']} (schema {revision}, head {data['schema_head']})")
    click.echo(f"gateway   {settings.gateway.name} ({settings.gateway.domain})")
    click.echo(
        f"counts    {counts['agencies']} agencies, {counts['accounts']} accounts, {counts['peers']} peer gateways"
    )
    # Piped output is not cut at 80 columns: a status report is read in logs and CI output too.
    width = None if sys.stdout.isatty() else 200
    Console(highlight=False, width=width).print(_tree(rows))


def register(group: click.Group) -> None:
    """Attach this module's commands to the top-level group."""
    group.add_command(init_command)
    group.add_command(status_command)
