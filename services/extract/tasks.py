"""The tag task: validate the article, tag its title and body, write it to the tagged stream.

The task is idempotent (store upserts by article id and version), which is what makes late
acknowledgement safe: a task redelivered after a crash writes the same result again.
"""

import logging
import os
import time
from datetime import UTC, datetime
from typing import Any

import redis
from celery import Celery, Task

from services.common.names import TASK_TAG_ARTICLE
from services.common.schema import Article, TaggedArticle
from services.extract import metrics
from services.extract.analyse import Analyser
from services.extract.encoder import Encoder, ModelMissingError
from services.extract.errors import PERMANENT, TRANSIENT
from services.extract.gazetteer import Gazetteer
from services.extract.publish import Streams
from services.extract.registry import ExtractKeys, RedisRegistry
from services.extract.settings import ExtractSettings
from services.extract.stories import Stories
from services.extract.taggers import NerTagger, load_tagger

log = logging.getLogger(__name__)


class WorkerState:
    """Per-process resources, built on first use: after the fork, never before it, so each child
    loads the model once and no connection is shared across processes."""

    def __init__(self, settings: ExtractSettings) -> None:
        self.settings = settings
        self._tagger: NerTagger | None = None
        self._streams: Streams | None = None
        self._analyser: Analyser | None = None
        self._client: redis.Redis | None = None

    @property
    def tagger(self) -> NerTagger:
        if self._tagger is None:
            s = self.settings
            started = time.monotonic()
            self._tagger = load_tagger(s.ner_backend, s.ner_model, s.ner_fallback, s.ner_stride, s.ner_min_score)
            elapsed = time.monotonic() - started
            metrics.MODEL_LOAD.observe(elapsed)
            info = self._tagger.info
            metrics.BACKEND.labels(info.backend, info.model).set(1)
            # The configured hub model was asked for and something else answered: the offline fallback.
            fell_back = s.ner_backend == "transformers" and info.model != s.ner_model
            metrics.FALLBACK.set(1 if fell_back else 0)
            log.info(
                "NER model loaded",
                extra={"backend": info.backend, "model": info.model, "seconds": round(elapsed, 2), "pid": os.getpid()},
            )
        return self._tagger

    @property
    def client(self) -> redis.Redis:
        if self._client is None:
            self._client = redis.Redis.from_url(self.settings.redis_url, socket_timeout=30, health_check_interval=30)
        return self._client

    @property
    def streams(self) -> Streams:
        if self._streams is None:
            self._streams = Streams(self.client, self.settings.keys, self.settings.tagged_maxlen)
        return self._streams

    @property
    def analyser(self) -> Analyser:
        """Linking, events and stories, with their state shared in Redis by every worker."""
        if self._analyser is None:
            s = self.settings
            started = time.monotonic()
            registry = RedisRegistry(self.client, ExtractKeys(s.redis_namespace), s.link_lock_timeout_s)
            encoder = None
            if s.story_encoder == "minilm":
                try:
                    encoder = Encoder()
                except ModelMissingError as exc:
                    # Stories still form from shared events and places; only similarity is lost.
                    log.warning(
                        "story encoder unavailable, stories use events and places only", extra={"error": str(exc)}
                    )
            self._analyser = Analyser.build(Gazetteer.load(), registry, Stories(registry, encoder, s.story_window_days))
            log.info(
                "linking state ready",
                extra={"encoder": s.story_encoder, "seconds": round(time.monotonic() - started, 2), "pid": os.getpid()},
            )
        return self._analyser


def tag(article: Article, tagger: NerTagger, analyser: Analyser | None = None) -> TaggedArticle:
    """Tag an article; with an analyser, also link its entities, read its events and find its story."""
    if analyser is not None:
        return analyser.tag(article, tagger)
    mentions = tagger.tag(article.title, "title") + tagger.tag(article.body_text, "body")
    return TaggedArticle(article=article, mentions=mentions, tagger=tagger.info, tagged_at=datetime.now(UTC))


def register(app: Celery, state: WorkerState) -> Task:
    class DeadLetteringTask(Task):  # type: ignore[misc]
        def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
            # Retries are spent: keep the message, with its error, where an operator can replay it.
            metrics.TASKS.labels("failed").inc()
            try:
                state.streams.dead_letter(task_id, args, f"{type(exc).__name__}: {exc}")
                metrics.TASKS.labels("dead_lettered").inc()
            except TRANSIENT:
                log.exception("could not dead-letter a failed task", extra={"task": task_id})

        def on_retry(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
            metrics.TASKS.labels("retried").inc()
            log.warning("tag task will be retried", extra={"task": task_id, "error": repr(exc)})

    @app.task(
        name=TASK_TAG_ARTICLE,
        bind=True,
        base=DeadLetteringTask,
        autoretry_for=TRANSIENT,
        retry_backoff=2,
        retry_backoff_max=300,
        retry_jitter=True,
        max_retries=state.settings.extract_max_retries,
    )
    def tag_article(self: Task, payload: dict[str, Any]) -> str | None:
        started = time.monotonic()
        metrics.IN_PROGRESS.inc()
        try:
            try:
                article = Article.model_validate(payload)
            except PERMANENT as exc:
                log.error(
                    "invalid article payload, dead-lettered", extra={"task": self.request.id, "error": str(exc)[:500]}
                )
                state.streams.dead_letter(self.request.id, payload, f"invalid article: {exc}")
                metrics.TASKS.labels("dead_lettered").inc()
                return None
            tagged = tag(article, state.tagger, state.analyser)
            entry = state.streams.tagged(tagged)
            for mention in tagged.mentions:
                metrics.MENTIONS.labels(mention.label).inc()
            metrics.observe_analysis(tagged)
            metrics.TASKS.labels("ok").inc()
            metrics.LAST_SUCCESS.set(time.time())
            log.info(
                "article tagged",
                extra={
                    "article": article.id,
                    "version": article.version,
                    "mentions": len(tagged.mentions),
                    "entities": len(tagged.entities),
                    "events": len(tagged.events),
                    "story": tagged.story_id,
                },
            )
            return entry
        finally:
            metrics.IN_PROGRESS.dec()
            metrics.DURATION.observe(time.monotonic() - started)

    return tag_article
