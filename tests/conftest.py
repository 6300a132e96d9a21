"""Fixtures for tests that use the machine's real Redis and PostgreSQL.

Each test gets its own Redis key namespace and its own PostgreSQL database, created here and removed
afterwards, so test runs (and developers sharing a machine) never see each other's data. A server
that does not answer fails the test: it is never a reason to skip.
"""

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis

REPO = Path(__file__).resolve().parent.parent
SAMPLE_FEEDS = REPO / "samples" / "feeds.yaml"
REDIS_URL = os.environ.get("NEWSWIRE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PG_URL = os.environ.get("NEWSWIRE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
def redis_url() -> str:
    return REDIS_URL


@pytest.fixture
def namespace(redis_url: str) -> Iterator[str]:
    """A Redis key namespace of this test's own; its keys are deleted afterwards."""
    name = f"nwtest-{uuid.uuid4().hex[:12]}"
    client = redis.Redis.from_url(redis_url)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at {redis_url} does not answer ({exc}): run scripts/ensure-redis")
    yield name
    for key in client.scan_iter(match=f"{name}:*", count=1000):
        client.delete(key)
    client.close()


@pytest.fixture
def redis_client(redis_url: str, namespace: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database of this test's own, dropped afterwards."""
    name = f"nwtest_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(PG_URL, autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL at {PG_URL} does not answer ({exc}): run scripts/ensure-postgres")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'newswire.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each database-backed test runs on both supported databases."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_url"))


def stream_fields(client: redis.Redis, key: str) -> list[dict[str, str]]:
    """Every entry of a stream, its fields decoded."""
    entries: Any = client.xrange(key)
    return [{k.decode(): v.decode() for k, v in fields.items()} for _, fields in entries]


def stream_payloads(client: redis.Redis, key: str) -> list[dict[str, Any]]:
    """The JSON ``payload`` field of every entry of a stream."""
    return [json.loads(fields["payload"]) for fields in stream_fields(client, key)]
