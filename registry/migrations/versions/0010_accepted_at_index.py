"""outgoing documents: an index on accepted_at for the notice watch's window (gateway/workers/notice_watch.py)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_outgoing_documents_accepted_at"), "outgoing_documents", ["accepted_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_outgoing_documents_accepted_at"), table_name="outgoing_documents")
