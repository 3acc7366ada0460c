"""``lienthong account ...``: add accounts, change passwords, list them."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from gateway.cli.init import registry_sessions
from gateway.cli.output import emit_rows, json_option
from gateway.errors import InputError
from gateway.home import Home
from registry import accounts
from registry.models import Role
from registry.organ_id import check_organ_id

_PASSWORD_FILE = click.option(
    "--password-file",
    type=click.Path(path_type=Path, dir_okay=False, allow_dash=True),
    help="Read the password from the first line of this file ('-' for stdin).",
)


def _password(password_file: Path | None) -> tuple[str, bool]:
    """The password and whether it was generated (and so must be shown once)."""
    if password_file is not None:
        try:
            text = sys.stdin.read() if str(password_file) == "-" else password_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise InputError(f"--password-file {str(password_file)!r}: cannot read: {reason}") from None
        lines = text.splitlines()
        if not lines or not lines[0]:
            raise InputError(f"--password-file {str(password_file)!r}: the first line is empty; put the password there")
        return accounts.check_password(lines[0]), False
    if sys.stdin.isatty():
        return accounts.check_password(click.prompt("Password", hide_input=True, confirmation_prompt=True)), False
    return accounts.generate_password(), True


@click.group("account")
def account_group() -> None:
    """Accounts: clerks, agency systems, auditors, administrators (one per mailbox address)."""


@account_group.command("add")
@click.argument("login")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]), help="What the account may do.")
@click.option("--agency", "organ_id", help="OrganId the account acts for (clerk and system accounts).")
@_PASSWORD_FILE
@click.pass_obj
def add_command(home: Home, login: str, role: str, organ_id: str | None, password_file: Path | None) -> None:
    """Add an account; without --password-file, prompts on a terminal or generates one and prints it once."""
    if organ_id is not None:
        check_organ_id(organ_id, "--agency")
    password, generated = _password(password_file)
    with registry_sessions(home).begin() as session:
        account = accounts.add(session, login, Role(role), password, organ_id)
        click.echo(f"added {account.role} account {account.login}" + (f" for {organ_id}" if organ_id else ""))
    if generated:
        click.echo(f"password (shown once): {password}")


@account_group.command("passwd")
@click.argument("login")
@_PASSWORD_FILE
@click.pass_obj
def passwd_command(home: Home, login: str, password_file: Path | None) -> None:
    """Set a new password; without --password-file, prompts on a terminal or generates one and prints it once."""
    password, generated = _password(password_file)
    with registry_sessions(home).begin() as session:
        account = accounts.set_password(session, login, password)
        click.echo(f"password changed for {account.login}")
    if generated:
        click.echo(f"password (shown once): {password}")


@account_group.command("list")
@json_option
@click.pass_obj
def list_command(home: Home, as_json: bool) -> None:
    """List accounts (never their password hashes)."""
    with registry_sessions(home)() as session:
        rows = [accounts.record(a) for a in accounts.listing(session)]
    columns = (("login", "Login"), ("role", "Role"), ("agency", "Agency"), ("active", "Active"))
    emit_rows(rows, columns, as_json=as_json, title=None if as_json else f"{len(rows)} accounts")


def register(group: click.Group) -> None:
    """Attach this module's commands to the top-level group."""
    group.add_command(account_group)
