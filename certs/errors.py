"""Why a signature or certificate was refused: one error class per reason code of gateway/reasons.py.

Callers (the envelope validator, the SMTP edge) catch ``TrustError`` and read ``.reason`` to build the refusal; the
message names what was wrong with this particular signature.
"""

from __future__ import annotations

from typing import ClassVar

from gateway.errors import LienthongError
from gateway.reasons import Reason, reason


class TrustError(LienthongError):
    code: ClassVar[str] = "SIGNATURE_INVALID"

    @property
    def reason(self) -> Reason:
        return reason(self.code)


class SignatureMissing(TrustError):
    code = "SIGNATURE_MISSING"


class SignatureInvalid(TrustError):
    code = "SIGNATURE_INVALID"


class SigningTimeInvalid(TrustError):
    code = "SIGNING_TIME_INVALID"


class CertUntrusted(TrustError):
    code = "CERT_UNTRUSTED"


class CertExpired(TrustError):
    code = "CERT_EXPIRED"


class CertRevoked(TrustError):
    code = "CERT_REVOKED"


class CertWrongUsage(TrustError):
    code = "CERT_WRONG_USAGE"


class CertStatusUnknown(TrustError):
    code = "CERT_STATUS_UNKNOWN"
    exit_code = 75  # EX_TEMPFAIL: retry once a fresh CRL is available


class SignerNotSender(TrustError):
    code = "SIGNER_NOT_SENDER"


class PdfSignatureInvalid(TrustError):
    code = "PDF_SIGNATURE_INVALID"


class DkimFail(TrustError):
    code = "DKIM_FAIL"
