"""`newswire run --once --json` as a user runs it: a subprocess with a real Celery worker, real
Redis, and each database."""

from pathlib import Path

import pytest
import redis
from sqlalchemy import select

from services.common.names import Keys
from services.store import database
from services.store.tables import articles, mentions
from tests.conftest import stream_payloads
from tests.e2e.conftest import newswire, summary

pytestmark = pytest.mark.e2e


def _stored(db_url: str) -> tuple[list[str], list[tuple[str, str, str]]]:
    engine = database.make_engine(db_url)
    with engine.connect() as connection:
        outlets = sorted(connection.execute(select(articles.c.outlet)).scalars())
        found = [
            (row.article_id, row.text, row.label)
            for row in connection.execute(select(mentions.c.article_id, mentions.c.text, mentions.c.label))
        ]
    engine.dispose()
    return outlets, found


def test_samples_on_sqlite_through_the_transformers_backend_then_nothing_new(
    service_env: dict[str, str], sqlite_url: str, tiny_model: Path, redis_url: str, namespace: str
) -> None:
    env = {**service_env, "NEWSWIRE_NER_MODEL": str(tiny_model)}

    first = summary(newswire("run", "--once", "--json", "--db", sqlite_url, env=env))

    assert first["feeds"] == 3 and first["feeds_failed"] == 0
    assert first["articles_new"] == 3 and first["articles_stored"] == 3
    assert first["mentions"] > 0 and first["db_articles"] == 3
    outlets, found = _stored(sqlite_url)
    assert outlets == ["Associated Press", "Radio Free Asia", "The Irrawaddy"]
    # The tiny model knows "Naw Bu" and "Myitkyina": proof the transformers path tagged the text.
    assert {(text.lower(), label) for _, text, label in found} >= {("naw bu", "PER"), ("myitkyina", "LOC")}
    events = stream_payloads(redis.Redis.from_url(redis_url), Keys(namespace).events)
    # Extract now links entities and finds the story too, so store publishes those changes as well.
    assert [e["kind"] for e in events if e["kind"] == "article.upserted"] == ["article.upserted"] * 3
    assert {e["kind"] for e in events} <= {"article.upserted", "entity.upserted", "event.upserted", "story.updated"}
    assert "entity.upserted" in {e["kind"] for e in events}

    second = summary(newswire("run", "--once", "--json", "--db", sqlite_url, env=env))

    assert second["articles_new"] == 0 and second["articles_unchanged"] == 3
    assert (second["db_articles"], second["db_mentions"]) == (3, first["db_mentions"])
    assert redis.Redis.from_url(redis_url).xlen(Keys(namespace).events) == len(events)


def test_samples_on_postgresql_with_the_offline_fallback(
    service_env: dict[str, str], pg_url: str, redis_url: str, namespace: str
) -> None:
    # The default hub model is not on this machine: run must say so and fall back to Newswire's own.
    result = newswire("run", "--once", "--json", "--db", pg_url, env=service_env)
    first = summary(result)

    assert "Newswire's own offline model" in result.stderr
    assert (first["articles_new"], first["articles_stored"], first["db_articles"]) == (3, 3, 3)
    outlets, found = _stored(pg_url)
    assert len(outlets) == 3
    assert ("Myitkyina", "LOC") in {(text, label) for _, text, label in found}
    # The heart of it: three outlets, three spellings, one place, one event, one story.
    tagged = stream_payloads(redis.Redis.from_url(redis_url), Keys(namespace).tagged)
    assert len(tagged) == 3
    assert len({t["story_id"] for t in tagged}) == 1 and tagged[0]["story_id"]
    captures = [
        [e for e in t["events"] if e["sub_type"] == "Non-state actor overtakes territory" and e["date"] == "2024-11-20"]
        for t in tagged
    ]
    assert all(len(c) == 1 for c in captures)
    assert len({c[0]["id"] for c in captures}) == 1
    places = {
        entity["id"]: entity for t in tagged for entity in t["entities"] if entity["id"] == captures[0][0]["place_id"]
    }
    (kanpaiti,) = places.values()
    assert kanpaiti["name"] == "Kanpaiti" and kanpaiti["admin_area"].endswith("Kachin State")
    spellings = {m["text"] for t in tagged for m in t["mentions"] if m["entity_id"] == kanpaiti["id"]}
    assert {"Kan Paik Ti", "Kanpaiti", "Kanpiketi"} <= spellings

    again = summary(newswire("run", "--once", "--json", "--db", pg_url, env=service_env))
    assert (again["articles_new"], again["db_articles"], again["db_mentions"]) == (0, 3, first["db_mentions"])


def test_run_refuses_when_the_fallback_is_forbidden(service_env: dict[str, str], sqlite_url: str) -> None:
    env = {**service_env, "NEWSWIRE_NER_FALLBACK": "false"}
    result = newswire("run", "--once", "--db", sqlite_url, env=env, timeout=120)
    assert result.returncode == 2
    assert "NEWSWIRE_NER_FALLBACK=false" in result.stderr


def test_run_says_what_to_do_when_redis_does_not_answer(service_env: dict[str, str], sqlite_url: str) -> None:
    result = newswire("run", "--once", "--db", sqlite_url, "--redis", "redis://127.0.0.1:1/0", env=service_env)
    assert result.returncode == 2
    assert "does not answer" in result.stderr and "redis-server" in result.stderr


def test_a_new_database_gets_every_article_even_though_redis_remembers_them(
    service_env: dict[str, str], tmp_path: Path
) -> None:
    # A second clone on the same machine: same Redis, new SQLite file.
    env = {**service_env, "NEWSWIRE_NER_BACKEND": "onnx"}
    first = summary(newswire("run", "--once", "--json", "--db", f"sqlite:///{tmp_path / 'a.db'}", env=env))
    other = summary(newswire("run", "--once", "--json", "--db", f"sqlite:///{tmp_path / 'b.db'}", env=env))

    assert first["db_articles"] == 3
    assert (other["articles_stored"], other["db_articles"]) == (3, 3)
