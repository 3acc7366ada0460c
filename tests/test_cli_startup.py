"""The command line imports a command group's module only when it is used, so that cheap commands start fast."""

from __future__ import annotations

import importlib
import subprocess
import sys

import click
import pytest

from gateway.cli import COMMANDS, main


def test_the_command_table_names_what_each_module_registers() -> None:
    registered: dict[str, str] = {}
    for module in sorted({entry.module for entry in COMMANDS.values()}):
        group = click.Group()
        importlib.import_module(f"gateway.cli.{module}").register(group)
        registered.update(dict.fromkeys(group.commands, module))
    assert registered == {name: entry.module for name, entry in COMMANDS.items()}


def test_the_table_summaries_are_the_commands_own_help() -> None:
    """The listing comes from the table; each summary must be what the command itself says, so they cannot drift."""
    with click.Context(main) as ctx:
        for name, entry in COMMANDS.items():
            command = main.get_command(ctx, name)
            assert command is not None
            assert entry.summary == command.get_short_help_str(limit=10_000), name


def test_help_lists_the_commands_as_click_would() -> None:
    """Our listing against click's own, which asks every (now imported) command for its short help."""
    with click.Context(main) as ctx:
        for name in COMMANDS:
            main.get_command(ctx, name)
        for width in (60, 80, 120):
            ours, clicks = click.HelpFormatter(width=width), click.HelpFormatter(width=width)
            main.format_commands(ctx, ours)
            click.Group.format_commands(main, ctx, clicks)
            assert ours.getvalue() == clicks.getvalue()
            assert "Commands:" in ours.getvalue()


def test_every_command_is_listed_and_found() -> None:
    with click.Context(main) as ctx:
        assert main.list_commands(ctx) == sorted(COMMANDS)
        assert all(main.get_command(ctx, name) is not None for name in COMMANDS)
        assert main.get_command(ctx, "no-such-command") is None


def test_help_imports_no_command_module() -> None:
    probe = (
        "import sys\n"
        "from gateway.cli import main\n"
        "try:\n"
        "    main(['--help'], prog_name='lienthong')\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('pyhanko', 'aiohttp', 'pypdf', 'aiosmtpd', 'sqlalchemy', 'cryptography')\n"
        "print(sorted(m for m in sys.modules if m.startswith('gateway.cli.') or m in heavy), file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert "Commands:" in result.stdout
    assert "status    Show what the home holds" in result.stdout
    assert result.stderr.strip() == "[]"


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


@pytest.mark.parametrize(
    ("argv", "absent"),
    [
        (["serve", "--help"], ("gateway.serve", "aiosmtpd", "pyhanko", "pypdf")),  # the gateway loads only to run
        (["send", "--help"], ("pyhanko", "aiohttp", "dkim")),  # trust paths, not the verifier nor DKIM
        (["cert", "--help"], ("pyhanko", "aiohttp", "dkim")),  # the module of every ca, cert, crl and trust command
        (["envelope", "--help"], ("pypdf",)),  # the module of show, build and edxml, which read no PDF
    ],
)
def test_a_commands_help_does_not_load_what_only_running_it_needs(argv: list[str], absent: tuple[str, ...]) -> None:
    probe = (
        "import sys\n"
        "from gateway.cli import main\n"
        "try:\n"
        f"    main({argv!r}, prog_name='lienthong')\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(sorted(m for m in {absent!r} if m in sys.modules), file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert "Usage: lienthong" in result.stdout
    assert result.stderr.strip() == "[]"
