"""Entities, events, stories, article versions and feeds on both real databases: idempotent upserts,
merged event sources, revisions, the outbox's kinds, and the migration from the previous revision."""

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, func, inspect, select, text

from services.common.schema import Change
from services.store import database
from services.store.bulk import WritePath
from services.store.repository import pending_outbox, upsert_batch
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
from tests.factories import BASE_TIME, article, entity, event, rich, tagged

pytestmark = pytest.mark.integration


@pytest.fixture(params=["executemany", "copy"])
def path(request: pytest.FixtureRequest) -> WritePath:
    """Both write paths must have the same effect (``copy`` falls back to INSERTs on SQLite)."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = database.make_engine(db_url)
    database.upgrade(engine)
    yield engine
    engine.dispose()


def _changes(engine: Engine) -> list[Change]:
    with engine.connect() as connection:
        return [Change.model_validate_json(p) for _, p in pending_outbox(connection, limit=100_000)]


def _count(engine: Engine, table: Any) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def _kinds(changes: list[Change]) -> set[tuple[str, str, str]]:
    return {(c.kind, c.id, c.version) for c in changes}


def test_a_rich_batch_is_stored_once_and_announced_once(engine: Engine, path: WritePath) -> None:
    # Enough articles for the COPY path to stage, not only to fall back to INSERTs.
    batch = [rich(article(n)) for n in range(1, 61)]
    with engine.begin() as connection:
        first = upsert_batch(connection, batch, path)
    with engine.begin() as connection:
        again = upsert_batch(connection, batch, path)

    assert again.changes == [] and again.articles_unchanged == 60
    assert _count(engine, articles) == 60
    assert _count(engine, entities) == 2
    assert _count(engine, entity_aliases) == 3  # two names and one alias
    assert _count(engine, events) == 1
    assert _count(engine, event_sources) == 60  # one event, reported by sixty articles
    assert _count(engine, event_participants) == 60
    assert _count(engine, stories) == 1
    kinds = _kinds(first.changes)
    assert ("entity.upserted", "entity:Myitkyina", "1") in kinds
    assert ("event.upserted", "event:clash", "1") in kinds
    assert ("story.updated", "story:1", "1") in kinds
    assert sum(c.kind == "article.upserted" for c in first.changes) == 60
    assert len(first.changes) == 60 + 2 + 1 + 1
    assert _kinds(_changes(engine)) == kinds
    assert len({c.event_id for c in first.changes}) == len(first.changes)


def test_reports_of_one_event_are_merged_and_each_keeps_its_own_figures(engine: Engine, path: WritePath) -> None:
    one = article(1).model_copy(update={"outlet": "Outlet A", "feed": "feed-a"})
    two = article(2).model_copy(update={"outlet": "Outlet B", "feed": "feed-b"})
    with engine.begin() as connection:
        upsert_batch(connection, [rich(one, events=[event("clash", actors=["entity:KIA"], killed=3)])], path)
    with engine.begin() as connection:
        second = upsert_batch(connection, [rich(two, events=[event("clash", killed=5)])], path)

    with engine.connect() as connection:
        figures = dict(connection.execute(select(event_sources.c.article_id, event_sources.c.killed)).all())
        revision = connection.execute(select(events.c.revision)).scalar_one()
        actors = connection.execute(select(event_participants.c.entity_id)).scalars().all()
    assert figures == {one.id: 3, two.id: 5}  # side by side, never averaged
    assert revision == 2
    assert ("event.upserted", "event:clash", "2") in _kinds(second.changes)
    assert actors == ["entity:KIA"]


def test_an_entity_is_announced_only_when_it_changes(engine: Engine, path: WritePath) -> None:
    place = entity("Kanpaiti", "LOC", ["Kan Paik Ti"])
    with engine.begin() as connection:
        upsert_batch(connection, [rich(article(1), entities=[place], events=[])], path)
    with engine.begin() as connection:
        same = upsert_batch(connection, [rich(article(2), entities=[place], events=[])], path)
    # A new spelling, and coordinates an earlier report lacked.
    richer = entity("Kanpaiti", "LOC", ["Kanpiketi"], latitude=25.9, longitude=98.1)
    with engine.begin() as connection:
        grown = upsert_batch(connection, [rich(article(3), entities=[richer], events=[])], path)
    # A report that knows less erases nothing.
    with engine.begin() as connection:
        upsert_batch(connection, [rich(article(4), entities=[place], events=[])], path)

    assert not any(c.kind == "entity.upserted" for c in same.changes)
    assert ("entity.upserted", "entity:Kanpaiti", "2") in _kinds(grown.changes)
    with engine.connect() as connection:
        row = connection.execute(select(entities)).one()
        aliases = set(connection.execute(select(entity_aliases.c.alias)).scalars())
    assert (row.revision, row.latitude, row.longitude) == (2, 25.9, 98.1)
    assert aliases == {"Kanpaiti", "Kan Paik Ti", "Kanpiketi"}


def test_a_new_version_replaces_its_reports_and_moves_its_story(engine: Engine, path: WritePath) -> None:
    with engine.begin() as connection:
        upsert_batch(connection, [rich(article(1, "v1"), story_id="story:old")], path)
    newer = rich(article(1, "v2", fetched_offset_s=60), events=[event("arrests")], story_id="story:new")
    with engine.begin() as connection:
        result = upsert_batch(connection, [newer], path)

    with engine.connect() as connection:
        event_ids = connection.execute(select(events.c.id)).scalars().all()
        revisions = dict(connection.execute(select(stories.c.id, stories.c.revision)).all())
        versions = connection.execute(select(article_versions.c.version).order_by(article_versions.c.fetched_at))
        story = connection.execute(select(articles.c.story_id)).scalar_one()
    assert event_ids == ["event:arrests"]  # the event no source reports any more is gone
    assert revisions == {"story:old": 2, "story:new": 1}
    assert story == "story:new"
    assert list(versions.scalars()) == [article(1, "v1").version, article(1, "v2").version]
    assert {("story.updated", "story:old", "2"), ("story.updated", "story:new", "1")} <= _kinds(result.changes)
    # The event's deletion is announced, one revision past its last upsert, and only once.
    assert ("event.deleted", "event:clash", "2") in _kinds(result.changes)
    assert [c.kind for c in _changes(engine)].count("event.deleted") == 1
    assert not any(c.kind == "event.upserted" and c.id == "event:clash" for c in result.changes)


def test_every_feed_that_carried_an_article_is_recorded(engine: Engine, path: WritePath) -> None:
    a = article(1)
    with engine.begin() as connection:
        upsert_batch(connection, [tagged(a)], path)
    elsewhere = a.model_copy(update={"feed": "other-feed", "fetched_at": BASE_TIME.replace(hour=17)})
    with engine.begin() as connection:
        result = upsert_batch(connection, [tagged(elsewhere), tagged(elsewhere)], path)

    assert result.changes == []  # the same content: one article, nothing to announce
    with engine.connect() as connection:
        feeds = connection.execute(select(article_feeds.c.feed).order_by(article_feeds.c.feed)).scalars().all()
    assert feeds == ["other-feed", "test-feed"]
    assert _count(engine, articles) == 1


def _feeds(engine: Engine) -> list[tuple[str, str | None, bool]]:
    """(feed, outlet, whether a first fetch time is known) of every sighting, by feed."""
    query = select(article_feeds.c.feed, article_feeds.c.outlet, article_feeds.c.first_fetched_at.is_not(None))
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(query.order_by(article_feeds.c.feed))]


def test_the_feeds_an_article_lists_are_recorded_and_filled_in_when_they_deliver_it(
    engine: Engine, path: WritePath
) -> None:
    syndicated = article(1).model_copy(update={"feeds": ["test-feed", "wire-feed", "mirror-feed"]})
    with engine.begin() as connection:
        first = upsert_batch(connection, [tagged(syndicated)], path)
    assert _feeds(engine) == [
        ("mirror-feed", None, False),
        ("test-feed", "Test Outlet", True),
        ("wire-feed", None, False),
    ]
    assert first.upserts[("article_feed", "insert")] == 3

    with engine.begin() as connection:  # redelivered: nothing changes
        again = upsert_batch(connection, [tagged(syndicated)], path)
    assert ("article_feed", "insert") not in again.upserts
    # The wire's own copy, fetched later: the same content, one article; the wire's sighting is completed.
    wire = syndicated.model_copy(
        update={"feed": "wire-feed", "outlet": "Wire", "fetched_at": BASE_TIME.replace(hour=18)}
    )
    with engine.begin() as connection:
        result = upsert_batch(connection, [tagged(wire)], path)
    assert result.changes == []
    assert _feeds(engine) == [
        ("mirror-feed", None, False),
        ("test-feed", "Test Outlet", True),
        ("wire-feed", "Wire", True),
    ]
    assert _count(engine, articles) == 1


def test_migrating_from_revision_0003_keeps_feeds_and_going_back_drops_the_unknown_ones(db_url: str) -> None:
    engine = database.make_engine(db_url)
    database.upgrade(engine, "0003")
    with engine.begin() as connection:
        upsert_batch(connection, [tagged(article(1))])
    database.upgrade(engine)
    assert _feeds(engine) == [("test-feed", "Test Outlet", True)]
    with engine.begin() as connection:
        upsert_batch(connection, [tagged(article(1, "v2", fetched_offset_s=5).model_copy(update={"feeds": ["wire"]}))])
    assert _feeds(engine) == [("test-feed", "Test Outlet", True), ("wire", None, False)]

    database.downgrade(engine, "0003")
    assert _feeds(engine) == [("test-feed", "Test Outlet", True)]
    database.upgrade(engine)
    engine.dispose()


def test_migrating_from_the_previous_revision_keeps_and_backfills_articles(db_url: str) -> None:
    engine = database.make_engine(db_url)
    database.upgrade(engine, "0002")
    a = article(1)
    with engine.begin() as connection:
        row = {
            **a.model_dump(exclude={"schema_version"}),
            "tagger_backend": "spacy",
            "tagger_model": "m",
            "stored_at": BASE_TIME,
        }
        connection.execute(
            text(
                "INSERT INTO articles (id, version, feed, outlet, url, title, authors, published_at, "
                "published_at_is_fetch_time, fetched_at, summary, body_html, body_text, language, "
                "tagger_backend, tagger_model, stored_at) VALUES (:id, :version, :feed, :outlet, :url, :title, "
                "'[]', :published_at, false, :fetched_at, :summary, :body_html, :body_text, :language, "
                ":tagger_backend, :tagger_model, :stored_at)"
            ),
            row,
        )
        connection.execute(
            text(
                'INSERT INTO mentions (article_id, field, start, "end", text, label, score, entity_id) '
                "VALUES (:id, 'body', 0, 6, 'Naw Bu', 'PER', 0.9, 'entity:Naw Bu')"
            ),
            {"id": a.id},
        )

    database.upgrade(engine)

    assert database.current_revision(engine) == database.head_revision()
    with engine.connect() as connection:
        assert connection.execute(select(article_versions.c.version)).scalars().all() == [a.version]
        assert connection.execute(select(article_feeds.c.feed)).scalars().all() == [a.feed]
        assert connection.execute(select(articles.c.story_id)).scalar_one() is None
        assert connection.execute(select(mentions.c.text, mentions.c.entity_id)).all() == [("Naw Bu", "entity:Naw Bu")]
    with engine.begin() as connection:
        upsert_batch(connection, [rich(article(1, "v2", fetched_offset_s=5))])
    assert _count(engine, events) == 1

    database.downgrade(engine, "0002")
    tables = set(inspect(engine).get_table_names())
    assert "entities" not in tables and "articles" in tables
    assert "story_id" not in {c["name"] for c in inspect(engine).get_columns("articles")}
    assert "id" in {c["name"] for c in inspect(engine).get_columns("mentions")}
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM mentions")).scalar_one() == 2
    database.upgrade(engine)  # and up again over the downgraded data
    engine.dispose()
