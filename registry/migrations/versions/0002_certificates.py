"""certificates and trust events (certs/store.py)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

Written from certs/store.py: the certificates this gateway issued or holds, and the history of trust events.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trust_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("serial", sa.String(length=40), nullable=True),
        sa.Column("organ_id", sa.String(length=35), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "event IN ('ca_initialised', 'ca_imported', 'issued', 'renewed', 'activated', 'revoked', 'crl_issued')",
            name=op.f("ck_trust_events_event"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust_events")),
    )
    with op.batch_alter_table("trust_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trust_events_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_trust_events_serial"), ["serial"], unique=False)

    op.create_table(
        "certificates",
        sa.Column("serial", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("organ_id", sa.String(length=35), nullable=True),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("mailbox", sa.String(length=254), nullable=True),
        sa.Column("host", sa.String(length=253), nullable=True),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revocation_reason", sa.String(length=32), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("cert_path", sa.String(length=1000), nullable=True),
        sa.Column("key_path", sa.String(length=1000), nullable=True),
        sa.Column("renewed_from", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('smime', 'tls', 'ledger')", name=op.f("ck_certificates_kind")),
        sa.CheckConstraint(
            "status <> 'revoked' OR revoked_at IS NOT NULL", name=op.f("ck_certificates_revoked_has_time")
        ),
        sa.CheckConstraint("status IN ('valid', 'revoked')", name=op.f("ck_certificates_status")),
        sa.ForeignKeyConstraint(
            ["organ_id"],
            ["agencies.organ_id"],
            name=op.f("fk_certificates_organ_id_agencies"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("serial", name=op.f("pk_certificates")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_certificates_fingerprint")),
    )
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_certificates_organ_id"), ["organ_id"], unique=False)
        batch_op.create_index(
            "uq_certificates_active",
            ["kind", "organ_id"],
            unique=True,
            sqlite_where=sa.text("is_active"),
            postgresql_where=sa.text("is_active"),
        )


def downgrade() -> None:
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_index("uq_certificates_active")
        batch_op.drop_index(batch_op.f("ix_certificates_organ_id"))
    op.drop_table("certificates")
    with op.batch_alter_table("trust_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trust_events_serial"))
        batch_op.drop_index(batch_op.f("ix_trust_events_at"))
    op.drop_table("trust_events")
