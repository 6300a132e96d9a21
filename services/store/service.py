"""The store loop: read a batch, upsert it in one transaction, publish the outbox, acknowledge."""

import gc
import json
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import redis
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from services.common.names import Keys
from services.common.schema import TAGGED_SCHEMA, TaggedArticle
from services.store import metrics
from services.store.bulk import WritePath
from services.store.consumer import Message, TaggedConsumer
from services.store.errors import TRANSIENT_DB, TRANSIENT_REDIS
from services.store.repository import BatchResult, forget_outbox, pending_outbox, upsert_batch

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 30.0


def parse(message: Message) -> TaggedArticle | tuple[str, str]:
    """The tagged article a message carries, or (kind, reason) why it carries none."""
    raw = message.fields.get("payload")
    if raw is None:
        return "malformed", "no payload field"
    try:
        # The common case first, parsed and validated in one pass by pydantic's Rust core.
        return TaggedArticle.model_validate_json(raw)
    except ValidationError:
        pass  # Say precisely why, below.
    try:
        decoded = json.loads(raw)
    except ValueError as exc:
        return "malformed", f"payload is not JSON: {exc}"
    version = decoded.get("schema_version") if isinstance(decoded, dict) else None
    if version != TAGGED_SCHEMA:
        return "schema_version", f"unsupported schema_version {version!r}: this store reads {TAGGED_SCHEMA}"
    try:
        return TaggedArticle.model_validate(decoded)
    except ValidationError as exc:
        first = exc.errors()[0]
        return "invalid", f"invalid tagged article: {first['loc']}: {first['msg']}"


@contextmanager
def collector_paused() -> Iterator[None]:
    """No automatic garbage collection while a batch is read and handled. A batch keeps some 40 objects per
    message alive until its commit (the parsed messages, their rows), and the collector, triggered
    by allocations, traversed them again and again: up to a fifth of the batch's time went to it
    (measured with ``make bench-store``). The batch's garbage is freed by reference counting as
    usual; what cycles it leaves are collected by the first collection after it (they are all in
    the youngest generation then), so memory stays bounded by one batch."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class Store:
    def __init__(
        self,
        engine: Engine,
        client: redis.Redis,
        consumer: TaggedConsumer,
        keys: Keys,
        events_maxlen: int,
        events_max_age_s: int = 0,
        write_path: WritePath = "copy",
    ) -> None:
        self._engine = engine
        self._redis = client
        self._consumer = consumer
        self._keys = keys
        self._events_maxlen = events_maxlen
        # Trimming by age (MINID) when set, else by length (MAXLEN): XADD takes one or the other.
        self._events_max_age_s = events_max_age_s
        self._write_path = write_path

    def run(self, stop: threading.Event) -> None:
        backoff = 1.0
        ready = False
        while not stop.is_set():
            try:
                if not ready:
                    self._consumer.ensure_group()
                    self.publish_outbox()  # Changes a crash left committed but unpublished.
                    ready = True
                    log.info("consuming tagged articles", extra={"consumer": self._consumer.consumer})
                self.step(stop)
                metrics.READY.set(1)
                backoff = 1.0
            except TRANSIENT_REDIS as exc:
                # Readiness says so at once; pending and lag cannot be read and keep their last value.
                metrics.READY.set(0)
                # Once back: publish what was committed meanwhile, re-read what we hold.
                ready = False
                self._consumer.reread_pending()
                metrics.FAILURES.labels("redis").inc()
                log.warning("redis unavailable, retrying", extra={"error": str(exc), "retry_in_s": backoff})
                stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
            except redis.ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                # Redis came back without the group (restarted without persistence): create it again.
                metrics.READY.set(0)
                metrics.FAILURES.labels("redis").inc()
                log.warning("consumer group missing, creating it again", extra={"error": str(exc)})
                ready = False
            except TRANSIENT_DB as exc:
                metrics.READY.set(0)
                ready = False
                # The batch we hold is still pending on us: take it again first, not after claim_idle.
                self._consumer.reread_pending()
                metrics.FAILURES.labels("database").inc()
                self._refresh_backlog()  # Redis still answers: the lag that builds up stays visible.
                log.warning(
                    "database unavailable, retrying", extra={"error": str(exc).splitlines()[0], "retry_in_s": backoff}
                )
                stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)

    def step(self, stop: threading.Event) -> int:
        """One batch: messages taken over from a dead consumer first, else this consumer's own."""
        with collector_paused():
            messages = self._consumer.claim_stale() or self._consumer.read()
            if messages:
                self.handle(messages)
        pending, lag = self._consumer.backlog()
        metrics.PENDING.set(pending)
        metrics.LAG.set(lag)
        return len(messages)

    def _refresh_backlog(self) -> None:
        try:
            pending, lag = self._consumer.backlog()
        except TRANSIENT_REDIS:
            return
        metrics.PENDING.set(pending)
        metrics.LAG.set(lag)

    def handle(self, messages: list[Message]) -> None:
        batch: list[tuple[Message, TaggedArticle]] = []
        for message in messages:
            parsed = parse(message)
            if isinstance(parsed, TaggedArticle):
                batch.append((message, parsed))
            else:
                self._dead_letter(message, *parsed)
        if not batch:
            return
        try:
            self._commit([t for _, t in batch])
        except TRANSIENT_DB:
            raise
        except (DBAPIError, SQLAlchemyError) as exc:
            # Something in the batch is unstorable: store the rest one by one, dead-letter the culprit.
            log.warning("batch failed, retrying message by message", extra={"error": str(exc).splitlines()[0]})
            metrics.FAILURES.labels("rejected").inc()
            for message, tagged in batch:
                try:
                    self._commit([tagged])
                except TRANSIENT_DB:
                    raise
                except (DBAPIError, SQLAlchemyError) as single:
                    self._dead_letter(message, "rejected", f"database rejected it: {str(single).splitlines()[0]}")
                    continue
                self._consumer.ack([message.entry_id])
            return
        self._consumer.ack([m.entry_id for m, _ in batch])

    def _dead_letter(self, message: Message, kind: str, reason: str) -> None:
        self._consumer.dead_letter(message, reason)
        metrics.MESSAGES.labels("dead_lettered").inc()
        metrics.DEAD_LETTERS.labels(kind).inc()
        log.error("message dead-lettered", extra={"entry": message.entry_id, "reason": reason})

    def _commit(self, batch: list[TaggedArticle]) -> BatchResult:
        metrics.IN_PROGRESS.inc()
        started = time.monotonic()
        try:
            with self._engine.begin() as connection:
                result = upsert_batch(connection, batch, self._write_path)
        finally:
            metrics.IN_PROGRESS.dec()
        metrics.COMMIT.observe(time.monotonic() - started)
        metrics.BATCH_SIZE.observe(len(batch))
        metrics.LAST_SUCCESS.set_to_current_time()
        for (kind, operation), n in result.upserts.items():
            metrics.UPSERTS.labels(kind, operation).inc(n)
        stored = result.articles_inserted + result.articles_updated
        metrics.MESSAGES.labels("stored").inc(stored)
        metrics.MESSAGES.labels("unchanged").inc(len(batch) - stored)
        now = datetime.now(UTC)
        changed = {c.id for c in result.changes if c.kind == "article.upserted"}
        for tagged in batch:
            if tagged.article.id in changed:
                metrics.FROM_PUBLICATION.observe(max(0.0, (now - tagged.article.published_at).total_seconds()))
                metrics.FROM_FETCH.observe(max(0.0, (now - tagged.article.fetched_at).total_seconds()))
        if result.changes:
            log.info(
                "batch committed",
                extra={
                    "messages": len(batch),
                    "inserted": result.articles_inserted,
                    "updated": result.articles_updated,
                    "mentions": result.mentions_inserted,
                },
            )
        self.publish_outbox()
        return result

    def publish_outbox(self) -> int:
        """Publish committed changes, then forget them. A crash between the two publishes them again
        on restart: consumers see each change at least once and can drop repeats by ``event_id``."""
        published = 0
        while True:
            with self._engine.connect() as connection:
                pending = pending_outbox(connection)
            if not pending:
                return published
            pipe = self._redis.pipeline(transaction=False)
            trim: dict[str, Any] = {"maxlen": self._events_maxlen}
            if self._events_max_age_s:
                trim = {"minid": f"{int((time.time() - self._events_max_age_s) * 1000)}-0"}
            for _, payload in pending:
                pipe.xadd(self._keys.events, {"payload": payload}, approximate=True, **trim)
            pipe.execute()
            with self._engine.begin() as connection:
                forget_outbox(connection, [row_id for row_id, _ in pending])
            published += len(pending)
            metrics.EVENTS.inc(len(pending))
