"""Verification of an S/MIME ``multipart/signed`` message: every way it can fail has its own reason code.

The cryptography is pyHanko's generic CMS validation (signature over the exact bytes, path building and validation to
a configured anchor by pyhanko-certvalidator, key usage, CRLs); this module only decides what to trust and maps
pyHanko's outcome to our reasons. Time policy: the signer's certificate must be valid both at the moment of
verification (normally now) and at the signingTime it claims; the signingTime may not be in the future beyond the
configured clock skew. Revocation is judged at the moment of verification: a certificate revoked for any reason
before then is refused, since a self-asserted signingTime cannot prove the signature predates a key compromise.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import TracebackType

from asn1crypto import cms as asn1_cms
from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from pyhanko.sign.ades.report import AdESIndeterminate
from pyhanko.sign.validation.generic_cms import async_validate_detached_cms, extract_self_reported_ts
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import StandardCMSSignatureStatus
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.policy_decl import CertRevTrustPolicy, RevocationCheckingPolicy, RevocationCheckingRule
from pyhanko_certvalidator.registry import SimpleTrustManager

from certs.errors import (
    CertExpired,
    CertRevoked,
    CertStatusUnknown,
    CertUntrusted,
    CertWrongUsage,
    SignatureInvalid,
    SignerNotSender,
    SigningTimeInvalid,
)
from certs.issue import mailboxes_of, organ_id_of
from certs.multipart import split_signed
from certs.verdicts import Verdicts, signature_holds, verdict_key

# pyHanko logs every failed path at WARNING with a traceback; our callers report the failure themselves.
logging.getLogger("pyhanko").setLevel(logging.ERROR)
logging.getLogger("pyhanko_certvalidator").setLevel(logging.ERROR)

SMIME_USAGE = KeyUsageConstraints(
    key_usage={"digital_signature", "non_repudiation"},
    match_all_key_usages=False,
    extd_key_usage={"email_protection"},
    explicit_extd_key_usage_required=True,
)
REVOCATION_POLICY = CertRevTrustPolicy(
    RevocationCheckingPolicy(
        ee_certificate_rule=RevocationCheckingRule.CRL_REQUIRED,
        intermediate_ca_cert_rule=RevocationCheckingRule.CHECK_IF_DECLARED,
    )
)


@dataclass(frozen=True)
class TrustMaterial:
    """What a verifier trusts: anchors, helpful intermediates, and the CRLs it has (DER)."""

    anchors: tuple[x509.Certificate, ...]
    intermediates: tuple[x509.Certificate, ...] = ()
    crls: tuple[bytes, ...] = ()
    max_clock_skew: dt.timedelta = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Sender:
    """Who the envelope claims sent it: the agency's OrganId and its registered mailboxes."""

    organ_id: str
    mailboxes: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class VerificationResult:
    signer: x509.Certificate
    organ_id: str | None
    mailboxes: tuple[str, ...]
    signing_time: dt.datetime
    content: bytes = field(repr=False)  # the exact signed entity (often hundreds of KB: kept out of repr)
    mic: str  # base64 SHA-256 of ``content``

    @property
    def serial_hex(self) -> str:
        return format(self.signer.serial_number, "x")

    @property
    def fingerprint(self) -> str:
        return self.signer.fingerprint(hashes.SHA256()).hex()


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _signed_data(der: bytes) -> asn1_cms.SignedData:
    try:
        info = asn1_cms.ContentInfo.load(der)
        if info["content_type"].native != "signed_data":
            raise SignatureInvalid("the signature part is not CMS SignedData")
        signed: asn1_cms.SignedData = info["content"]
        signer_count = len(signed["signer_infos"])
    except (ValueError, TypeError, KeyError) as exc:
        raise SignatureInvalid(f"the signature part is not valid CMS: {exc}") from None
    if signer_count != 1:
        raise SignatureInvalid(f"expected exactly one signer, found {signer_count}")
    return signed


def _in_validity(cert: x509.Certificate, when: dt.datetime) -> bool:
    return cert.not_valid_before_utc <= when <= cert.not_valid_after_utc


def _describe(cert: x509.Certificate) -> str:
    return f"certificate {cert.serial_number:x} ({cert.subject.rfc4514_string()})"


def _check_sender(cert: x509.Certificate, sender: Sender) -> None:
    organ_id = organ_id_of(cert)
    if organ_id is not None:
        if organ_id != sender.organ_id:
            raise SignerNotSender(f"signed by OrganId {organ_id}, but the sender is {sender.organ_id}")
        return
    wanted = {m.lower() for m in sender.mailboxes}
    if not wanted.intersection(m.lower() for m in mailboxes_of(cert)):
        raise SignerNotSender(f"the {_describe(cert)} names neither OrganId {sender.organ_id} nor its mailboxes")


class Verifier:
    """Verifies S/MIME messages against one ``TrustMaterial``, parsed once and reused for every message.

    Anchors, intermediates and CRLs are parsed into pyHanko's objects when the verifier is built, not per message;
    what depends on the message (its certificates, the moment of verification) gets a fresh ``ValidationContext``
    per call so that nothing one sender embeds can leak into the next verification. Build a new ``Verifier`` when
    the trust material changes (a new CRL, a new anchor). A positive chain verdict is remembered for up to
    ``remember_seconds`` (see certs/verdicts.py; 0 remembers nothing). The gateway awaits ``verify`` in its own
    event loop; the CLI calls ``verify_sync``, which reuses one private loop per thread instead of ``asyncio.run``
    per call.
    """

    def __init__(self, trust: TrustMaterial, remember_seconds: float = 300.0) -> None:
        self.trust = trust
        self._trust_manager = SimpleTrustManager.build(trust_roots=[_asn1(c) for c in trust.anchors])
        self._intermediates = tuple(_asn1(c) for c in trust.intermediates)
        self._crls = tuple(asn1_crl.CertificateList.load(der) for der in trust.crls)
        crls = tuple(x509.load_der_x509_crl(der) for der in trust.crls)
        self._crl_issuers = frozenset(crl.issuer for crl in crls)
        self._verdicts = Verdicts(crls, remember_seconds)
        self.full_validations = 0  # how often pyHanko validated a whole path (benchmarks and tests read it)
        self._local = threading.local()
        self._loops: list[asyncio.AbstractEventLoop] = []
        self._lock = threading.Lock()

    def _context(self, moment: dt.datetime) -> ValidationContext:
        return ValidationContext(
            trust_manager=self._trust_manager,
            other_certs=self._intermediates,
            crls=self._crls,
            moment=moment,
            allow_fetching=False,
            revinfo_policy=REVOCATION_POLICY,
        )

    async def verify(self, raw: bytes, sender: Sender, *, at: dt.datetime | None = None) -> VerificationResult:
        """Verify a raw ``multipart/signed`` message (headers + body, CRLF) as it arrived."""
        parts = split_signed(raw)
        if parts.micalg and parts.micalg != "sha-256":
            raise SignatureInvalid(f"micalg {parts.micalg!r}: only sha-256 is accepted")
        return await self.verify_detached(parts.content, parts.signature, sender, at=at)

    def verify_sync(self, raw: bytes, sender: Sender, *, at: dt.datetime | None = None) -> VerificationResult:
        """For the CLI and scripts, which have no running event loop (inside one, await ``verify``)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise RuntimeError("Verifier.verify_sync called inside a running event loop; await Verifier.verify")
        loop: asyncio.AbstractEventLoop | None = getattr(self._local, "loop", None)
        if loop is None or loop.is_closed():
            loop = asyncio.new_event_loop()
            self._local.loop = loop
            with self._lock:
                self._loops.append(loop)
        return loop.run_until_complete(self.verify(raw, sender, at=at))

    def close(self) -> None:
        """Close the private event loops ``verify_sync`` opened."""
        with self._lock:
            loops, self._loops = self._loops, []
        for loop in loops:
            loop.close()

    def __enter__(self) -> Verifier:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    async def verify_detached(
        self, content: bytes, signature: bytes, sender: Sender, *, at: dt.datetime | None = None
    ) -> VerificationResult:
        """Verify a detached CMS signature over ``content``; raises a ``TrustError`` subclass naming the reason."""
        moment = at or dt.datetime.now(dt.UTC)
        signed = _signed_data(signature)
        digest = hashlib.sha256(content).digest()
        key = verdict_key(signed)
        if self._verdicts.holds(key, moment):
            quick = signature_holds(signed, digest)
            if quick is not None:
                signer, signed_at = quick
                skewed = signed_at > moment + self.trust.max_clock_skew
                if not skewed and _in_validity(signer, signed_at) and _in_validity(signer, moment):
                    return _result(signer, signed_at, sender, content, digest)
        self.full_validations += 1
        try:
            status = await async_validate_detached_cms(
                content, signed, signer_validation_context=self._context(moment), key_usage_settings=SMIME_USAGE
            )
        except (ValueError, TypeError, KeyError) as exc:  # malformed ASN.1 surfaces lazily, in here
            raise SignatureInvalid(f"the signature cannot be processed: {exc}") from None
        cert = x509.load_der_x509_certificate(status.signing_cert.dump())
        if not (status.intact and status.valid):
            raise SignatureInvalid(f"the signature by {_describe(cert)} does not match the signed bytes")
        signing_time = extract_self_reported_ts(signed["signer_infos"][0])
        if signing_time is None:
            raise SigningTimeInvalid("the signature carries no signingTime attribute")
        if signing_time > moment + self.trust.max_clock_skew:
            raise SigningTimeInvalid(f"signingTime {signing_time.isoformat()} is after {moment.isoformat()}")
        _check_trust(status, cert, signing_time, moment, has_crl=cert.issuer in self._crl_issuers)
        self._verdicts.remember(key, status.validation_path, moment)
        return _result(cert, signing_time, sender, content, digest)


def _result(
    cert: x509.Certificate, signing_time: dt.datetime, sender: Sender, content: bytes, digest: bytes
) -> VerificationResult:
    _check_sender(cert, sender)
    return VerificationResult(
        signer=cert,
        organ_id=organ_id_of(cert),
        mailboxes=tuple(mailboxes_of(cert)),
        signing_time=signing_time,
        content=content,
        mic=base64.b64encode(digest).decode("ascii"),
    )


def _check_trust(
    status: StandardCMSSignatureStatus,
    cert: x509.Certificate,
    signing_time: dt.datetime,
    moment: dt.datetime,
    *,
    has_crl: bool,
) -> None:
    """Map pyHanko's verdict on the chain to our reasons, most specific first."""
    problem = status.trust_problem_indic
    if problem is AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND:
        raise CertUntrusted(f"the {_describe(cert)} does not chain to a trusted anchor")
    for when, label in ((signing_time, "at signing time"), (moment, "now")):
        if not _in_validity(cert, when):
            raise CertExpired(
                f"the {_describe(cert)} is valid from {cert.not_valid_before_utc.isoformat()} to "
                f"{cert.not_valid_after_utc.isoformat()}, not {label} ({when.isoformat()})"
            )
    if status.revocation_details is not None or problem in (
        AdESIndeterminate.REVOKED_NO_POE,
        AdESIndeterminate.REVOKED_CA_NO_POE,
    ):
        details = status.revocation_details
        when_text = f" on {details.revocation_date.isoformat()} ({details.revocation_reason.native})" if details else ""
        raise CertRevoked(f"the {_describe(cert)} was revoked{when_text}")
    if problem is AdESIndeterminate.OUT_OF_BOUNDS_NO_POE:
        raise CertExpired(f"a certificate in the chain of the {_describe(cert)} is outside its validity period")
    if problem is AdESIndeterminate.CHAIN_CONSTRAINTS_FAILURE:
        raise CertWrongUsage(f"the {_describe(cert)} is not for e-mail protection (EKU/key usage)")
    if problem is AdESIndeterminate.TRY_LATER or (problem is not None and not has_crl):
        raise CertStatusUnknown(f"no current CRL from {cert.issuer.rfc4514_string()} to check the {_describe(cert)}")
    if problem is not None or not status.trusted:
        raise CertUntrusted(f"the chain of the {_describe(cert)} does not validate ({problem})")


async def verify_detached(
    content: bytes, signature: bytes, trust: TrustMaterial, sender: Sender, *, at: dt.datetime | None = None
) -> VerificationResult:
    """One-off form; to verify many messages build a ``Verifier`` once instead."""
    return await Verifier(trust).verify_detached(content, signature, sender, at=at)


async def verify_message(
    raw: bytes, trust: TrustMaterial, sender: Sender, *, at: dt.datetime | None = None
) -> VerificationResult:
    """One-off form of ``Verifier.verify``."""
    return await Verifier(trust).verify(raw, sender, at=at)


def verify_message_sync(
    raw: bytes, trust: TrustMaterial, sender: Sender, *, at: dt.datetime | None = None
) -> VerificationResult:
    """One-off form of ``Verifier.verify_sync`` (parses the trust material on every call)."""
    with Verifier(trust) as verifier:
        return verifier.verify_sync(raw, sender, at=at)


def material(
    anchors: Iterable[x509.Certificate],
    intermediates: Iterable[x509.Certificate] = (),
    crls: Iterable[bytes] = (),
    max_clock_skew: dt.timedelta = dt.timedelta(minutes=5),
) -> TrustMaterial:
    return TrustMaterial(tuple(anchors), tuple(intermediates), tuple(crls), max_clock_skew)
