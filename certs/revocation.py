"""Certificate revocation lists issued by the issuing CA, written where peers and our own verifier read them.

A CRL is complete (no deltas) and short-lived (``[trust] crl_days``); the verifier requires one for every end-entity
certificate and treats a stale one as "status unknown" (a temporary failure) rather than as "not revoked".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from certs.ca import BACKDATE, IssuingCa, TrustFiles, now, signature_hash
from certs.keys import write_public
from gateway.errors import InputError

REASONS: dict[str, x509.ReasonFlags] = {
    "unspecified": x509.ReasonFlags.unspecified,
    "keyCompromise": x509.ReasonFlags.key_compromise,
    "cACompromise": x509.ReasonFlags.ca_compromise,
    "affiliationChanged": x509.ReasonFlags.affiliation_changed,
    "superseded": x509.ReasonFlags.superseded,
    "cessationOfOperation": x509.ReasonFlags.cessation_of_operation,
    "certificateHold": x509.ReasonFlags.certificate_hold,
    "privilegeWithdrawn": x509.ReasonFlags.privilege_withdrawn,
}


@dataclass(frozen=True)
class Revoked:
    serial: int
    revoked_at: dt.datetime
    reason: str


def parse_reason(text: str) -> str:
    if text not in REASONS:
        raise InputError(f"--reason {text!r}: expected one of {', '.join(REASONS)}")
    return text


def build_crl(ca: IssuingCa, revoked: Iterable[Revoked], *, days: int, number: int) -> x509.CertificateRevocationList:
    issued = now() - BACKDATE
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.certificate.subject)
        .last_update(issued)
        .next_update(issued + BACKDATE + dt.timedelta(days=days))
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.certificate.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
    )
    for entry in revoked:
        item = (
            x509.RevokedCertificateBuilder()
            .serial_number(entry.serial)
            .revocation_date(entry.revoked_at)
            .add_extension(x509.CRLReason(REASONS[entry.reason]), critical=False)
            .build()
        )
        builder = builder.add_revoked_certificate(item)
    return builder.sign(ca.key, signature_hash(ca.key))


def publish_crl(files: TrustFiles, crl: x509.CertificateRevocationList) -> tuple[Path, Path]:
    """Write the CRL as DER (what HTTP publication serves) and PEM (what people inspect)."""
    der = files.issuing_crl
    pem = der.with_name(der.name + ".pem")
    write_public(der, crl.public_bytes(serialization.Encoding.DER))
    write_public(pem, crl.public_bytes(serialization.Encoding.PEM))
    return der, pem


def load_crl_der(path: Path) -> bytes:
    """A CRL file as DER, whether it was stored as DER or PEM."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read CRL: {exc.strerror}") from None
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_crl(data).public_bytes(serialization.Encoding.DER)
        x509.load_der_x509_crl(data)
    except ValueError:
        raise InputError(f"{path}: not a CRL (DER or PEM)") from None
    return data


def crl_files(files: TrustFiles, configured: tuple[Path, ...] = ()) -> list[Path]:
    found = sorted(files.crl_dir.glob("*.crl")) if files.crl_dir.exists() else []
    return [*found, *configured]


def current_crl_number(files: TrustFiles) -> int:
    if not files.issuing_crl.exists():
        return 0
    crl = x509.load_der_x509_crl(files.issuing_crl.read_bytes())
    try:
        return int(crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number)
    except x509.ExtensionNotFound:
        return 0
