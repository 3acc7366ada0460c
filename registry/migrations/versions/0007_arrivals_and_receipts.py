"""incoming documents (số đến) and the sender's per-recipient sent times (gateway/documents.py)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outgoing_recipients",
        sa.Column("document_id", sa.String(length=200), nullable=False),
        sa.Column("organ_id", sa.String(length=35), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("incoming_number", sa.Integer(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("effective_sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("calendar_version", sa.String(length=32), nullable=False),
        sa.Column("receipt_sha256", sa.String(length=64), nullable=False),
        sa.Column("reason_code", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("document_id", "organ_id", name=op.f("pk_outgoing_recipients")),
    )
    op.create_table(
        "incoming_documents",
        sa.Column("document_id", sa.String(length=200), nullable=False),
        sa.Column("organ_id", sa.String(length=35), nullable=False),
        sa.Column("sender_organ_id", sa.String(length=35), nullable=False),
        sa.Column("incoming_number", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("message_sha256", sa.String(length=64), nullable=False),
        sa.Column("mailbox", sa.String(length=254), nullable=False),
        sa.Column("location", sa.String(length=300), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("effective_received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("calendar_version", sa.String(length=32), nullable=False),
        sa.Column("receipt_sha256", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("document_id", "organ_id", name=op.f("pk_incoming_documents")),
    )


def downgrade() -> None:
    op.drop_table("incoming_documents")
    op.drop_table("outgoing_recipients")
