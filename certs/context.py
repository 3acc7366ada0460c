"""One home's trust configuration, assembled once: file layout, anchors, CRLs and issuing policy.

The envelope validator and the gateway build ``verifier(home)`` once to verify (from ``verification_material(home)``)
and call ``lifecycle.active_signer`` with ``chain(home)`` to sign; the CLI uses the rest.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from sqlalchemy.orm import Session, sessionmaker

from certs.ca import TrustFiles, load_cert, trust_anchors
from certs.keys import KeyAlgorithm
from certs.lifecycle import IssuePolicy
from certs.revocation import crl_files, load_crl_der
from gateway.home import Home

if TYPE_CHECKING:  # pyHanko sits behind certs.verify: commands that only read the layout must not pay for it
    from certs import dkim  # dkimpy and dnspython, likewise: only the DKIM functions below need them
    from certs.verify import TrustMaterial, Verifier


def trust_files(home: Home) -> TrustFiles:
    return TrustFiles(home.keys_dir)


def configured_anchors(home: Home) -> tuple[Path, ...]:
    return tuple(home.path(p) for p in home.settings.trust.anchors)


def configured_crls(home: Home) -> tuple[Path, ...]:
    return tuple(home.path(p) for p in home.settings.trust.crls)


def issue_policy(home: Home) -> IssuePolicy:
    trust = home.settings.trust
    return IssuePolicy(KeyAlgorithm(trust.key_algorithm), trust.crl_url, trust.crl_days)


def chain(home: Home) -> tuple[x509.Certificate, ...]:
    """Certificates to embed after the signer's: our issuing CA (the root is the peer's anchor already)."""
    files = trust_files(home)
    return (load_cert(files.issuing_cert),) if files.issuing_cert.exists() else ()


def verification_material(home: Home) -> TrustMaterial:
    from certs.verify import material

    files = trust_files(home)
    return material(
        trust_anchors(files, configured_anchors(home)),
        chain(home),
        [load_crl_der(p) for p in crl_files(files, configured_crls(home))],
        dt.timedelta(seconds=home.settings.trust.max_clock_skew_seconds),
    )


def verifier(home: Home) -> Verifier:
    """Build once (and again when anchors or CRLs change); ``await verifier.verify(raw, sender)`` per message."""
    from certs.verify import Verifier

    return Verifier(verification_material(home), remember_seconds=home.settings.trust.verdict_cache_seconds)


def dkim_signing_keys(home: Home) -> list[dkim.DkimKey]:
    from certs import dkim

    trust = home.settings.trust
    return dkim.signing_keys(trust_files(home).dkim_dir, trust.dkim_selector, trust.dkim_extra_rsa)


class _FirstAnswer:
    """Ask each lookup in turn; the first that has a record answers."""

    def __init__(self, *lookups: dkim.KeyLookup) -> None:
        self._lookups = lookups

    def __call__(self, name: bytes, timeout: int = 5) -> bytes | None:
        for lookup in self._lookups:
            answer = lookup(name, timeout)
            if answer:
                return answer
        return None


def dkim_lookup(home: Home, sessions: sessionmaker[Session]) -> dkim.KeyLookup:
    """Keys registered by peer gateways first; real DNS only when ``[trust] dkim_dns`` is true."""
    from certs import dkim

    registry = dkim.RegistryLookup(sessions)
    return _FirstAnswer(registry, dkim.real_dns()) if home.settings.trust.dkim_dns else registry
