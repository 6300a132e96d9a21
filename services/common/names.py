"""Every Redis key, stream, consumer group, queue and task name the services meet at.

Keys live under one namespace (default ``newswire``) so that several deployments, or several test
runs, can share one Redis server without seeing each other's data.
"""

from dataclasses import dataclass

TASK_TAG_ARTICLE = "extract.tag_article"
QUEUE_EXTRACT = "extract"
GROUP_STORE = "store"
DEFAULT_NAMESPACE = "newswire"


@dataclass(frozen=True)
class Keys:
    namespace: str = DEFAULT_NAMESPACE

    @property
    def tagged(self) -> str:
        """Stream of tagged articles, written by extract, read by store's consumer group."""
        return f"{self.namespace}:tagged"

    @property
    def events(self) -> str:
        """Stream of committed changes that downstream consumers subscribe to."""
        return f"{self.namespace}:events"

    @property
    def tagged_dead(self) -> str:
        """Dead letters of store: tagged messages it could not accept, with the reason."""
        return f"{self.namespace}:tagged:dead"

    @property
    def extract_dead(self) -> str:
        """Dead letters of extract: tasks that kept failing, with their error."""
        return f"{self.namespace}:extract:dead"

    @property
    def ingest_seen(self) -> str:
        """Hash of article id to the last version that ingest queued."""
        return f"{self.namespace}:ingest:seen"

    @property
    def ingest_article_feeds(self) -> str:
        """Hash of article id to the feeds known to carry it (comma-separated feed names)."""
        return f"{self.namespace}:ingest:article-feeds"

    @property
    def ingest_schedule(self) -> str:
        """Sorted set of feed name to the Unix time it is next due; every ingest replica shares it."""
        return f"{self.namespace}:ingest:schedule"

    @property
    def ingest_feed_prefix(self) -> str:
        return f"{self.namespace}:ingest:feed:"

    def ingest_feed(self, name: str) -> str:
        """Hash of one feed's state: validators, current URL, failures, broken reason, last poll."""
        return f"{self.ingest_feed_prefix}{name}"

    @property
    def ingest_claim_prefix(self) -> str:
        return f"{self.namespace}:ingest:claim:"

    def ingest_claim(self, name: str) -> str:
        """String holding the token of the replica polling a feed; it expires with the claim."""
        return f"{self.ingest_claim_prefix}{name}"

    def ingest_host(self, host: str) -> str:
        """Hash of one host's politeness state: when the next request may start, backoff."""
        return f"{self.namespace}:ingest:host:{host}"

    def ingest_host_slots(self, host: str) -> str:
        """Sorted set of the requests under way to one host, scored by when each lease expires."""
        return f"{self.namespace}:ingest:host:{host}:slots"

    @property
    def celery_prefix(self) -> str:
        """Prefix of every key Celery's Redis transport writes (queues, unacked, bindings)."""
        return f"{self.namespace}:celery:"

    def celery_queue_lists(self, queue: str) -> list[str]:
        """The Redis lists that hold a Celery queue's waiting messages: kombu's Redis transport keeps
        one list per priority step (0, 3, 6, 9), the first named after the queue alone and the others
        with the step appended after its separator ``\\x06\\x16``."""
        return [f"{self.celery_prefix}{queue}"] + [f"{self.celery_prefix}{queue}\x06\x16{step}" for step in (3, 6, 9)]
