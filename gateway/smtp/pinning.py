"""Certificate pinning between peer gateways: the SHA-256 fingerprints of the TLS certificates a peer may present.

A chain to a trusted anchor plus a registered name says "some gateway our anchors vouch for, calling itself this";
a pin says "exactly the certificate the other operator handed us". It closes the gap where one CA (say a national
one several provinces trust) issues a certificate with another province's name. A peer with no pin keeps the
chain-and-names check alone. During a rollover the registry holds several pins (old and new certificate) as one
comma-separated column value; any of them is accepted, and the operator removes the old one once the peer switched.
"""

from __future__ import annotations

import hashlib
import re
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from gateway.errors import InputError, LienthongError

MAX_PINS = 4  # old + new with room for a botched rollover; the column holds 4 * 65 characters
_HEX = re.compile(r"^[0-9a-f]{64}$")


class PinMismatch(LienthongError):
    """The peer presented a valid certificate, but not one of those pinned for it."""


def fingerprint(der: bytes) -> str:
    """The pin of a certificate: SHA-256 of its DER encoding, lower-case hex without separators."""
    return hashlib.sha256(der).hexdigest()


def normalise(text: str, option: str = "--tls-fingerprint") -> str:
    """One fingerprint as operators copy it (``AB:CD:…`` from ``openssl x509 -fingerprint``, or plain hex)."""
    value = text.strip().lower().replace(":", "")
    if value.startswith("sha256="):
        value = value.removeprefix("sha256=")
    if not _HEX.match(value):
        raise InputError(f"{option} {text.strip()!r}: expected a SHA-256 fingerprint (64 hex digits, ':' allowed)")
    return value


def parse_pins(text: str, option: str = "--tls-fingerprint") -> tuple[str, ...]:
    """A comma-separated list of fingerprints (rollover: old and new), normalised and without duplicates."""
    parts = [part for part in text.split(",") if part.strip()]
    if not parts:
        raise InputError(f"{option}: expected at least one SHA-256 fingerprint")
    pins = tuple(dict.fromkeys(normalise(part, option) for part in parts))
    if len(pins) > MAX_PINS:
        raise InputError(f"{option}: at most {MAX_PINS} fingerprints (old and new during a rollover)")
    return pins


def stored(value: str | None) -> tuple[str, ...]:
    """The pins a registry column holds (empty: not pinned)."""
    return tuple(part for part in (value or "").split(",") if part)


def pem_fingerprint(path: Path, option: str = "--tls-cert") -> str:
    """The pin of the first certificate in a PEM file (a served chain starts with the gateway's own)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{option} {path}: cannot read: {exc.strerror}") from None
    try:
        certificate = x509.load_pem_x509_certificates(data)[0]
    except ValueError:
        raise InputError(f"{option} {path}: not a PEM certificate") from None
    return fingerprint(certificate.public_bytes(Encoding.DER))


def presented(ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> str | None:
    """The pin of the certificate the other end presented in this TLS session, or None."""
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    return fingerprint(der) if der else None


def accepts(pins: tuple[str, ...], seen: str | None) -> bool:
    """No pin: anything the chain and names checks let through; pinned: only a listed certificate."""
    return not pins or seen in pins


def mismatch(pins: tuple[str, ...], seen: str | None, who: str) -> PinMismatch:
    """The error naming both sides, so that the operator can compare with what the other operator sent."""
    return PinMismatch(
        f"{who} presented TLS certificate sha256 {seen or 'none'}, expected the pinned {' or '.join(pins)}"
    )


def require(pins: tuple[str, ...], seen: str | None, who: str) -> None:
    if not accepts(pins, seen):
        raise mismatch(pins, seen, who)
