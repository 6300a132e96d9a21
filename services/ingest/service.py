"""The ingest loop: poll each due feed, normalise its entries, queue what is new or changed."""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from celery import Celery

from services.common.names import QUEUE_EXTRACT, TASK_TAG_ARTICLE
from services.common.schema import Article
from services.ingest import metrics
from services.ingest.errors import QUEUE_UNAVAILABLE, IngestError
from services.ingest.feeds import Feed
from services.ingest.fetch import Validators, fetch
from services.ingest.normalise import normalise
from services.ingest.parse import parse_feed
from services.ingest.seen import SeenVersions

log = logging.getLogger(__name__)

# A poll that could not reach Redis is tried again this soon, not a whole poll interval later.
QUEUE_RETRY_S = 5.0
# The loop wakes at least this often to sample the extract backlog, so the gauge stays fresh.
BACKLOG_EVERY_S = 15.0


@dataclass
class PollSummary:
    feeds: int = 0
    feeds_failed: int = 0
    entries: int = 0
    articles_new: int = 0
    articles_changed: int = 0
    articles_unchanged: int = 0
    queued: list[tuple[str, str]] = field(default_factory=list)
    queue_unavailable: int = 0

    def add(self, other: "PollSummary") -> None:
        self.feeds += other.feeds
        self.feeds_failed += other.feeds_failed
        self.entries += other.entries
        self.articles_new += other.articles_new
        self.articles_changed += other.articles_changed
        self.articles_unchanged += other.articles_unchanged
        self.queued.extend(other.queued)
        self.queue_unavailable += other.queue_unavailable


class Ingest:
    def __init__(
        self,
        feeds: list[Feed],
        seen: SeenVersions,
        celery: Celery,
        http: httpx.Client,
        max_bytes: int,
        sample_backlog: Callable[[], int] | None = None,
    ) -> None:
        self.feeds = feeds
        self._seen = seen
        self._celery = celery
        self._http = http
        self._max_bytes = max_bytes
        self._validators: dict[str, Validators] = {}
        self._sample_backlog = sample_backlog

    def poll_all(self) -> PollSummary:
        summary = PollSummary()
        for feed in self.feeds:
            summary.add(self.poll(feed))
        return summary

    def poll(self, feed: Feed) -> PollSummary:
        """Poll one feed. A failure is logged and counted, never raised: one broken feed must not
        stop the others."""
        summary = PollSummary(feeds=1)
        metrics.IN_PROGRESS.inc()
        started = time.monotonic()
        try:
            self._poll(feed, summary)
        except IngestError as exc:
            summary.feeds_failed = 1
            metrics.POLLS.labels("failed").inc()
            metrics.FAILURES.labels(exc.reason).inc()
            log.warning("feed poll failed", extra={"feed": feed.name, "reason": exc.reason, "error": str(exc)})
        except QUEUE_UNAVAILABLE as exc:
            summary.feeds_failed = summary.queue_unavailable = 1
            metrics.POLLS.labels("failed").inc()
            metrics.FAILURES.labels("redis").inc()
            metrics.READY.set(0)
            log.warning("redis unavailable, poll will be retried", extra={"feed": feed.name, "error": str(exc)})
        finally:
            metrics.IN_PROGRESS.dec()
            metrics.DURATION.observe(time.monotonic() - started)
        return summary

    def _poll(self, feed: Feed, summary: PollSummary) -> None:
        fetched = fetch(self._http, feed.url, self._validators.get(feed.name, Validators()), self._max_bytes)
        self._validators[feed.name] = fetched.validators
        if fetched.not_modified:
            metrics.POLLS.labels("not_modified").inc()
            metrics.LAST_SUCCESS.set_to_current_time()
            log.info("feed not modified", extra={"feed": feed.name})
            return
        fetched_at = datetime.now(UTC)
        parsed = parse_feed(fetched.body, fetched.content_type)
        if parsed.malformed:
            metrics.MALFORMED.inc()
            log.warning(
                "feed is malformed, keeping what could be salvaged",
                extra={"feed": feed.name, "entries": len(parsed.entries), "error": parsed.problem},
            )
        articles: dict[str, Article] = {}
        for entry in parsed.entries:
            article = normalise(entry, feed, fetched_at, parsed.link, parsed.language)
            if article is None:
                metrics.ARTICLES.labels("invalid").inc()
                log.warning("entry has no link, GUID or content; skipped", extra={"feed": feed.name})
                continue
            # A feed that repeats an item keeps its last occurrence only.
            articles[article.id] = article
        summary.entries = len(parsed.entries)
        batch = list(articles.values())
        for article, previous in zip(batch, self._seen.previous(batch), strict=True):
            if previous == article.version:
                summary.articles_unchanged += 1
                metrics.ARTICLES.labels("unchanged").inc()
                continue
            self._celery.send_task(TASK_TAG_ARTICLE, args=[article.model_dump(mode="json")], queue=QUEUE_EXTRACT)
            self._seen.mark_queued(article)
            metrics.QUEUED.inc()
            summary.queued.append((article.id, article.version))
            if previous is None:
                summary.articles_new += 1
                metrics.ARTICLES.labels("new").inc()
            else:
                summary.articles_changed += 1
                metrics.ARTICLES.labels("changed").inc()
        metrics.POLLS.labels("ok").inc()
        metrics.LAST_SUCCESS.set_to_current_time()
        metrics.READY.set(1)
        log.info(
            "feed polled",
            extra={
                "feed": feed.name,
                "entries": summary.entries,
                "new": summary.articles_new,
                "changed": summary.articles_changed,
            },
        )

    def run_forever(self, stop: threading.Event) -> None:
        """Poll each feed at its interval until ``stop`` is set."""
        next_due = {feed.name: 0.0 for feed in self.feeds}
        self.sample_backlog()  # Readiness from the start, not only after a first round of polls.
        while not stop.is_set():
            now = time.monotonic()
            for feed in self.feeds:
                if stop.is_set():
                    break
                if next_due[feed.name] <= now:
                    polled = self.poll(feed)
                    wait = QUEUE_RETRY_S if polled.queue_unavailable else feed.poll_interval_s
                    next_due[feed.name] = time.monotonic() + wait
            self.sample_backlog()
            stop.wait(max(0.5, min(BACKLOG_EVERY_S, min(next_due.values()) - time.monotonic())))

    def sample_backlog(self) -> None:
        """Refresh the extract backlog gauge, and readiness with it: both say whether Redis answers."""
        if self._sample_backlog is None:
            return
        try:
            self._sample_backlog()
        except QUEUE_UNAVAILABLE as exc:
            metrics.READY.set(0)
            log.warning("redis unavailable, cannot sample the extract backlog", extra={"error": str(exc)})
            return
        metrics.READY.set(1)
