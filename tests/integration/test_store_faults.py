"""Store under faults, against the real Redis and PostgreSQL. Each test ends the same way: every
message stored exactly once, every change published at least once, nothing left pending.

- store SIGKILLed in the middle of a batch, then a fresh replica takes over what it held;
- the database refusing connections for a while: store backs off, messages wait in Redis, it resumes;
- Redis restarted (a throwaway server of this test's own, never the shared one);
- malformed and wrong-schema messages among good ones: dead-lettered with their reason and counted;
- two store replicas in one consumer group.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from prometheus_client import REGISTRY
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url

from services.common.names import GROUP_STORE, Keys
from services.store import database
from services.store.consumer import TaggedConsumer
from services.store.repository import pending_outbox
from services.store.service import Store
from services.store.tables import articles, event_sources, mentions
from tests.conftest import PG_URL, REPO, stream_fields, stream_payloads
from tests.factories import article, rich

pytestmark = pytest.mark.integration


@pytest.fixture
def engine(pg_url: str) -> Iterator[Engine]:
    engine = database.make_engine(pg_url)
    database.upgrade(engine)
    yield engine
    engine.dispose()


def _send(client: redis.Redis, keys: Keys, numbers: range) -> None:
    pipe = client.pipeline(transaction=False)
    for n in numbers:
        pipe.xadd(keys.tagged, {"payload": rich(article(n)).model_dump_json()})
    pipe.execute()


def _stored(engine: Engine) -> int:
    try:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(articles)).scalar_one())
    except Exception:  # noqa: BLE001 - while the database is away, "not yet" is the answer.
        return -1


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def _assert_exactly_once(engine: Engine, client: redis.Redis, keys: Keys, n: int) -> None:
    """Every article stored once with its mentions and its report of the event; every change
    published at least once; the group holds nothing pending."""
    with engine.connect() as connection:
        ids = connection.execute(select(articles.c.id)).scalars().all()
        assert sorted(ids) == sorted(article(i).id for i in range(1, n + 1))
        assert connection.execute(select(func.count()).select_from(mentions)).scalar_one() == 2 * n
        assert connection.execute(select(func.count()).select_from(event_sources)).scalar_one() == n
        assert pending_outbox(connection) == []
    published = stream_payloads(client, keys.events)
    assert {p["id"] for p in published if p["kind"] == "article.upserted"} == set(ids)
    assert {p["id"] for p in published if p["kind"] == "event.upserted"} == {"event:clash"}
    assert {p["id"] for p in published if p["kind"] == "story.updated"} == {"story:1"}
    assert client.xpending(keys.tagged, GROUP_STORE)["pending"] == 0


def _store(
    engine: Engine, client: redis.Redis, keys: Keys, name: str, batch: int = 50, claim_idle_ms: int = 60_000
) -> Store:
    consumer = TaggedConsumer(client, keys, GROUP_STORE, name, batch, block_ms=50, claim_idle_ms=claim_idle_ms)
    return Store(engine, client, consumer, keys, events_maxlen=100_000)


def _in_thread(store: Store, stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=store.run, args=(stop,), daemon=True)
    thread.start()
    return thread


def _store_process(pg_url: str, redis_url: str, namespace: str, name: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWIRE_")}
    env.update(
        NEWSWIRE_DB_URL=pg_url,
        NEWSWIRE_REDIS_URL=redis_url,
        NEWSWIRE_REDIS_NAMESPACE=namespace,
        NEWSWIRE_STORE_CONSUMER_NAME=name,
        NEWSWIRE_STORE_BATCH_SIZE="100",
        NEWSWIRE_STORE_CLAIM_IDLE_S="1",
        NEWSWIRE_STORE_METRICS_PORT="0",
        NEWSWIRE_STORE_API_PORT="0",
        NEWSWIRE_LOG_LEVEL="WARNING",
    )
    return subprocess.Popen([sys.executable, "-m", "services.cli", "store"], cwd=REPO, env=env)


def test_sigkill_in_the_middle_of_a_batch_loses_and_duplicates_nothing(
    engine: Engine, pg_url: str, redis_url: str, redis_client: redis.Redis, namespace: str
) -> None:
    keys = Keys(namespace)
    n = 1500
    _send(redis_client, keys, range(1, n + 1))
    doomed = _store_process(pg_url, redis_url, namespace, "doomed")
    try:
        # Kill it once it has committed something and holds a batch it has not acknowledged. It is
        # frozen (SIGSTOP) while we look, so it cannot acknowledge between the look and the kill.
        def holding_a_batch() -> bool:
            if _stored(engine) == 0:
                return False
            doomed.send_signal(signal.SIGSTOP)
            if redis_client.xpending(keys.tagged, GROUP_STORE)["pending"] > 0:
                return True
            doomed.send_signal(signal.SIGCONT)
            return False

        _wait(holding_a_batch, 120, "the first commits")
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(10)
    finally:
        doomed.kill()
    at_kill = _stored(engine)
    assert 0 < at_kill < n
    assert redis_client.xpending(keys.tagged, GROUP_STORE)["pending"] > 0  # what it held is not lost

    # A fresh replica under another name takes over the dead one's pending batch (XAUTOCLAIM).
    survivor = _store_process(pg_url, redis_url, namespace, "survivor")
    try:
        _wait(
            lambda: _stored(engine) == n and redis_client.xpending(keys.tagged, GROUP_STORE)["pending"] == 0,
            180,
            "the survivor to store everything",
        )
        time.sleep(0.5)  # the last publish follows the last commit
    finally:
        survivor.send_signal(signal.SIGTERM)
        survivor.wait(30)
    _assert_exactly_once(engine, redis_client, keys, n)


def _database_name(url: str) -> str:
    name = make_url(url).database
    assert name
    return name


def test_a_database_outage_is_waited_out_and_nothing_is_lost(
    engine: Engine, pg_url: str, redis_client: redis.Redis, namespace: str
) -> None:
    keys = Keys(namespace)
    stop = threading.Event()
    failures_before = REGISTRY.get_sample_value("newswire_store_batch_failures_total", {"reason": "database"}) or 0
    thread = _in_thread(_store(engine, redis_client, keys, "c1"), stop)
    name = _database_name(pg_url)
    try:
        _send(redis_client, keys, range(1, 101))
        _wait(lambda: _stored(engine) == 100, 60, "the first hundred")
        # This test's own database refuses connections, and the store's are cut: nobody else's is touched.
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
        _send(redis_client, keys, range(101, 301))
        _wait(
            lambda: (
                (REGISTRY.get_sample_value("newswire_store_batch_failures_total", {"reason": "database"}) or 0)
                > failures_before
            ),
            30,
            "the store to notice the outage",
        )
        time.sleep(2)
        waiting = redis_client.xinfo_groups(keys.tagged)[0]
        assert int(waiting["pending"]) + int(waiting["lag"] or 0) > 0  # the messages wait in Redis
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        _wait(lambda: _stored(engine) == 300, 90, "the store to resume by itself")
        _wait(lambda: redis_client.xpending(keys.tagged, GROUP_STORE)["pending"] == 0, 30, "acknowledgements")
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        stop.set()
        thread.join(30)
    _assert_exactly_once(engine, redis_client, keys, 300)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ThrowawayRedis:
    """A redis-server of this test's own, with an append-only file so that a restart keeps the
    streams, as a production Redis would be configured."""

    def __init__(self, directory: Path) -> None:
        self.port = _free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed"
        self.process = subprocess.Popen(
            [
                *(binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory)),
                *("--appendonly", "yes", "--appendfsync", "always", "--save", ""),
            ],
            stdout=subprocess.DEVNULL,
        )
        probe = redis.Redis.from_url(self.url)
        _wait(lambda: _answers(probe), 20, "the throwaway redis-server")
        probe.close()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(20)
            self.process = None


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def test_a_redis_restart_is_ridden_out(engine: Engine, tmp_path: Path) -> None:
    server = ThrowawayRedis(tmp_path)
    server.start()
    keys = Keys("restart")
    client = redis.Redis.from_url(server.url, socket_timeout=5)
    stop = threading.Event()
    thread = _in_thread(_store(engine, client, keys, "c1"), stop)
    try:
        _send(client, keys, range(1, 101))
        _wait(lambda: _stored(engine) == 100, 60, "the first hundred")
        server.stop()
        time.sleep(1.5)  # the store meets a closed port meanwhile, and backs off
        server.start()
        _send(client, keys, range(101, 201))
        _wait(lambda: _stored(engine) == 200, 90, "the store to reconnect")
        _wait(lambda: client.xpending(keys.tagged, GROUP_STORE)["pending"] == 0, 30, "acknowledgements")
        _wait(lambda: _outbox_empty(engine), 30, "the outbox to drain")
        _assert_exactly_once(engine, client, keys, 200)
    finally:
        stop.set()
        thread.join(30)
        client.close()
        server.stop()


def _outbox_empty(engine: Engine) -> bool:
    with engine.connect() as connection:
        return pending_outbox(connection, limit=1) == []


def test_bad_messages_are_dead_lettered_with_their_reason_and_counted(
    engine: Engine, redis_client: redis.Redis, namespace: str
) -> None:
    keys = Keys(namespace)

    def dead(reason: str) -> float:
        return REGISTRY.get_sample_value("newswire_store_dead_letters_total", {"reason": reason}) or 0

    before = {r: dead(r) for r in ("malformed", "schema_version", "invalid")}
    good = [rich(article(n)).model_dump_json() for n in (1, 2, 3)]
    wrong_version = good[0].replace('"schema_version":2', '"schema_version":1', 1)
    invalid = good[1].replace('"label":"PER"', '"label":"PERSON"', 1)
    messages: list[dict[str | bytes, str | bytes]] = [
        {"payload": good[0]},
        {"payload": "{not json"},
        {"payload": wrong_version},
        {"payload": good[1]},
        {"payload": invalid},
        {"other": "field"},
        {"payload": good[2]},
    ]
    for fields in messages:
        redis_client.xadd(keys.tagged, fields)  # type: ignore[arg-type]
    store = _store(engine, redis_client, keys, "c1")
    store._consumer.ensure_group()

    while store.step(threading.Event()):
        pass

    _assert_exactly_once(engine, redis_client, keys, 3)
    reasons = [f["reason"] for f in stream_fields(redis_client, keys.tagged_dead)]
    assert reasons[0].startswith("payload is not JSON")
    assert reasons[1] == "unsupported schema_version 1: this store reads 2"
    assert reasons[2].startswith("invalid tagged article: ('mentions', 0, 'label')")
    assert reasons[3] == "no payload field"
    assert {r: dead(r) - before[r] for r in before} == {"malformed": 2, "schema_version": 1, "invalid": 1}


def test_two_replicas_in_one_group_share_the_work_and_store_each_message_once(
    engine: Engine, pg_url: str, redis_url: str, redis_client: redis.Redis, namespace: str
) -> None:
    keys = Keys(namespace)
    n = 1000
    replicas = [_store_process(pg_url, redis_url, namespace, f"replica-{i}") for i in (1, 2)]
    try:
        # Sent while both are reading, in slices, so that both get a share.
        for start in range(1, n + 1, 100):
            _send(redis_client, keys, range(start, start + 100))
            time.sleep(0.05)
        _wait(
            lambda: _stored(engine) == n and redis_client.xpending(keys.tagged, GROUP_STORE)["pending"] == 0,
            180,
            "both replicas to store everything",
        )
        _wait(lambda: _outbox_empty(engine), 30, "the outbox to drain")
    finally:
        for replica in replicas:
            replica.send_signal(signal.SIGTERM)
        for replica in replicas:
            replica.wait(30)
    _assert_exactly_once(engine, redis_client, keys, n)
    consumers = {c["name"].decode(): c for c in redis_client.xinfo_consumers(keys.tagged, GROUP_STORE)}
    assert set(consumers) == {"replica-1", "replica-2"}


def test_the_events_stream_is_trimmed_by_length_or_by_age(
    engine: Engine, redis_client: redis.Redis, namespace: str
) -> None:
    keys = Keys(namespace)
    # By age: entries from 1970 are far older than an hour, and go as whole stream nodes fill.
    for n in range(1, 501):
        redis_client.xadd(keys.events, {"payload": "{}"}, id=f"{n}-0")
    consumer = TaggedConsumer(redis_client, keys, GROUP_STORE, "c1", 100, block_ms=10, claim_idle_ms=60_000)
    consumer.ensure_group()
    by_age = Store(engine, redis_client, consumer, keys, events_maxlen=1_000_000, events_max_age_s=3600)
    _send(redis_client, keys, range(1, 101))
    while by_age.step(threading.Event()):
        pass
    entries: Any = redis_client.xrange(keys.events)
    stamps = [int(entry_id.decode().split("-")[0]) for entry_id, _ in entries]
    assert len([ms for ms in stamps if ms <= 500]) < 500
    assert len([ms for ms in stamps if ms > 500]) >= 100  # every new change is still there
    # By length: a cap far below what was published.
    by_length = Store(engine, redis_client, consumer, keys, events_maxlen=10)
    _send(redis_client, keys, range(101, 401))
    while by_length.step(threading.Event()):
        pass
    assert redis_client.xlen(keys.events) < 300
