"""Versioned message schemas: what travels between the services and to downstream consumers.

Every message carries ``schema_version``; a reader rejects a version it does not know rather than
guessing. Bump it, and keep reading the old one for a release, whenever a field changes meaning.
"""

import datetime as dt
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

# Each message type has its own version: ingest → extract (Article), extract → store
# (TaggedArticle), store → downstream (Change).
ARTICLE_SCHEMA = 1
TAGGED_SCHEMA = 2
CHANGE_SCHEMA = 2

EntityLabel = Literal["PER", "ORG", "LOC", "MISC"]
TextField = Literal["title", "body"]
ChangeKind = Literal["article.upserted", "entity.upserted", "event.upserted", "event.deleted", "story.updated"]
DatePrecision = Literal["day", "week", "month", "year"]


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Article(_Message):
    """One normalised feed item. ``id`` is stable across polls and feeds; ``version`` changes
    exactly when the normalised content does."""

    schema_version: Literal[1] = 1
    id: str = Field(min_length=16, max_length=64)
    version: str = Field(min_length=16, max_length=64)
    feed: str
    outlet: str
    url: str
    title: str
    authors: list[str] = []
    published_at: AwareDatetime
    # True when the feed gave no usable date and ``published_at`` is the fetch time.
    published_at_is_fetch_time: bool = False
    fetched_at: AwareDatetime
    summary: str = ""
    body_html: str = ""
    body_text: str = ""
    language: str | None = None
    # Every feed known to carry this article (the same story syndicated in several feeds is one
    # article). Optional with a default, so producers that do not set it still validate.
    feeds: list[str] = []


class Mention(_Message):
    """A named-entity mention; ``start``/``end`` are character offsets into the article's
    ``title`` or ``body_text``, as ``field`` says."""

    field: TextField
    start: int = Field(ge=0)
    end: int = Field(gt=0)
    text: str
    label: EntityLabel
    score: float = Field(ge=0.0, le=1.0)
    # The canonical entity this mention was linked to; None when linking found no entity for it.
    entity_id: str | None = None

    @model_validator(mode="after")
    def _span_is_not_empty(self) -> "Mention":
        if self.end <= self.start:
            raise ValueError(f"empty span: end {self.end} is not after start {self.start}")
        return self


class Entity(_Message):
    """A canonical real-world thing. ``id`` is stable: every worker links the same thing to the same
    id, whatever spelling an article used."""

    id: str = Field(min_length=1, max_length=128)
    type: EntityLabel
    name: str
    aliases: list[str] = []
    # For places: the gazetteer entry ("geonames:1311874", "mimu:...") and what it knows.
    gazetteer_id: str | None = None
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    admin_area: str | None = None
    country: str | None = None


class EventCounts(_Message):
    """Figures as numbers; None where the article gives none. Words such as "hundreds" are coded as
    ACLED codes them."""

    killed: int | None = Field(None, ge=0)
    injured: int | None = Field(None, ge=0)
    detained: int | None = Field(None, ge=0)
    fled: int | None = Field(None, ge=0)
    displaced: int | None = Field(None, ge=0)


class Event(_Message):
    """One happening as one article reports it. ``id`` is the same for every article that reports
    the same happening (same type, place and day), so store merges their reports into one event with
    several sources, keeping each source's figures."""

    id: str = Field(min_length=1, max_length=128)
    type: str  # ACLED event type, e.g. "Battles"
    sub_type: str  # ACLED sub-event type, e.g. "Non-state actor overtakes territory"
    actors: list[str] = []  # entity ids
    targets: list[str] = []  # entity ids
    place_id: str | None = None  # entity id of a LOC entity
    date: dt.date | None = None
    date_precision: DatePrecision | None = None
    counts: EventCounts = EventCounts()
    evidence: str  # the sentence the event was read from
    confidence: float = Field(ge=0.0, le=1.0)


class Tagger(_Message):
    backend: Literal["transformers", "spacy"]
    model: str


class TaggedArticle(_Message):
    schema_version: Literal[2] = 2
    article: Article
    mentions: list[Mention]
    entities: list[Entity] = []
    events: list[Event] = []
    # Articles from any outlet that report the same happening share a story id.
    story_id: str | None = None
    tagger: Tagger
    tagged_at: AwareDatetime


class Change(_Message):
    """One committed change, as published on the events stream: what kind of thing changed, its id
    and version. Consumers fetch the rest from the read API or the database."""

    schema_version: Literal[2] = 2
    event_id: str
    kind: ChangeKind
    id: str
    version: str
    committed_at: AwareDatetime
    mentions: int = 0
