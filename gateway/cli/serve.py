"""``lienthong serve``: run the gateway in the foreground."""

from __future__ import annotations

import asyncio
import logging

import click

from gateway.home import Home


@click.command("serve")
@click.option("-v", "--verbose", is_flag=True, help="Log at INFO level to stderr.")
@click.pass_obj
def serve_command(home: Home, verbose: bool) -> None:
    """Run the gateway (submission listeners and intake) until SIGTERM or Ctrl-C."""
    from gateway.serve import serve  # the whole gateway: only when it runs, not for --help

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    asyncio.run(serve(home))


def register(group: click.Group) -> None:
    group.add_command(serve_command)
