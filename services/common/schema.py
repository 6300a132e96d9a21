"""Versioned message schemas: what travels between the services and to downstream consumers.

Every message carries ``schema_version``; a reader rejects a version it does not know rather than
guessing. Bump it, and keep reading the old one for a release, whenever a field changes meaning.
"""

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

SCHEMA_VERSION = 1

EntityLabel = Literal["PER", "ORG", "LOC", "MISC"]
TextField = Literal["title", "body"]
ChangeKind = Literal["article.upserted"]


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


class Mention(_Message):
    """A named-entity mention; ``start``/``end`` are character offsets into the article's
    ``title`` or ``body_text``, as ``field`` says."""

    field: TextField
    start: int = Field(ge=0)
    end: int = Field(gt=0)
    text: str
    label: EntityLabel
    score: float = Field(ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _span_is_not_empty(self) -> "Mention":
        if self.end <= self.start:
            raise ValueError(f"empty span: end {self.end} is not after start {self.start}")
        return self


class Tagger(_Message):
    backend: Literal["transformers", "spacy"]
    model: str


class TaggedArticle(_Message):
    schema_version: Literal[1] = 1
    article: Article
    mentions: list[Mention]
    tagger: Tagger
    tagged_at: AwareDatetime


class Change(_Message):
    """One committed change, as published on the events stream."""

    schema_version: Literal[1] = 1
    event_id: str
    kind: ChangeKind
    id: str
    version: str
    committed_at: AwareDatetime
    mentions: int = 0
