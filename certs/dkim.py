"""DKIM keys, signing and verification for mail between gateways, on dkimpy.

Ed25519-sha256 is the default (dkimpy's RSA signing is pure Python and several times slower); an rsa-sha256
signature is added only for receivers that cannot check Ed25519 (RFC 8463 is not universal). Verification never
touches the network unless asked to: the public key comes from a lookup function handed to dkimpy in place of DNS,
normally the registry, where peer gateways register their selector and TXT record.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from certs.errors import DkimFail
from certs.keys import load_key, write_private, write_public
from gateway.errors import ConfigError, InputError
from registry.models import PeerGateway

DKIM_RSA_BITS = 2048
TXT_CHUNK = 250  # a DNS TXT character-string holds at most 255 bytes


class DkimAlgorithm(StrEnum):
    ED25519 = "ed25519"
    RSA = "rsa"

    @property
    def signature_algorithm(self) -> bytes:
        return b"ed25519-sha256" if self is DkimAlgorithm.ED25519 else b"rsa-sha256"


class KeyLookup(Protocol):
    """dkimpy's ``dnsfunc``: the TXT record at ``name`` (``selector._domainkey.domain.``), or None."""

    def __call__(self, name: bytes, timeout: int = 5) -> bytes | None: ...


@dataclass(frozen=True)
class DkimKey:
    selector: str
    algorithm: DkimAlgorithm
    private: bytes  # in the form dkimpy takes: base64 seed (ed25519) or PKCS#1 PEM (rsa)
    public_b64: str

    @property
    def txt_value(self) -> str:
        hash_tag = " h=sha256;" if self.algorithm is DkimAlgorithm.RSA else ""
        return f"v=DKIM1; k={self.algorithm.value};{hash_tag} p={self.public_b64}"

    def dns_record(self, domain: str) -> str:
        value = self.txt_value
        chunks = " ".join(f'"{value[i : i + TXT_CHUNK]}"' for i in range(0, len(value), TXT_CHUNK))
        return f"{self.selector}._domainkey.{domain}. IN TXT {chunks}"


@dataclass(frozen=True)
class DkimCheck:
    domain: str
    selector: str
    algorithm: str
    passed: bool
    detail: str = ""


def default_selector(base: str, algorithm: DkimAlgorithm) -> str:
    return f"{base}-{algorithm.value}"


def key_path(directory: Path, selector: str) -> Path:
    return directory / f"{selector}.key"


def generate(directory: Path, selector: str, algorithm: DkimAlgorithm) -> DkimKey:
    """Create a key for ``selector``; refuses to replace an existing one (DNS may still publish it)."""
    if not selector or not all(c.isalnum() or c in "-_" for c in selector):
        raise InputError(f"--selector {selector!r}: letters, digits, '-' and '_' only")
    if algorithm is DkimAlgorithm.ED25519:
        private: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey = ed25519.Ed25519PrivateKey.generate()
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    else:
        private = rsa.generate_private_key(public_exponent=65537, key_size=DKIM_RSA_BITS)
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
    write_private(key_path(directory, selector), pem)
    key = load(directory, selector)
    write_public(directory / f"{selector}.txt", key.txt_value.encode("ascii") + b"\n")
    return key


def load(directory: Path, selector: str) -> DkimKey:
    private = load_key(key_path(directory, selector))
    if isinstance(private, ed25519.Ed25519PrivateKey):
        seed = private.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        raw_public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return DkimKey(
            selector,
            DkimAlgorithm.ED25519,
            base64.b64encode(seed),
            base64.b64encode(raw_public).decode("ascii"),
        )
    if isinstance(private, rsa.RSAPrivateKey):
        pkcs1 = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
        spki = private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return DkimKey(selector, DkimAlgorithm.RSA, pkcs1, base64.b64encode(spki).decode("ascii"))
    raise ConfigError(f"{key_path(directory, selector)}: not an Ed25519 or RSA key")


def load_all(directory: Path) -> list[DkimKey]:
    """Every key in ``directory``, Ed25519 first (so its signature is the topmost one receivers try)."""
    if not directory.exists():
        return []
    keys = [load(directory, path.stem) for path in sorted(directory.glob("*.key"))]
    return sorted(keys, key=lambda k: (k.algorithm is not DkimAlgorithm.ED25519, k.selector))


def signing_keys(directory: Path, base_selector: str, extra_rsa: bool) -> list[DkimKey]:
    """The keys outgoing mail is signed with: ``BASE-ed25519``, plus ``BASE-rsa`` when configured.

    Rotation: generate keys under a new base selector, publish them, then switch ``[trust] dkim_selector``.
    """
    wanted = [DkimAlgorithm.ED25519, *([DkimAlgorithm.RSA] if extra_rsa else [])]
    keys = []
    for algorithm in wanted:
        selector = default_selector(base_selector, algorithm)
        if not key_path(directory, selector).exists():
            raise ConfigError(
                f"no DKIM key for selector {selector}; run 'lienthong dkim keygen --algorithm {algorithm}'"
            )
        keys.append(load(directory, selector))
    return keys


def sign(message: bytes, domain: str, keys: Sequence[DkimKey]) -> bytes:
    """The DKIM-Signature header lines to prepend to ``message`` (one per key), CRLF-terminated."""
    if not keys:
        raise ConfigError("no DKIM key; run 'lienthong dkim keygen'")
    headers = b""
    for key in keys:
        signer = _Message(message, signature_algorithm=key.algorithm.signature_algorithm, linesep=b"\r\n")
        headers += signer.sign(
            key.selector.encode("ascii"),
            domain.encode("ascii"),
            key.private,
            canonicalize=(b"relaxed", b"simple"),  # simple body: 2-3x faster on large bodies, stricter
        )
    return headers


class _Message(dkim.DKIM):  # type: ignore[misc]
    """dkimpy finds the header by splitting the whole message into lines and joining the body back together: for a
    280 KB document that is most of the cost of a signature. Gateway messages use CRLF throughout (bare line
    endings are refused at SMTP), so only the header goes through dkimpy's parser and the body is kept as it is,
    which is exactly what the split and join would give; anything else takes dkimpy's own path."""

    def set_message(self, message: bytes | None) -> None:
        end = message.find(b"\r\n\r\n") if message else -1
        if message is None or end < 0:
            super().set_message(message)
            return
        body = message[end + 4 :]
        if body.count(b"\n") != body.count(b"\r\n"):
            super().set_message(message)
            return
        super().set_message(message[: end + 4])
        self.body = body


def _tags(value: bytes) -> dict[bytes, bytes]:
    try:
        return dict(dkim.util.parse_tag_value(value))
    except dkim.util.InvalidTagValueList:
        return {}


def verify(message: bytes, lookup: KeyLookup) -> list[DkimCheck]:
    """Check every DKIM-Signature on ``message``; an empty list means it carries none."""
    try:
        verifier = _Message(message, minkey=1024)
    except dkim.MessageFormatError as exc:  # headers that cannot be parsed cannot carry a verifiable signature
        raise DkimFail(f"the message header cannot be parsed: {' '.join(str(exc).split())}") from None
    signatures = [v for k, v in verifier.headers if k.lower() == b"dkim-signature"]
    checks = []
    for index, value in enumerate(signatures):
        tags = _tags(value)
        domain = tags.get(b"d", b"?").decode("ascii", "replace")
        selector = tags.get(b"s", b"?").decode("ascii", "replace")
        algorithm = tags.get(b"a", b"?").decode("ascii", "replace")
        try:
            passed = bool(verifier.verify(idx=index, dnsfunc=lookup))
            detail = "" if passed else "signature does not verify"
        except dkim.DKIMException as exc:
            passed, detail = False, str(exc)
        checks.append(DkimCheck(domain, selector, algorithm, passed, detail))
    return checks


def authentication_results(authserv_id: str, checks: Sequence[DkimCheck]) -> str:
    """The value of an RFC 8601 Authentication-Results header for these checks."""
    if not checks:
        return f"{authserv_id}; dkim=none"
    results = []
    for check in checks:
        outcome = "pass" if check.passed else "fail"
        reason = f' reason="{check.detail[:80].replace(chr(34), chr(39))}"' if check.detail else ""
        results.append(
            f"dkim={outcome}{reason} header.d={check.domain} header.s={check.selector} header.a={check.algorithm}"
        )
    return f"{authserv_id};\r\n\t" + ";\r\n\t".join(results)


def require_pass(checks: Sequence[DkimCheck], domain: str) -> DkimCheck:
    """The passing signature of ``domain`` (the sending gateway), or DKIM_FAIL."""
    for check in checks:
        if check.passed and check.domain.lower() == domain.lower():
            return check
    seen = ", ".join(f"{c.domain}:{'pass' if c.passed else 'fail'}" for c in checks) or "none"
    raise DkimFail(f"no passing DKIM signature from {domain} (found {seen})")


class RegistryLookup:
    """Key lookup from the registry's peer gateways (selector + TXT value), in place of DNS."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def __call__(self, name: bytes, timeout: int = 5) -> bytes | None:
        text = name.decode("ascii", "replace").rstrip(".").lower()
        selector, marker, domain = text.partition("._domainkey.")
        if not marker:
            return None
        with self._sessions() as session:
            peer = session.scalars(select(PeerGateway).where(PeerGateway.domain == domain)).first()
        if peer is None or peer.dkim_selector != selector or not peer.dkim_public_key:
            return None
        return peer.dkim_public_key.encode("ascii")


def real_dns() -> KeyLookup:
    """dkimpy's own resolver (needs dnspython); only used where ``[trust]`` says to look keys up in DNS."""
    lookup: Callable[..., bytes | None] = dkim.dnsplug.get_txt
    return lookup
