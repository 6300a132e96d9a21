"""The schema. Every key makes a write an idempotent upsert: an article is keyed by its stable id, a
version by its article and version hash, a feed sighting by article and feed, a mention by its
article, field, span and label, an entity and an event by the stable ids extract gives them, an alias
by entity and alias, an event's source by event and article, a story by its id.

Entities, events and stories carry ``revision``: a counter raised by every committed change to them
and published as the change's ``version`` (their content is merged from many articles, so no single
content hash names it)."""

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
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
    Column("story_id", String(128)),
    Index("ix_articles_published_at", "published_at"),
    Index("ix_articles_outlet", "outlet"),
    Index("ix_articles_story_id", "story_id"),
)

# Every version of an article that store accepted, the stored one included.
article_versions = Table(
    "article_versions",
    metadata,
    Column("article_id", String(64), ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("version", String(64), primary_key=True),
    Column("fetched_at", DateTime(timezone=True), nullable=False),
    Column("stored_at", DateTime(timezone=True), nullable=False),
)

# Every feed that carried an article: one article polled from two feeds is one article, two sightings.
# A feed store knows only from the article's ``feeds`` list (syndication) has no outlet and no first
# fetch time until a message from that feed itself brings them.
article_feeds = Table(
    "article_feeds",
    metadata,
    Column("article_id", String(64), ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("feed", String(200), primary_key=True),
    Column("outlet", String(200)),
    Column("first_fetched_at", DateTime(timezone=True)),
)

# The high-volume child tables (mentions, event sources, participants) have no foreign keys: store
# writes parents and children in one transaction, and a per-row check more than halved COPY's rate
# (see migration 0003).
mentions = Table(
    "mentions",
    metadata,
    Column("article_id", String(64), primary_key=True),
    Column("field", String(8), primary_key=True),
    Column("start", Integer, primary_key=True),
    Column("end", Integer, primary_key=True),
    Column("text", Text, nullable=False),
    Column("label", String(8), primary_key=True),
    Column("score", Float, nullable=False),
    Column("entity_id", String(128), index=True),
)

entities = Table(
    "entities",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("type", String(8), nullable=False),
    Column("name", Text, nullable=False),
    Column("gazetteer_id", String(128)),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("admin_area", Text),
    Column("country", Text),
    Column("revision", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# ``folded`` is the alias in lower case, what name and alias searches compare against.
entity_aliases = Table(
    "entity_aliases",
    metadata,
    Column("entity_id", String(128), ForeignKey("entities.id", ondelete="CASCADE"), primary_key=True),
    Column("alias", Text, primary_key=True),
    Column("folded", Text, nullable=False),
    Index("ix_entity_aliases_folded", "folded"),
)

events = Table(
    "events",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("type", String(100), nullable=False),
    Column("sub_type", String(100), nullable=False),
    Column("place_id", String(128)),
    Column("date", Date),
    Column("date_precision", String(8)),
    Column("revision", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_events_type", "type"),
    Index("ix_events_place_id", "place_id"),
    Index("ix_events_date", "date"),
)

# One row per article that reported an event, with that article's own figures: reports that disagree
# are kept side by side, never averaged.
event_sources = Table(
    "event_sources",
    metadata,
    Column("event_id", String(128), primary_key=True),
    Column("article_id", String(64), primary_key=True),
    Column("article_version", String(64), nullable=False),
    Column("actors", JSON, nullable=False),
    Column("targets", JSON, nullable=False),
    Column("place_id", String(128)),
    Column("date", Date),
    Column("date_precision", String(8)),
    Column("killed", Integer),
    Column("injured", Integer),
    Column("detained", Integer),
    Column("fled", Integer),
    Column("displaced", Integer),
    Column("evidence", Text, nullable=False),
    Column("confidence", Float, nullable=False),
    Index("ix_event_sources_article_id", "article_id"),
)

# Who took part in an event according to which source, so that events can be found by actor.
event_participants = Table(
    "event_participants",
    metadata,
    Column("event_id", String(128), primary_key=True),
    Column("article_id", String(64), primary_key=True),
    Column("entity_id", String(128), primary_key=True),
    Column("role", String(8), primary_key=True),
    Index("ix_event_participants_entity_id", "entity_id"),
)

stories = Table(
    "stories",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("revision", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Changes committed with the data they describe, published to the events stream after the commit.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("payload", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
