"""The downstream consumer library against the real Redis: handlers per kind, acknowledgement after
success, retries, takeover from a dead consumer, dead letters after N deliveries."""

import subprocess
import sys
import threading
import uuid
from datetime import UTC, datetime

import pytest
import redis

from services.common.events_consumer import EventsConsumer
from services.common.names import Keys
from services.common.schema import Change, ChangeKind
from tests.conftest import REPO, stream_fields

pytestmark = pytest.mark.integration


def _publish(client: redis.Redis, keys: Keys, kind: ChangeKind, thing_id: str, version: str = "1") -> None:
    change = Change(event_id=str(uuid.uuid4()), kind=kind, id=thing_id, version=version, committed_at=datetime.now(UTC))
    client.xadd(keys.events, {"payload": change.model_dump_json()})


def _drain(consumer: EventsConsumer, rounds: int = 20) -> None:
    for _ in range(rounds):
        consumer.step()


def _pending(client: redis.Redis, keys: Keys, group: str) -> int:
    return int(client.xpending(keys.events, group)["pending"])


def test_each_kind_goes_to_its_handler_and_is_acknowledged_after_it(redis_client: redis.Redis, namespace: str) -> None:
    keys = Keys(namespace)
    seen: list[tuple[str, str]] = []
    consumer = EventsConsumer(redis_client, keys, "indexer", "i1", block_ms=10)
    consumer.on("article.upserted", lambda c: seen.append(("article", c.id)))
    consumer.on("event.upserted", lambda c: seen.append(("event", c.id)))
    consumer.ensure_group()
    _publish(redis_client, keys, "article.upserted", "a1")
    _publish(redis_client, keys, "story.updated", "s1")  # no handler: skipped, acknowledged
    _publish(redis_client, keys, "event.upserted", "e1")

    _drain(consumer, 3)

    assert seen == [("article", "a1"), ("event", "e1")]
    assert _pending(redis_client, keys, "indexer") == 0
    assert consumer.handled == 2


def test_a_kind_added_after_this_library_is_acknowledged_and_skipped(redis_client: redis.Redis, namespace: str) -> None:
    keys = Keys(namespace)
    seen: list[str] = []
    consumer = EventsConsumer(redis_client, keys, "indexer", "i1", block_ms=10)
    consumer.on("event.deleted", lambda c: seen.append(c.id))
    consumer.ensure_group()
    newer = Change(event_id="x", kind="event.upserted", id="e0", version="1", committed_at=datetime.now(UTC))
    redis_client.xadd(keys.events, {"payload": newer.model_dump_json().replace("event.upserted", "event.renamed")})
    _publish(redis_client, keys, "event.deleted", "e1", version="4")

    _drain(consumer, 3)

    assert seen == ["e1"]
    assert (consumer.handled, consumer.skipped, consumer.dead_lettered) == (1, 1, 0)
    assert _pending(redis_client, keys, "indexer") == 0
    assert redis_client.xlen(consumer.dead_letters) == 0


def test_a_failing_handler_is_retried_then_dead_lettered_after_n_deliveries(
    redis_client: redis.Redis, namespace: str
) -> None:
    keys = Keys(namespace)
    attempts: list[str] = []

    def flaky(change: Change) -> None:
        attempts.append(change.id)
        if change.id == "poison" or len(attempts) == 1:
            raise RuntimeError(f"cannot index {change.id}")

    consumer = EventsConsumer(redis_client, keys, "indexer", "i1", max_deliveries=3, retry_idle_ms=0, block_ms=10)
    consumer.on("article.upserted", flaky)
    consumer.ensure_group()
    _publish(redis_client, keys, "article.upserted", "transient")
    _publish(redis_client, keys, "article.upserted", "poison")

    _drain(consumer)

    assert attempts.count("transient") == 2  # failed once, then succeeded on its retry
    assert attempts.count("poison") == 3
    dead = stream_fields(redis_client, consumer.dead_letters)
    assert len(dead) == 1
    assert dead[0]["reason"] == "failed 3 times, last: RuntimeError: cannot index poison"
    assert dead[0]["deliveries"] == "3"
    assert _pending(redis_client, keys, "indexer") == 0


def test_what_a_dead_consumer_held_is_taken_over(redis_client: redis.Redis, namespace: str) -> None:
    keys = Keys(namespace)
    EventsConsumer(redis_client, keys, "indexer", "dead").ensure_group()
    _publish(redis_client, keys, "entity.upserted", "x")
    redis_client.xreadgroup("indexer", "dead", {keys.events: ">"}, count=10)  # read, then died
    seen: list[str] = []
    survivor = EventsConsumer(redis_client, keys, "indexer", "alive", retry_idle_ms=0, block_ms=10)
    survivor.on("entity.upserted", lambda c: seen.append(c.id))

    _drain(survivor, 2)

    assert seen == ["x"]
    assert _pending(redis_client, keys, "indexer") == 0


def test_unreadable_messages_are_dead_lettered_at_once(redis_client: redis.Redis, namespace: str) -> None:
    keys = Keys(namespace)
    consumer = EventsConsumer(redis_client, keys, "indexer", "i1", block_ms=10)
    consumer.on("article.upserted", lambda c: None)
    consumer.ensure_group()
    redis_client.xadd(keys.events, {"payload": '{"schema_version": 3, "kind": "article.upserted"}'})
    redis_client.xadd(keys.events, {"payload": "nope"})

    _drain(consumer, 2)

    reasons = [f["reason"] for f in stream_fields(redis_client, consumer.dead_letters)]
    assert reasons[0] == "unsupported schema_version 3: this library reads 2"
    assert reasons[1].startswith("payload is not JSON")
    assert consumer.dead_lettered == 2 and _pending(redis_client, keys, "indexer") == 0


def test_two_groups_each_see_every_change(redis_client: redis.Redis, namespace: str) -> None:
    keys = Keys(namespace)
    for n in range(5):
        _publish(redis_client, keys, "story.updated", f"s{n}")
    seen: dict[str, list[str]] = {"a": [], "b": []}
    for group in seen:
        consumer = EventsConsumer(redis_client, keys, group, "c", block_ms=10)
        consumer.on("story.updated", lambda c, g=group: seen[g].append(c.id))  # type: ignore[misc]
        _drain(consumer, 2)
    assert seen["a"] == seen["b"] == [f"s{n}" for n in range(5)]


def test_run_stops_when_asked(redis_client: redis.Redis, namespace: str) -> None:
    keys = Keys(namespace)
    _publish(redis_client, keys, "article.upserted", "a1")
    done = threading.Event()
    stop = threading.Event()
    consumer = EventsConsumer(redis_client, keys, "g", "c", block_ms=10)
    consumer.on("article.upserted", lambda c: done.set())
    thread = threading.Thread(target=consumer.run, args=(stop,))
    thread.start()
    assert done.wait(10)
    stop.set()
    thread.join(10)
    assert not thread.is_alive()


def test_the_example_runs(redis_url: str, redis_client: redis.Redis, namespace: str) -> None:
    keys = Keys(namespace)
    _publish(redis_client, keys, "article.upserted", "a1", "v9")
    _publish(redis_client, keys, "event.upserted", "e1", "2")
    result = subprocess.run(
        [sys.executable, "examples/events_consumer.py", "--redis", redis_url, "--namespace", namespace, "--once"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "article a1 is now at version v9" in result.stdout
    assert "event e1 changed (revision 2)" in result.stdout
