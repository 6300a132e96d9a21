"""The extract backlog gauge against the real Redis and Celery's real Redis transport: the keys it
counts are the ones kombu writes, priorities included."""

import redis
from prometheus_client import REGISTRY

from services.common.celery_config import make_app
from services.common.names import QUEUE_EXTRACT, TASK_TAG_ARTICLE, Keys
from services.ingest.backlog import sample_extract_queue
from tests.integration.ingest_helpers import make_ingest


def _gauge(name: str) -> float | None:
    return REGISTRY.get_sample_value(name)


def test_sample_counts_every_waiting_task_at_every_priority(
    redis_url: str, namespace: str, redis_client: redis.Redis
) -> None:
    keys = Keys(namespace)
    assert sample_extract_queue(redis_client, keys) == 0
    app = make_app("test-producer", redis_url, keys)
    for priority in (None, None, 5, 9):
        options = {} if priority is None else {"priority": priority}
        app.send_task(TASK_TAG_ARTICLE, args=[{}], queue=QUEUE_EXTRACT, **options)
    app.close()
    assert sample_extract_queue(redis_client, keys) == 4
    assert _gauge("newswire_ingest_extract_queue_messages") == 4
    # The gauge counts what kombu's own size query counts.
    with make_app("test-inspect", redis_url, keys).connection_for_write() as connection:
        channel = connection.default_channel
        assert channel._size(QUEUE_EXTRACT) == 4


def test_ingest_reports_not_ready_while_redis_is_away(
    redis_url: str, namespace: str, redis_client: redis.Redis
) -> None:
    keys = Keys(namespace)
    gone = redis.Redis(port=1, socket_connect_timeout=1)  # nothing listens on port 1
    ingest = make_ingest(redis_url, namespace, [])
    ingest._sample_backlog = lambda: sample_extract_queue(gone, keys)
    ingest.sample_backlog()
    assert _gauge("newswire_ingest_ready") == 0
    ingest._sample_backlog = lambda: sample_extract_queue(redis_client, keys)
    ingest.sample_backlog()
    assert _gauge("newswire_ingest_ready") == 1
