"""Outgoing documents: what the processing worker accepted, signed and queued for delivery.

One row per DocumentId — the natural de-duplication key of QCVN 102 — so a document submitted twice (a client retry,
a second clerk) is delivered once. The row keeps the hash of the exact signed bytes and the MIC that receipts must
quote back; the bytes themselves are in the blob store.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from registry.models import Base, UtcDateTime


class OutgoingDocument(Base):
    __tablename__ = "outgoing_documents"
    # A document the gateway numbered is found again by the Message-ID its sender gave it (a retried submission).
    __table_args__ = (Index("ux_outgoing_documents_submitted", "organ_id", "submitted_message_id", unique=True),)

    document_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    submission_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    organ_id: Mapped[str] = mapped_column(String(35), nullable=False, index=True)
    message_id: Mapped[str] = mapped_column(String(300), nullable=False)
    signed_sha256: Mapped[str] = mapped_column(String(64), nullable=False)  # blob of the signed, DKIM-signed message
    mic: Mapped[str] = mapped_column(String(64), nullable=False)  # base64 SHA-256 of the signed entity
    recipients: Mapped[str] = mapped_column(Text, nullable=False)  # comma-separated OrganIds
    accepted_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, index=True)
    effective_accepted_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    calendar_version: Mapped[str] = mapped_column(String(32), nullable=False)
    # Set only when the gateway assigned the outgoing number (the sender left CodeNumber empty): the number, the
    # Message-ID of the unnumbered submission, and the SHA-256 fingerprint of what was submitted (docs/workers.md).
    assigned_number: Mapped[int | None] = mapped_column(Integer)
    submitted_message_id: Mapped[str | None] = mapped_column(String(300))
    submitted_fingerprint: Mapped[str | None] = mapped_column(String(64))


class OutgoingRecipient(Base):
    """The sender's view of one recipient of one document: when it was sent (Art. 11.2: the receipt came back)."""

    __tablename__ = "outgoing_recipients"

    document_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    organ_id: Mapped[str] = mapped_column(String(35), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), nullable=False)  # sent | refused | mic_mismatch
    incoming_number: Mapped[int | None] = mapped_column(Integer)
    received_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # as the recipient's receipt states it
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)  # when the receipt came back
    effective_sent_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    calendar_version: Mapped[str] = mapped_column(String(32), nullable=False)
    receipt_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    reason_code: Mapped[str | None] = mapped_column(String(40))


class IncomingDocument(Base):
    """The recipient's register entry (số đến) for a document that reached its records office."""

    __tablename__ = "incoming_documents"

    document_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    organ_id: Mapped[str] = mapped_column(String(35), primary_key=True)
    sender_organ_id: Mapped[str] = mapped_column(String(35), nullable=False)
    incoming_number: Mapped[int] = mapped_column(Integer, nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    message_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    mailbox: Mapped[str] = mapped_column(String(254), nullable=False)
    location: Mapped[str] = mapped_column(String(300), nullable=False)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    effective_received_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    calendar_version: Mapped[str] = mapped_column(String(32), nullable=False)
    receipt_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
