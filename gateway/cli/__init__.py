"""The ``lienthong`` command: one module per command group, registered here.

This is the edge where the environment is read (``LIENTHONG_HOME``) and where errors become one line on stderr
and a non-zero exit; the commands themselves raise ``LienthongError`` and never print tracebacks.

A command group's module is imported only when one of its commands runs (or ``--help`` lists them all): importing
every module, with pyHanko, aiohttp, Alembic and pypdf behind them, took seconds before ``lienthong status`` could
answer.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import click

from gateway import __version__
from gateway.errors import LienthongError
from gateway.home import DEFAULT_HOME, Home

# Each command and the module that registers it (``register(group)``); tests/test_cli_startup.py checks the table.
COMMANDS = {
    "init": "init",
    "status": "init",
    "agency": "agency",
    "account": "account",
    "calendar": "calendar",
    "ca": "ca",
    "cert": "ca",
    "crl": "ca",
    "trust": "ca",
    "dkim": "dkim",
    "peer": "peer",  # peer gateways: add, list, show, set, remove, export
    "envelope": "envelope",
    "edxml": "envelope",
    "queue": "queue",
    "document": "queue",
    "serve": "serve",
    "send": "send",
}


class _Group(click.Group):
    """Turns domain errors into one line on stderr (anything else is a bug and keeps its traceback), and imports a
    command's module on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMANDS.get(cmd_name)
        if module is not None and cmd_name not in self.commands:
            importlib.import_module(f"gateway.cli.{module}").register(self)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LienthongError as exc:
            click.echo(f"lienthong: error: {exc.message}", err=True)
            sys.exit(exc.exit_code)
        except click.UsageError as exc:
            # Click would print the usage block too; one line that names the problem and where help is reads better.
            where = exc.ctx.command_path if exc.ctx is not None else "lienthong"
            click.echo(f"lienthong: error: {exc.format_message()} (see '{where} --help')", err=True)
            sys.exit(exc.exit_code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="LIENTHONG_HOME",
    default=DEFAULT_HOME,
    show_default=True,
    help="Home directory holding lienthong.toml, the database, keys and mailboxes (env LIENTHONG_HOME).",
)
@click.version_option(__version__, prog_name="lienthong")
@click.pass_context
def main(ctx: click.Context, home: Path) -> None:
    """Gateway for the exchange of official documents between records offices."""
    ctx.obj = Home(home)
