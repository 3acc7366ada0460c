"""registry: agencies, mailboxes, accounts, peer gateways, number sequences

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-25

Written from registry/models.py; tests compare the migrated schema with the models, so the two cannot drift.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agencies",
        sa.Column("organ_id", sa.String(length=35), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("short_name", sa.String(length=32), nullable=True),
        sa.Column("parent_id", sa.String(length=35), nullable=True),
        sa.Column("gateway", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("fax", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("suspended_since", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('active', 'suspended')", name=op.f("ck_agencies_status")),
        sa.CheckConstraint("parent_id IS NULL OR parent_id <> organ_id", name=op.f("ck_agencies_not_own_parent")),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["agencies.organ_id"], name=op.f("fk_agencies_parent_id_agencies"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("organ_id", name=op.f("pk_agencies")),
    )
    with op.batch_alter_table("agencies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agencies_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "peer_gateways",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("smtp_host", sa.String(length=253), nullable=False),
        sa.Column("smtp_port", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("tls_fingerprint", sa.String(length=128), nullable=True),
        sa.Column("dkim_selector", sa.String(length=63), nullable=True),
        sa.Column("dkim_public_key", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("smtp_port BETWEEN 1 AND 65535", name=op.f("ck_peer_gateways_smtp_port")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_peer_gateways")),
        sa.UniqueConstraint("domain", name=op.f("uq_peer_gateways_domain")),
        sa.UniqueConstraint("name", name=op.f("uq_peer_gateways_name")),
    )
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("login", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("organ_id", sa.String(length=35), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(role IN ('clerk', 'system') AND organ_id IS NOT NULL)"
            " OR (role IN ('auditor', 'admin') AND organ_id IS NULL)",
            name=op.f("ck_accounts_agency_for_role"),
        ),
        sa.CheckConstraint("role IN ('clerk', 'system', 'auditor', 'admin')", name=op.f("ck_accounts_role")),
        sa.ForeignKeyConstraint(
            ["organ_id"], ["agencies.organ_id"], name=op.f("fk_accounts_organ_id_agencies"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("login", name=op.f("uq_accounts_login")),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_accounts_organ_id"), ["organ_id"], unique=False)

    op.create_table(
        "agency_mailboxes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("organ_id", sa.String(length=35), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organ_id"], ["agencies.organ_id"], name=op.f("fk_agency_mailboxes_organ_id_agencies"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_mailboxes")),
        sa.UniqueConstraint("address", name=op.f("uq_agency_mailboxes_address")),
    )
    with op.batch_alter_table("agency_mailboxes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agency_mailboxes_organ_id"), ["organ_id"], unique=False)
        batch_op.create_index(
            "uq_agency_mailboxes_primary",
            ["organ_id"],
            unique=True,
            sqlite_where=sa.text("is_primary"),
            postgresql_where=sa.text("is_primary"),
        )

    op.create_table(
        "number_sequences",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("organ_id", sa.String(length=35), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.CheckConstraint("kind IN ('outgoing', 'incoming')", name=op.f("ck_number_sequences_kind")),
        sa.CheckConstraint("last_value >= 1", name=op.f("ck_number_sequences_positive")),
        sa.ForeignKeyConstraint(
            ["organ_id"], ["agencies.organ_id"], name=op.f("fk_number_sequences_organ_id_agencies"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_number_sequences")),
        sa.UniqueConstraint("organ_id", "year", "kind", name=op.f("uq_number_sequences_organ_id_year_kind")),
    )


def downgrade() -> None:
    op.drop_table("number_sequences")
    with op.batch_alter_table("agency_mailboxes", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_agency_mailboxes_primary", sqlite_where=sa.text("is_primary"), postgresql_where=sa.text("is_primary")
        )
        batch_op.drop_index(batch_op.f("ix_agency_mailboxes_organ_id"))

    op.drop_table("agency_mailboxes")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accounts_organ_id"))

    op.drop_table("accounts")
    op.drop_table("peer_gateways")
    with op.batch_alter_table("agencies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agencies_parent_id"))

    # SQLite empties a table before dropping it, and the self-reference would refuse to delete parents first.
    op.execute("UPDATE agencies SET parent_id = NULL")
    op.drop_table("agencies")
