"""Ingest's metrics, declared once. Labels are bounded: ``outlet`` (the registry's outlets),
``outcome`` and ``reason`` (the fixed sets in ``errors``), ``result``; never a feed URL or article."""

from prometheus_client import Counter, Gauge, Histogram

_LATENCY = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
_PARSE = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5)

POLLS = Counter(
    "newswire_ingest_feed_polls_total",
    "Feed polls by outcome: ok (200), not_modified (304), or an error reason.",
    ["outlet", "outcome"],
)
FAILURES = Counter("newswire_ingest_feed_failures_total", "Failed feed polls by reason.", ["outlet", "reason"])
MALFORMED = Counter(
    "newswire_ingest_feeds_malformed_total",
    "Polls whose document was malformed; salvaged entries were still ingested.",
    ["outlet"],
)
ARTICLES = Counter(
    "newswire_ingest_articles_total",
    "Feed entries by what ingest made of them (new, changed, unchanged, invalid, duplicate, date_fallback).",
    ["outlet", "result"],
)
ZAWGYI = Counter(
    "newswire_ingest_zawgyi_converted_total",
    "Feed entries whose Burmese text came in the Zawgyi encoding and was converted to Unicode "
    "(counted on every poll that parses them, like the date_fallback articles).",
    ["outlet"],
)
QUEUED = Counter("newswire_ingest_articles_queued_total", "Articles queued for extract.", ["outlet"])
BYTES = Counter(
    "newswire_ingest_fetched_bytes_total", "Bytes of feed bodies received, as sent (compressed).", ["outlet"]
)
IN_PROGRESS = Gauge("newswire_ingest_polls_in_progress", "Feed polls under way in this replica.")
DURATION = Histogram(
    "newswire_ingest_poll_duration_seconds", "Time to fetch, parse and queue one feed.", ["outlet"], buckets=_LATENCY
)
FETCH_DURATION = Histogram(
    "newswire_ingest_fetch_duration_seconds", "Time to fetch one feed (all redirects).", ["outlet"], buckets=_LATENCY
)
PARSE_DURATION = Histogram(
    "newswire_ingest_parse_duration_seconds", "Time to parse and normalise one feed body.", ["outlet"], buckets=_PARSE
)
LAST_SUCCESS = Gauge(
    "newswire_ingest_last_success_timestamp_seconds", "When a poll of the outlet's feeds last succeeded.", ["outlet"]
)
SCHEDULE_LAG = Histogram(
    "newswire_ingest_schedule_lag_seconds",
    "How late a feed was claimed after it fell due.",
    buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600),
)
FEEDS_DUE = Gauge("newswire_ingest_feeds_due", "Feeds due now in the shared schedule.")
FEEDS_OVERDUE = Gauge("newswire_ingest_feeds_overdue", "Feeds due for over a minute and not yet claimed.")
FEEDS_BROKEN = Gauge("newswire_ingest_feeds_broken", "Feeds marked broken: no longer polled until re-enabled.")
BROKEN_MARKED = Counter(
    "newswire_ingest_feeds_marked_broken_total",
    "Feeds marked broken, by the reason of their last failure.",
    ["outlet", "reason"],
)
HOST_BACKOFFS = Counter(
    "newswire_ingest_host_backoffs_total", "Times a host answered 429 or 503 and all its feeds backed off.", ["outlet"]
)
REDIRECTS = Counter(
    "newswire_ingest_feed_moved_total", "Feeds whose URL was updated after a permanent redirect.", ["outlet"]
)
PAGES = Counter(
    "newswire_ingest_pages_total", "Article pages fetched for summary-only feeds, by outcome.", ["outlet", "outcome"]
)
# Sampled by ingest after each round of polls: ingest is the producer and already holds a Redis
# connection, and one LLEN per priority list is cheaper than a Celery inspect round trip.
EXTRACT_QUEUE = Gauge(
    "newswire_ingest_extract_queue_messages", "Tag tasks waiting in the extract queue, not yet taken by a worker."
)
READY = Gauge("newswire_ingest_ready", "1 while ingest reaches Redis and can queue articles, else 0.")
