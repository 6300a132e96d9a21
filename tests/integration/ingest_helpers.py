"""Building a real Ingest (real Redis, real Celery producer, real HTTP client) for the tests."""

import random
from typing import Any

import redis
from prometheus_client import REGISTRY

from services.common.celery_config import make_app
from services.ingest.feeds import Feed
from services.ingest.service import Ingest, build
from services.ingest.settings import IngestSettings


def settings(redis_url: str, namespace: str, **overrides: Any) -> IngestSettings:
    values: dict[str, Any] = {
        "redis_url": redis_url,
        "redis_namespace": namespace,
        "ingest_allow_networks": "127.0.0.0/8",
        "ingest_host_gap_s": 0.0,
        "ingest_host_concurrency": 8,
        "ingest_jitter": 0.0,
        "fetch_total_timeout_s": 10.0,
        "ingest_claim_ttl_s": 60,
        # The test feeds link to example.org pages: never fetch them (no traffic leaves this machine).
        "ingest_fetch_pages": False,
        **overrides,
    }
    return IngestSettings(**values)


_OPEN: list[tuple[Ingest, redis.Redis]] = []


def make_ingest(redis_url: str, namespace: str, feeds: list[Feed], seed: int = 0, **overrides: Any) -> Ingest:
    """A real Ingest; ``close_all`` (an autouse fixture in the tests' conftest) closes it."""
    s = settings(redis_url, namespace, **overrides)
    client = redis.Redis.from_url(redis_url)  # only closed with the rest
    celery = make_app("ingest-test", redis_url, s.keys)
    ingest = build(s, feeds, celery)
    ingest._rng = random.Random(seed)
    _OPEN.append((ingest, client))
    return ingest


def close_all() -> None:
    while _OPEN:
        ingest, client = _OPEN.pop()
        ingest.__exit__(None, None, None)
        client.close()


def feed(name: str, url: str, outlet: str = "Test Outlet", **extra: Any) -> Feed:
    return Feed(name=name, url=url, outlet=outlet, **extra)


def sample(name: str, **labels: str) -> float:
    """A metric's current value in the default registry (0 when it has no such series yet)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0
