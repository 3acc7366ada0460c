"""outgoing numbers assigned by the gateway: the number, the submitted Message-ID and fingerprint (gateway/documents.py)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outgoing_documents") as batch:
        batch.add_column(sa.Column("assigned_number", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("submitted_message_id", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("submitted_fingerprint", sa.String(length=64), nullable=True))
    op.create_index(
        "ux_outgoing_documents_submitted", "outgoing_documents", ["organ_id", "submitted_message_id"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ux_outgoing_documents_submitted", table_name="outgoing_documents")
    with op.batch_alter_table("outgoing_documents") as batch:
        batch.drop_column("submitted_fingerprint")
        batch.drop_column("submitted_message_id")
        batch.drop_column("assigned_number")
