"""The Celery configuration that the producer (ingest) and the workers (extract) must agree on."""

from celery import Celery

from services.common.names import QUEUE_EXTRACT, TASK_TAG_ARTICLE, Keys


def make_app(name: str, redis_url: str, keys: Keys, visibility_timeout_s: int = 900) -> Celery:
    app = Celery(name, broker=redis_url)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        task_default_queue=QUEUE_EXTRACT,
        task_routes={TASK_TAG_ARTICLE: {"queue": QUEUE_EXTRACT}},
        # At-least-once: ack after the task ran, requeue when the worker process dies under it, and
        # hold one message at a time so a crash strands at most one.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "global_keyprefix": keys.celery_prefix,
            # An unacknowledged message (its worker was killed) is redelivered after this long;
            # it must exceed the longest task.
            "visibility_timeout": visibility_timeout_s,
        },
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
    )
    return app
