"""Which article versions ingest has already queued, kept in Redis so replicas and restarts agree."""

import redis

from services.common.schema import Article


class SeenVersions:
    def __init__(self, client: redis.Redis, key: str, feeds_key: str | None = None) -> None:
        self._redis = client
        self._key = key
        self._feeds_key = feeds_key or f"{key}:feeds"

    def feeds(self, articles: list[Article]) -> list[set[str]]:
        """The feeds already known to carry each article (syndication)."""
        if not articles:
            return []
        values = self._redis.hmget(self._feeds_key, [a.id for a in articles])
        return [set((v.decode() if isinstance(v, bytes) else v).split(",")) if v else set() for v in values]

    def record_feeds(self, feeds: dict[str, list[str]]) -> None:
        if feeds:
            self._redis.hset(self._feeds_key, mapping={k: ",".join(v) for k, v in feeds.items()})

    def previous(self, articles: list[Article]) -> list[str | None]:
        if not articles:
            return []
        values = self._redis.hmget(self._key, [a.id for a in articles])
        return [v.decode() if isinstance(v, bytes) else v for v in values]

    def mark_queued(self, article: Article) -> None:
        """Call only after the article was queued: a crash in between queues it again, which the
        idempotent store absorbs, whereas the other order could lose it."""
        self._redis.hset(self._key, article.id, article.version)

    def mark_all_queued(self, articles: list[Article]) -> None:
        """:meth:`mark_queued` for a batch already queued, in one round trip."""
        if articles:
            self._redis.hset(self._key, mapping={a.id: a.version for a in articles})
