"""The command line imports a command group's module only when it is used, so that cheap commands start fast."""

from __future__ import annotations

import importlib
import subprocess
import sys

import click

from gateway.cli import COMMANDS, main


def test_the_command_table_names_what_each_module_registers() -> None:
    registered: dict[str, str] = {}
    for module in sorted(set(COMMANDS.values())):
        group = click.Group()
        importlib.import_module(f"gateway.cli.{module}").register(group)
        registered.update(dict.fromkeys(group.commands, module))
    assert registered == COMMANDS


def test_every_command_is_listed_and_found() -> None:
    with click.Context(main) as ctx:
        assert main.list_commands(ctx) == sorted(COMMANDS)
        assert all(main.get_command(ctx, name) is not None for name in COMMANDS)
        assert main.get_command(ctx, "no-such-command") is None


def test_status_does_not_import_the_signature_stack() -> None:
    probe = (
        "import sys, click\n"
        "from gateway.cli import main\n"
        "with click.Context(main) as ctx:\n"
        "    assert main.get_command(ctx, 'status') is not None\n"
        "print(sorted(m for m in ('pyhanko', 'aiohttp', 'pypdf', 'aiosmtpd') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == "[]"
