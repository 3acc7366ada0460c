"""Records of the certificates this gateway issued or holds, and the trust events (issue, rollover, revocation).

The files (PEM, keys) stay under ``<home>/keys``; the database holds what is needed to list, choose and audit them.
An agency may hold several valid S/MIME certificates at once (rollover overlap); exactly one of them, at most, is
*active*: the one outgoing documents are signed with. Switching it is an explicit, recorded event.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from registry.models import ADDRESS_LENGTH, ORGAN_ID_LENGTH, Base, UtcDateTime, utcnow

SERIAL_LENGTH = 40  # 159-bit random serials in hex


class CertKind(StrEnum):
    SMIME = "smime"
    TLS = "tls"
    LEDGER = "ledger"


class CertStatus(StrEnum):
    VALID = "valid"
    REVOKED = "revoked"


class TrustEventKind(StrEnum):
    CA_INITIALISED = "ca_initialised"
    CA_IMPORTED = "ca_imported"
    ISSUED = "issued"
    RENEWED = "renewed"
    ACTIVATED = "activated"
    REVOKED = "revoked"
    CRL_ISSUED = "crl_issued"


def _in(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class CertificateRecord(Base):
    __tablename__ = "certificates"
    __table_args__ = (
        CheckConstraint(_in("kind", CertKind), name="kind"),
        CheckConstraint(_in("status", CertStatus), name="status"),
        CheckConstraint("status <> 'revoked' OR revoked_at IS NOT NULL", name="revoked_has_time"),
        Index(
            "uq_certificates_active",
            "kind",
            "organ_id",
            unique=True,
            sqlite_where="is_active",
            postgresql_where="is_active",
        ),
    )

    serial: Mapped[str] = mapped_column(String(SERIAL_LENGTH), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    organ_id: Mapped[str | None] = mapped_column(
        ForeignKey("agencies.organ_id", ondelete="RESTRICT"), index=True, default=None
    )
    subject: Mapped[str] = mapped_column(String(500))
    mailbox: Mapped[str | None] = mapped_column(String(ADDRESS_LENGTH), default=None)
    host: Mapped[str | None] = mapped_column(String(253), default=None)
    not_before: Mapped[datetime] = mapped_column(UtcDateTime())
    not_after: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    status: Mapped[str] = mapped_column(String(16), default=CertStatus.VALID.value)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    revocation_reason: Mapped[str | None] = mapped_column(String(32), default=None)
    is_active: Mapped[bool] = mapped_column(Boolean, default=False)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    cert_path: Mapped[str | None] = mapped_column(String(1000), default=None)
    key_path: Mapped[str | None] = mapped_column(String(1000), default=None)
    renewed_from: Mapped[str | None] = mapped_column(String(SERIAL_LENGTH), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    # cert_path and key_path are stored relative to the home's keys folder, so a home copied or moved elsewhere (a
    # restored backup, a new server) uses its own files, never the original home's. Records written before that
    # hold absolute paths; ``keys_dir / absolute`` is the absolute path, so they keep working unchanged.
    def cert_file(self, keys_dir: Path) -> Path | None:
        return keys_dir / self.cert_path if self.cert_path else None

    def key_file(self, keys_dir: Path) -> Path | None:
        return keys_dir / self.key_path if self.key_path else None

    def state(self, now: datetime) -> str:
        """What a person wants to see: revoked, expired, not yet valid, or valid."""
        if self.status == CertStatus.REVOKED.value:
            return "revoked"
        if self.not_after is not None and now > self.not_after:
            return "expired"
        if now < self.not_before:
            return "not-yet-valid"
        return "valid"


class TrustEvent(Base):
    """Append-only history of what happened to keys and certificates (the ledger issue may chain these)."""

    __tablename__ = "trust_events"
    __table_args__ = (CheckConstraint(_in("event", TrustEventKind), name="event"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    event: Mapped[str] = mapped_column(String(32))
    serial: Mapped[str | None] = mapped_column(String(SERIAL_LENGTH), index=True, default=None)
    organ_id: Mapped[str | None] = mapped_column(String(ORGAN_ID_LENGTH), default=None)
    detail: Mapped[str] = mapped_column(Text, default="")
