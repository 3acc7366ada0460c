"""queue: durable work items (gateway/queue.py)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "queue_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("task", sa.String(length=32), nullable=False),
        sa.Column("dedup_key", sa.String(length=300), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_items")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_queue_items_dedup_key")),
    )
    op.create_index(op.f("ix_queue_items_state"), "queue_items", ["state"])
    op.create_index(op.f("ix_queue_items_next_attempt_at"), "queue_items", ["next_attempt_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_queue_items_next_attempt_at"), table_name="queue_items")
    op.drop_index(op.f("ix_queue_items_state"), table_name="queue_items")
    op.drop_table("queue_items")
