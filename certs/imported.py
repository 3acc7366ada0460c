"""Certificates issued elsewhere (e.g. by the national government CA) and registered here with their private keys.

A gateway whose CA is external holds no issuing key, so the only way it can sign is with certificates that CA issued
to it. Nothing is registered that this gateway's own verifier, or a peer trusting the same anchors, would refuse:
the key must match, the certificate must be current, fit its purpose, name the agency it is registered for, and
chain to a configured anchor, as judged by pyhanko-certvalidator (revocation checked against the CRLs we hold,
soft-fail, since an external CA's CRL may not be configured yet; the verifier is strict about it later).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import (
    InvalidCertificateError,
    PathBuildingError,
    PathValidationError,
    RevokedError,
    ValidationError,
)
from sqlalchemy.orm import Session

from certs import lifecycle
from certs.ca import TrustFiles, load_certs, now, pem
from certs.issue import mailboxes_of, organ_id_of
from certs.keys import load_key, write_public
from certs.store import CertificateRecord, CertKind, TrustEventKind
from certs.verify import SMIME_USAGE, TrustMaterial
from gateway.errors import ConfigError, InputError

T = TypeVar("T")
TLS_USAGE = KeyUsageConstraints(key_usage={"digital_signature"}, match_all_key_usages=False)
TLS_EKU = {ExtendedKeyUsageOID.SERVER_AUTH: "serverAuth", ExtendedKeyUsageOID.CLIENT_AUTH: "clientAuth"}


@dataclass(frozen=True)
class ImportRequest:
    kind: CertKind  # SMIME or TLS
    organ_id: str | None  # the agency an S/MIME certificate is registered for
    cert_pem: Path  # the certificate, optionally followed by its chain
    key_pem: Path
    chain_pem: Path | None = None
    key_passphrase: bytes | None = None


def _named(option: str, load: Callable[[], T]) -> T:
    """File errors name the path; say which option it was given to as well."""
    try:
        return load()
    except InputError as exc:
        raise InputError(f"{option} {exc.message}") from None
    except ConfigError as exc:
        raise ConfigError(f"{option} {exc.message}") from None


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _check_dates(cert: x509.Certificate, label: str, moment: dt.datetime) -> None:
    if moment > cert.not_valid_after_utc:
        raise InputError(f"{label}: expired on {cert.not_valid_after_utc.isoformat()}")
    if moment < cert.not_valid_before_utc:
        raise InputError(f"{label}: not valid before {cert.not_valid_before_utc.isoformat()}")


def _check_usage(cert: x509.Certificate, kind: CertKind, label: str) -> None:
    """The same key usage/EKU policy the S/MIME verifier applies (pyHanko's), so nothing unusable is registered."""
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        if constraints.ca:
            raise InputError(f"{label}: a CA certificate, not an end-entity {kind.value} certificate")
    except x509.ExtensionNotFound:
        pass
    try:
        (SMIME_USAGE if kind is CertKind.SMIME else TLS_USAGE).validate(_asn1(cert))
    except InvalidCertificateError as exc:
        raise InputError(f"{label}: key usage/EKU unfit for {kind.value}: {_one_line(exc)}") from None
    if kind is CertKind.TLS:
        try:
            usages = set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
        except x509.ExtensionNotFound:
            usages = set()
        missing = [name for oid, name in TLS_EKU.items() if oid not in usages]
        if missing:
            names = ", ".join(missing)
            raise InputError(f"{label}: EKU lacks {names} (a gateway is TLS server and client)")


def _mailbox_for(session: Session, cert: x509.Certificate, organ_id: str, label: str) -> str | None:
    """The OrganId (serialNumber) must be the agency's; the rfc822Names must include one of its mailboxes."""
    agency = lifecycle.agency(session, organ_id)
    known = {m.address.lower() for m in agency.mailboxes}
    named = organ_id_of(cert)
    if named is not None and named != organ_id:
        raise InputError(f"{label}: subject serialNumber (OrganId) is {named}, not --agency {organ_id}")
    mailboxes = mailboxes_of(cert)
    matching = [m for m in mailboxes if m.lower() in known]
    if known and mailboxes and not matching:
        raise InputError(f"{label}: rfc822Name {', '.join(mailboxes)} is not a mailbox of agency {organ_id}")
    if named is None and not matching:
        raise InputError(f"{label}: names neither OrganId {organ_id} (serialNumber) nor one of its mailboxes")
    chosen = matching or mailboxes
    return chosen[0] if chosen else None


async def _validated_chain(
    cert: x509.Certificate, extra: list[x509.Certificate], trust: TrustMaterial, label: str
) -> tuple[x509.Certificate, ...]:
    """The intermediates of the path pyhanko-certvalidator found from ``cert`` to an anchor (neither included)."""
    if not trust.anchors:
        raise InputError(f"{label}: no trust anchor configured; run 'lienthong ca init --import-root ROOT.pem' first")
    context = ValidationContext(
        trust_roots=[_asn1(c) for c in trust.anchors],
        other_certs=[_asn1(c) for c in (*extra, *trust.intermediates)],
        crls=list(trust.crls),
        allow_fetching=False,
        revocation_mode="soft-fail",
    )
    try:
        path = await CertificateValidator(_asn1(cert), validation_context=context).async_validate_path()
    except PathBuildingError:
        raise InputError(
            f"{label}: does not chain to a configured trust anchor (give the intermediates with --chain, or import "
            "the root with 'ca init --import-root')"
        ) from None
    except RevokedError as exc:
        raise InputError(f"{label}: revoked: {_one_line(exc)}") from None
    except (PathValidationError, ValidationError) as exc:
        raise InputError(f"{label}: the chain to the trust anchor does not validate: {_one_line(exc)}") from None
    intermediates = [c for c in path.iter_certs(include_root=False)][:-1]
    return tuple(x509.load_der_x509_certificate(c.dump()) for c in intermediates)


def import_certificate(
    session: Session, files: TrustFiles, trust: TrustMaterial, request: ImportRequest
) -> CertificateRecord:
    """Validate and register; the first S/MIME certificate of an agency becomes active, as when issued here."""
    label = f"--cert {request.cert_pem}"
    bundle = _named("--cert", lambda: load_certs(request.cert_pem))
    chain_pem = request.chain_pem
    key = _named("--key", lambda: load_key(request.key_pem, request.key_passphrase))
    # the certificate is the one the key belongs to, wherever it is in the bundle; the others are its chain
    mine = [c for c in bundle if c.public_key() == key.public_key()]
    if not mine:
        raise InputError(f"--key {request.key_pem}: does not match the certificate in {request.cert_pem}")
    cert = mine[0]
    if request.kind is CertKind.SMIME and isinstance(key, ed25519.Ed25519PrivateKey):
        raise InputError(f"--key {request.key_pem}: an Ed25519 key cannot sign S/MIME here (RSA or EC only)")
    extra = [c for c in bundle if c is not cert] + (
        _named("--chain", lambda: load_certs(chain_pem)) if chain_pem else []
    )
    serial = format(cert.serial_number, "x")
    if session.get(CertificateRecord, serial) is not None:
        raise InputError(f"{label}: certificate {serial} is already registered")
    _check_dates(cert, label, now())
    _check_usage(cert, request.kind, label)
    fields: dict[str, object]
    if request.kind is CertKind.SMIME:
        if not request.organ_id:
            raise InputError("--agency: required for an S/MIME certificate")
        fields = {"organ_id": request.organ_id, "mailbox": _mailbox_for(session, cert, request.organ_id, label)}
    else:
        if request.organ_id:
            raise InputError("--agency: a TLS certificate belongs to the gateway, not to an agency; drop --agency")
        hosts = _hosts(cert)
        if not hosts:
            raise InputError(f"{label}: no dNSName in subjectAltName")
        fields = {"host": hosts[0]}
    chain = asyncio.run(_validated_chain(cert, extra, trust, label))
    record = lifecycle.store(session, files, cert, key, request.kind, **fields)
    if chain:
        write_public(files.chain_path(serial), b"".join(pem(c) for c in chain))
    detail = f"imported {request.kind.value} {fields.get('mailbox') or fields.get('host') or ''}".rstrip()
    lifecycle.event(
        session,
        TrustEventKind.ISSUED,
        serial=serial,
        organ_id=request.organ_id,
        detail=f"{detail}; issued by {cert.issuer.rfc4514_string()}",
    )
    lifecycle.activate_if_first(session, record)
    return record


def _hosts(cert: x509.Certificate) -> list[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [str(v) for v in san.get_values_for_type(x509.DNSName)]
