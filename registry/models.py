"""The registry's tables, and the declarative ``Base`` every other package puts its own tables on.

One ``Base`` (one ``MetaData``) for the whole project lets a single Alembic history migrate everything and lets
foreign keys cross package lines (certificates point at agencies, ledger entries at accounts). The naming convention
gives every constraint a stable name, which Alembic needs to alter or drop it on SQLite (batch mode) and PostgreSQL
alike.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ORGAN_ID_LENGTH = 35
ADDRESS_LENGTH = 254


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[datetime]):
    """Timestamps stored in UTC and always handed back time-zone aware, whatever the back-end keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC timestamp column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class AgencyStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class Role(StrEnum):
    CLERK = "clerk"
    SYSTEM = "system"
    AUDITOR = "auditor"
    ADMIN = "admin"


class SequenceKind(StrEnum):
    OUTGOING = "outgoing"
    INCOMING = "incoming"


def _in(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class _Timestamps:
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Agency(_Timestamps, Base):
    """An agency with a records office (văn thư); ``organ_id`` is its QCVN 102 code."""

    __tablename__ = "agencies"
    __table_args__ = (
        CheckConstraint(_in("status", AgencyStatus), name="status"),
        CheckConstraint("parent_id IS NULL OR parent_id <> organ_id", name="not_own_parent"),
    )

    organ_id: Mapped[str] = mapped_column(String(ORGAN_ID_LENGTH), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str | None] = mapped_column(String(32))
    parent_id: Mapped[str | None] = mapped_column(
        ForeignKey("agencies.organ_id", ondelete="RESTRICT"), index=True, default=None
    )
    gateway: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32), default=None)
    fax: Mapped[str | None] = mapped_column(String(32), default=None)
    status: Mapped[str] = mapped_column(String(16), default=AgencyStatus.ACTIVE.value)
    suspended_since: Mapped[date | None] = mapped_column(Date, default=None)

    mailboxes: Mapped[list[AgencyMailbox]] = relationship(
        back_populates="agency",
        cascade="all, delete-orphan",
        order_by=lambda: [AgencyMailbox.is_primary.desc(), AgencyMailbox.address],
    )

    @property
    def primary_mailbox(self) -> str | None:
        for mailbox in self.mailboxes:
            if mailbox.is_primary:
                return mailbox.address
        return None

    @property
    def active(self) -> bool:
        return self.status == AgencyStatus.ACTIVE.value


class AgencyMailbox(Base):
    """A records-office mailbox of an agency; exactly one per agency is primary (where documents go by default)."""

    __tablename__ = "agency_mailboxes"
    __table_args__ = (
        Index(
            "uq_agency_mailboxes_primary",
            "organ_id",
            unique=True,
            sqlite_where=text("is_primary"),
            postgresql_where=text("is_primary"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    organ_id: Mapped[str] = mapped_column(ForeignKey("agencies.organ_id", ondelete="CASCADE"), index=True)
    address: Mapped[str] = mapped_column(String(ADDRESS_LENGTH), unique=True)
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)

    agency: Mapped[Agency] = relationship(back_populates="mailboxes")


class Account(_Timestamps, Base):
    """One credential per mailbox address; clerks and agency systems act for one agency."""

    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint(_in("role", Role), name="role"),
        CheckConstraint(
            "(role IN ('clerk', 'system') AND organ_id IS NOT NULL)"
            " OR (role IN ('auditor', 'admin') AND organ_id IS NULL)",
            name="agency_for_role",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    login: Mapped[str] = mapped_column(String(ADDRESS_LENGTH), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    organ_id: Mapped[str | None] = mapped_column(
        ForeignKey("agencies.organ_id", ondelete="RESTRICT"), index=True, default=None
    )
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_changed_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    agency: Mapped[Agency | None] = relationship()


class PeerGateway(_Timestamps, Base):
    """Another lienthong (or compatible) gateway we exchange with; trust material arrives with later issues."""

    __tablename__ = "peer_gateways"
    __table_args__ = (CheckConstraint("smtp_port BETWEEN 1 AND 65535", name="smtp_port"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    smtp_host: Mapped[str] = mapped_column(String(253))
    smtp_port: Mapped[int] = mapped_column(Integer, default=25)
    domain: Mapped[str] = mapped_column(String(253), unique=True)
    # SHA-256 pins of its TLS certificate, comma-separated (several during a rollover): gateway/smtp/pinning.py
    tls_fingerprint: Mapped[str | None] = mapped_column(String(320), default=None)
    dkim_selector: Mapped[str | None] = mapped_column(String(63), default=None)
    dkim_public_key: Mapped[str | None] = mapped_column(Text, default=None)


class NumberSequence(Base):
    """The last number handed out per agency, year and direction (outgoing/incoming registers restart yearly)."""

    __tablename__ = "number_sequences"
    __table_args__ = (
        CheckConstraint(_in("kind", SequenceKind), name="kind"),
        CheckConstraint("last_value >= 1", name="positive"),
        UniqueConstraint("organ_id", "year", "kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    organ_id: Mapped[str] = mapped_column(ForeignKey("agencies.organ_id", ondelete="RESTRICT"))
    year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    last_value: Mapped[int] = mapped_column(Integer)


REGISTRY_TABLES = ("agencies", "agency_mailboxes", "accounts", "peer_gateways", "number_sequences")
