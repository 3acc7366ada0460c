"""Remembered chain verdicts: a signer's certificate path is validated once, then reused for its next messages.

Why: pyhanko-certvalidator's path building and validation costs about ten milliseconds of CPU per message, the
signature itself well under one, and an agency signs every document of a year with the same certificate. A gateway
verifies each document twice (at arrival and when its receipt comes back), so path validation was the largest
single cost per document.

What makes reuse sound. Path validation looks at two kinds of input:
- what the message brings (the signer's certificate, the certificates it embeds, its algorithms) — all of it is part
  of the key under which a verdict is remembered;
- what the verifier trusts (anchors, intermediates, CRLs) — fixed for the life of one ``Verifier``, which is rebuilt
  when they change, and the verdicts live inside it.
A verdict is remembered only when it was positive, and it holds from the moment it was reached until the earliest of
its time to live, the ``notAfter`` of any certificate on the path and the ``nextUpdate`` of any CRL (when pyHanko
would start to answer "try later"). A path with a certificate that any CRL lists is never remembered, so that a
revocation dated after the verdict cannot be missed. Everything that depends on the message alone — its digest, the
signature over its signed attributes, its signingTime, the signer's validity at that time and now, the sender — is
still checked for every message; anything unexpected sends the message down the full path, so that refusals keep
their exact reason codes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable

from asn1crypto import cms as asn1_cms
from asn1crypto import core as asn1_core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from pyhanko.sign.validation.generic_cms import extract_self_reported_ts, validate_sig_integrity
from pyhanko_certvalidator.path import ValidationPath


def verdict_key(signed: asn1_cms.SignedData) -> bytes:
    """Everything from the message that path validation depends on, hashed: certificates, signer id, algorithms."""
    signer = signed["signer_infos"][0]
    digest = hashlib.sha256()
    for part in (signed["certificates"], signer["sid"], signer["digest_algorithm"], signer["signature_algorithm"]):
        encoded = part.dump()
        digest.update(len(encoded).to_bytes(4, "big") + encoded)
    return digest.digest()


class Verdicts:
    """Positive path verdicts of one ``Verifier``: bounded, thread-safe (worker steps verify from threads)."""

    def __init__(self, crls: Iterable[x509.CertificateRevocationList], ttl_seconds: float, size: int = 256) -> None:
        crls = tuple(crls)
        self.ttl = dt.timedelta(seconds=max(ttl_seconds, 0.0))
        self._listed = frozenset((crl.issuer, entry.serial_number) for crl in crls for entry in crl)
        updates = [crl.next_update_utc for crl in crls if crl.next_update_utc is not None]
        self._crls_until = min(updates) if updates else None
        self._size = size
        self._held: OrderedDict[bytes, tuple[dt.datetime, dt.datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def holds(self, key: bytes, moment: dt.datetime) -> bool:
        with self._lock:
            span = self._held.get(key)
            if span is None:
                return False
            since, until = span
            if not since <= moment < until:
                if moment >= until:
                    del self._held[key]
                return False
            self._held.move_to_end(key)
            return True

    def remember(self, key: bytes, path: ValidationPath | None, moment: dt.datetime) -> None:
        if self.ttl <= dt.timedelta(0) or path is None:
            return
        certs = [x509.load_der_x509_certificate(c.dump()) for c in path.iter_certs(include_root=True)]
        if not certs or any((c.issuer, c.serial_number) in self._listed for c in certs):
            return
        until = min([moment + self.ttl, *(c.not_valid_after_utc for c in certs)])
        if self._crls_until is not None:
            until = min(until, self._crls_until)
        if until <= moment:
            return
        with self._lock:
            self._held[key] = (moment, until)
            self._held.move_to_end(key)
            while len(self._held) > self._size:
                self._held.popitem(last=False)


def _signer_cert(signed: asn1_cms.SignedData, signer_info: asn1_cms.SignerInfo) -> asn1_x509.Certificate | None:
    """The embedded certificate named by issuer and serial, matched byte for byte.

    pyHanko compares names after LDAP string preparation, which is most of its cost per message; an exact match is
    stricter, and anything it does not find goes to the full validation.
    """
    sid = signer_info["sid"]
    if sid.name != "issuer_and_serial_number":
        return None
    serial = sid.chosen["serial_number"].native
    issuer = sid.chosen["issuer"].dump()
    for choice in signed["certificates"]:
        if choice.name != "certificate":
            continue
        cert = choice.chosen
        if cert.serial_number == serial and cert["tbs_certificate"]["issuer"].dump() == issuer:
            return cert
    return None


def signature_holds(signed: asn1_cms.SignedData, content_sha256: bytes) -> tuple[x509.Certificate, dt.datetime] | None:
    """The signer and its signingTime when the signature over ``content`` is intact and valid, else None.

    None means "not sure": the caller then runs pyHanko's full validation, which names the reason. Only the shapes the
    gateway's own signers produce are taken here (detached, SHA-256, signed attributes with a signingTime).
    """
    try:
        signer_info = signed["signer_infos"][0]
        if signer_info["digest_algorithm"]["algorithm"].native != "sha256":
            return None
        if signed["encap_content_info"]["content"] is not asn1_core.VOID:
            return None
        signer = _signer_cert(signed, signer_info)
        if signer is None:
            return None
        intact, valid = validate_sig_integrity(
            signer_info,
            signer,
            expected_content_type=signed["encap_content_info"]["content_type"].native,
            actual_digest=content_sha256,
        )
        signing_time = extract_self_reported_ts(signer_info)
    except Exception:  # any doubt at all goes to the full validation, which explains itself
        return None
    if not (intact and valid) or signing_time is None:
        return None
    return x509.load_der_x509_certificate(signer.dump()), signing_time
