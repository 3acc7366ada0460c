"""What a ledger entry says and how it is hashed.

An entry holds hashes and identifiers, never content (regulation Art. 4.1 forbids keeping refused content, and
evidence must not leak what it is evidence of). Its hash covers a canonical encoding — JSON with sorted keys, no
insignificant white space, UTF-8, times as ISO 8601 strings — chained to the previous entry's hash, so an auditor
can recompute the chain from an export without trusting the database:

    entry_hash = SHA-256( bytes.fromhex(prev_hash) || canonical(entry) )

The genesis ``prev_hash`` is 64 zeros.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

GENESIS = "0" * 64


class EventKind(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    RELAYED = "relayed"
    DELIVERED = "delivered"
    RECEIPT_SENT = "receipt_sent"
    RECEIPT_RECEIVED = "receipt_received"
    RECEIPT_MISMATCH = "receipt_mismatch"  # the receipt's MIC is not what we sent: a failure and an alert
    RECEIPT_REJECTED = "receipt_rejected"  # signed by an agency the document was not sent to: confirms nothing
    WARNING = "warning"
    NON_DELIVERY = "non_delivery"


@dataclass(frozen=True, slots=True)
class Event:
    """One step. ``at`` is the technical instant (aware); effective times come from the calendar."""

    kind: EventKind
    at: datetime
    document_id: str | None = None
    organ_id: str | None = None
    counterpart: str | None = None  # the other agency (recipient or sender)
    content_sha256: str | None = None
    effective_at: datetime | None = None
    calendar_version: str | None = None
    reason_code: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("at", "effective_at"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"{name}: a ledger time must carry its offset")

    def payload(self) -> dict[str, Any]:
        """The fields the hash covers, as JSON-ready values."""
        return {
            "kind": self.kind.value,
            "at": self.at.isoformat(timespec="microseconds"),
            "document_id": self.document_id,
            "organ_id": self.organ_id,
            "counterpart": self.counterpart,
            "content_sha256": self.content_sha256,
            "effective_at": None if self.effective_at is None else self.effective_at.isoformat(timespec="microseconds"),
            "calendar_version": self.calendar_version,
            "reason_code": self.reason_code,
            "details": self.details,
        }


def canonical(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def chain_hash(prev_hash: str, payload: dict[str, Any]) -> str:
    return hashlib.sha256(bytes.fromhex(prev_hash) + canonical(payload)).hexdigest()
