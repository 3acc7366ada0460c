"""Outgoing documents: what the processing worker accepted, signed and queued for delivery.

One row per DocumentId — the natural de-duplication key of QCVN 102 — so a document submitted twice (a client retry,
a second clerk) is delivered once. The row keeps the hash of the exact signed bytes and the MIC that receipts must
quote back; the bytes themselves are in the blob store.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from registry.models import Base, UtcDateTime


class OutgoingDocument(Base):
    __tablename__ = "outgoing_documents"

    document_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    submission_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    organ_id: Mapped[str] = mapped_column(String(35), nullable=False, index=True)
    message_id: Mapped[str] = mapped_column(String(300), nullable=False)
    signed_sha256: Mapped[str] = mapped_column(String(64), nullable=False)  # blob of the signed, DKIM-signed message
    mic: Mapped[str] = mapped_column(String(64), nullable=False)  # base64 SHA-256 of the signed entity
    recipients: Mapped[str] = mapped_column(Text, nullable=False)  # comma-separated OrganIds
    accepted_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    effective_accepted_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    calendar_version: Mapped[str] = mapped_column(String(32), nullable=False)
