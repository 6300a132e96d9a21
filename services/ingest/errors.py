"""Ingest's failures, named once. ``reason`` is a bounded metric label (the values below, no others).

IngestError
└── FetchError           a feed (or article page) could not be fetched or is not a feed
    reason:  timeout            connect, read or total time ran out (a server dripping bytes too)
             connect            the server could not be reached
             blocked_address    it resolves to a loopback, private, link-local or metadata address
             redirect_loop      a redirect leads back to a URL already visited
             too_many_redirects more redirects than NEWSWIRE_INGEST_MAX_REDIRECTS
             bad_redirect       a redirect without a usable Location, or to a scheme other than http(s)
             rate_limited       HTTP 429 or 503: the whole host backs off
             gone               HTTP 404 or 410
             http_client_error  another 4xx
             http_server_error  another 5xx
             http_status        any other unexpected status
             too_large          the body exceeds the cap, counted after decompression
             bad_encoding       a Content-Encoding we cannot or will not decode, or a corrupt stream
             not_a_feed         HTML, JSON or anything else that is not RSS, Atom or RDF
             xml_entities       the document declares XML entities (expansion or external-entity attack)
             unsupported        a URL scheme other than http, https or a local file
             not_found          a local feed file does not exist
"""

import kombu.exceptions
import redis

REASONS = frozenset(
    {
        "timeout",
        "connect",
        "blocked_address",
        "redirect_loop",
        "too_many_redirects",
        "bad_redirect",
        "rate_limited",
        "gone",
        "http_client_error",
        "http_server_error",
        "http_status",
        "too_large",
        "bad_encoding",
        "not_a_feed",
        "xml_entities",
        "unsupported",
        "not_found",
    }
)


class IngestError(Exception):
    reason = "error"


class FetchError(IngestError):
    def __init__(
        self,
        reason: str,
        message: str,
        *,
        status: int | None = None,
        retry_after: str | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message)
        assert reason in REASONS, reason
        self.reason = reason
        self.status = status
        # The server's Retry-After header, when it sent one (429 and 503 usually do).
        self.retry_after = retry_after
        # The URL that answered with ``status``: after redirects, not the one first asked for.
        self.url = url


# Redis (the seen hash, the schedule or the Celery broker) cannot be reached right now: the poll is
# retried soon, and nothing is recorded as seen that was not queued. Redis errors, not IngestErrors:
# they say nothing about the feed.
QUEUE_UNAVAILABLE: tuple[type[Exception], ...] = (
    redis.ConnectionError,
    redis.TimeoutError,
    redis.BusyLoadingError,
    kombu.exceptions.OperationalError,
)
