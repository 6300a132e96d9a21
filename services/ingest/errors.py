"""Ingest's failures, named once. ``reason`` is a bounded metric label.

IngestError
└── FetchError      the feed could not be fetched (reason: timeout, connect, http_status,
                    too_large, not_found)
"""

import kombu.exceptions
import redis


class IngestError(Exception):
    reason = "error"


class FetchError(IngestError):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


# Redis (the seen hash or the Celery broker) cannot be reached right now: the poll is retried soon,
# and nothing is recorded as seen that was not queued. Redis errors, not IngestErrors: they say
# nothing about the feed.
QUEUE_UNAVAILABLE: tuple[type[Exception], ...] = (
    redis.ConnectionError,
    redis.TimeoutError,
    redis.BusyLoadingError,
    kombu.exceptions.OperationalError,
)
