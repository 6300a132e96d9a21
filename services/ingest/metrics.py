from prometheus_client import Counter, Gauge, Histogram

POLLS = Counter("newswire_ingest_feed_polls_total", "Feed polls by outcome.", ["outcome"])
FAILURES = Counter("newswire_ingest_feed_failures_total", "Failed feed polls by reason.", ["reason"])
MALFORMED = Counter(
    "newswire_ingest_feeds_malformed_total",
    "Polls whose document was malformed; salvaged entries were still ingested.",
)
ARTICLES = Counter(
    "newswire_ingest_articles_total",
    "Feed entries by what ingest made of them (new, changed, unchanged, invalid).",
    ["result"],
)
QUEUED = Counter("newswire_ingest_articles_queued_total", "Articles queued for extract.")
IN_PROGRESS = Gauge("newswire_ingest_polls_in_progress", "Feed polls under way.")
DURATION = Histogram("newswire_ingest_poll_duration_seconds", "Time to fetch, parse and queue one feed.")
LAST_SUCCESS = Gauge("newswire_ingest_last_success_timestamp_seconds", "When a feed poll last succeeded.")
# Sampled by ingest after each round of polls: ingest is the producer and already holds a Redis
# connection, and one LLEN per priority list is cheaper than a Celery inspect round trip.
EXTRACT_QUEUE = Gauge(
    "newswire_ingest_extract_queue_messages", "Tag tasks waiting in the extract queue, not yet taken by a worker."
)
READY = Gauge("newswire_ingest_ready", "1 while ingest reaches Redis and can queue articles, else 0.")
