"""peer gateways: room for several pinned TLS fingerprints (old and new during a rollover, gateway/smtp/pinning.py)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("peer_gateways") as batch:
        batch.alter_column(
            "tls_fingerprint", existing_type=sa.String(length=128), type_=sa.String(length=320), existing_nullable=True
        )


def downgrade() -> None:
    # The old column holds one pin: keep the first (the one listed first stays pinned; the others are dropped).
    op.execute("UPDATE peer_gateways SET tls_fingerprint = substr(tls_fingerprint, 1, 64)")
    with op.batch_alter_table("peer_gateways") as batch:
        batch.alter_column(
            "tls_fingerprint", existing_type=sa.String(length=320), type_=sa.String(length=128), existing_nullable=True
        )
