"""Which article versions ingest has already queued, kept in Redis so replicas and restarts agree."""

import redis

from services.common.schema import Article


class SeenVersions:
    def __init__(self, client: redis.Redis, key: str) -> None:
        self._redis = client
        self._key = key

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
