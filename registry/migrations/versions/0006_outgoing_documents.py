"""outgoing documents: accepted, signed and queued (gateway/documents.py)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outgoing_documents",
        sa.Column("document_id", sa.String(length=200), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("organ_id", sa.String(length=35), nullable=False),
        sa.Column("message_id", sa.String(length=300), nullable=False),
        sa.Column("signed_sha256", sa.String(length=64), nullable=False),
        sa.Column("mic", sa.String(length=64), nullable=False),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("effective_accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("calendar_version", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_outgoing_documents")),
    )
    op.create_index(op.f("ix_outgoing_documents_submission_id"), "outgoing_documents", ["submission_id"])
    op.create_index(op.f("ix_outgoing_documents_organ_id"), "outgoing_documents", ["organ_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_outgoing_documents_organ_id"), table_name="outgoing_documents")
    op.drop_index(op.f("ix_outgoing_documents_submission_id"), table_name="outgoing_documents")
    op.drop_table("outgoing_documents")
