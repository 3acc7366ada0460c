"""Remembered chain verdicts (certs/verdicts.py): a signer's path is validated once, and a verifier that remembers
gives every message exactly the verdict a fresh verifier would — whatever was verified before, at whatever moment."""

from __future__ import annotations

import datetime as dt

from certs.errors import TrustError
from certs.smime import sign_entity
from certs.verify import Sender, Verifier
from tests.fixtures.trust import ENTITY, SENDER, Pki


def _code(verifier: Verifier, raw: bytes, sender: Sender = SENDER, at: dt.datetime | None = None) -> str:
    try:
        verifier.verify_sync(raw, sender, at=at)
    except TrustError as exc:
        return exc.code
    return "OK"


def test_the_next_message_of_a_signer_skips_path_validation(pki: Pki) -> None:
    issued = pki.issue()
    first = sign_entity(ENTITY, issued.certificate, issued.key, pki.ca.chain).entity
    second = sign_entity(ENTITY.replace(b"12/STP", b"13/STP"), issued.certificate, issued.key, pki.ca.chain).entity
    with Verifier(pki.trust()) as verifier:
        one = verifier.verify_sync(first, SENDER)
        two = verifier.verify_sync(second, SENDER)
        assert verifier.full_validations == 1
    assert two.signer == one.signer == issued.certificate
    assert two.content != one.content
    assert two.mic != one.mic


def test_nothing_is_remembered_when_told_so(pki: Pki) -> None:
    issued = pki.issue()
    raw = sign_entity(ENTITY, issued.certificate, issued.key, pki.ca.chain).entity
    with Verifier(pki.trust(), remember_seconds=0) as verifier:
        assert [_code(verifier, raw), _code(verifier, raw)] == ["OK", "OK"]
        assert verifier.full_validations == 2


def test_a_remembered_signer_still_gets_every_message_checked(pki: Pki, other_pki: Pki) -> None:
    """After the signer's verdict is remembered, each message is judged exactly as a fresh verifier judges it."""
    now = dt.datetime.now(dt.UTC)  # per test: the signatures below are made now
    issued = pki.issue(days=3)
    signed = sign_entity(ENTITY, issued.certificate, issued.key, pki.ca.chain).entity
    tampered = signed.replace("tổng kết".encode(), "tổng kếT".encode(), 1)
    stranger = other_pki.issue()
    # the stranger's certificate and a chain that claims to be ours: the path is what differs, not the signer's name
    foreign = sign_entity(ENTITY, stranger.certificate, stranger.key, pki.ca.chain).entity
    rolled = pki.issue()  # same agency, a new key: its own path, validated on its own
    renewed = sign_entity(ENTITY, rolled.certificate, rolled.key, pki.ca.chain).entity
    cases = [
        (tampered, SENDER, None),
        (signed, Sender("000.00.20.H12"), None),
        (foreign, SENDER, None),
        (renewed, SENDER, None),
        (signed, SENDER, now + dt.timedelta(days=4)),  # past the certificate's notAfter
        (signed, SENDER, now + dt.timedelta(days=2, hours=1)),  # within it
        (signed, SENDER, now - dt.timedelta(minutes=1)),  # before the remembered verdict was reached
        (signed, SENDER, None),
    ]
    trust = pki.trust()
    expected = []
    for raw, sender, at in cases:
        with Verifier(trust) as fresh:
            expected.append(_code(fresh, raw, sender, at))
    with Verifier(trust) as warm:
        assert _code(warm, signed) == "OK"
        assert [_code(warm, raw, sender, at) for raw, sender, at in cases] == expected
    assert expected[:5] == ["SIGNATURE_INVALID", "SIGNER_NOT_SENDER", "CERT_UNTRUSTED", "OK", "CERT_EXPIRED"]
    assert expected[-1] == "OK"


def test_a_remembered_verdict_ends_with_the_crl(pki: Pki) -> None:
    """The CRL (7 days) outlives nothing: past its nextUpdate the status is unknown, remembered verdict or not."""
    now = dt.datetime.now(dt.UTC)  # per test: the signatures below are made now
    issued = pki.issue(days=365)
    raw = sign_entity(ENTITY, issued.certificate, issued.key, pki.ca.chain).entity
    later = now + dt.timedelta(days=8)
    with Verifier(pki.trust()) as fresh:
        expected = _code(fresh, raw, at=later)
    with Verifier(pki.trust(), remember_seconds=30 * 86400) as warm:
        assert _code(warm, raw) == "OK"
        assert _code(warm, raw, at=later) == expected == "CERT_STATUS_UNKNOWN"
        assert warm.full_validations == 2


def test_a_verdict_is_not_kept_past_its_time_to_live(pki: Pki) -> None:
    now = dt.datetime.now(dt.UTC)  # per test: the signatures below are made now
    issued = pki.issue()
    raw = sign_entity(ENTITY, issued.certificate, issued.key, pki.ca.chain).entity
    with Verifier(pki.trust(), remember_seconds=60) as verifier:
        assert _code(verifier, raw, at=now) == "OK"
        assert _code(verifier, raw, at=now + dt.timedelta(seconds=30)) == "OK"
        assert verifier.full_validations == 1
        assert _code(verifier, raw, at=now + dt.timedelta(seconds=61)) == "OK"
        assert verifier.full_validations == 2
