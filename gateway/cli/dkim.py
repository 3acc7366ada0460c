"""``lienthong dkim ...``: this gateway's DKIM keys, the DNS records to publish, and checking a message."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from certs import dkim
from certs.context import dkim_lookup, trust_files
from gateway.cli.init import registry_sessions
from gateway.cli.output import emit_json, json_option
from gateway.errors import InputError
from gateway.home import Home


@click.group("dkim")
def dkim_group() -> None:
    """DKIM keys of this gateway's mail domain (Ed25519 by default, RSA for receivers that need it)."""


@dkim_group.command("keygen")
@click.option(
    "--algorithm", type=click.Choice([a.value for a in dkim.DkimAlgorithm]), default="ed25519", show_default=True
)
@click.option("--selector", help="DNS selector (default: '[trust] dkim_selector'-ALGORITHM, e.g. lt1-ed25519).")
@click.pass_obj
def keygen(home: Home, algorithm: str, selector: str | None) -> None:
    """Generate a key; publish the printed TXT record before mail is signed with it."""
    chosen = dkim.DkimAlgorithm(algorithm)
    name = selector or dkim.default_selector(home.settings.trust.dkim_selector, chosen)
    key = dkim.generate(trust_files(home).dkim_dir, name, chosen)
    click.echo(f"key {dkim.key_path(trust_files(home).dkim_dir, name)}; publish:")
    click.echo(key.dns_record(home.settings.gateway.domain))


@dkim_group.command("dns")
@json_option
@click.pass_obj
def dns(home: Home, as_json: bool) -> None:
    """The TXT records to publish (or to register with peer gateways) for every key."""
    domain = home.settings.gateway.domain
    keys = dkim.load_all(trust_files(home).dkim_dir)
    if not keys:
        raise InputError("no DKIM key in this home; run 'lienthong dkim keygen'")
    if as_json:
        emit_json(
            [
                {
                    "selector": k.selector,
                    "algorithm": k.algorithm.value,
                    "name": f"{k.selector}._domainkey.{domain}.",
                    "txt": k.txt_value,
                }
                for k in keys
            ]
        )
        return
    for key in keys:
        click.echo(key.dns_record(domain))


@dkim_group.command("verify")
@click.argument("message", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@click.pass_obj
def verify(home: Home, message: Path, as_json: bool) -> None:
    """Check a message's DKIM signatures against the keys peers registered; print Authentication-Results."""
    try:
        raw = message.read_bytes()
    except OSError as exc:
        raise InputError(f"MESSAGE {message}: cannot read: {exc.strerror}") from None
    checks = dkim.verify(raw, dkim_lookup(home, registry_sessions(home)))
    results = dkim.authentication_results(home.settings.gateway.domain, checks)
    if as_json:
        emit_json({"authentication_results": results, "signatures": [dataclasses.asdict(c) for c in checks]})
        return
    click.echo("Authentication-Results: " + results)


def register(group: click.Group) -> None:
    """Attach this module's commands to the top-level group."""
    group.add_command(dkim_group)
