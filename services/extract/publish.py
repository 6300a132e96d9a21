"""Write tagged articles, and dead letters, to their Redis streams."""

import json
from datetime import UTC, datetime

import redis

from services.common.names import Keys
from services.common.schema import TaggedArticle


class Streams:
    def __init__(self, client: redis.Redis, keys: Keys, tagged_maxlen: int) -> None:
        self._redis = client
        self._keys = keys
        self._maxlen = tagged_maxlen

    def tagged(self, tagged: TaggedArticle) -> str:
        entry_id = self._redis.xadd(
            self._keys.tagged,
            {"payload": tagged.model_dump_json()},
            maxlen=self._maxlen,
            approximate=True,
        )
        return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)

    def dead_letter(self, task_id: str, payload: object, error: str) -> None:
        self._redis.xadd(
            self._keys.extract_dead,
            {
                "task_id": task_id,
                "error": error[:2000],
                "payload": json.dumps(payload, default=str)[:1_000_000],
                "failed_at": datetime.now(UTC).isoformat(),
            },
        )
