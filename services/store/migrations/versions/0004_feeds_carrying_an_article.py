"""article_feeds: feeds known only from an article's list of feeds that carried it

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


# A feed named in ``Article.feeds`` (syndication, as ingest saw it) but never the feed a message
# came from has no outlet and no fetch time that store knows: both become optional, NULL for it.
def upgrade() -> None:
    with op.batch_alter_table("article_feeds") as batch:
        batch.alter_column("outlet", existing_type=sa.String(200), nullable=True)
        batch.alter_column("first_fetched_at", existing_type=sa.DateTime(timezone=True), nullable=True)


def downgrade() -> None:
    # Sightings known only from the list cannot satisfy the old constraints: they go.
    op.execute("DELETE FROM article_feeds WHERE outlet IS NULL OR first_fetched_at IS NULL")
    with op.batch_alter_table("article_feeds") as batch:
        batch.alter_column("outlet", existing_type=sa.String(200), nullable=False)
        batch.alter_column("first_fetched_at", existing_type=sa.DateTime(timezone=True), nullable=False)
