"""The read API's queries: read-only, keyset-paginated, the same SQL on SQLite and PostgreSQL.

A cursor is the sort key of the last row of a page, base64url-encoded JSON: opaque to clients, stable
while rows are being added (no offsets that shift under the reader).
"""

import base64
import binascii
import datetime as dt
import json
from collections.abc import Sequence
from datetime import UTC
from typing import Any

from sqlalchemy import Connection, and_, distinct, func, or_, select, tuple_

from services.store.api_models import (
    ArticleDetail,
    ArticleEvent,
    ArticlePage,
    ArticleSummary,
    Counts,
    EntityDetail,
    EntityPage,
    EntitySummary,
    EventDetail,
    EventPage,
    EventSource,
    EventSummary,
    FeedSighting,
    MentionOut,
    OutletTimeline,
    StoryArticle,
    StoryDetail,
    StoryPage,
    StorySummary,
)
from services.store.errors import BadCursorError
from services.store.repository import COUNT_FIELDS
from services.store.tables import (
    article_feeds,
    article_versions,
    articles,
    entities,
    entity_aliases,
    event_participants,
    event_sources,
    events,
    mentions,
    stories,
)

# Events without a date sort after every dated one, in both databases.
NO_DATE = dt.date(1, 1, 1)
RECENT_EVENTS = 20


def encode_cursor(*key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, default=str).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, types: Sequence[type]) -> list[Any]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != len(types):
            raise ValueError("wrong shape")
        values: list[Any] = []
        for value, kind in zip(raw, types, strict=True):
            if kind is dt.datetime:
                values.append(utc(dt.datetime.fromisoformat(value)))
            elif kind is dt.date:
                values.append(dt.date.fromisoformat(value))
            elif isinstance(value, str):
                values.append(value)
            else:
                raise ValueError("wrong type")
        return values
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadCursorError("cursor is not one this API issued (take next_cursor from a previous page)") from exc


def utc(moment: dt.datetime) -> dt.datetime:
    """Compared in UTC: SQLite keeps datetimes as text without their offset, and store writes UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _counts(row: Any) -> Counts:
    return Counts(**{name: getattr(row, name) for name in COUNT_FIELDS})


def _summary(row: Any) -> ArticleSummary:
    return ArticleSummary(
        id=row.id,
        version=row.version,
        outlet=row.outlet,
        feed=row.feed,
        url=row.url,
        title=row.title,
        language=row.language,
        published_at=_aware(row.published_at),
        fetched_at=_aware(row.fetched_at),
        story_id=row.story_id,
    )


SUMMARY_COLUMNS = (
    articles.c.id,
    articles.c.version,
    articles.c.outlet,
    articles.c.feed,
    articles.c.url,
    articles.c.title,
    articles.c.language,
    articles.c.published_at,
    articles.c.fetched_at,
    articles.c.story_id,
)


def list_articles(
    connection: Connection,
    limit: int,
    cursor: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    outlet: str | None = None,
    language: str | None = None,
    entity: str | None = None,
    story: str | None = None,
) -> ArticlePage:
    """Newest first by publication time."""
    query = select(*SUMMARY_COLUMNS)
    if since is not None:
        query = query.where(articles.c.published_at >= utc(since))
    if until is not None:
        query = query.where(articles.c.published_at < utc(until))
    if outlet is not None:
        query = query.where(articles.c.outlet == outlet)
    if language is not None:
        query = query.where(articles.c.language == language)
    if story is not None:
        query = query.where(articles.c.story_id == story)
    if entity is not None:
        query = query.where(articles.c.id.in_(select(mentions.c.article_id).where(mentions.c.entity_id == entity)))
    if cursor is not None:
        published, last_id = decode_cursor(cursor, (dt.datetime, str))
        query = query.where(tuple_(articles.c.published_at, articles.c.id) < tuple_(published, last_id))
    rows = connection.execute(
        query.order_by(articles.c.published_at.desc(), articles.c.id.desc()).limit(limit + 1)
    ).all()
    items = [_summary(r) for r in rows[:limit]]
    following = encode_cursor(utc(items[-1].published_at).isoformat(), items[-1].id) if len(rows) > limit else None
    return ArticlePage(items=items, next_cursor=following)


def get_article(connection: Connection, article_id: str) -> ArticleDetail | None:
    row = connection.execute(select(articles).where(articles.c.id == article_id)).first()
    if row is None:
        return None
    versions = connection.execute(
        select(article_versions.c.version)
        .where(article_versions.c.article_id == article_id)
        .order_by(article_versions.c.fetched_at)
    ).scalars()
    feeds = connection.execute(
        select(article_feeds).where(article_feeds.c.article_id == article_id).order_by(article_feeds.c.feed)
    ).all()
    found = connection.execute(
        select(mentions)
        .where(mentions.c.article_id == article_id)
        .order_by(mentions.c.field, mentions.c.start, mentions.c.label)
    ).all()
    reports = connection.execute(
        select(event_sources, events.c.type, events.c.sub_type)
        .join(events, events.c.id == event_sources.c.event_id)
        .where(event_sources.c.article_id == article_id)
        .order_by(event_sources.c.event_id)
    ).all()
    return ArticleDetail(
        **_summary(row).model_dump(),
        authors=list(row.authors),
        summary=row.summary,
        body_text=row.body_text,
        tagger_backend=row.tagger_backend,
        tagger_model=row.tagger_model,
        stored_at=_aware(row.stored_at),
        versions=list(versions),
        feeds=[
            FeedSighting(
                feed=f.feed,
                outlet=f.outlet,
                first_fetched_at=_aware(f.first_fetched_at) if f.first_fetched_at is not None else None,
            )
            for f in feeds
        ],
        mentions=[
            MentionOut(
                field=m.field,
                start=m.start,
                end=m.end,
                text=m.text,
                label=m.label,
                score=m.score,
                entity_id=m.entity_id,
            )
            for m in found
        ],
        events=[
            ArticleEvent(
                event_id=r.event_id,
                type=r.type,
                sub_type=r.sub_type,
                place_id=r.place_id,
                date=r.date,
                actors=list(r.actors),
                targets=list(r.targets),
                counts=_counts(r),
                evidence=r.evidence,
                confidence=r.confidence,
            )
            for r in reports
        ],
    )


def _entity_summary(row: Any) -> EntitySummary:
    return EntitySummary(
        id=row.id,
        type=row.type,
        name=row.name,
        gazetteer_id=row.gazetteer_id,
        latitude=row.latitude,
        longitude=row.longitude,
        admin_area=row.admin_area,
        country=row.country,
        revision=row.revision,
    )


def _like(text: str) -> str:
    escaped = text.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def list_entities(
    connection: Connection, limit: int, cursor: str | None = None, q: str | None = None, type_: str | None = None
) -> EntityPage:
    """By id; ``q`` matches any part of the name or of an alias, ignoring case."""
    query = select(entities)
    if q is not None:
        pattern = _like(q)
        query = query.where(
            entities.c.id.in_(
                select(entity_aliases.c.entity_id).where(entity_aliases.c.folded.like(pattern, escape="\\"))
            )
        )
    if type_ is not None:
        query = query.where(entities.c.type == type_)
    if cursor is not None:
        (last_id,) = decode_cursor(cursor, (str,))
        query = query.where(entities.c.id > last_id)
    rows = connection.execute(query.order_by(entities.c.id).limit(limit + 1)).all()
    items = [_entity_summary(r) for r in rows[:limit]]
    return EntityPage(items=items, next_cursor=encode_cursor(items[-1].id) if len(rows) > limit else None)


def _event_summaries(connection: Connection, query: Any) -> list[EventSummary]:
    rows = connection.execute(query).all()
    counts: dict[str, int] = {}
    ids = [r.id for r in rows]
    if ids:
        counts = dict(
            connection.execute(
                select(event_sources.c.event_id, func.count())
                .where(event_sources.c.event_id.in_(ids))
                .group_by(event_sources.c.event_id)
            ).all()
        )
    return [
        EventSummary(
            id=r.id,
            type=r.type,
            sub_type=r.sub_type,
            place_id=r.place_id,
            date=r.date,
            date_precision=r.date_precision,
            revision=r.revision,
            updated_at=_aware(r.updated_at),
            sources=counts.get(r.id, 0),
        )
        for r in rows
    ]


def _newest_events(query: Any) -> Any:
    return query.order_by(func.coalesce(events.c.date, NO_DATE).desc(), events.c.id.desc())


def get_entity(connection: Connection, entity_id: str) -> EntityDetail | None:
    row = connection.execute(select(entities).where(entities.c.id == entity_id)).first()
    if row is None:
        return None
    aliases = connection.execute(
        select(entity_aliases.c.alias).where(entity_aliases.c.entity_id == entity_id).order_by(entity_aliases.c.alias)
    ).scalars()
    mentioned = connection.execute(
        select(func.count(), func.count(distinct(mentions.c.article_id))).where(mentions.c.entity_id == entity_id)
    ).one()
    involved = or_(
        events.c.place_id == entity_id,
        events.c.id.in_(select(event_participants.c.event_id).where(event_participants.c.entity_id == entity_id)),
    )
    recent = _event_summaries(connection, _newest_events(select(events).where(involved)).limit(RECENT_EVENTS))
    return EntityDetail(
        **_entity_summary(row).model_dump(),
        aliases=list(aliases),
        mentions=int(mentioned[0]),
        articles=int(mentioned[1]),
        recent_events=recent,
    )


def list_events(
    connection: Connection,
    limit: int,
    cursor: str | None = None,
    type_: str | None = None,
    sub_type: str | None = None,
    place: str | None = None,
    actor: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> EventPage:
    """Newest first by the event's date; undated events last."""
    query = select(events)
    if type_ is not None:
        query = query.where(events.c.type == type_)
    if sub_type is not None:
        query = query.where(events.c.sub_type == sub_type)
    if place is not None:
        query = query.where(events.c.place_id == place)
    if actor is not None:
        query = query.where(
            events.c.id.in_(
                select(event_participants.c.event_id).where(
                    and_(event_participants.c.entity_id == actor, event_participants.c.role == "actor")
                )
            )
        )
    if date_from is not None:
        query = query.where(events.c.date >= date_from)
    if date_to is not None:
        query = query.where(events.c.date <= date_to)
    sort_date = func.coalesce(events.c.date, NO_DATE)
    if cursor is not None:
        last_date, last_id = decode_cursor(cursor, (dt.date, str))
        query = query.where(tuple_(sort_date, events.c.id) < tuple_(last_date, last_id))
    items = _event_summaries(connection, _newest_events(query).limit(limit + 1))
    following = None
    if len(items) > limit:
        items = items[:limit]
        following = encode_cursor((items[-1].date or NO_DATE).isoformat(), items[-1].id)
    return EventPage(items=items, next_cursor=following)


def get_event(connection: Connection, event_id: str) -> EventDetail | None:
    summaries = _event_summaries(connection, select(events).where(events.c.id == event_id))
    if not summaries:
        return None
    reports = connection.execute(
        select(event_sources, articles.c.outlet, articles.c.url, articles.c.title, articles.c.published_at)
        .join(articles, articles.c.id == event_sources.c.article_id)
        .where(event_sources.c.event_id == event_id)
        .order_by(articles.c.published_at, event_sources.c.article_id)
    ).all()
    sources = [
        EventSource(
            article_id=r.article_id,
            article_version=r.article_version,
            outlet=r.outlet,
            url=r.url,
            title=r.title,
            published_at=_aware(r.published_at),
            actors=list(r.actors),
            targets=list(r.targets),
            place_id=r.place_id,
            date=r.date,
            date_precision=r.date_precision,
            counts=_counts(r),
            evidence=r.evidence,
            confidence=r.confidence,
        )
        for r in reports
    ]
    actors = sorted({a for s in sources for a in s.actors})
    targets = sorted({t for s in sources for t in s.targets})
    return EventDetail(**summaries[0].model_dump(), actors=actors, targets=targets, source_reports=sources)


def list_stories(connection: Connection, limit: int, cursor: str | None = None) -> StoryPage:
    """Most recently updated first."""
    query = select(stories)
    if cursor is not None:
        updated, last_id = decode_cursor(cursor, (dt.datetime, str))
        query = query.where(tuple_(stories.c.updated_at, stories.c.id) < tuple_(updated, last_id))
    rows = connection.execute(query.order_by(stories.c.updated_at.desc(), stories.c.id.desc()).limit(limit + 1)).all()
    items = [StorySummary(id=r.id, revision=r.revision, updated_at=_aware(r.updated_at)) for r in rows[:limit]]
    following = encode_cursor(utc(items[-1].updated_at).isoformat(), items[-1].id) if len(rows) > limit else None
    return StoryPage(items=items, next_cursor=following)


def get_story(connection: Connection, story_id: str) -> StoryDetail | None:
    row = connection.execute(select(stories).where(stories.c.id == story_id)).first()
    if row is None:
        return None
    members = connection.execute(
        select(articles.c.id, articles.c.title, articles.c.url, articles.c.published_at, articles.c.outlet)
        .where(articles.c.story_id == story_id)
        .order_by(articles.c.published_at, articles.c.id)
    ).all()
    timelines: dict[str, list[StoryArticle]] = {}
    for m in members:
        timelines.setdefault(m.outlet, []).append(
            StoryArticle(id=m.id, title=m.title, url=m.url, published_at=_aware(m.published_at))
        )
    # Outlets in the order they first reported the story: who had it first, who followed.
    outlets = [
        OutletTimeline(outlet=outlet, first_published_at=items[0].published_at, articles=items)
        for outlet, items in timelines.items()
    ]
    return StoryDetail(
        id=row.id,
        revision=row.revision,
        updated_at=_aware(row.updated_at),
        articles=len(members),
        first_published_at=_aware(members[0].published_at) if members else None,
        last_published_at=_aware(members[-1].published_at) if members else None,
        outlets=outlets,
    )
