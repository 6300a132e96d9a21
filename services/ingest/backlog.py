"""The extract queue's length, as ingest sees it: the backlog an operator watches grow or shrink."""

import redis

from services.common.names import QUEUE_EXTRACT, Keys
from services.ingest import metrics


def sample_extract_queue(client: redis.Redis, keys: Keys) -> int:
    """Set ``newswire_ingest_extract_queue_messages`` to the number of waiting tag tasks (tasks a
    worker already holds are not waiting). Raises redis errors to the caller, which owns readiness."""
    pipe = client.pipeline(transaction=False)
    for key in keys.celery_queue_lists(QUEUE_EXTRACT):
        pipe.llen(key)
    waiting = sum(int(n) for n in pipe.execute())
    metrics.EXTRACT_QUEUE.set(waiting)
    return waiting
