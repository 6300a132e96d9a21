"""Extract's metrics. Workers are Celery prefork children, so these run in prometheus-client's
multiprocess mode; gauges say how the per-process values combine."""

from prometheus_client import Counter, Gauge, Histogram

from services.common.schema import TaggedArticle

TASKS = Counter(
    "newswire_extract_tasks_total",
    "Tag tasks by outcome (ok, retried, failed, dead_lettered).",
    ["outcome"],
)
IN_PROGRESS = Gauge("newswire_extract_tasks_in_progress", "Tag tasks running now.", multiprocess_mode="livesum")
DURATION = Histogram(
    "newswire_extract_task_duration_seconds",
    "Time to tag one article and write it to the tagged stream.",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)
MENTIONS = Counter("newswire_extract_mentions_total", "Entity mentions found, by type.", ["label"])
LAST_SUCCESS = Gauge(
    "newswire_extract_last_success_timestamp_seconds",
    "When a tag task last succeeded.",
    multiprocess_mode="max",
)
BACKEND = Gauge(
    "newswire_extract_ner_backend_info",
    "The NER backend and model each live worker process loaded (value 1).",
    ["backend", "model"],
    multiprocess_mode="livemax",
)
FALLBACK = Gauge(
    "newswire_extract_ner_fallback",
    "1 in a worker process that tags with Newswire's own offline model because the configured "
    "transformers model did not load, else 0.",
    multiprocess_mode="livemax",
)
MODEL_LOAD = Histogram(
    "newswire_extract_model_load_duration_seconds",
    "Time to load the NER model in a worker process.",
    buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120),
)
READY = Gauge(
    "newswire_extract_ready",
    "1 while the worker is connected to the broker and consuming tasks, 0 while it reconnects or stops.",
    multiprocess_mode="livemax",
)
LINKED = Counter(
    "newswire_extract_mentions_linked_total",
    "Mentions by linking outcome (linked to a canonical entity, or not).",
    ["outcome"],
)
EVENTS = Counter("newswire_extract_events_total", "Events read from articles, by ACLED event type.", ["type"])
PLACES = Counter(
    "newswire_extract_places_total",
    "Place entities by whether the gazetteer knew them (gazetteer, unknown).",
    ["source"],
)


def observe_analysis(tagged: TaggedArticle) -> None:
    for mention in tagged.mentions:
        LINKED.labels("linked" if mention.entity_id else "unlinked").inc()
    for event in tagged.events:
        EVENTS.labels(event.type).inc()
    for entity in tagged.entities:
        if entity.type == "LOC":
            PLACES.labels("gazetteer" if entity.gazetteer_id else "unknown").inc()
