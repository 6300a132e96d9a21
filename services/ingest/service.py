"""The ingest loop: claim due feeds from the shared schedule, poll them politely, queue what is new.

One poll: read the feed's state (validators, current URL), wait for a slot on its host, fetch with
conditional GET, parse, normalise, drop what was already queued, queue the rest, then write the new
state and the next due time and release the claim, all in one step on Redis. A failure is logged,
counted and backed off, never raised: one broken feed must not stop the others.
"""

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import httpx
import redis
from celery import Celery

from services.common.names import QUEUE_EXTRACT, TASK_TAG_ARTICLE
from services.common.schema import Article
from services.ingest import metrics, schedule
from services.ingest.backlog import sample_extract_queue
from services.ingest.claims import Claim, FeedState, SharedSchedule
from services.ingest.errors import QUEUE_UNAVAILABLE, FetchError
from services.ingest.feeds import Feed
from services.ingest.fetch import Fetched, Validators, fetch
from services.ingest.guard import ClientPool, make_client
from services.ingest.hosts import HostBusy, HostGate, host_of
from services.ingest.normalise import normalise_entry
from services.ingest.pages import extract_main_text
from services.ingest.parse import ParsedFeed, parse_feed
from services.ingest.seen import SeenVersions
from services.ingest.settings import IngestSettings

log = logging.getLogger(__name__)

# How long a poll may wait for its host's slot before giving the feed back to the schedule.
_HOST_WAIT_LOOP_S = 5.0
_HOST_WAIT_ONCE_S = 60.0
_GAUGE_EVERY_S = 15.0
# A loop that cannot reach Redis tries again this soon.
_REDIS_RETRY_S = 5.0


@dataclass
class PollSummary:
    feeds: int = 0
    feeds_failed: int = 0
    feeds_not_modified: int = 0
    feeds_skipped: int = 0
    entries: int = 0
    articles_new: int = 0
    articles_changed: int = 0
    articles_unchanged: int = 0
    queued: list[tuple[str, str]] = field(default_factory=list)
    queue_unavailable: int = 0

    def add(self, other: "PollSummary") -> None:
        self.queue_unavailable += other.queue_unavailable
        self.feeds += other.feeds
        self.feeds_failed += other.feeds_failed
        self.feeds_not_modified += other.feeds_not_modified
        self.feeds_skipped += other.feeds_skipped
        self.entries += other.entries
        self.articles_new += other.articles_new
        self.articles_changed += other.articles_changed
        self.articles_unchanged += other.articles_unchanged
        self.queued.extend(other.queued)


@dataclass(frozen=True)
class IngestConfig:
    """The settings a poll needs, as one typed object (built from :class:`IngestSettings`)."""

    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    total_timeout_s: float = 60.0
    max_interval_s: float = 6 * 3600
    jitter: float = 0.1
    backoff_max_s: float = 24 * 3600
    broken_after: int = 10
    workers: int = 16
    fetch_pages: bool = True
    summary_only_chars: int = 500
    max_pages_per_poll: int = 10
    max_page_bytes: int = 5 * 1024 * 1024
    claim_ttl_s: float = 300.0

    @classmethod
    def from_settings(cls, settings: IngestSettings) -> "IngestConfig":
        return cls(
            max_bytes=settings.max_feed_bytes,
            max_redirects=settings.ingest_max_redirects,
            total_timeout_s=settings.fetch_total_timeout_s,
            max_interval_s=settings.ingest_max_interval_s,
            jitter=settings.ingest_jitter,
            backoff_max_s=settings.ingest_backoff_max_s,
            broken_after=settings.ingest_broken_after,
            workers=settings.ingest_workers,
            fetch_pages=settings.ingest_fetch_pages,
            summary_only_chars=settings.ingest_summary_only_chars,
            max_pages_per_poll=settings.ingest_max_pages_per_poll,
            max_page_bytes=settings.max_page_bytes,
            claim_ttl_s=settings.ingest_claim_ttl_s,
        )


@dataclass(frozen=True)
class Checked:
    """What ``newswire feeds check`` shows: the fetch, the parse and the articles it would queue."""

    fetched: Fetched
    parsed: ParsedFeed
    articles: list[Article]
    previous: list[str | None]
    invalid: int
    duplicates: int


class Ingest:
    def __init__(
        self,
        feeds: list[Feed],
        seen: SeenVersions,
        celery: Celery,
        http: httpx.Client | ClientPool,
        config: IngestConfig,
        shared: SharedSchedule,
        hosts: HostGate,
        rng: random.Random | None = None,
    ) -> None:
        self.feeds = feeds
        self._by_name = {f.name: f for f in feeds}
        self._seen = seen
        self._celery = celery
        self._http = http
        self.config = config
        self.schedule = shared
        self._hosts = hosts
        self._rng = rng or random.Random()
        self._rng_lock = threading.Lock()
        self._owned_redis: redis.Redis | None = None
        self._sample_backlog: Callable[[], int] | None = None

    def __enter__(self) -> "Ingest":
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.close()
        if self._owned_redis is not None:
            self._owned_redis.close()

    # --- driving -------------------------------------------------------------------------------

    def poll_all(self) -> PollSummary:
        """Poll every feed that is not broken once, now, whether due or not (``--once``)."""
        self.schedule.sync(f.name for f in self.feeds)
        states = self.schedule.states(f.name for f in self.feeds)
        summary = PollSummary()
        wanted = [f for f in self.feeds if not states[f.name].broken]
        for feed in self.feeds:
            if states[feed.name].broken:
                log.warning("feed is broken, not polled", extra={"feed": feed.name, "reason": states[feed.name].broken})
        with ThreadPoolExecutor(max(1, min(self.config.workers, len(wanted))), "ingest") as pool:
            futures = [pool.submit(self._poll_now, feed) for feed in wanted]
            for future in futures:
                summary.add(future.result())
        return summary

    def _poll_now(self, feed: Feed) -> PollSummary:
        try:
            claim = self.schedule.claim(feed.name)
            if claim is None:
                log.info("feed is being polled by another replica; skipped", extra={"feed": feed.name})
                return PollSummary(feeds_skipped=1)
            return self.poll(feed, claim, _HOST_WAIT_ONCE_S)
        except QUEUE_UNAVAILABLE as exc:
            return self._redis_away(feed, exc)

    def _redis_away(self, feed: Feed, exc: Exception) -> PollSummary:
        """Redis went away mid-poll: the feed's claim expires and it is polled again soon after."""
        metrics.POLLS.labels(feed.outlet, "redis").inc()
        metrics.FAILURES.labels(feed.outlet, "redis").inc()
        metrics.READY.set(0)
        log.warning("redis unavailable, poll will be retried", extra={"feed": feed.name, "error": str(exc)})
        return PollSummary(feeds=1, feeds_failed=1, queue_unavailable=1)

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

    def run_forever(self, stop: threading.Event) -> None:
        """Poll due feeds until ``stop`` is set, then finish the polls under way."""
        in_flight: set[Future[PollSummary]] = set()
        next_gauges = 0.0
        synced = False
        with ThreadPoolExecutor(self.config.workers, "ingest") as pool:
            while not stop.is_set():
                free = self.config.workers - len(in_flight)
                try:
                    # Inside the guard: ingest may start while Redis is away, and must wait, not die.
                    if not synced:
                        self.schedule.sync(f.name for f in self.feeds)
                        synced = True
                    claims = self.schedule.claim_due(free) if free > 0 else []
                    due = self.schedule.next_due() if free > len(claims) else None
                except QUEUE_UNAVAILABLE as exc:
                    # Redis is away: nothing can be claimed; report not ready and try again soon.
                    metrics.READY.set(0)
                    metrics.FAILURES.labels("", "redis").inc()  # no outlet: the whole loop failed
                    log.warning("redis unavailable, cannot claim feeds", extra={"error": str(exc)})
                    stop.wait(_REDIS_RETRY_S)
                    continue
                for claim in claims:
                    in_flight.add(pool.submit(self._poll_claimed, claim))
                if time.monotonic() >= next_gauges:
                    try:
                        # A Redis that restarted empty has lost the schedule: put the feeds back.
                        if self.schedule.size() < len(self.feeds):
                            self.schedule.sync(f.name for f in self.feeds)
                        self._update_gauges()
                    except QUEUE_UNAVAILABLE as exc:
                        metrics.READY.set(0)
                        log.warning("redis unavailable, cannot read the schedule", extra={"error": str(exc)})
                    self.sample_backlog()
                    next_gauges = time.monotonic() + _GAUGE_EVERY_S
                # ``due`` is None when every worker is busy, or when nothing is scheduled.
                pause = 1.0 if due is None else min(1.0, max(0.02, due - time.time()))
                if in_flight:
                    done, _ = wait(in_flight, timeout=pause, return_when=FIRST_COMPLETED)
                    in_flight -= done
                    for future in done:
                        if (error := future.exception()) is not None:
                            # A bug or a lost Redis connection: the claim expires and the feed is retried.
                            log.error("poll crashed", exc_info=error)
                else:
                    stop.wait(pause)
            log.info("stopping: finishing the polls under way", extra={"polls": len(in_flight)})

    def _poll_claimed(self, claim: Claim) -> PollSummary:
        feed = self._by_name.get(claim.name)
        if feed is None:
            # Another replica's registry has it and ours does not: leave it to them.
            self.schedule.release(claim, 60)
            return PollSummary()
        metrics.SCHEDULE_LAG.observe(claim.lag_s)
        try:
            return self.poll(feed, claim, _HOST_WAIT_LOOP_S)
        except QUEUE_UNAVAILABLE as exc:
            return self._redis_away(feed, exc)

    def _update_gauges(self) -> None:
        now = self.schedule.now()
        metrics.FEEDS_DUE.set(self.schedule.count_due(now))
        metrics.FEEDS_OVERDUE.set(self.schedule.count_due(now - 60))
        scheduled = self.schedule.size()
        metrics.FEEDS_BROKEN.set(max(0, len(self.feeds) - scheduled))

    # --- one poll ------------------------------------------------------------------------------

    def poll(self, feed: Feed, claim: Claim, host_wait_s: float = _HOST_WAIT_LOOP_S) -> PollSummary:
        """Poll one claimed feed and release the claim. Never raises for a feed's own failure."""
        metrics.IN_PROGRESS.inc()
        try:
            return self._poll(feed, claim, host_wait_s)
        finally:
            metrics.IN_PROGRESS.dec()

    def _poll(self, feed: Feed, claim: Claim, host_wait_s: float) -> PollSummary:
        summary = PollSummary(feeds=1)
        started = time.monotonic()
        state = claim.state
        if state.registry_url != feed.url:
            # New feed, or the operator changed its URL: start over from the registry's URL.
            state = FeedState(url=feed.url, registry_url=feed.url, failures=state.failures)
        url = state.url or feed.url
        host = host_of(url)
        delay: float | None
        try:
            slot = self._hosts.acquire(host, claim.token, host_wait_s)
        except HostBusy as busy:
            log.info("host is busy or backing off; feed put back", extra={"feed": feed.name, "wait_s": busy.wait_s})
            self.schedule.release(claim, busy.wait_s)
            return PollSummary(feeds_skipped=1)
        try:
            try:
                fetched = self._fetch(feed, url, state, claim.token, host_wait_s)
                if not fetched.not_modified:
                    # Parsing and queuing need no slot: free the host now. After a 304 the poll
                    # is about to end, and ``finish`` frees it in the same round trip.
                    slot.release()
                delay, state = self._succeeded(feed, fetched, state, summary)
                if slot.had_refusals:
                    self._hosts.succeeded(host)
            except HostBusy as busy:
                # A redirect leads to a host that is busy or backing off: put the feed back, as when
                # its own host is.
                log.info(
                    "a redirect's host is busy or backing off; feed put back",
                    extra={"feed": feed.name, "host": busy.host, "wait_s": busy.wait_s},
                )
                self.schedule.release(claim, busy.wait_s)
                return PollSummary(feeds_skipped=1)
            except FetchError as exc:
                # A fetch that failed, or a body that is no feed (HTML, JSON, declared entities).
                summary = PollSummary(feeds=1, feeds_failed=1)
                delay, state = self._failed(feed, host, exc, state)
            elapsed = time.monotonic() - started
            metrics.DURATION.labels(feed.outlet).observe(elapsed)
            state = replace(state, last_poll=time.time())
            held = None if slot.released else (slot.key, slot.token)
            if not self.schedule.finish(claim, state, delay, held):
                log.warning(
                    "claim expired before the poll finished; its result was not recorded",
                    extra={"feed": feed.name, "seconds": round(elapsed, 1)},
                )
            slot.released = True
        finally:
            slot.release()
        return summary

    def _fetch(self, feed: Feed, url: str, state: FeedState, token: str, host_wait_s: float) -> Fetched:
        """Fetch a feed whose host's slot the caller holds; redirects to other hosts wait for theirs."""
        started = time.monotonic()
        try:
            with self._hosts.hops(host_of(url), token, host_wait_s) as on_redirect:
                return fetch(
                    self._http,
                    url,
                    Validators(state.etag or None, state.last_modified or None),
                    self.config.max_bytes,
                    max_redirects=self.config.max_redirects,
                    total_timeout_s=self.config.total_timeout_s,
                    on_redirect=on_redirect,
                )
        finally:
            metrics.FETCH_DURATION.labels(feed.outlet).observe(time.monotonic() - started)

    def _next_delay(self, feed: Feed, stated: float | None) -> float:
        maximum = max(feed.max_interval_s or self.config.max_interval_s, feed.poll_interval_s)
        with self._rng_lock:
            return schedule.next_interval(stated, feed.poll_interval_s, maximum, self.config.jitter, self._rng)

    def _succeeded(
        self, feed: Feed, fetched: Fetched, state: FeedState, summary: PollSummary
    ) -> tuple[float, FeedState]:
        now = datetime.now(UTC)
        metrics.BYTES.labels(feed.outlet).inc(fetched.wire_bytes)
        new_url = state.url or feed.url
        if fetched.moved_to:
            log.warning(
                "feed moved permanently; polling its new URL from now on (update the registry)",
                extra={"feed": feed.name, "from": new_url, "to": fetched.moved_to},
            )
            metrics.REDIRECTS.labels(feed.outlet).inc()
            new_url = fetched.moved_to
        headers_stated = schedule.freshness(fetched.headers, now).longest()
        feed_stated = state.stated_s or None
        if fetched.not_modified:
            summary.feeds_not_modified = 1
            outcome = "not_modified"
            log.debug("feed not modified", extra={"feed": feed.name})
        else:
            outcome = "ok"
            feed_stated = self._ingest_body(feed, fetched, now, summary)
        metrics.POLLS.labels(feed.outlet, outcome).inc()
        metrics.LAST_SUCCESS.labels(feed.outlet).set_to_current_time()
        metrics.READY.set(1)
        stated = max((s for s in (headers_stated, feed_stated) if s), default=None)
        state = replace(
            state,
            url=new_url,
            etag=fetched.validators.etag or "",
            last_modified=fetched.validators.last_modified or "",
            failures=0,
            broken="",
            last_outcome=outcome,
            last_error="",
            last_success=time.time(),
            stated_s=feed_stated or 0.0,
        )
        return self._next_delay(feed, stated), state

    def _failed(self, feed: Feed, host: str, exc: FetchError, state: FeedState) -> tuple[float | None, FeedState]:
        failures = state.failures + 1
        metrics.POLLS.labels(feed.outlet, exc.reason).inc()
        metrics.FAILURES.labels(feed.outlet, exc.reason).inc()
        retry_after = schedule.retry_after(exc.retry_after, datetime.now(UTC))
        with self._rng_lock:
            delay: float | None = schedule.failure_backoff(
                failures, feed.poll_interval_s, self.config.backoff_max_s, self.config.jitter, self._rng
            )
        if exc.reason == "rate_limited":
            # The host that refused: after a redirect, not the feed's own.
            refused = host_of(exc.url) if exc.url else host
            host_wait = self._hosts.back_off(refused, retry_after)
            metrics.HOST_BACKOFFS.labels(feed.outlet).inc()
            log.warning(
                "host asked us to slow down; all its feeds back off",
                extra={"feed": feed.name, "host": refused, "wait_s": host_wait, "status": exc.status},
            )
            delay = max(delay or 0.0, host_wait)
        if retry_after:
            delay = max(delay or 0.0, min(retry_after, self.config.backoff_max_s))
        broken = ""
        if failures >= self.config.broken_after or exc.status == 410:
            broken = f"{exc.reason}: {exc}"
            delay = None
            metrics.BROKEN_MARKED.labels(feed.outlet, exc.reason).inc()
            log.error(
                "feed marked broken; it is no longer polled (newswire feeds enable %s)",
                feed.name,
                extra={"feed": feed.name, "reason": exc.reason, "failures": failures, "error": str(exc)},
            )
        else:
            log.warning(
                "feed poll failed",
                extra={
                    "feed": feed.name,
                    "reason": exc.reason,
                    "failures": failures,
                    "retry_in_s": round(delay or 0),
                    "error": str(exc),
                },
            )
        state = replace(state, failures=failures, broken=broken, last_outcome=exc.reason, last_error=str(exc)[:500])
        return delay, state

    def _articles(self, feed: Feed, fetched: Fetched, now: datetime) -> tuple[ParsedFeed, list[Article], int, int]:
        parsed = parse_feed(fetched.body, fetched.content_type, where=f"feed {feed.name}")
        if parsed.malformed:
            metrics.MALFORMED.labels(feed.outlet).inc()
            log.warning(
                "feed is malformed, keeping what could be salvaged",
                extra={"feed": feed.name, "entries": len(parsed.entries), "error": parsed.problem},
            )
        articles: dict[str, Article] = {}
        invalid = duplicates = zawgyi = 0
        for entry in parsed.entries:
            normalised = normalise_entry(entry, feed, now, parsed.link or fetched.url, parsed.language)
            zawgyi += normalised.zawgyi
            article = normalised.article
            if article is None:
                invalid += 1
                metrics.ARTICLES.labels(feed.outlet, "invalid").inc()
                log.warning("entry has no link, GUID or content; skipped", extra={"feed": feed.name})
                continue
            if article.id in articles:
                duplicates += 1
                metrics.ARTICLES.labels(feed.outlet, "duplicate").inc()
                log.warning(
                    "feed repeats an item (same GUID or link); keeping its last occurrence",
                    extra={"feed": feed.name, "article": article.id},
                )
            # A feed that repeats an item keeps its last occurrence only.
            articles[article.id] = article
        if zawgyi:
            metrics.ZAWGYI.labels(feed.outlet).inc(zawgyi)
            log.info("converted Zawgyi-encoded Burmese to Unicode", extra={"feed": feed.name, "entries": zawgyi})
        undated = sum(a.published_at_is_fetch_time for a in articles.values())
        if undated:
            # Missing, unparseable or future dates: the article carries the fetch time, flagged.
            metrics.ARTICLES.labels(feed.outlet, "date_fallback").inc(undated)
        return parsed, list(articles.values()), invalid, duplicates

    def _ingest_body(self, feed: Feed, fetched: Fetched, now: datetime, summary: PollSummary) -> float | None:
        """Parse, normalise and queue; returns the freshness the feed itself states (seconds)."""
        started = time.monotonic()
        try:
            parsed, batch, _invalid, _duplicates = self._articles(feed, fetched, now)
        finally:
            metrics.PARSE_DURATION.labels(feed.outlet).observe(time.monotonic() - started)
        summary.entries = len(parsed.entries)
        queued: list[Article] = []
        carried: dict[str, list[str]] = {}
        pages = _PageBudget(self.config.max_pages_per_poll, time.monotonic() + self.config.claim_ttl_s / 2)
        previous_versions = self._seen.previous(batch)
        known_feeds = self._seen.feeds(batch)
        try:
            for article, previous, known in zip(batch, previous_versions, known_feeds, strict=True):
                feeds = sorted(known | {feed.name})
                if feed.name not in known:
                    carried[article.id] = feeds
                if previous == article.version:
                    summary.articles_unchanged += 1
                    if known and feed.name not in known:
                        # The same story in another feed: one article, both feeds recorded.
                        metrics.ARTICLES.labels(feed.outlet, "syndicated").inc()
                        log.info("article also carried by this feed", extra={"feed": feed.name, "article": article.id})
                    else:
                        metrics.ARTICLES.labels(feed.outlet, "unchanged").inc()
                    continue
                article = article.model_copy(update={"feeds": feeds})
                article = self._with_page(feed, article, pages)
                self._celery.send_task(TASK_TAG_ARTICLE, args=[article.model_dump(mode="json")], queue=QUEUE_EXTRACT)
                queued.append(article)
                summary.queued.append((article.id, article.version))
                result = "new" if previous is None else "changed"
                if previous is None:
                    summary.articles_new += 1
                else:
                    summary.articles_changed += 1
                metrics.ARTICLES.labels(feed.outlet, result).inc()
        finally:
            # Recorded as seen only once queued, all in one round trip; a crash before this line
            # queues them again, which the idempotent store absorbs.
            self._seen.mark_all_queued(queued)
            self._seen.record_feeds(carried)
            metrics.QUEUED.labels(feed.outlet).inc(len(queued))
        log.info(
            "feed polled",
            extra={
                "feed": feed.name,
                "entries": summary.entries,
                "new": summary.articles_new,
                "changed": summary.articles_changed,
            },
        )
        dated = [a.published_at for a in batch if not a.published_at_is_fetch_time]
        stated = schedule.freshness({}, now, parsed.ttl, dated)
        return max((s for s in (stated.ttl_s, stated.publish_gap_s) if s), default=None)

    def _with_page(self, feed: Feed, article: Article, budget: "_PageBudget") -> Article:
        """For a summary-only entry, the article with the main text of its page as ``body_text``
        (the feed's summary stays in ``summary``); unchanged when the page cannot be had."""
        wanted = feed.fetch_pages if feed.fetch_pages is not None else self.config.fetch_pages
        if (
            not wanted
            or len(article.body_text) >= self.config.summary_only_chars
            or not article.url.startswith(("http://", "https://"))
            or not budget.take()
        ):
            return article
        started = time.monotonic()
        host, token = host_of(article.url), f"page-{time.time_ns()}"
        try:
            with (
                self._hosts.slot(host, token, _HOST_WAIT_LOOP_S),
                self._hosts.hops(host, token, _HOST_WAIT_LOOP_S) as on_redirect,
            ):
                fetched = fetch(
                    self._http,
                    article.url,
                    Validators(),
                    self.config.max_page_bytes,
                    max_redirects=self.config.max_redirects,
                    total_timeout_s=min(self.config.total_timeout_s, budget.remaining()),
                    accept="text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
                    on_redirect=on_redirect,
                )
            text = extract_main_text(fetched.body)
        except FetchError as exc:
            metrics.PAGES.labels(feed.outlet, exc.reason).inc()
            log.warning(
                "article page could not be fetched; keeping the feed's summary",
                extra={"feed": feed.name, "article": article.id, "reason": exc.reason, "error": str(exc)},
            )
            return article
        except HostBusy:
            metrics.PAGES.labels(feed.outlet, "host_busy").inc()
            return article
        finally:
            metrics.FETCH_DURATION.labels(feed.outlet).observe(time.monotonic() - started)
        if not text:
            metrics.PAGES.labels(feed.outlet, "no_text").inc()
            log.warning(
                "article page has no main text; keeping the summary", extra={"feed": feed.name, "article": article.id}
            )
            return article
        metrics.PAGES.labels(feed.outlet, "ok").inc()
        return article.model_copy(update={"body_text": text})

    # --- newswire feeds check --------------------------------------------------------------------

    def check(self, feed: Feed) -> Checked:
        """Fetch and parse one feed as a poll would, without queuing or recording anything."""
        now = datetime.now(UTC)
        token = f"check-{time.time_ns()}"
        with self._hosts.slot(host_of(feed.url), token, _HOST_WAIT_ONCE_S):
            fetched = self._fetch(feed, feed.url, FeedState(), token, _HOST_WAIT_ONCE_S)
        parsed, batch, invalid, duplicates = self._articles(feed, fetched, now)
        return Checked(fetched, parsed, batch, self._seen.previous(batch), invalid, duplicates)


class _PageBudget:
    """How many article pages one poll may still fetch, and by when (its claim must not expire)."""

    def __init__(self, count: int, deadline: float) -> None:
        self._count = count
        self._deadline = deadline

    def take(self) -> bool:
        if self._count <= 0 or self.remaining() < 1:
            return False
        self._count -= 1
        return True

    def remaining(self) -> float:
        return self._deadline - time.monotonic()


def build(
    settings: IngestSettings,
    feeds: Iterable[Feed],
    celery: Celery,
    http: httpx.Client | ClientPool | None = None,
) -> Ingest:
    """An :class:`Ingest` wired to Redis and guarded HTTP clients, as the services run it. It owns
    its Redis connection pool (sized for its workers) and its HTTP clients; ``with`` closes both."""
    keys = settings.keys
    config = IngestConfig.from_settings(settings)
    client = redis.Redis.from_url(
        settings.redis_url, max_connections=settings.ingest_workers + 16, socket_timeout=30, health_check_interval=30
    )

    def new_client() -> httpx.Client:
        return make_client(
            settings.full_user_agent,
            settings.allowed_networks,
            settings.fetch_connect_timeout_s,
            settings.fetch_timeout_s,
            max_connections=settings.ingest_host_concurrency + 2,
        )

    shared = SharedSchedule(client, keys, settings.ingest_claim_ttl_s)
    hosts = HostGate(
        client,
        keys,
        settings.ingest_host_concurrency,
        settings.ingest_host_gap_s,
        lease_s=settings.fetch_total_timeout_s + 30,
        backoff_base_s=60,
        backoff_max_s=settings.ingest_backoff_max_s,
    )
    ingest = Ingest(
        list(feeds),
        SeenVersions(client, keys.ingest_seen, keys.ingest_article_feeds),
        celery,
        http or ClientPool(new_client),
        config,
        shared,
        hosts,
    )
    ingest._owned_redis = client
    ingest._sample_backlog = lambda: sample_extract_queue(client, keys)
    return ingest
