"""The provincial certificate authority: a root and an issuing CA, or an imported external trust anchor.

Two levels so that the root key can leave the machine after ``ca init``: daily issuing and CRL signing use only the
issuing CA's key. The issuing CA certificate carries no CRL distribution point, so verifiers do not need a CRL from
the (offline) root; replacing a compromised issuing CA means re-running ``ca init`` and redistributing the anchor.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from certs.keys import KeyAlgorithm, SigningKey, ensure_private_dir, generate_key, load_key, save_key, write_public
from gateway.errors import ConfigError, InputError

ROOT_YEARS = 20
ISSUING_YEARS = 10
BACKDATE = dt.timedelta(minutes=5)  # tolerate small clock differences between peers


@dataclass(frozen=True)
class TrustFiles:
    """Where every trust file lives under ``<home>/keys``."""

    keys_dir: Path

    def stored_path(self, path: Path) -> str:
        """How a certificate record names one of these files: relative to the keys folder (see CertificateRecord)."""
        return path.relative_to(self.keys_dir).as_posix()

    @property
    def ca_dir(self) -> Path:
        return self.keys_dir / "ca"

    @property
    def root_cert(self) -> Path:
        return self.ca_dir / "root.pem"

    @property
    def root_key(self) -> Path:
        return self.ca_dir / "root.key"

    @property
    def issuing_cert(self) -> Path:
        return self.ca_dir / "issuing.pem"

    @property
    def issuing_key(self) -> Path:
        return self.ca_dir / "issuing.key"

    @property
    def anchors_dir(self) -> Path:
        return self.keys_dir / "anchors"

    @property
    def crl_dir(self) -> Path:
        return self.keys_dir / "crl"

    @property
    def issuing_crl(self) -> Path:
        return self.crl_dir / "issuing.crl"

    @property
    def certs_dir(self) -> Path:
        return self.keys_dir / "certs"

    @property
    def dkim_dir(self) -> Path:
        return self.keys_dir / "dkim"

    def cert_path(self, serial_hex: str) -> Path:
        return self.certs_dir / f"{serial_hex}.pem"

    def key_path(self, serial_hex: str) -> Path:
        return self.certs_dir / f"{serial_hex}.key"

    def chain_path(self, serial_hex: str) -> Path:
        """Intermediates of an imported certificate, embedded after it when signing."""
        return self.certs_dir / f"{serial_hex}.chain.pem"


@dataclass(frozen=True)
class IssuingCa:
    """What daily operation needs: the issuing certificate, its key, and the chain up to the anchor."""

    certificate: x509.Certificate
    key: SigningKey
    chain: tuple[x509.Certificate, ...]  # issuing first, then up to (not including) nothing: root last


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def signature_hash(key: SigningKey) -> hashes.SHA256 | None:
    """Ed25519 signs without a separate hash; the others use SHA-256."""
    return hashes.SHA256() if isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) else None


def _ca_cert(
    subject: x509.Name,
    key: SigningKey,
    issuer: x509.Certificate | None,
    issuer_key: SigningKey,
    years: int,
    path_length: int,
) -> x509.Certificate:
    start = now() - BACKDATE
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    authority = issuer.public_key() if issuer else key.public_key()
    builder = builder.add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_public_key(authority),  # type: ignore[arg-type]
        critical=False,
    )
    return builder.sign(issuer_key, signature_hash(issuer_key))


def _name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def load_cert(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except FileNotFoundError:
        raise ConfigError(f"{path}: certificate not found") from None
    except ValueError:
        raise InputError(f"{path}: not a PEM certificate") from None


def load_certs(path: Path) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(path.read_bytes())
    except FileNotFoundError:
        raise ConfigError(f"{path}: certificate file not found") from None
    except ValueError:
        raise InputError(f"{path}: not a PEM certificate bundle") from None


def _refuse_existing(files: TrustFiles) -> None:
    for path in (files.root_cert, files.issuing_cert):
        if path.exists():
            raise InputError(f"{path}: a CA already exists in this home; refusing to replace it")


def init_ca(
    files: TrustFiles, *, name: str, algorithm: KeyAlgorithm, passphrase: bytes | None = None
) -> tuple[x509.Certificate, x509.Certificate]:
    """Create the root and the issuing CA; both keys are written 0600, encrypted when a passphrase is given."""
    _refuse_existing(files)
    ensure_private_dir(files.keys_dir)
    ensure_private_dir(files.ca_dir)
    root_key = generate_key(algorithm)
    root = _ca_cert(_name(f"{name} Root", name), root_key, None, root_key, ROOT_YEARS, 1)
    issuing_key = generate_key(algorithm)
    issuing = _ca_cert(_name(f"{name} Issuing CA", name), issuing_key, root, root_key, ISSUING_YEARS, 0)
    save_key(files.root_key, root_key, passphrase)
    save_key(files.issuing_key, issuing_key, passphrase)
    write_public(files.root_cert, pem(root))
    write_public(files.issuing_cert, pem(issuing))
    return root, issuing


def _verify_issued_by(child: x509.Certificate, parent: x509.Certificate, what: str) -> None:
    try:
        child.verify_directly_issued_by(parent)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{what}: not issued by the given root ({exc})") from None


def import_ca(
    files: TrustFiles,
    *,
    root_pem: Path,
    issuing_pem: Path | None,
    issuing_key_pem: Path | None,
    key_passphrase: bytes | None = None,
    passphrase: bytes | None = None,
) -> list[x509.Certificate]:
    """Adopt an external root; with its issuing certificate and key we issue under it, without them we only trust."""
    _refuse_existing(files)
    if (issuing_pem is None) != (issuing_key_pem is None):
        raise InputError("--import-issuing and --issuing-key go together")
    root = load_cert(root_pem)
    constraints = root.extensions.get_extension_for_class(x509.BasicConstraints).value if _has_bc(root) else None
    if constraints is None or not constraints.ca:
        raise InputError(f"--import-root {root_pem}: not a CA certificate (basicConstraints cA is not set)")
    ensure_private_dir(files.keys_dir)
    ensure_private_dir(files.ca_dir)
    if issuing_pem is None or issuing_key_pem is None:
        write_public(files.anchors_dir / f"{root.fingerprint(hashes.SHA256()).hex()[:16]}.pem", pem(root))
        return [root]
    issuing = load_cert(issuing_pem)
    _verify_issued_by(issuing, root, f"--import-issuing {issuing_pem}")
    key = load_key(issuing_key_pem, key_passphrase)
    if key.public_key() != issuing.public_key():
        raise InputError(f"--issuing-key {issuing_key_pem}: does not match the issuing certificate")
    save_key(files.issuing_key, key, passphrase)
    write_public(files.root_cert, pem(root))
    write_public(files.issuing_cert, pem(issuing))
    return [root, issuing]


def _has_bc(cert: x509.Certificate) -> bool:
    try:
        cert.extensions.get_extension_for_class(x509.BasicConstraints)
    except x509.ExtensionNotFound:
        return False
    return True


def load_issuing(files: TrustFiles, passphrase: bytes | None = None) -> IssuingCa:
    if not files.issuing_key.exists():
        if files.anchors_dir.exists() and any(files.anchors_dir.glob("*.pem")):
            raise ConfigError("this gateway only trusts an imported anchor and holds no issuing key; it cannot issue")
        raise ConfigError("no certificate authority in this home; run 'lienthong ca init' first")
    certificate = load_cert(files.issuing_cert)
    key = load_key(files.issuing_key, passphrase)
    chain = (certificate, load_cert(files.root_cert)) if files.root_cert.exists() else (certificate,)
    return IssuingCa(certificate, key, chain)


def trust_anchor_files(files: TrustFiles, configured: tuple[Path, ...] = ()) -> list[Path]:
    """Every file whose certificates we trust as roots: our root, imported anchors, configured ones."""
    found = [files.root_cert] if files.root_cert.exists() else []
    if files.anchors_dir.exists():
        found.extend(sorted(files.anchors_dir.glob("*.pem")))
    found.extend(configured)
    return found


def trust_anchors(files: TrustFiles, configured: tuple[Path, ...] = ()) -> list[x509.Certificate]:
    anchors: list[x509.Certificate] = []
    for path in trust_anchor_files(files, configured):
        anchors.extend(load_certs(path))
    return anchors
