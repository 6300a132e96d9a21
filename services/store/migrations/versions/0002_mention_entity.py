"""mentions carry the canonical entity they were linked to

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mentions") as batch:
        batch.add_column(sa.Column("entity_id", sa.String(128), nullable=True))
        batch.create_index("ix_mentions_entity_id", ["entity_id"])


def downgrade() -> None:
    with op.batch_alter_table("mentions") as batch:
        batch.drop_index("ix_mentions_entity_id")
        batch.drop_column("entity_id")
