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
