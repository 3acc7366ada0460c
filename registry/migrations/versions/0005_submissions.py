"""submissions: what was accepted at the SMTP edge (gateway/intake.py)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("login", sa.String(length=254), nullable=False),
        sa.Column("organ_id", sa.String(length=35), nullable=True),
        sa.Column("mail_from", sa.String(length=254), nullable=False),
        sa.Column("rcpt_tos", sa.Text(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("peer", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submissions")),
        sa.UniqueConstraint("login", "content_sha256", name=op.f("uq_submissions_login_content_sha256")),
    )
    op.create_index(op.f("ix_submissions_organ_id"), "submissions", ["organ_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_submissions_organ_id"), table_name="submissions")
    op.drop_table("submissions")
