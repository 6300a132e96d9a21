"""The idempotent batch upsert and its outbox.

A batch is written in one transaction: articles whose stored version is the same are left alone
(so a redelivered message changes nothing), a newer version replaces the row and its mentions, and
every change is written to the outbox in the same transaction, to be published after the commit.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from services.common.schema import Change, TaggedArticle
from services.store.tables import articles, mentions, outbox


@dataclass
class BatchResult:
    changes: list[Change] = field(default_factory=list)
    articles_inserted: int = 0
    articles_updated: int = 0
    articles_unchanged: int = 0
    mentions_inserted: int = 0


def _upsert_articles(connection: Connection, rows: list[dict[str, Any]]) -> None:
    dialect = connection.dialect.name
    statement: Any
    if dialect == "postgresql":
        statement = postgresql.insert(articles)
    elif dialect == "sqlite":
        statement = sqlite.insert(articles)
    else:
        raise NotImplementedError(f"no upsert for {dialect}")
    updated = {c.name: statement.excluded[c.name] for c in articles.columns if c.name != "id"}
    # An older version that arrives late (a retried task) never overwrites a newer one.
    statement = statement.on_conflict_do_update(
        index_elements=[articles.c.id],
        set_=updated,
        where=articles.c.fetched_at <= statement.excluded.fetched_at,
    )
    connection.execute(statement, rows)


def _latest(batch: Sequence[TaggedArticle]) -> list[TaggedArticle]:
    """One message per article: the most recently fetched version in the batch."""
    latest: dict[str, TaggedArticle] = {}
    for tagged in batch:
        seen = latest.get(tagged.article.id)
        if seen is None or tagged.article.fetched_at >= seen.article.fetched_at:
            latest[tagged.article.id] = tagged
    return list(latest.values())


def upsert_batch(connection: Connection, batch: Sequence[TaggedArticle]) -> BatchResult:
    """Write ``batch`` inside the caller's transaction; return what changed."""
    result = BatchResult()
    candidates = _latest(batch)
    if not candidates:
        return result
    stored = {
        row.id: (row.version, row.fetched_at)
        for row in connection.execute(
            select(articles.c.id, articles.c.version, articles.c.fetched_at).where(
                articles.c.id.in_([t.article.id for t in candidates])
            )
        )
    }
    now = datetime.now(UTC)
    changed: list[TaggedArticle] = []
    for tagged in candidates:
        previous = stored.get(tagged.article.id)
        if previous is not None:
            version, fetched_at = previous
            if fetched_at.tzinfo is None:  # SQLite hands back naive UTC.
                fetched_at = fetched_at.replace(tzinfo=UTC)
            if version == tagged.article.version or fetched_at > tagged.article.fetched_at:
                result.articles_unchanged += 1
                continue
            result.articles_updated += 1
        else:
            result.articles_inserted += 1
        changed.append(tagged)
    if not changed:
        return result

    _upsert_articles(
        connection,
        [
            {
                **t.article.model_dump(exclude={"schema_version"}),
                "tagger_backend": t.tagger.backend,
                "tagger_model": t.tagger.model,
                "stored_at": now,
            }
            for t in changed
        ],
    )
    changed_ids = [t.article.id for t in changed]
    connection.execute(delete(mentions).where(mentions.c.article_id.in_(changed_ids)))
    mention_rows = [
        {"article_id": t.article.id, **m.model_dump()}
        for t in changed
        # A model can report one span twice (overlapping windows); the key keeps one.
        for m in {(m.field, m.start, m.end, m.label): m for m in t.mentions}.values()
    ]
    if mention_rows:
        connection.execute(insert(mentions), mention_rows)
    result.mentions_inserted = len(mention_rows)

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
    connection.execute(insert(outbox), [{"payload": c.model_dump_json(), "created_at": now} for c in result.changes])
    return result


def pending_outbox(connection: Connection, limit: int = 1000) -> list[tuple[int, str]]:
    rows = connection.execute(select(outbox.c.id, outbox.c.payload).order_by(outbox.c.id).limit(limit))
    return [(row.id, row.payload) for row in rows]


def forget_outbox(connection: Connection, ids: Sequence[int]) -> None:
    connection.execute(delete(outbox).where(outbox.c.id.in_(ids)))


def stored_versions(connection: Connection, ids: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        for row in connection.execute(select(articles.c.id, articles.c.version).where(articles.c.id.in_(chunk))):
            found[row.id] = row.version
    return found


def mention_count(connection: Connection, ids: Sequence[str] | None = None) -> int:
    query = select(func.count()).select_from(mentions)
    if ids is not None:
        query = query.where(mentions.c.article_id.in_(list(ids)))
    return int(connection.execute(query).scalar_one())


def article_count(connection: Connection) -> int:
    return int(connection.execute(select(func.count()).select_from(articles)).scalar_one())
