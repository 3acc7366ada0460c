"""The ``lienthong`` command: one module per command group, registered here.

This is the edge where the environment is read (``LIENTHONG_HOME``) and where errors become one line on stderr
and a non-zero exit; the commands themselves raise ``LienthongError`` and never print tracebacks.

A command group's module is imported only when one of its commands runs, and ``--help`` lists the commands from
the table: importing every module, with pyHanko, aiohttp, Alembic and pypdf behind them, took seconds before
``lienthong status`` or ``lienthong --help`` could answer.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any, NamedTuple

import click

from gateway import __version__
from gateway.errors import LienthongError
from gateway.home import DEFAULT_HOME, Home


class Entry(NamedTuple):
    module: str  # gateway.cli.<module> registers the command (``register(group)``)
    summary: str  # the command's own first help line, so that ``--help`` imports no command module


# tests/test_cli_startup.py checks the table against what each module registers and the help each command shows.
COMMANDS = {
    "init": Entry(
        "init", "Create the home directory: configuration, database schema, folders (and the demo with --demo)."
    ),
    "status": Entry("init", "Show what the home holds: configuration, database, gateway, counts and the agencies."),
    "agency": Entry(
        "agency", "Agencies in the registry (OrganId, name, parent, records-office mailboxes, hosting gateway)."
    ),
    "account": Entry(
        "account", "Accounts: clerks, agency systems, auditors, administrators (one per mailbox address)."
    ),
    "calendar": Entry("calendar", "Office hours and the Article 11 effective time."),
    "ca": Entry("ca", "The provincial certificate authority (root + issuing CA) or an imported trust anchor."),
    "cert": Entry(
        "ca", "Certificates issued by this gateway's CA: S/MIME per agency, TLS per gateway host, ledger keys."
    ),
    "crl": Entry("ca", "Certificate revocation lists."),
    "trust": Entry("ca", "What this gateway trusts when it verifies signatures."),
    "dkim": Entry(
        "dkim", "DKIM keys of this gateway's mail domain (Ed25519 by default, RSA for receivers that need it)."
    ),
    "peer": Entry(
        "peer", "Peer gateways: where mail for their agencies is relayed, and whose relayed mail is accepted."
    ),
    "envelope": Entry("envelope", "Build, check and show document envelopes (docs/envelope.md)."),
    "edxml": Entry("envelope", "Convert between envelopes and the hubs' all-in-one .edxml files."),
    "queue": Entry("queue", "The durable work queue: deliveries, relays and receipts still to be done."),
    "document": Entry("queue", "Documents known to this gateway."),
    "serve": Entry("serve", "Run the gateway (submission listeners and intake) until SIGTERM or Ctrl-C."),
    "send": Entry("send", "Submit a document through a gateway's submission port and print the gateway's answer."),
}


class _Group(click.Group):
    """Turns domain errors into one line on stderr (anything else is a bug and keeps its traceback), and imports a
    command's module on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is not None and cmd_name not in self.commands:
            importlib.import_module(f"gateway.cli.{entry.module}").register(self)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Click's listing, from the table: asking each command for its help would import every module."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(map(len, names))
        with formatter.section("Commands"):
            formatter.write_dl(
                [(name, click.Command(name, help=COMMANDS[name].summary).get_short_help_str(limit)) for name in names]
            )

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
