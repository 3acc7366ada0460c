"""Submissions an agency system S/MIME-signed itself (its key in an HSM or a records-office token, not here).

Such an envelope arrives ``multipart/signed``. The gateway cannot vouch for the agency by signing again, and must not
change a byte the agency signed; so it does at submission what a recipient does at arrival: the signature is verified
against the submitting account's agency (chain to our anchors, validity, revocation, usage, signer = that agency),
and a failure refuses the document with the verifier's own reason code — except a missing or stale CRL
(``CERT_STATUS_UNKNOWN``), which is our problem and is retried. Then the inner envelope is validated exactly like an
unsigned one, and the message travels as the agency sent it behind the gateway's DKIM signature only
(``signing.dkim_only``), with the MIC of the entity the agency signed recorded for the receipts.

A pre-signed envelope must carry its number: numbering it here would rewrite what the agency signed.
"""

from __future__ import annotations

from certs.errors import CertStatusUnknown, TrustError
from certs.verify import Sender, VerificationResult
from gateway.envelope.errors import EnvelopeError
from gateway.envelope.model import DocumentHeader
from gateway.envelope.parse import Envelope
from gateway.workers.numbering import is_unnumbered
from gateway.workers.services import Services


def verify_submitted(
    services: Services, envelope: Envelope, raw: bytes, organ_id: str | None
) -> VerificationResult | None:
    """The agency's verified signature on ``raw``; None when the envelope is unsigned (the gateway will sign it).

    Raises ``EnvelopeError`` with the trust reason code for a signature the agency must fix, and lets
    ``CertStatusUnknown`` (a temporary failure: no current CRL) through for the caller to retry.
    """
    if not envelope.signed:
        return None
    agency = services.directory.lookup(organ_id) if organ_id else None
    mailboxes = frozenset(agency.mailboxes) if agency is not None else frozenset[str]()
    try:
        return services.verifier.verify_sync(raw, Sender(organ_id or "", mailboxes))
    except CertStatusUnknown:
        raise
    except TrustError as error:
        raise EnvelopeError.of(error.code, "multipart/signed", str(error)) from None


def require_number(header: DocumentHeader) -> None:
    """Refuse a pre-signed envelope without CodeNumber: the number is inside what the agency signed."""
    if is_unnumbered(header):
        raise EnvelopeError.of(
            "FIELD_MISSING",
            "Code/CodeNumber",
            "the gateway cannot number a document the agency signed: number it before signing",
        )
