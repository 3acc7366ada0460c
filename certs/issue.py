"""End-entity certificates: a records office's S/MIME certificate and a gateway's TLS certificate.

The S/MIME subject names the agency twice over: its name (O and CN) for people, and its OrganId (QCVN 102 code) in
the ``serialNumber`` attribute (OID 2.5.4.5) for machines, which is what the verifier compares with the sender the
envelope claims. The mailbox address is the rfc822Name. Key usage is digitalSignature + nonRepudiation: these
signatures are meant to bind the agency to what it sent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from certs.ca import BACKDATE, IssuingCa, now, signature_hash
from gateway.errors import InputError


@dataclass(frozen=True)
class SmimeSubject:
    organ_id: str
    agency_name: str
    mailbox: str


def _key_usage(*, signature: bool, non_repudiation: bool, key_encipherment: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signature,
        content_commitment=non_repudiation,
        key_encipherment=key_encipherment,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def _base(
    ca: IssuingCa,
    subject: x509.Name,
    public_key: CertificatePublicKeyTypes,
    days: int,
    crl_url: str,
    valid_from: dt.datetime | None = None,
) -> x509.CertificateBuilder:
    if days < 1:
        raise InputError("--days: must be at least 1")
    start = valid_from or now() - BACKDATE
    end = min(start + dt.timedelta(days=days), ca.certificate.not_valid_after_utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.certificate.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.certificate.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
    )
    if crl_url:
        point = x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url)], None, None, None)
        builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
    return builder


def build_smime(
    ca: IssuingCa,
    subject: SmimeSubject,
    public_key: CertificatePublicKeyTypes,
    *,
    days: int,
    crl_url: str = "",
    valid_from: dt.datetime | None = None,
    eku: tuple[x509.ObjectIdentifier, ...] = (ExtendedKeyUsageOID.EMAIL_PROTECTION,),
) -> x509.Certificate:
    """``eku`` and ``valid_from`` let tests issue wrong-purpose or expired certificates; the CLI never sets them."""
    if "@" not in subject.mailbox or any(c.isspace() for c in subject.mailbox):
        raise InputError(f"--mail {subject.mailbox!r}: not a mailbox address")
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, subject.agency_name[:64]),
            x509.NameAttribute(NameOID.COMMON_NAME, subject.agency_name[:64]),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, subject.organ_id),
        ]
    )
    builder = (
        _base(ca, name, public_key, days, crl_url, valid_from)
        .add_extension(_key_usage(signature=True, non_repudiation=True, key_encipherment=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
        .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(subject.mailbox)]), critical=False)
    )
    return builder.sign(ca.key, signature_hash(ca.key))


def build_tls(
    ca: IssuingCa, host: str, public_key: CertificatePublicKeyTypes, *, days: int, crl_url: str = ""
) -> x509.Certificate:
    """A gateway's certificate for SMTP/IMAP TLS, usable both as server and as client between peer gateways."""
    if not host or any(c.isspace() or c in "/@:" for c in host):
        raise InputError(f"--host {host!r}: not a host name")
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"), x509.NameAttribute(NameOID.COMMON_NAME, host)])
    builder = (
        _base(ca, name, public_key, days, crl_url)
        .add_extension(_key_usage(signature=True, non_repudiation=False, key_encipherment=False), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
    )
    return builder.sign(ca.key, signature_hash(ca.key))


def organ_id_of(cert: x509.Certificate) -> str | None:
    values = cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    return str(values[0].value) if values else None


def mailboxes_of(cert: x509.Certificate) -> list[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [str(v) for v in san.get_values_for_type(x509.RFC822Name)]
