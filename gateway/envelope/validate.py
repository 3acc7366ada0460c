"""Validating a parsed envelope: the policy rule first and alone, then every other rule, all problems reported.

The policy rule runs first so that a classified document or a denunciation is refused before anything else looks at
it, and the error's primary problem is then always CLASSIFIED or DENUNCIATION: the caller's signal to store none of
the content, only ``refusal_trace``.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
from collections.abc import Collection
from datetime import datetime, tzinfo
from typing import Any

from gateway.envelope.directory import AgencyDirectory
from gateway.envelope.errors import EnvelopeError, PdfInspectionUnavailable
from gateway.envelope.limits import EnvelopeLimits
from gateway.envelope.model import VIETNAM
from gateway.envelope.parse import Envelope, parse
from gateway.envelope.pdf import PdfInfo, PdfLimits, inspect_pdf
from gateway.envelope.rules.base import Context, PdfInspector, Rule
from gateway.envelope.rules.document_id import DocumentIdRule
from gateway.envelope.rules.enumerations import EnumerationsRule
from gateway.envelope.rules.headers import HeadersRule
from gateway.envelope.rules.issue_date import IssueDateRule
from gateway.envelope.rules.lengths import LengthsRule
from gateway.envelope.rules.main_pdf import MainPdfRule
from gateway.envelope.rules.manifest import ManifestRule
from gateway.envelope.rules.policy import PolicyRule
from gateway.envelope.rules.recipients import RecipientsRule
from gateway.envelope.rules.required import RequiredRule
from gateway.envelope.rules.sender import SenderRule
from gateway.envelope.rules.text import TextRule
from gateway.envelope.unicode_text import normalise_text

POLICY: Rule = PolicyRule()
RULES: tuple[Rule, ...] = (
    HeadersRule(),
    RequiredRule(),
    LengthsRule(),
    EnumerationsRule(),
    DocumentIdRule(),
    IssueDateRule(),
    RecipientsRule(),
    SenderRule(),
    ManifestRule(),
    MainPdfRule(),
    TextRule(),
)
REFUSAL_CODES = frozenset(POLICY.codes)


def _inspect_in_process(data: bytes, limits: PdfLimits | None) -> PdfInfo:
    return inspect_pdf(data, limits)


def validate(
    envelope: Envelope,
    *,
    now: datetime | None = None,
    tz: tzinfo = VIETNAM,
    directory: AgencyDirectory | None = None,
    pdf_limits: PdfLimits | None = None,
    inspector: PdfInspector = _inspect_in_process,
    convert_legacy: Collection[str] = (),
    allow_unnumbered: bool = False,
) -> Envelope:
    """The envelope with its metadata text in NFC Unicode if every rule passes; otherwise ``EnvelopeError`` with all
    problems found.

    ``directory`` None skips the sender and recipient look-ups; ``inspector`` may be ``inspect_pdf_isolated`` where a
    PDF must not stall the caller (a worker that cannot start raises ``PdfInspectionUnavailable``, a temporary
    failure, not a refusal). ``convert_legacy`` lists the OrganIds whose legacy-encoded text is converted rather
    than refused (``Settings.envelope.convert_legacy``); the result's ``conversions`` reports every change.
    ``allow_unnumbered`` accepts the "not yet numbered" state (empty CodeNumber, DocumentId computed with it): only
    at submission, where the gateway then assigns the number; an arrival or a plain check refuses it.
    """
    try:
        text = normalise_text(envelope, convert_legacy)
        ctx = Context(
            text.envelope,
            now or datetime.now(tz),
            tz,
            directory,
            inspector,
            pdf_limits,
            unconverted=text.unconverted,
            allow_unnumbered=allow_unnumbered,
        )
        refused = POLICY.check(ctx)
        if refused:
            raise EnvelopeError(refused)
        problems = [problem for rule in RULES for problem in rule.check(ctx)]
    except (EnvelopeError, PdfInspectionUnavailable):
        raise
    except Exception as exc:  # a rule bug must still end as a refusal the caller can answer
        raise EnvelopeError.of("MIME_MALFORMED", None, f"validation failed ({type(exc).__name__})") from exc
    if problems:
        raise EnvelopeError(problems)
    return text.envelope


def check(raw: bytes, *, limits: EnvelopeLimits | None = None, **kwargs: Any) -> Envelope:
    """Parse and validate: the one call an intake needs."""
    return validate(parse(raw, limits), **kwargs)


def is_refusal(error: EnvelopeError) -> bool:
    """True for CLASSIFIED and DENUNCIATION: store no content, keep only ``refusal_trace``."""
    return error.primary.code in REFUSAL_CODES


def refusal_trace(raw: bytes, error: EnvelopeError, *, now: datetime | None = None) -> dict[str, Any]:
    """What may be kept of a refused message: who, when, which rule, a hash. No subject, no text, no file."""
    who: dict[str, Any] = {"from": None, "to": [], "message_id": None}
    try:
        end = raw.find(b"\r\n\r\n", 0, 65536)
        head = raw[:end] if end >= 0 else b""
        headers = email.parser.BytesHeaderParser(policy=email.policy.default).parsebytes(head)
        who["from"] = ", ".join(a.addr_spec for a in getattr(headers["From"], "addresses", ())) or None
        who["to"] = [a.addr_spec for a in getattr(headers["To"], "addresses", ())]
        who["message_id"] = str(headers["Message-ID"]).strip() if headers["Message-ID"] else None
    except Exception:  # noqa: S110 - an unreadable header leaves "who" empty; the hash still identifies the message
        pass
    return {
        **who,
        "at": (now or datetime.now(VIETNAM)).isoformat(),
        "rule": error.primary.code,
        "field": error.primary.field,
        "sha256": hashlib.sha256(raw).hexdigest(),
        "size": len(raw),
    }
