"""The schema. Every key makes a write an idempotent upsert: an article is keyed by its stable id,
a mention by its article, field, span and label."""

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

articles = Table(
    "articles",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("version", String(64), nullable=False),
    Column("feed", String(200), nullable=False),
    Column("outlet", String(200), nullable=False),
    Column("url", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("authors", JSON, nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False),
    Column("published_at_is_fetch_time", Boolean, nullable=False),
    Column("fetched_at", DateTime(timezone=True), nullable=False),
    Column("summary", Text, nullable=False),
    Column("body_html", Text, nullable=False),
    Column("body_text", Text, nullable=False),
    Column("language", String(35)),
    Column("tagger_backend", String(32), nullable=False),
    Column("tagger_model", String(200), nullable=False),
    Column("stored_at", DateTime(timezone=True), nullable=False),
    Index("ix_articles_published_at", "published_at"),
    Index("ix_articles_outlet", "outlet"),
)

mentions = Table(
    "mentions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("article_id", String(64), ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("field", String(8), nullable=False),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("label", String(8), nullable=False),
    Column("score", Float, nullable=False),
    Column("entity_id", String(128), index=True),
    UniqueConstraint("article_id", "field", "start", "end", "label", name="uq_mentions_span"),
)

# Changes committed with the data they describe, published to the events stream after the commit.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("payload", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
