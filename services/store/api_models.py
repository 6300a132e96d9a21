"""What the read API returns: the response models that its OpenAPI schema publishes."""

import datetime as dt

from pydantic import BaseModel


class Problem(BaseModel):
    """Every 4xx answer: what is wrong, in words."""

    detail: str


class ArticleSummary(BaseModel):
    id: str
    version: str
    outlet: str
    feed: str
    url: str
    title: str
    language: str | None
    published_at: dt.datetime
    fetched_at: dt.datetime
    story_id: str | None


class ArticlePage(BaseModel):
    items: list[ArticleSummary]
    next_cursor: str | None


class MentionOut(BaseModel):
    field: str
    start: int
    end: int
    text: str
    label: str
    score: float
    entity_id: str | None


class Counts(BaseModel):
    killed: int | None
    injured: int | None
    detained: int | None
    fled: int | None
    displaced: int | None


class ArticleEvent(BaseModel):
    """An event as this article reported it."""

    event_id: str
    type: str
    sub_type: str
    place_id: str | None
    date: dt.date | None
    actors: list[str]
    targets: list[str]
    counts: Counts
    evidence: str
    confidence: float


class FeedSighting(BaseModel):
    """A feed that carried the article. ``outlet`` and ``first_fetched_at`` are null for a feed
    known only from the article's list of feeds (syndication), never fetched from by store's input."""

    feed: str
    outlet: str | None
    first_fetched_at: dt.datetime | None


class ArticleDetail(ArticleSummary):
    authors: list[str]
    summary: str
    body_text: str
    tagger_backend: str
    tagger_model: str
    stored_at: dt.datetime
    versions: list[str]
    feeds: list[FeedSighting]
    mentions: list[MentionOut]
    events: list[ArticleEvent]


class EntitySummary(BaseModel):
    id: str
    type: str
    name: str
    gazetteer_id: str | None
    latitude: float | None
    longitude: float | None
    admin_area: str | None
    country: str | None
    revision: int


class EntityPage(BaseModel):
    items: list[EntitySummary]
    next_cursor: str | None


class EventSummary(BaseModel):
    id: str
    type: str
    sub_type: str
    place_id: str | None
    date: dt.date | None
    date_precision: str | None
    revision: int
    updated_at: dt.datetime
    sources: int


class EntityDetail(EntitySummary):
    aliases: list[str]
    mentions: int
    articles: int
    recent_events: list[EventSummary]


class EventPage(BaseModel):
    items: list[EventSummary]
    next_cursor: str | None


class EventSource(BaseModel):
    """One article's report of an event, with its own figures."""

    article_id: str
    article_version: str
    outlet: str
    url: str
    title: str
    published_at: dt.datetime
    actors: list[str]
    targets: list[str]
    place_id: str | None
    date: dt.date | None
    date_precision: str | None
    counts: Counts
    evidence: str
    confidence: float


class EventDetail(EventSummary):
    actors: list[str]
    targets: list[str]
    source_reports: list[EventSource]


class StoryArticle(BaseModel):
    id: str
    title: str
    url: str
    published_at: dt.datetime


class OutletTimeline(BaseModel):
    outlet: str
    first_published_at: dt.datetime
    articles: list[StoryArticle]


class StoryDetail(BaseModel):
    id: str
    revision: int
    updated_at: dt.datetime
    articles: int
    first_published_at: dt.datetime | None
    last_published_at: dt.datetime | None
    outlets: list[OutletTimeline]


class StorySummary(BaseModel):
    id: str
    revision: int
    updated_at: dt.datetime


class StoryPage(BaseModel):
    items: list[StorySummary]
    next_cursor: str | None


class Health(BaseModel):
    status: str
    detail: str | None = None
