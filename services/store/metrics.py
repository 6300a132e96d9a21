from prometheus_client import Counter, Gauge, Histogram

from services.common.metrics import E2E_BUCKETS

MESSAGES = Counter(
    "newswire_store_messages_total",
    "Tagged messages by outcome (stored, unchanged, dead_lettered).",
    ["outcome"],
)
UPSERTS = Counter("newswire_store_upserts_total", "Rows written, by kind and operation.", ["kind", "operation"])
BATCH_SIZE = Histogram(
    "newswire_store_batch_size_messages", "Messages per batch.", buckets=(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000)
)
COMMIT = Histogram(
    "newswire_store_commit_duration_seconds",
    "Time to upsert and commit one batch.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
IN_PROGRESS = Gauge("newswire_store_batches_in_progress", "Batches being written now.")
FAILURES = Counter("newswire_store_batch_failures_total", "Failed batch attempts, by reason.", ["reason"])
EVENTS = Counter("newswire_store_events_published_total", "Changes published to the events stream.")
LAST_SUCCESS = Gauge("newswire_store_last_success_timestamp_seconds", "When a batch was last committed.")
PENDING = Gauge("newswire_store_pending_messages", "Messages delivered to the group but not acknowledged.")
LAG = Gauge("newswire_store_consumer_lag_messages", "Messages in the tagged stream the group has not read.")
FROM_PUBLICATION = Histogram(
    "newswire_store_publication_to_commit_seconds",
    "From an article's publication time to its commit.",
    buckets=E2E_BUCKETS,
)
FROM_FETCH = Histogram(
    "newswire_store_fetch_to_commit_seconds",
    "From an article's fetch by ingest to its commit.",
    buckets=E2E_BUCKETS,
)
READY = Gauge(
    "newswire_store_ready",
    "1 while store reaches Redis and the database and consumes, 0 while it waits for either to come back.",
)
DEAD_LETTERS = Counter(
    "newswire_store_dead_letters_total",
    "Messages moved to the dead-letter stream, by reason (malformed, schema_version, invalid, rejected).",
    ["reason"],
)
