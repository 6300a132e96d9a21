"""Extract's shared linking and story state in the real Redis: workers agree on ids."""

import datetime as dt
import threading

import pytest
import redis

from services.common.schema import EntityLabel, Event, Mention
from services.extract.events import event_id
from services.extract.gazetteer import Gazetteer
from services.extract.link import Linker
from services.extract.registry import ExtractKeys, RedisRegistry
from services.extract.stories import Stories
from tests.factories import article

pytestmark = pytest.mark.integration


def _mentions(text: str, *spans: tuple[str, EntityLabel]) -> list[Mention]:
    return [
        Mention(field="body", start=text.index(s), end=text.index(s) + len(s), text=s, label=label, score=0.9)
        for s, label in spans
    ]


def test_workers_racing_on_new_names_mint_one_id_each(redis_url: str, namespace: str) -> None:
    gazetteer = Gazetteer.load()
    texts = [
        ("Sin Kyaing village was attacked by the Border Guard Force.", "Sin Kyaing", "Border Guard Force"),
        ("Fighting reached Sin-Kyaing village, the Border Guard Force said.", "Sin-Kyaing", "Border Guard Force"),
        ("Residents left SIN KYAING village; the Border Guard Force left too.", "SIN KYAING", "Border Guard Force"),
    ] * 4
    results: list[dict[str, str | None]] = []
    barrier = threading.Barrier(len(texts))

    def work(text: str, place: str, group: str) -> None:
        # Each "worker" has its own connection, as each prefork child does.
        client = redis.Redis.from_url(redis_url)
        linker = Linker(gazetteer, RedisRegistry(client, ExtractKeys(namespace)))
        barrier.wait()
        linked = linker.link("", text, _mentions(text, (place, "LOC"), (group, "ORG")))
        results.append({m.label: m.entity_id for m in linked.mentions})
        client.close()

    threads = [threading.Thread(target=work, args=t) for t in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(results) == len(texts)
    assert {r["LOC"] for r in results} == {"loc:sin-kyaing"}
    assert {r["ORG"] for r in results} == {"org:border-guard-force"}
    client = redis.Redis.from_url(redis_url)
    stored = RedisRegistry(client, ExtractKeys(namespace)).entities(["loc:sin-kyaing"])["loc:sin-kyaing"]
    # Whichever spelling won the race is the name; the others are its aliases.
    assert {stored.name, *stored.aliases} == {"Sin Kyaing", "Sin-Kyaing", "SIN KYAING"}
    assert len(stored.aliases) == 2


def test_a_later_worker_sees_what_an_earlier_one_learned(redis_url: str, namespace: str) -> None:
    gazetteer = Gazetteer.load()
    first = Linker(gazetteer, RedisRegistry(redis.Redis.from_url(redis_url), ExtractKeys(namespace)))
    text = "The Arakan Army (AA) took the town."
    first.link("", text, _mentions(text, ("Arakan Army", "ORG")))

    second = Linker(gazetteer, RedisRegistry(redis.Redis.from_url(redis_url), ExtractKeys(namespace)))
    later = "The AA overran the base."
    linked = second.link("", later, [])
    assert [(m.text, m.entity_id) for m in linked.mentions] == [("AA", "org:arakan-army")]


def test_stories_are_shared_between_workers(redis_url: str, namespace: str) -> None:
    day = dt.date(2024, 11, 20)
    event = Event(
        id=event_id("Battles", "x", "loc:k", day, "day"),
        type="Battles",
        sub_type="x",
        place_id="loc:k",
        date=day,
        date_precision="day",
        evidence="...",
        confidence=0.5,
    )
    one = Stories(RedisRegistry(redis.Redis.from_url(redis_url), ExtractKeys(namespace)), encoder=None)
    two = Stories(RedisRegistry(redis.Redis.from_url(redis_url), ExtractKeys(namespace)), encoder=None)
    published = dt.datetime(2024, 11, 21, tzinfo=dt.UTC)
    first = one.assign(article(1).model_copy(update={"published_at": published}), [], [event])
    second = two.assign(article(2).model_copy(update={"published_at": published + dt.timedelta(days=9)}), [], [event])
    assert first == second and first.startswith("story:")
