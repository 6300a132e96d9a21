"""Store against the real Redis and both real databases: migrations, idempotent upserts, the outbox,
dead letters."""

import threading
from collections.abc import Iterator

import pytest
import redis
from sqlalchemy import Engine, inspect, select

from services.common.names import GROUP_STORE, Keys
from services.common.schema import Change
from services.store import database
from services.store.consumer import TaggedConsumer
from services.store.errors import SchemaOutOfDateError
from services.store.repository import article_count, mention_count, pending_outbox, upsert_batch
from services.store.service import Store
from services.store.tables import articles, mentions
from tests.conftest import stream_fields, stream_payloads
from tests.factories import article, tagged

pytestmark = pytest.mark.integration


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = database.make_engine(db_url)
    database.upgrade(engine)
    yield engine
    engine.dispose()


def test_migrations_run_up_down_and_up_again(db_url: str) -> None:
    engine = database.make_engine(db_url)
    database.upgrade(engine)
    assert database.current_revision(engine) == database.head_revision()
    assert {"articles", "mentions", "outbox"} <= set(inspect(engine).get_table_names())
    database.check_schema(engine)

    database.downgrade(engine, "base")
    assert database.current_revision(engine) is None
    assert not {"articles", "mentions", "outbox"} & set(inspect(engine).get_table_names())
    with pytest.raises(SchemaOutOfDateError, match="newswire migrate"):
        database.check_schema(engine)

    database.upgrade(engine)
    assert database.current_revision(engine) == database.head_revision()
    engine.dispose()


def test_the_same_batch_twice_is_stored_once(engine: Engine) -> None:
    batch = [tagged(article(1)), tagged(article(2))]
    with engine.begin() as connection:
        first = upsert_batch(connection, batch)
    with engine.begin() as connection:
        second = upsert_batch(connection, batch)
        outbox = pending_outbox(connection)

    assert (first.articles_inserted, len(first.changes)) == (2, 2)
    assert (second.articles_inserted, second.articles_unchanged, second.changes) == (0, 2, [])
    with engine.connect() as connection:
        assert (article_count(connection), mention_count(connection)) == (2, 4)
    assert [Change.model_validate_json(p).id for _, p in outbox] == [t.article.id for t in batch]


def test_a_new_version_replaces_the_article_and_its_mentions(engine: Engine) -> None:
    with engine.begin() as connection:
        upsert_batch(connection, [tagged(article(1, "v1"))])
    newer = article(1, "v2", fetched_offset_s=60, body="Naw Bu left.")
    with engine.begin() as connection:
        result = upsert_batch(connection, [tagged(newer, [tagged(newer).mentions[0]])])

    assert (result.articles_updated, len(result.changes)) == (1, 1)
    with engine.connect() as connection:
        row = connection.execute(select(articles.c.version, articles.c.body_text)).one()
        texts = connection.execute(select(mentions.c.text)).scalars().all()
    assert (row.version, row.body_text) == (newer.version, "Naw Bu left.")
    assert texts == ["Naw Bu"]


def test_an_older_version_arriving_late_never_overwrites_a_newer_one(engine: Engine) -> None:
    newer = article(1, "v2", fetched_offset_s=60)
    with engine.begin() as connection:
        upsert_batch(connection, [tagged(newer)])
    with engine.begin() as connection:
        late = upsert_batch(connection, [tagged(article(1, "v1", fetched_offset_s=0))])

    assert late.changes == [] and late.articles_unchanged == 1
    with engine.connect() as connection:
        assert connection.execute(select(articles.c.version)).scalar_one() == newer.version


def test_mentions_keep_the_entity_they_were_linked_to(engine: Engine) -> None:
    a = article(1)
    linked = [m.model_copy(update={"entity_id": f"entity-{m.text}"}) for m in tagged(a).mentions]
    with engine.begin() as connection:
        upsert_batch(connection, [tagged(a, linked)])
    with engine.connect() as connection:
        rows = connection.execute(select(mentions.c.text, mentions.c.entity_id).order_by(mentions.c.start)).all()
    assert [tuple(r) for r in rows] == [("Naw Bu", "entity-Naw Bu"), ("Myitkyina", "entity-Myitkyina")]


def test_duplicate_spans_from_overlapping_windows_are_stored_once(engine: Engine) -> None:
    a = article(1)
    twice = tagged(a).mentions * 2
    with engine.begin() as connection:
        result = upsert_batch(connection, [tagged(a, twice)])
    assert result.mentions_inserted == 2


def _store(engine: Engine, client: redis.Redis, keys: Keys, consumer: str = "c1") -> tuple[Store, TaggedConsumer]:
    reader = TaggedConsumer(client, keys, GROUP_STORE, consumer, batch_size=50, block_ms=50, claim_idle_ms=60_000)
    reader.ensure_group()
    return Store(engine, client, reader, keys, events_maxlen=1000), reader


def test_store_commits_publishes_then_acknowledges_and_dead_letters_the_malformed(
    engine: Engine, redis_client: redis.Redis, namespace: str
) -> None:
    keys = Keys(namespace)
    store, _ = _store(engine, redis_client, keys)
    good = [tagged(article(n)) for n in (1, 2)]
    for t in good[:1]:
        redis_client.xadd(keys.tagged, {"payload": t.model_dump_json()})
    redis_client.xadd(keys.tagged, {"payload": '{"schema_version": 99}'})
    redis_client.xadd(keys.tagged, {"something": "else"})
    redis_client.xadd(keys.tagged, {"payload": good[1].model_dump_json()})

    while store.step(threading.Event()):
        pass

    with engine.connect() as connection:
        assert article_count(connection) == 2
        assert pending_outbox(connection) == []
    events = stream_payloads(redis_client, keys.events)
    assert [(e["kind"], e["id"]) for e in events] == [("article.upserted", t.article.id) for t in good]
    assert all(e["schema_version"] == 2 and e["event_id"] for e in events)
    dead = stream_fields(redis_client, keys.tagged_dead)
    assert [fields["reason"] for fields in dead] == [
        "unsupported schema_version 99: this store reads 2",
        "no payload field",
    ]
    assert redis_client.xpending(keys.tagged, GROUP_STORE)["pending"] == 0


def test_a_redelivered_message_publishes_nothing_new(engine: Engine, redis_client: redis.Redis, namespace: str) -> None:
    keys = Keys(namespace)
    store, _ = _store(engine, redis_client, keys)
    payload = tagged(article(1)).model_dump_json()
    redis_client.xadd(keys.tagged, {"payload": payload})
    redis_client.xadd(keys.tagged, {"payload": payload})  # ingest re-queued it after a crash

    while store.step(threading.Event()):
        pass

    assert redis_client.xlen(keys.events) == 1
    with engine.connect() as connection:
        assert (article_count(connection), mention_count(connection)) == (1, 2)


def test_messages_left_pending_by_a_dead_consumer_are_claimed(
    engine: Engine, redis_client: redis.Redis, namespace: str
) -> None:
    keys = Keys(namespace)
    redis_client.xgroup_create(keys.tagged, GROUP_STORE, id="0", mkstream=True)
    redis_client.xadd(keys.tagged, {"payload": tagged(article(1)).model_dump_json()})
    # A consumer that read the message and died before acknowledging it.
    redis_client.xreadgroup(GROUP_STORE, "dead-consumer", {keys.tagged: ">"}, count=10)
    reader = TaggedConsumer(redis_client, keys, GROUP_STORE, "survivor", batch_size=10, block_ms=50, claim_idle_ms=0)
    store = Store(engine, redis_client, reader, keys, events_maxlen=1000)

    store.step(threading.Event())

    with engine.connect() as connection:
        assert article_count(connection) == 1
    assert redis_client.xpending(keys.tagged, GROUP_STORE)["pending"] == 0
