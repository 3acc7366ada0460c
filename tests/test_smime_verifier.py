"""The reusable ``Verifier``: one per trust material, many messages, inside an event loop or from sync code.

The reason codes themselves are covered message by message in test_smime_verify.py (through the one-off wrapper,
which builds a ``Verifier``); here: that reuse keeps every verdict independent of the messages verified before.
"""

from __future__ import annotations

import asyncio

import pytest

from certs.errors import TrustError
from certs.smime import sign_entity
from certs.verify import Sender, VerificationResult, Verifier, material
from tests.fixtures.trust import ENTITY, SENDER, Pki


def _code(verifier: Verifier, raw: bytes, sender: Sender = SENDER) -> str:
    try:
        verifier.verify_sync(raw, sender)
    except TrustError as exc:
        return exc.code
    return "OK"


def test_one_verifier_gives_each_message_its_own_verdict(pki: Pki, other_pki: Pki) -> None:
    good = pki.issue()
    signed = sign_entity(ENTITY, good.certificate, good.key, pki.ca.chain).entity
    tampered = signed.replace("tổng kết".encode(), "tổng kếT".encode(), 1)
    assert tampered != signed
    stranger = other_pki.issue()
    untrusted = sign_entity(ENTITY, stranger.certificate, stranger.key, other_pki.ca.chain).entity
    with Verifier(pki.trust()) as verifier:
        verdicts = [
            _code(verifier, signed),
            _code(verifier, untrusted),
            _code(verifier, tampered),
            _code(verifier, signed, Sender("000.00.20.H12")),
            _code(verifier, signed),
        ]
    assert verdicts == ["OK", "CERT_UNTRUSTED", "SIGNATURE_INVALID", "SIGNER_NOT_SENDER", "OK"]


def test_certificates_a_message_embeds_do_not_help_the_next_one(pki: Pki) -> None:
    """Each verification gets a fresh certificate registry: an intermediate seen once is not remembered."""
    issued = pki.issue()
    with_chain = sign_entity(ENTITY, issued.certificate, issued.key, pki.ca.chain).entity
    without_chain = sign_entity(ENTITY, issued.certificate, issued.key, ()).entity
    trust = pki.trust()
    bare = material(trust.anchors, [], trust.crls)  # the verifier itself knows no intermediate
    with Verifier(bare) as verifier:
        assert _code(verifier, with_chain) == "OK"
        assert _code(verifier, without_chain) == "CERT_UNTRUSTED"
    with Verifier(trust) as verifier:  # given the intermediate up front, the bare signature verifies
        assert _code(verifier, without_chain) == "OK"


def test_a_verifier_judges_by_the_crls_it_was_built_with(pki: Pki) -> None:
    """A new CRL means a new Verifier (the gateway rebuilds it when it reloads CRLs)."""
    issued = pki.issue()
    raw = sign_entity(ENTITY, issued.certificate, issued.key, pki.ca.chain).entity
    before = Verifier(pki.trust())
    pki.revoke(issued.certificate)
    with before, Verifier(pki.trust()) as after:
        assert _code(before, raw) == "OK"
        assert _code(after, raw) == "CERT_REVOKED"


def test_async_verify_inside_a_running_loop(pki: Pki) -> None:
    issued = pki.issue()
    raw = sign_entity(ENTITY, issued.certificate, issued.key, pki.ca.chain).entity
    verifier = Verifier(pki.trust())

    async def many() -> list[VerificationResult | BaseException]:
        jobs = [verifier.verify(raw, SENDER) for _ in range(5)]
        jobs.append(verifier.verify(raw, Sender("000.00.20.H12")))
        return await asyncio.gather(*jobs, return_exceptions=True)

    results = asyncio.run(many())
    assert all(isinstance(r, VerificationResult) and r.content == ENTITY for r in results[:5])
    assert isinstance(results[5], TrustError)
    assert results[5].code == "SIGNER_NOT_SENDER"


def test_verify_sync_refuses_to_run_inside_an_event_loop(pki: Pki) -> None:
    issued = pki.issue()
    raw = sign_entity(ENTITY, issued.certificate, issued.key, pki.ca.chain).entity

    async def inside() -> None:
        with Verifier(pki.trust()) as verifier:
            verifier.verify_sync(raw, SENDER)

    with pytest.raises(RuntimeError, match="await"):
        asyncio.run(inside())


def test_result_repr_leaves_out_the_content(pki: Pki) -> None:
    issued = pki.issue()
    raw = sign_entity(ENTITY, issued.certificate, issued.key, pki.ca.chain).entity
    with Verifier(pki.trust()) as verifier:
        result = verifier.verify_sync(raw, SENDER)
    assert "Công văn" not in repr(result)
    assert result.mic in repr(result)
