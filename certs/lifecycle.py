"""Issue, renew, activate and revoke certificates: files under keys/, records and events in the database.

Every operation writes its files first and records them in the same transaction as its trust event, so the history
and the certificates cannot disagree. Revocation re-publishes the CRL at once: a revocation that peers cannot see
protects nobody.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from sqlalchemy import select
from sqlalchemy.orm import Session

from certs.ca import IssuingCa, TrustFiles, load_cert, load_certs, now, pem
from certs.issue import SmimeSubject, build_smime, build_tls, mailboxes_of, organ_id_of
from certs.keys import KeyAlgorithm, SigningKey, generate_key, load_key, save_key, write_public
from certs.revocation import Revoked, build_crl, current_crl_number, parse_reason, publish_crl
from certs.store import CertificateRecord, CertKind, CertStatus, TrustEvent, TrustEventKind
from gateway.errors import InputError, NotFoundError
from registry.models import Agency


@dataclass(frozen=True)
class IssuePolicy:
    algorithm: KeyAlgorithm
    crl_url: str
    crl_days: int


@dataclass(frozen=True)
class Signer:
    """What the gateway signs an agency's outgoing documents with."""

    record: CertificateRecord
    certificate: x509.Certificate
    key: SigningKey
    chain: tuple[x509.Certificate, ...]


def _serial(cert: x509.Certificate) -> str:
    return format(cert.serial_number, "x")


def event(session: Session, kind: TrustEventKind, *, serial: str | None = None, organ_id: str | None = None,
          detail: str = "") -> None:  # fmt: skip
    session.add(TrustEvent(event=kind.value, serial=serial, organ_id=organ_id, detail=detail, at=now()))


def agency(session: Session, organ_id: str) -> Agency:
    agency = session.get(Agency, organ_id)
    if agency is None:
        raise NotFoundError(f"--agency {organ_id}: no such agency in the registry")
    return agency


def store(
    session: Session, files: TrustFiles, cert: x509.Certificate, key: SigningKey, kind: CertKind, **fields: object
) -> CertificateRecord:
    serial = _serial(cert)
    save_key(files.key_path(serial), key)
    write_public(files.cert_path(serial), pem(cert))
    record = CertificateRecord(
        serial=serial,
        kind=kind.value,
        subject=cert.subject.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        status=CertStatus.VALID.value,
        is_active=False,
        fingerprint=cert.fingerprint(hashes.SHA256()).hex(),
        cert_path=files.stored_path(files.cert_path(serial)),
        key_path=files.stored_path(files.key_path(serial)),
        created_at=now(),
        **fields,
    )
    session.add(record)
    return record


def _has_active(session: Session, kind: CertKind, organ_id: str | None) -> bool:
    query = select(CertificateRecord).where(
        CertificateRecord.kind == kind.value, CertificateRecord.organ_id == organ_id, CertificateRecord.is_active
    )
    return session.scalars(query).first() is not None


def issue_smime(
    session: Session, files: TrustFiles, ca: IssuingCa, policy: IssuePolicy, organ_id: str, mailbox: str, days: int
) -> CertificateRecord:
    """The first certificate of an agency becomes active at once; later ones wait for ``cert activate``."""
    agency_ = agency(session, organ_id)
    known = {m.address.lower() for m in agency_.mailboxes}
    if known and mailbox.lower() not in known:
        raise InputError(f"--mail {mailbox}: not a mailbox of agency {organ_id} ({', '.join(sorted(known))})")
    key = generate_key(policy.algorithm)
    cert = build_smime(
        ca, SmimeSubject(organ_id, agency_.name, mailbox), key.public_key(), days=days, crl_url=policy.crl_url
    )
    record = store(session, files, cert, key, CertKind.SMIME, organ_id=organ_id, mailbox=mailbox)
    event(session, TrustEventKind.ISSUED, serial=record.serial, organ_id=organ_id, detail=f"smime {mailbox}")
    activate_if_first(session, record)
    return record


def activate_if_first(session: Session, record: CertificateRecord) -> None:
    """An agency's first S/MIME certificate signs at once; later ones wait for an explicit ``cert activate``."""
    if record.kind == CertKind.SMIME.value and not _has_active(session, CertKind.SMIME, record.organ_id):
        session.flush()
        _activate(session, record, previous=None)


def issue_tls(
    session: Session, files: TrustFiles, ca: IssuingCa, policy: IssuePolicy, host: str, days: int
) -> CertificateRecord:
    key = generate_key(policy.algorithm)
    cert = build_tls(ca, host, key.public_key(), days=days, crl_url=policy.crl_url)
    record = store(session, files, cert, key, CertKind.TLS, host=host)
    event(session, TrustEventKind.ISSUED, serial=record.serial, detail=f"tls {host}")
    return record


def issue_ledger(session: Session, files: TrustFiles) -> CertificateRecord:
    """An Ed25519 key pair for ledger checkpoints: no certificate, the record's serial is the key fingerprint's head."""
    key = generate_key(KeyAlgorithm.ED25519)
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    fingerprint = hashes.Hash(hashes.SHA256())
    fingerprint.update(raw)
    digest = fingerprint.finalize().hex()
    serial = digest[:32]
    key_path = files.keys_dir / "ledger" / f"{serial}.key"
    public_path = key_path.with_suffix(".pub")
    save_key(key_path, key)
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    write_public(public_path, public_pem)
    record = CertificateRecord(
        serial=serial,
        kind=CertKind.LEDGER.value,
        subject="Ed25519 ledger checkpoint key",
        not_before=now(),
        not_after=None,
        status=CertStatus.VALID.value,
        is_active=not _has_active(session, CertKind.LEDGER, None),
        fingerprint=digest,
        cert_path=files.stored_path(public_path),
        key_path=files.stored_path(key_path),
        created_at=now(),
    )
    session.add(record)
    event(session, TrustEventKind.ISSUED, serial=serial, detail="ledger ed25519")
    return record


def get(session: Session, serial: str) -> CertificateRecord:
    record = session.get(CertificateRecord, serial.lower().removeprefix("0x"))
    if record is None:
        raise NotFoundError(f"certificate {serial}: not found (see 'lienthong cert list')")
    return record


def renew(
    session: Session, files: TrustFiles, ca: IssuingCa, policy: IssuePolicy, serial: str, days: int
) -> CertificateRecord:
    """A new key and certificate for the same subject; the old one stays valid (and active) until activation."""
    old = get(session, serial)
    if old.kind == CertKind.LEDGER.value:
        raise InputError(f"certificate {serial}: ledger keys are not renewed; issue a new one with 'cert issue ledger'")
    if old.kind == CertKind.SMIME.value:
        assert old.organ_id is not None
        assert old.mailbox is not None
        record = issue_smime(session, files, ca, policy, old.organ_id, old.mailbox, days)
    else:
        assert old.host is not None
        record = issue_tls(session, files, ca, policy, old.host, days)
    record.renewed_from = old.serial
    event(session, TrustEventKind.RENEWED, serial=record.serial, organ_id=old.organ_id, detail=f"renews {old.serial}")
    return record


def _activate(session: Session, record: CertificateRecord, previous: CertificateRecord | None) -> None:
    if previous is not None:
        previous.is_active = False
        session.flush()
    record.is_active = True
    detail = f"replaces {previous.serial}" if previous else "first active certificate"
    event(session, TrustEventKind.ACTIVATED, serial=record.serial, organ_id=record.organ_id, detail=detail)


def activate(session: Session, serial: str) -> CertificateRecord:
    """Rollover: make ``serial`` the certificate its agency signs with; the previous one stays valid for verifiers."""
    record = get(session, serial)
    state = record.state(now())
    if state != "valid":
        raise InputError(f"certificate {serial}: cannot activate a certificate that is {state}")
    if record.is_active:
        return record
    query = select(CertificateRecord).where(
        CertificateRecord.kind == record.kind,
        CertificateRecord.organ_id == record.organ_id,
        CertificateRecord.is_active,
    )
    _activate(session, record, session.scalars(query).first())
    return record


def revoke(session: Session, serial: str, reason: str) -> CertificateRecord:
    record = get(session, serial)
    if record.status == CertStatus.REVOKED.value:
        raise InputError(f"certificate {serial}: already revoked on {record.revoked_at}")
    record.status = CertStatus.REVOKED.value
    record.revoked_at = now()
    record.revocation_reason = parse_reason(reason)
    was_active = record.is_active
    record.is_active = False
    detail = reason + (
        "; was active: the agency has no signing certificate until another is activated" if was_active else ""
    )
    event(session, TrustEventKind.REVOKED, serial=record.serial, organ_id=record.organ_id, detail=detail)
    return record


def publish(session: Session, files: TrustFiles, ca: IssuingCa, days: int) -> tuple[Path, Path]:
    """Issue a fresh complete CRL listing every certificate revoked that this CA issued."""
    query = select(CertificateRecord).where(
        CertificateRecord.status == CertStatus.REVOKED.value, CertificateRecord.kind != CertKind.LEDGER.value
    )
    entries = []
    for record in session.scalars(query):
        cert_file = record.cert_file(files.keys_dir)
        if cert_file is not None and load_cert(cert_file).issuer != ca.certificate.subject:
            continue
        assert record.revoked_at is not None
        assert record.revocation_reason is not None
        entries.append(Revoked(int(record.serial, 16), record.revoked_at, record.revocation_reason))
    number = current_crl_number(files) + 1
    paths = publish_crl(files, build_crl(ca, entries, days=days, number=number))
    event(session, TrustEventKind.CRL_ISSUED, detail=f"CRL number {number}, {len(entries)} revoked")
    return paths


def active_signer(session: Session, keys_dir: Path, organ_id: str, chain: tuple[x509.Certificate, ...]) -> Signer:
    query = select(CertificateRecord).where(
        CertificateRecord.kind == CertKind.SMIME.value,
        CertificateRecord.organ_id == organ_id,
        CertificateRecord.is_active,
    )
    record = session.scalars(query).first()
    cert_file = record.cert_file(keys_dir) if record is not None else None
    key_file = record.key_file(keys_dir) if record is not None else None
    if record is None or cert_file is None or key_file is None:
        raise NotFoundError(f"agency {organ_id}: no active S/MIME certificate ('lienthong cert issue smime')")
    cert = load_cert(cert_file)
    if organ_id_of(cert) != organ_id and record.mailbox not in mailboxes_of(cert):
        raise InputError(f"certificate {record.serial}: its file does not match the record")
    stored = cert_file.with_suffix(".chain.pem")  # imported certificates keep the chain validated
    embedded = tuple(load_certs(stored)) if stored.exists() else chain
    return Signer(record, cert, load_key(key_file), embedded)
