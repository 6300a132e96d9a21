"""The idempotent batch upsert and its outbox.

A batch is written in one transaction: articles whose stored version is the same are left alone
(so a redelivered message changes nothing), a newer version replaces the row, its mentions and its
reports of events; its entities, events and story are merged in by their stable ids; and every
change is written to the outbox in the same transaction, to be published after the commit.

Every statement is a keyed upsert, so two replicas that write the same thing at once cannot make a
duplicate: PostgreSQL's ``ON CONFLICT`` locks the row and the second writer waits for the first.
Revisions are raised by the database itself (``revision = revision + 1``), never read, added to and
written back, so no concurrent writer's increment is lost.
"""

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any

from sqlalchemy import Connection, and_, delete, exists, func, or_, select, update

from services.common.schema import Change, ChangeKind, Entity, Event, Mention, TaggedArticle
from services.store.bulk import WritePath, among, write
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
    outbox,
    stories,
)

COUNT_FIELDS = ("killed", "injured", "detained", "fled", "displaced")
# A mention's row is its fields as they are (read with one attrgetter: model_dump, 12 times per
# article, cost more than the rest of the row building).
MENTION_FIELDS = tuple(Mention.model_fields)
_mention_values = attrgetter(*MENTION_FIELDS)


@dataclass
class BatchResult:
    changes: list[Change] = field(default_factory=list)
    articles_inserted: int = 0
    articles_updated: int = 0
    articles_unchanged: int = 0
    mentions_inserted: int = 0
    # Rows written per (kind, operation), for the upserts metric.
    upserts: dict[tuple[str, str], int] = field(default_factory=dict)

    def count(self, kind: str, operation: str, n: int) -> None:
        if n:
            self.upserts[(kind, operation)] = self.upserts.get((kind, operation), 0) + n


def _latest(batch: Sequence[TaggedArticle]) -> list[TaggedArticle]:
    """One message per article: the most recently fetched version in the batch."""
    latest: dict[str, TaggedArticle] = {}
    for tagged in batch:
        seen = latest.get(tagged.article.id)
        if seen is None or tagged.article.fetched_at >= seen.article.fetched_at:
            latest[tagged.article.id] = tagged
    return list(latest.values())


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)  # SQLite hands back naive UTC.


def upsert_batch(connection: Connection, batch: Sequence[TaggedArticle], path: WritePath = "copy") -> BatchResult:
    """Write ``batch`` inside the caller's transaction; return what changed, which is also in the
    outbox. Writing the same batch again changes nothing and publishes nothing."""
    result = BatchResult()
    candidates = _latest(batch)
    if not candidates:
        return result
    now = datetime.now(UTC)
    stored: dict[str, Any] = {}
    query = select(articles.c.id, articles.c.version, articles.c.fetched_at, articles.c.story_id)
    for condition in among(connection, articles.c.id, [t.article.id for t in candidates]):
        stored.update({row.id: row for row in connection.execute(query.where(condition))})
    changed: list[TaggedArticle] = []
    for tagged in candidates:
        previous = stored.get(tagged.article.id)
        if previous is not None:
            if previous.version == tagged.article.version or _aware(previous.fetched_at) > tagged.article.fetched_at:
                result.articles_unchanged += 1
                continue
            result.articles_updated += 1
        else:
            result.articles_inserted += 1
        changed.append(tagged)
    result.count("article", "insert", result.articles_inserted)
    result.count("article", "update", result.articles_updated)

    # Most of a batch is new articles. Rows of theirs cannot be in the database yet, so they are
    # inserted straight (COPY on that path), with no conflict handling, no staging and no deletes
    # of old mentions and reports; only articles stored before are merged and replaced. Should a
    # replica insert the same new article at this very moment, the batch fails on the key and is
    # retried message by message (``Store.handle``), and the retry finds the article stored.
    known = set(stored)
    replaced = [t.article.id for t in changed if t.article.id in known]
    if changed:
        _write_articles(connection, changed, known, now, path, result)
    # Sightings of every message, the unchanged included: a second feed carrying a known article
    # is recorded although the article itself does not change.
    _record_sightings(connection, batch, known, now, path, result)
    if not changed:
        return result
    entity_revisions = _write_entities(connection, changed, now, path, result)
    event_revisions, deleted_events = _write_events(connection, changed, replaced, now, path, result)
    story_revisions = _write_stories(connection, changed, stored, now, result)

    for t in changed:
        result.changes.append(
            Change(
                event_id=str(uuid.uuid4()),
                kind="article.upserted",
                id=t.article.id,
                version=t.article.version,
                committed_at=now,
                mentions=len({(m.field, m.start, m.end, m.label) for m in t.mentions}),
            )
        )
    kinds: list[tuple[ChangeKind, dict[str, int]]] = [
        ("entity.upserted", entity_revisions),
        ("event.upserted", event_revisions),
        ("event.deleted", deleted_events),
        ("story.updated", story_revisions),
    ]
    for kind, revisions in kinds:
        for thing_id, revision in sorted(revisions.items()):
            result.changes.append(
                Change(event_id=str(uuid.uuid4()), kind=kind, id=thing_id, version=str(revision), committed_at=now)
            )
    if result.changes:
        # One outbox row per batch, its changes one JSON document a line: writing, reading back
        # and deleting one row per change cost more than the rest of the batch's small tables.
        payload = "\n".join(c.model_dump_json() for c in result.changes)
        write(connection, outbox, [{"payload": payload, "created_at": now}], None, path)
    return result


def _write_articles(
    connection: Connection,
    changed: list[TaggedArticle],
    known: set[str],
    now: datetime,
    path: WritePath,
    result: BatchResult,
) -> None:
    def finish(statement: Any) -> Any:
        updated = {c.name: statement.excluded[c.name] for c in articles.columns if c.name != "id"}
        # An older version that arrives late (a retried task) never overwrites a newer one.
        return statement.on_conflict_do_update(
            index_elements=[articles.c.id], set_=updated, where=articles.c.fetched_at <= statement.excluded.fetched_at
        )

    rows = [
        {
            **t.article.model_dump(exclude={"schema_version", "feeds"}),
            "tagger_backend": t.tagger.backend,
            "tagger_model": t.tagger.model,
            "stored_at": now,
            "story_id": t.story_id,
            # UTC, so that SQLite (which keeps no offset) compares and sorts them correctly.
            "published_at": t.article.published_at.astimezone(UTC),
            "fetched_at": t.article.fetched_at.astimezone(UTC),
        }
        for t in changed
    ]
    write(connection, articles, [row for row in rows if row["id"] not in known], None, path)
    write(connection, articles, [row for row in rows if row["id"] in known], finish, path)
    replaced = [row["id"] for row in rows if row["id"] in known]
    for condition in among(connection, mentions.c.article_id, replaced):
        connection.execute(delete(mentions).where(condition))
    mention_rows = [
        {"article_id": t.article.id, **dict(zip(MENTION_FIELDS, _mention_values(m), strict=True))}
        for t in changed
        # A model can report one span twice (overlapping windows); the key keeps one.
        for m in {(m.field, m.start, m.end, m.label): m for m in t.mentions}.values()
    ]
    # Their old mentions were deleted above, so nothing can conflict (see ``bulk.write``).
    write(connection, mentions, mention_rows, None, path)
    result.mentions_inserted = len(mention_rows)
    result.count("mention", "insert", len(mention_rows))


def _ignoring_conflicts(returning: Any) -> Callable[[Any], Any]:
    """Conflict handling for rows that may be stored already: keep the stored, say what was added."""
    return lambda statement: statement.on_conflict_do_nothing().returning(returning)


def _record_sightings(
    connection: Connection,
    batch: Sequence[TaggedArticle],
    known: set[str],
    now: datetime,
    path: WritePath,
    result: BatchResult,
) -> None:
    versions = {
        (t.article.id, t.article.version): {
            "article_id": t.article.id,
            "version": t.article.version,
            "fetched_at": t.article.fetched_at,
            "stored_at": now,
        }
        for t in batch
    }
    feeds: dict[tuple[str, str], dict[str, Any]] = {}
    for t in sorted(batch, key=lambda t: t.article.fetched_at):
        feeds.setdefault(
            (t.article.id, t.article.feed),
            {
                "article_id": t.article.id,
                "feed": t.article.feed,
                "outlet": t.article.outlet,
                "first_fetched_at": t.article.fetched_at,
            },
        )
    # The other feeds ingest knew to carry the article: their outlet and first fetch are not in
    # the message, so they are left empty (a message from one of them fills them in).
    for t in batch:
        for feed in t.article.feeds:
            feeds.setdefault(
                (t.article.id, feed),
                {"article_id": t.article.id, "feed": feed, "outlet": None, "first_fetched_at": None},
            )

    def fill_in(statement: Any) -> Any:
        excluded = statement.excluded
        return statement.on_conflict_do_update(
            index_elements=[article_feeds.c.article_id, article_feeds.c.feed],
            set_={"outlet": excluded.outlet, "first_fetched_at": excluded.first_fetched_at},
            where=and_(article_feeds.c.outlet.is_(None), excluded.outlet.is_not(None)),
        ).returning(article_feeds.c.article_id)

    sightings = (
        ("article_version", article_versions, versions, _ignoring_conflicts(article_versions.c.article_id)),
        ("article_feed", article_feeds, feeds, fill_in),
    )
    for kind, table, keyed, finish in sightings:
        rows = list(keyed.values())
        fresh = [row for row in rows if row["article_id"] not in known]
        write(connection, table, fresh, None, path)  # a new article's: nothing to conflict with
        added = write(connection, table, [row for row in rows if row["article_id"] in known], finish, path)
        result.count(kind, "insert", len(fresh) + len(added))


def _merge_entities(changed: list[TaggedArticle]) -> dict[str, tuple[Entity, list[str]]]:
    """One row per entity id in the batch: the last report's fields, every report's aliases."""
    merged: dict[str, tuple[Entity, list[str]]] = {}
    for t in changed:
        for entity in t.entities:
            _, aliases = merged.get(entity.id, (entity, []))
            for alias in [entity.name, *entity.aliases]:
                if alias not in aliases:
                    aliases.append(alias)
            merged[entity.id] = (entity, aliases)
    return merged


def _write_entities(
    connection: Connection, changed: list[TaggedArticle], now: datetime, path: WritePath, result: BatchResult
) -> dict[str, int]:
    """Upsert the batch's entities and their aliases; return the new revision of each that changed."""
    merged = _merge_entities(changed)
    if not merged:
        return {}
    optional = ("gazetteer_id", "latitude", "longitude", "admin_area", "country")

    def finish(statement: Any) -> Any:
        excluded = statement.excluded
        # A report that knows less (no coordinates) never erases what an earlier one knew.
        values: dict[str, Any] = {
            "type": excluded.type,
            "name": excluded.name,
            **{name: func.coalesce(excluded[name], entities.c[name]) for name in optional},
        }
        differs = or_(
            *(entities.c[name].is_distinct_from(value) for name, value in values.items()),
        )
        return statement.on_conflict_do_update(
            index_elements=[entities.c.id],
            set_={**values, "revision": entities.c.revision + 1, "updated_at": excluded.updated_at},
            where=differs,
        ).returning(entities.c.id, entities.c.revision)

    # Most entities of a batch are already stored exactly so (news keeps naming the same people and
    # places): one read finds them, and only the new and the changed are written. The upsert's own
    # WHERE still decides under the row lock, so a concurrent writer is never overruled by this read.
    ids = sorted(merged)
    known: dict[str, Any] = {}
    known_aliases: set[tuple[str, str]] = set()
    for condition in among(connection, entities.c.id, ids):
        known.update({r.id: r for r in connection.execute(select(entities).where(condition))})
    for condition in among(connection, entity_aliases.c.entity_id, ids):
        query = select(entity_aliases.c.entity_id, entity_aliases.c.alias).where(condition)
        known_aliases.update((row.entity_id, row.alias) for row in connection.execute(query))

    def unchanged(entity: Entity) -> bool:
        stored = known.get(entity.id)
        if stored is None or (stored.type, stored.name) != (entity.type, entity.name):
            return False
        return all(getattr(entity, name) in (None, getattr(stored, name)) for name in optional)

    rows = [
        {
            **entity.model_dump(include={"id", "type", "name", *optional}),
            "revision": 1,
            "updated_at": now,
        }
        for entity, _ in merged.values()
        if not unchanged(entity)
    ]
    revisions = {row.id: row.revision for row in write(connection, entities, rows, finish, path)}
    result.count("entity", "upsert", len(revisions))
    alias_rows = [
        {"entity_id": entity_id, "alias": alias, "folded": alias.casefold()}
        for entity_id, (_, aliases) in merged.items()
        for alias in aliases
        if (entity_id, alias) not in known_aliases
    ]
    new_aliases = write(
        connection,
        entity_aliases,
        alias_rows,
        _ignoring_conflicts(entity_aliases.c.entity_id),
        path,
    )
    result.count("entity_alias", "insert", len(new_aliases))
    # A new alias is a change to an entity whose own row did not change.
    grown = sorted({row.entity_id for row in new_aliases} - set(revisions))
    for condition in among(connection, entities.c.id, grown):
        bumped = connection.execute(
            update(entities)
            .where(condition)
            .values(revision=entities.c.revision + 1, updated_at=now)
            .returning(entities.c.id, entities.c.revision)
        )
        revisions.update({row.id: row.revision for row in bumped})
    return revisions


def _write_events(
    connection: Connection,
    changed: list[TaggedArticle],
    replaced: list[str],
    now: datetime,
    path: WritePath,
    result: BatchResult,
) -> tuple[dict[str, int], dict[str, int]]:
    """Replace the changed articles' reports of events, merge them under each event's stable id;
    return the new revision of every event whose sources changed, and of every event deleted
    because its last source went."""
    before: set[str] = set()
    for condition in among(connection, event_participants.c.article_id, replaced):
        connection.execute(delete(event_participants).where(condition))
    for condition in among(connection, event_sources.c.article_id, replaced):
        before.update(
            connection.execute(delete(event_sources).where(condition).returning(event_sources.c.event_id)).scalars()
        )

    latest: dict[str, Event] = {}
    reports: dict[tuple[str, str], tuple[TaggedArticle, Event]] = {}
    for t in changed:
        for event in t.events:
            latest[event.id] = event
            reports[(event.id, t.article.id)] = (t, event)

    def finish(statement: Any) -> Any:
        excluded = statement.excluded
        return statement.on_conflict_do_update(
            index_elements=[events.c.id],
            set_={
                "type": excluded.type,
                "sub_type": excluded.sub_type,
                "place_id": func.coalesce(excluded.place_id, events.c.place_id),
                "date": func.coalesce(excluded.date, events.c.date),
                "date_precision": func.coalesce(excluded.date_precision, events.c.date_precision),
                "revision": events.c.revision + 1,
                "updated_at": excluded.updated_at,
            },
        ).returning(events.c.id, events.c.revision)

    rows = [
        {
            **event.model_dump(include={"id", "type", "sub_type", "place_id", "date", "date_precision"}),
            "revision": 1,
            "updated_at": now,
        }
        for event in latest.values()
    ]
    revisions = {row.id: row.revision for row in write(connection, events, rows, finish, path)}
    result.count("event", "upsert", len(revisions))
    source_rows = [
        {
            "event_id": event.id,
            "article_id": t.article.id,
            "article_version": t.article.version,
            "actors": list(event.actors),
            "targets": list(event.targets),
            "place_id": event.place_id,
            "date": event.date,
            "date_precision": event.date_precision,
            **event.counts.model_dump(),
            "evidence": event.evidence,
            "confidence": event.confidence,
        }
        for t, event in reports.values()
    ]
    write(connection, event_sources, source_rows, None, path)
    result.count("event_source", "insert", len(source_rows))
    participants = {
        (event.id, t.article.id, entity_id, role): None
        for t, event in reports.values()
        for role, ids in (("actor", event.actors), ("target", event.targets))
        for entity_id in ids
    }
    write(
        connection,
        event_participants,
        [dict(zip(("event_id", "article_id", "entity_id", "role"), key, strict=True)) for key in participants],
        None,
        path,
    )
    # Events that lost a source: gone if no source is left, else one source fewer (a change).
    dropped = sorted(before - set(latest))
    deleted: dict[str, int] = {}
    for condition in among(connection, events.c.id, dropped):
        orphan = and_(condition, ~exists().where(event_sources.c.event_id == events.c.id))
        # A deletion is the event's last change: its version is the revision after the last one
        # published, so a consumer that orders an event's changes by version sees it last.
        gone = connection.execute(
            delete(events).where(orphan).returning(events.c.id, (events.c.revision + 1).label("revision"))
        )
        deleted.update({row.id: row.revision for row in gone})
        bumped = connection.execute(
            update(events)
            .where(condition)
            .values(revision=events.c.revision + 1, updated_at=now)
            .returning(events.c.id, events.c.revision)
        )
        revisions.update({row.id: row.revision for row in bumped})
    result.count("event", "delete", len(deleted))
    return revisions, deleted


def _write_stories(
    connection: Connection, changed: list[TaggedArticle], stored: dict[str, Any], now: datetime, result: BatchResult
) -> dict[str, int]:
    """Every story that gained, changed or lost an article moves to its next revision."""
    touched = {t.story_id for t in changed} | {stored[t.article.id].story_id for t in changed if t.article.id in stored}
    ids = sorted(s for s in touched if s)
    if not ids:
        return {}

    def finish(statement: Any) -> Any:
        return statement.on_conflict_do_update(
            index_elements=[stories.c.id],
            set_={"revision": stories.c.revision + 1, "updated_at": statement.excluded.updated_at},
        ).returning(stories.c.id, stories.c.revision)

    rows = write(connection, stories, [{"id": i, "revision": 1, "updated_at": now} for i in ids], finish)
    result.count("story", "upsert", len(rows))
    return {row.id: row.revision for row in rows}


def pending_outbox(connection: Connection, limit: int = 20) -> list[tuple[int, str]]:
    """Committed changes not yet published, oldest first, as (outbox row id, one change's JSON),
    from at most ``limit`` rows (a row holds a batch's changes, one a line; a row written by an
    earlier release holds one change, which reads the same)."""
    rows = connection.execute(select(outbox.c.id, outbox.c.payload).order_by(outbox.c.id).limit(limit))
    return [(row.id, line) for row in rows for line in row.payload.splitlines() if line]


def forget_outbox(connection: Connection, ids: Sequence[int]) -> None:
    connection.execute(delete(outbox).where(outbox.c.id.in_(sorted(set(ids)))))


def stored_versions(connection: Connection, ids: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for condition in among(connection, articles.c.id, ids):
        for row in connection.execute(select(articles.c.id, articles.c.version).where(condition)):
            found[row.id] = row.version
    return found


def mention_count(connection: Connection, ids: Sequence[str] | None = None) -> int:
    query = select(func.count()).select_from(mentions)
    if ids is not None:
        query = query.where(mentions.c.article_id.in_(list(ids)))
    return int(connection.execute(query).scalar_one())


def article_count(connection: Connection) -> int:
    return int(connection.execute(select(func.count()).select_from(articles)).scalar_one())
