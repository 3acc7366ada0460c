"""Private keys on disk: generated here, written owner-only, optionally passphrase-protected.

Key files are created with ``os.open(..., 0o600)`` so that there is no moment at which another user could read them
(``write_bytes`` followed by ``chmod`` leaves such a window), and their folders are 0700.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from gateway.errors import ConfigError, InputError

SigningKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


class KeyAlgorithm(StrEnum):
    EC_P256 = "ec-p256"
    RSA_2048 = "rsa-2048"
    RSA_3072 = "rsa-3072"
    ED25519 = "ed25519"


def generate_key(algorithm: KeyAlgorithm) -> SigningKey:
    if algorithm is KeyAlgorithm.EC_P256:
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm is KeyAlgorithm.RSA_2048:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if algorithm is KeyAlgorithm.RSA_3072:
        return rsa.generate_private_key(public_exponent=65537, key_size=3072)
    return ed25519.Ed25519PrivateKey.generate()


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) and make it 0700, whatever the umask."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def write_private(path: Path, data: bytes, *, overwrite: bool = False) -> None:
    """Write secret bytes to a file that is 0600 from its first instant."""
    ensure_private_dir(path.parent)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise InputError(f"{path}: already exists; refusing to overwrite a key") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def write_public(path: Path, data: bytes) -> None:
    """Certificates, CRLs and public keys: readable by anyone, written atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def key_pem(key: SigningKey, passphrase: bytes | None = None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def save_key(path: Path, key: SigningKey, passphrase: bytes | None = None) -> None:
    write_private(path, key_pem(key, passphrase))


def load_key(path: Path, passphrase: bytes | None = None) -> SigningKey:
    """Load a PEM private key; a wrong or missing passphrase is a user error naming the file."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: key file not found") from None
    try:
        key: PrivateKeyTypes = serialization.load_pem_private_key(data, passphrase)
    except TypeError:
        if passphrase is None:
            raise InputError(f"{path}: the key is passphrase-protected; give --passphrase-file") from None
        raise InputError(f"{path}: the key is not encrypted but a passphrase was given") from None
    except ValueError:
        raise InputError(f"{path}: cannot load the key (wrong passphrase or not a PEM private key)") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        raise InputError(f"{path}: unsupported key type {type(key).__name__}")
    return key


def read_passphrase(path: Path | None) -> bytes | None:
    """The first line of a passphrase file (never the command line, where other users could read it in ps)."""
    if path is None:
        return None
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"--passphrase-file {path}: cannot read: {exc.strerror}") from None
    passphrase = raw.splitlines()[0] if raw.strip() else b""
    if len(passphrase) < 8:
        raise InputError(f"--passphrase-file {path}: the passphrase must be at least 8 bytes")
    return passphrase
