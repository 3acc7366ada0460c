"""``lienthong peer ...``: the peer gateways this gateway relays to and accepts relayed mail from.

Federating two gateways is an exchange of one file each: ``peer export`` prints this gateway's relay address, DKIM
key and TLS certificate fingerprint; the other operator runs ``peer add --from FILE``. Options given beside
``--from`` override the file's values, so a host reachable under another name can be corrected on import.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import click

from certs.context import dkim_signing_keys
from gateway.cli.init import registry_sessions
from gateway.cli.output import emit_json, emit_mapping, emit_rows, json_option
from gateway.errors import InputError
from gateway.home import Home
from gateway.smtp import pinning
from gateway.smtp.tls import gateway_certificate
from registry import peers

CLI_LABELS = {
    "name": "NAME",
    "smtp_host": "--host",
    "smtp_port": "--port",
    "domain": "--domain",
    "dkim_selector": "--dkim-selector",
    "dkim_public_key": "--dkim-key",
    "tls_fingerprint": "--tls-fingerprint",
}
#: Keys of an exported peer file, and the registry field each one fills.
FILE_KEYS = {
    "name": "name",
    "host": "smtp_host",
    "port": "smtp_port",
    "domain": "domain",
    "dkim_selector": "dkim_selector",
    "dkim_key": "dkim_public_key",
    "tls_fingerprint": "tls_fingerprint",
}
_COLUMNS = (
    ("name", "Name"),
    ("domain", "Domain"),
    ("relay", "Relay"),
    ("dkim_selector", "DKIM selector"),
    ("pinned", "TLS pins"),
    ("agencies", "Agencies"),
)
_ZONE_SELECTOR = re.compile(r"^\s*([A-Za-z0-9_-]+)\._domainkey\.")


@click.group("peer")
def peer_group() -> None:
    """Peer gateways: where mail for their agencies is relayed, and whose relayed mail is accepted."""


def _options(command: Any) -> Any:
    """The options ``add`` and ``set`` share: one per value the registry holds about a peer."""
    for option in reversed(
        [
            click.option("--host", "smtp_host", help="Relay host (name or IPv4 address) of the peer."),
            click.option("--port", "smtp_port", type=int, help="Relay port of the peer (its [smtp] relay_port)."),
            click.option("--domain", help="Mail domain the peer serves (its [gateway] domain)."),
            click.option("--dkim-selector", help="Selector of the peer's DKIM key."),
            click.option(
                "--dkim-key", help="The peer's DKIM TXT record 'v=DKIM1; k=...; p=...', or a file holding it."
            ),
            click.option(
                "--tls-fingerprint",
                help="Pin: SHA-256 of the peer's TLS certificate; comma-separated old,new during a rollover.",
            ),
            click.option(
                "--tls-cert",
                "tls_certs",
                multiple=True,
                type=click.Path(dir_okay=False, path_type=Path),
                help="Pin the certificate in this PEM file (repeatable; adds to --tls-fingerprint).",
            ),
        ]
    ):
        command = option(command)
    return command


def _dkim_key(value: str, label: str = "--dkim-key") -> tuple[str, str | None]:
    """The TXT value and, when read from a zone line (``dkim dns`` output), the selector it names."""
    if value.lstrip().lower().startswith("v="):
        return value, None
    path = Path(value)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise InputError(
            f"{label} {value!r}: neither a DKIM TXT record ('v=DKIM1; ...') nor a readable file ({why})"
        ) from None
    line = next((line for line in text.splitlines() if line.strip() and not line.lstrip().startswith(";")), "")
    if '"' in line:  # a zone-file line: the TXT value is the quoted chunks, joined
        selector = _ZONE_SELECTOR.match(line)
        return "".join(re.findall(r'"([^"]*)"', line)), selector.group(1) if selector else None
    return line.strip(), None


def _pins(fingerprint: str | None, certs: tuple[Path, ...]) -> str | None:
    """Pins from ``--tls-fingerprint`` and ``--tls-cert`` together; None when neither was given."""
    pins = list(pinning.parse_pins(fingerprint, "--tls-fingerprint")) if fingerprint is not None else []
    pins += [pinning.pem_fingerprint(path, "--tls-cert") for path in certs]
    return ",".join(pins) if pins else None


def _read_file(path: Path) -> dict[str, Any]:
    """An exported peer file: TOML with a ``[peer]`` table, or the JSON object ``peer export --json`` prints."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"--from {path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        data: Any = json.loads(text) if text.lstrip().startswith("{") else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"--from {path}: not a peer file (TOML or JSON): {exc}") from None
    if isinstance(data, dict) and isinstance(data.get("peer"), dict):
        data = data["peer"]
    if not isinstance(data, dict):
        raise InputError(f"--from {path}: expected a [peer] table or a JSON object")
    unknown = sorted(set(data) - set(FILE_KEYS))
    if unknown:
        raise InputError(f"--from {path}: unknown key {unknown[0]!r} (expected {', '.join(FILE_KEYS)})")
    values: dict[str, Any] = {}
    for key, value in data.items():
        wanted = int if key == "port" else str
        if not isinstance(value, wanted) or isinstance(value, bool):
            raise InputError(f"--from {path}: {key} must be {'an integer' if wanted is int else 'a string'}")
        values[FILE_KEYS[key]] = value
    return values


def _row(peer: Any, hosted: list[str]) -> dict[str, Any]:
    data = peers.record(peer)
    data["agencies"] = hosted
    return data


@peer_group.command("list")
@json_option
@click.pass_obj
def list_command(home: Home, as_json: bool) -> None:
    """Every peer gateway, with its pins and the agencies routed through it."""
    with registry_sessions(home)() as session:
        rows = [_row(p, peers.hosted_agencies(session, p.name)) for p in peers.listing(session)]
    if not as_json:
        for row in rows:
            row["relay"] = f"{row['host']}:{row['port']}"
            row["pinned"] = len(row["tls_fingerprints"]) or "no"
            row["agencies"] = len(row["agencies"])
    emit_rows(rows, _COLUMNS, as_json=as_json, title=None if as_json else f"{len(rows)} peer gateways")


@peer_group.command("show")
@click.argument("name")
@json_option
@click.pass_obj
def show_command(home: Home, name: str, as_json: bool) -> None:
    """Everything the registry holds about one peer gateway."""
    with registry_sessions(home)() as session:
        data = _row(peers.get(session, name), peers.hosted_agencies(session, name))
    if not as_json:
        data = {k: ", ".join(v) if isinstance(v, list) else v for k, v in data.items()}
    emit_mapping(data, as_json=as_json)


@peer_group.command("add")
@click.argument("name", required=False)
@click.option(
    "--from",
    "from_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A file another gateway's 'peer export' printed; options given here override its values.",
)
@_options
@click.pass_obj
def add_command(
    home: Home, /, name: str | None, from_file: Path | None, tls_certs: tuple[Path, ...], **given: Any
) -> None:
    """Register a peer gateway: by options, or from the file its operator exported."""
    values = _read_file(from_file) if from_file is not None else {}
    labels = {field: f"{from_file}: {key}" for key, field in FILE_KEYS.items()} if from_file else dict(CLI_LABELS)
    if name is not None:
        values["name"], labels["name"] = name, CLI_LABELS["name"]
    given["tls_fingerprint"] = _pins(given["tls_fingerprint"], tls_certs)
    if given["dkim_key"] is not None:
        given["dkim_public_key"], selector = _dkim_key(given["dkim_key"])
        if given["dkim_selector"] is None:
            given["dkim_selector"] = selector
    given.pop("dkim_key")
    for field, value in given.items():
        if value is not None:
            values[field], labels[field] = value, CLI_LABELS[field]
    for field, where in (("name", "NAME"), ("smtp_host", "--host"), ("smtp_port", "--port"), ("domain", "--domain")):
        if field not in values:
            raise InputError(f"{where} is required (or give --from FILE holding it)")
    with registry_sessions(home).begin() as session:
        peer = peers.add(
            session,
            values["name"],
            values["smtp_host"],
            values["domain"],
            values["smtp_port"],
            dkim_selector=values.get("dkim_selector"),
            dkim_public_key=values.get("dkim_public_key"),
            tls_fingerprint=values.get("tls_fingerprint"),
            labels=labels,
        )
        pins = len(pinning.stored(peer.tls_fingerprint))
        click.echo(
            f"added peer {peer.name} ({peer.domain}, relay {peer.smtp_host}:{peer.smtp_port}, "
            f"{f'{pins} TLS pin(s)' if pins else 'TLS not pinned'})"
        )


@peer_group.command("set")
@click.argument("name")
@_options
@click.option("--no-pin", is_flag=True, help="Remove the TLS pins: the chain and names checks alone apply.")
@click.pass_obj
def set_command(home: Home, /, name: str, tls_certs: tuple[Path, ...], no_pin: bool, **given: Any) -> None:
    """Change what the registry holds about a peer gateway (options not given keep their value)."""
    pins = _pins(given.pop("tls_fingerprint"), tls_certs)
    if no_pin and pins is not None:
        raise InputError("--no-pin: not together with --tls-fingerprint or --tls-cert")
    changes: dict[str, Any] = {}
    if no_pin or pins is not None:
        changes["tls_fingerprint"] = pins
    dkim_key = given.pop("dkim_key")
    if dkim_key is not None:
        changes["dkim_public_key"], selector = _dkim_key(dkim_key)
        given["dkim_selector"] = given["dkim_selector"] or selector
    changes.update({field: value for field, value in given.items() if value is not None})
    if not changes:
        raise InputError("nothing to change: give at least one option (see 'lienthong peer set --help')")
    with registry_sessions(home).begin() as session:
        peer = peers.update(session, name, labels=CLI_LABELS, **changes)
        click.echo(f"updated peer {peer.name}: {', '.join(sorted(CLI_LABELS[f] for f in changes))}")


@peer_group.command("remove")
@click.argument("name")
@click.pass_obj
def remove_command(home: Home, name: str) -> None:
    """Forget a peer gateway (refused while agencies are still routed through it)."""
    with registry_sessions(home).begin() as session:
        peers.remove(session, name)
    click.echo(f"removed peer {name}")


def own_values(home: Home, host: str | None) -> dict[str, Any]:
    """What another gateway needs to register this one, read from the configuration, keys and certificate."""
    settings = home.settings
    if settings.smtp.relay_port == 0:
        raise InputError("[smtp] relay_port is 0: this gateway does not accept relayed mail, so it cannot be a peer")
    key = dkim_signing_keys(home)[0]
    chain = gateway_certificate(home, registry_sessions(home)).chain
    return {
        "name": settings.gateway.name,
        "host": host or settings.smtp.hostname or settings.gateway.domain,
        "port": settings.smtp.relay_port,
        "domain": settings.gateway.domain,
        "dkim_selector": key.selector,
        "dkim_key": key.txt_value,
        "tls_fingerprint": pinning.pem_fingerprint(chain, "[smtp] TLS certificate"),
    }


def toml_text(values: dict[str, Any]) -> str:
    """A flat ``[peer]`` table; strings in JSON's escaping, which TOML's basic strings share for these values."""
    lines = [
        "# lienthong peer file: give it to the other gateway's operator, who runs 'lienthong peer add --from FILE'",
        "[peer]",
    ]
    lines += [f"{key} = {json.dumps(value, ensure_ascii=True)}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


@peer_group.command("export")
@click.option("--host", help="Relay host the other gateway connects to (default: [smtp] hostname or the domain).")
@json_option
@click.pass_obj
def export_command(home: Home, host: str | None, as_json: bool) -> None:
    """Print THIS gateway's values for another gateway's 'peer add --from FILE' (TOML, or JSON with --json)."""
    values = own_values(home, host)
    if as_json:
        emit_json(values)
    else:
        click.echo(toml_text(values), nl=False)


def register(group: click.Group) -> None:
    """Attach this module's commands to the top-level group."""
    group.add_command(peer_group)
