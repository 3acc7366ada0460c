"""``lienthong ca|cert|crl|trust ...``: the certificate authority, certificates, revocation lists, trust anchors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click
from cryptography.hazmat.primitives import hashes
from sqlalchemy import select

from certs import lifecycle
from certs.ca import TrustFiles, import_ca, init_ca, load_cert, load_certs, load_issuing, trust_anchor_files
from certs.context import configured_anchors, issue_policy, trust_files, verification_material
from certs.keys import KeyAlgorithm, read_passphrase
from certs.revocation import REASONS
from certs.store import CertificateRecord, CertKind, TrustEvent, TrustEventKind
from gateway.cli.init import registry_sessions
from gateway.cli.output import emit_mapping, emit_rows, json_option
from gateway.errors import InputError
from gateway.home import Home

passphrase_option = click.option(
    "--passphrase-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File whose first line is the passphrase protecting the CA keys.",
)
_COLUMNS = (
    ("serial", "Serial"),
    ("kind", "Kind"),
    ("organ_id", "OrganId"),
    ("name", "Mailbox/host"),
    ("not_after", "Valid until"),
    ("state", "State"),
    ("active", "Active"),
)


def _row(record: CertificateRecord, keys_dir: Path) -> dict[str, Any]:
    return {
        "serial": record.serial,
        "kind": record.kind,
        "organ_id": record.organ_id,
        "subject": record.subject,
        "mailbox": record.mailbox,
        "host": record.host,
        "name": record.mailbox or record.host,
        "not_before": record.not_before,
        "not_after": record.not_after,
        "state": record.state(dt.datetime.now(dt.UTC)),
        "active": record.is_active,
        "revoked_at": record.revoked_at,
        "revocation_reason": record.revocation_reason,
        "renewed_from": record.renewed_from,
        "fingerprint_sha256": record.fingerprint,
        "cert_path": _shown(record.cert_file(keys_dir)),
        "key_path": _shown(record.key_file(keys_dir)),
    }


def _shown(path: Path | None) -> str | None:
    return str(path) if path is not None else None


@click.group("ca")
def ca_group() -> None:
    """The provincial certificate authority (root + issuing CA) or an imported trust anchor."""


@ca_group.command("init")
@passphrase_option
@click.option("--import-root", type=click.Path(dir_okay=False, path_type=Path), help="External root CA (PEM).")
@click.option("--import-issuing", type=click.Path(dir_okay=False, path_type=Path), help="Issuing CA cert (PEM).")
@click.option("--issuing-key", type=click.Path(dir_okay=False, path_type=Path), help="Issuing CA private key (PEM).")
@click.option("--key-passphrase-file", type=click.Path(dir_okay=False, path_type=Path), help="Passphrase of that key.")
@click.pass_obj
def ca_init(
    home: Home,
    passphrase_file: Path | None,
    import_root: Path | None,
    import_issuing: Path | None,
    issuing_key: Path | None,
    key_passphrase_file: Path | None,
) -> None:
    """Create the root and issuing CA, or import an external one (with --import-root)."""
    files = trust_files(home)
    passphrase = read_passphrase(passphrase_file)
    sessions = registry_sessions(home)
    if import_root is None:
        if import_issuing or issuing_key:
            raise InputError("--import-issuing and --issuing-key need --import-root")
        settings = home.settings.trust
        _root, issuing = init_ca(
            files, name=settings.ca_name, algorithm=KeyAlgorithm(settings.key_algorithm), passphrase=passphrase
        )
        with sessions.begin() as session:
            lifecycle.event(session, TrustEventKind.CA_INITIALISED, detail=issuing.subject.rfc4514_string())
            lifecycle.publish(session, files, load_issuing(files, passphrase), settings.crl_days)
        click.echo(f"root CA     {files.root_cert}  (key {files.root_key}: move it offline once you are done)")
        click.echo(f"issuing CA  {files.issuing_cert}  (key {files.issuing_key})")
        click.echo(f"CRL         {files.issuing_crl}")
        return
    imported = import_ca(
        files,
        root_pem=import_root,
        issuing_pem=import_issuing,
        issuing_key_pem=issuing_key,
        key_passphrase=read_passphrase(key_passphrase_file),
        passphrase=passphrase,
    )
    with sessions.begin() as session:
        mode = "issuing under it" if len(imported) > 1 else "trust anchor only, no issuing key"
        lifecycle.event(session, TrustEventKind.CA_IMPORTED, detail=f"{imported[0].subject.rfc4514_string()} ({mode})")
        if len(imported) > 1:
            lifecycle.publish(session, files, load_issuing(files, passphrase), home.settings.trust.crl_days)
    click.echo(f"imported {imported[0].subject.rfc4514_string()}" + ("" if len(imported) > 1 else " as trust anchor"))


@ca_group.command("show")
@json_option
@click.pass_obj
def ca_show(home: Home, as_json: bool) -> None:
    """The CA certificates held here and whether their keys are present."""
    files = trust_files(home)
    data: dict[str, Any] = {}
    for label, cert_path, key_path in (
        ("root", files.root_cert, files.root_key),
        ("issuing", files.issuing_cert, files.issuing_key),
    ):
        if cert_path.exists():
            cert = load_cert(cert_path)
            data[f"{label}_subject"] = cert.subject.rfc4514_string()
            data[f"{label}_not_after"] = cert.not_valid_after_utc
            data[f"{label}_fingerprint_sha256"] = cert.fingerprint(hashes.SHA256()).hex()
            data[f"{label}_key_present"] = key_path.exists()
    if not data:
        raise InputError("no CA in this home; run 'lienthong ca init'")
    emit_mapping(data, as_json=as_json)


@click.group("trust")
def trust_group() -> None:
    """What this gateway trusts when it verifies signatures."""


@trust_group.command("anchors")
@json_option
@click.pass_obj
def trust_anchors_command(home: Home, as_json: bool) -> None:
    """List the trust anchors: our root, imported anchors and those named in [trust] anchors."""
    rows = []
    for path in trust_anchor_files(trust_files(home), configured_anchors(home)):
        for cert in load_certs(path):
            rows.append(
                {
                    "subject": cert.subject.rfc4514_string(),
                    "not_after": cert.not_valid_after_utc,
                    "fingerprint_sha256": cert.fingerprint(hashes.SHA256()).hex(),
                    "file": str(path),
                }
            )
    columns = (
        ("subject", "Subject"),
        ("not_after", "Valid until"),
        ("fingerprint_sha256", "SHA-256"),
        ("file", "File"),
    )
    emit_rows(rows, columns, as_json=as_json, title=None if as_json else f"{len(rows)} trust anchors")


@click.group("cert")
def cert_group() -> None:
    """Certificates issued by this gateway's CA: S/MIME per agency, TLS per gateway host, ledger keys."""


@cert_group.group("issue")
def issue_group() -> None:
    """Issue a certificate (or key pair)."""


@issue_group.command("smime")
@click.option("--agency", "organ_id", required=True, help="OrganId of the agency.")
@click.option("--mail", "mailbox", required=True, help="The agency's records-office mailbox.")
@click.option("--days", type=click.IntRange(min=1, max=3650), help="Validity (default [trust] smime_days).")
@passphrase_option
@click.pass_obj
def issue_smime(home: Home, organ_id: str, mailbox: str, days: int | None, passphrase_file: Path | None) -> None:
    """S/MIME certificate for an agency's records office (first one becomes active)."""
    files = trust_files(home)
    ca = load_issuing(files, read_passphrase(passphrase_file))
    with registry_sessions(home).begin() as session:
        record = lifecycle.issue_smime(
            session, files, ca, issue_policy(home), organ_id, mailbox, days or home.settings.trust.smime_days
        )
        click.echo(f"issued {record.serial} for {organ_id} <{mailbox}>" + (" (active)" if record.is_active else ""))


@issue_group.command("tls")
@click.option("--host", required=True, help="DNS name of the gateway.")
@click.option("--days", type=click.IntRange(min=1, max=3650), help="Validity (default [trust] tls_days).")
@passphrase_option
@click.pass_obj
def issue_tls(home: Home, host: str, days: int | None, passphrase_file: Path | None) -> None:
    """TLS certificate (server and client auth) for a gateway host."""
    files = trust_files(home)
    ca = load_issuing(files, read_passphrase(passphrase_file))
    with registry_sessions(home).begin() as session:
        record = lifecycle.issue_tls(session, files, ca, issue_policy(home), host, days or home.settings.trust.tls_days)
        cert_file, key_file = record.cert_file(files.keys_dir), record.key_file(files.keys_dir)
        click.echo(f"issued {record.serial} for {host}: {cert_file}, key {key_file}")


@issue_group.command("ledger")
@click.pass_obj
def issue_ledger(home: Home) -> None:
    """Ed25519 key pair for signing ledger checkpoints."""
    with registry_sessions(home).begin() as session:
        files = trust_files(home)
        record = lifecycle.issue_ledger(session, files)
        public = record.cert_file(files.keys_dir)
        click.echo(f"ledger key {record.serial}: public {public}" + (" (active)" if record.is_active else ""))


@cert_group.command("import")
@click.option("--agency", "organ_id", help="OrganId of the agency an S/MIME certificate is for.")
@click.option("--tls", "is_tls", is_flag=True, help="A TLS certificate of this gateway instead of an S/MIME one.")
@click.option("--cert", "cert_pem", required=True, type=click.Path(dir_okay=False, path_type=Path), help="PEM.")
@click.option("--key", "key_pem", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Its key (PEM).")
@click.option("--chain", "chain_pem", type=click.Path(dir_okay=False, path_type=Path), help="Intermediates (PEM).")
@click.option("--passphrase-file", type=click.Path(dir_okay=False, path_type=Path), help="Passphrase of --key.")
@click.pass_obj
def cert_import(
    home: Home,
    organ_id: str | None,
    is_tls: bool,
    cert_pem: Path,
    key_pem: Path,
    chain_pem: Path | None,
    passphrase_file: Path | None,
) -> None:
    """Register a certificate an external CA issued to this gateway (e.g. after 'ca init --import-root')."""
    # pyHanko's path validation (and aiohttp behind it): only this command needs it, not 'cert list' or 'ca show'
    from certs.imported import ImportRequest, import_certificate

    if not is_tls and not organ_id:
        raise InputError("--agency: required for an S/MIME certificate (or give --tls for a gateway TLS certificate)")
    request = ImportRequest(
        kind=CertKind.TLS if is_tls else CertKind.SMIME,
        organ_id=organ_id,
        cert_pem=cert_pem,
        key_pem=key_pem,
        chain_pem=chain_pem,
        key_passphrase=read_passphrase(passphrase_file),
    )
    files = trust_files(home)
    with registry_sessions(home).begin() as session:
        record = import_certificate(session, files, verification_material(home), request)
        click.echo(
            f"imported {record.serial} for {record.organ_id or record.host} <{record.mailbox or record.host}>: "
            f"{record.cert_file(files.keys_dir)}, key {record.key_file(files.keys_dir)}"
            + (" (active)" if record.is_active else "")
        )


@cert_group.command("list")
@click.option("--agency", "organ_id", help="Only this agency's certificates.")
@click.option("--kind", type=click.Choice(["smime", "tls", "ledger"]))
@json_option
@click.pass_obj
def cert_list(home: Home, organ_id: str | None, kind: str | None, as_json: bool) -> None:
    """List certificates with their state (valid, expired, revoked) and which one is active."""
    query = select(CertificateRecord).order_by(CertificateRecord.created_at)
    if organ_id:
        query = query.where(CertificateRecord.organ_id == organ_id)
    if kind:
        query = query.where(CertificateRecord.kind == kind)
    with registry_sessions(home)() as session:
        rows = [_row(r, home.keys_dir) for r in session.scalars(query)]
    emit_rows(rows, _COLUMNS, as_json=as_json, title=None if as_json else f"{len(rows)} certificates")


@cert_group.command("show")
@click.argument("serial")
@json_option
@click.pass_obj
def cert_show(home: Home, serial: str, as_json: bool) -> None:
    """One certificate's record and its history of trust events."""
    with registry_sessions(home)() as session:
        record = lifecycle.get(session, serial)
        data = _row(record, home.keys_dir)
        events = session.scalars(select(TrustEvent).where(TrustEvent.serial == record.serial).order_by(TrustEvent.id))
        data["events"] = [f"{e.at.isoformat()} {e.event} {e.detail}".strip() for e in events]
    emit_mapping(data, as_json=as_json)


@cert_group.command("renew")
@click.argument("serial")
@click.option("--days", type=click.IntRange(min=1, max=3650), help="Validity of the new certificate.")
@passphrase_option
@click.pass_obj
def cert_renew(home: Home, serial: str, days: int | None, passphrase_file: Path | None) -> None:
    """New key and certificate for the same subject; activate it with 'cert activate' when peers are ready."""
    files = trust_files(home)
    ca = load_issuing(files, read_passphrase(passphrase_file))
    with registry_sessions(home).begin() as session:
        old = lifecycle.get(session, serial)
        default = home.settings.trust.smime_days if old.kind == "smime" else home.settings.trust.tls_days
        record = lifecycle.renew(session, files, ca, issue_policy(home), serial, days or default)
        click.echo(f"issued {record.serial}, renewing {old.serial}" + (" (active)" if record.is_active else ""))


@cert_group.command("activate")
@click.argument("serial")
@click.pass_obj
def cert_activate(home: Home, serial: str) -> None:
    """Rollover: sign with this certificate from now on (the previous one stays valid for verification)."""
    with registry_sessions(home).begin() as session:
        record = lifecycle.activate(session, serial)
        click.echo(
            f"{record.serial} is now the active {record.kind} certificate of {record.organ_id or 'this gateway'}"
        )


@cert_group.command("revoke")
@click.argument("serial")
@click.option("--reason", required=True, type=click.Choice(list(REASONS)), help="RFC 5280 revocation reason.")
@passphrase_option
@click.pass_obj
def cert_revoke(home: Home, serial: str, reason: str, passphrase_file: Path | None) -> None:
    """Revoke a certificate and publish a new CRL at once."""
    files = trust_files(home)
    with registry_sessions(home).begin() as session:
        record = lifecycle.revoke(session, serial, reason)
        if record.kind != "ledger" and not _issued_here(files, record):
            click.echo(
                f"revoked {record.serial} ({reason}) here: it will not sign again; its issuer is an external CA, "
                "ask that CA to revoke it so that peers learn of it from its CRL"
            )
        elif record.kind != "ledger":
            ca = load_issuing(files, read_passphrase(passphrase_file))
            der, _ = lifecycle.publish(session, files, ca, home.settings.trust.crl_days)
            click.echo(f"revoked {record.serial} ({reason}); CRL published at {der}")
        else:
            click.echo(f"revoked ledger key {record.serial} ({reason})")


def _issued_here(files: TrustFiles, record: CertificateRecord) -> bool:
    cert_file = record.cert_file(files.keys_dir)
    if not files.issuing_cert.exists() or cert_file is None:
        return False
    return load_cert(cert_file).issuer == load_cert(files.issuing_cert).subject


@click.group("crl")
def crl_group() -> None:
    """Certificate revocation lists."""


@crl_group.command("issue")
@passphrase_option
@click.pass_obj
def crl_issue(home: Home, passphrase_file: Path | None) -> None:
    """Issue a fresh CRL (run it well within [trust] crl_days, e.g. daily from cron)."""
    files = trust_files(home)
    ca = load_issuing(files, read_passphrase(passphrase_file))
    with registry_sessions(home).begin() as session:
        der, pem = lifecycle.publish(session, files, ca, home.settings.trust.crl_days)
    click.echo(f"CRL written to {der} (DER) and {pem} (PEM)")


def register(group: click.Group) -> None:
    """Attach this module's commands to the top-level group."""
    for command in (ca_group, cert_group, crl_group, trust_group):
        group.add_command(command)
