"""Read the tagged stream as a member of the ``store`` consumer group.

Delivery is at-least-once: a message is acknowledged only after its batch is committed; messages
left pending by a consumer that died are taken over with XAUTOCLAIM once they have been idle long
enough.
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis

from services.common.names import Keys
from services.common.streams import as_text, live_entries


@dataclass(frozen=True)
class Message:
    entry_id: str
    fields: dict[str, str]


def _decode(entries: Any) -> list[Message]:
    return [Message(entry_id, fields) for entry_id, fields in live_entries(entries)]


class TaggedConsumer:
    def __init__(
        self,
        client: redis.Redis,
        keys: Keys,
        group: str,
        consumer: str,
        batch_size: int,
        block_ms: int,
        claim_idle_ms: int,
    ) -> None:
        self._redis = client
        self._keys = keys
        self._group = group
        self.consumer = consumer
        self._batch = batch_size
        self._block_ms = block_ms
        self._claim_idle_ms = claim_idle_ms
        self._claim_cursor = "0-0"
        # First re-read what this consumer was handed before a restart, then new messages.
        self._own_pending = True

    def reread_pending(self) -> None:
        """Next read starts again with what this consumer was handed and did not acknowledge."""
        self._own_pending = True

    def ensure_group(self) -> None:
        try:
            # From the stream's start: messages written before store's first run are not lost.
            self._redis.xgroup_create(self._keys.tagged, self._group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def claim_stale(self) -> list[Message]:
        cursor, entries, *_ = self._redis.xautoclaim(
            self._keys.tagged,
            self._group,
            self.consumer,
            self._claim_idle_ms,
            start_id=self._claim_cursor,
            count=self._batch,
        )
        self._claim_cursor = as_text(cursor)
        return _decode(entries)

    def read(self) -> list[Message]:
        if self._own_pending:
            response: Any = self._redis.xreadgroup(
                self._group, self.consumer, {self._keys.tagged: "0"}, count=self._batch
            )
            messages = _decode(response[0][1]) if response else []
            if messages:
                return messages
            self._own_pending = False
        response = self._redis.xreadgroup(
            self._group, self.consumer, {self._keys.tagged: ">"}, count=self._batch, block=self._block_ms
        )
        return _decode(response[0][1]) if response else []

    def ack(self, entry_ids: list[str]) -> None:
        if entry_ids:
            self._redis.xack(self._keys.tagged, self._group, *entry_ids)

    def dead_letter(self, message: Message, reason: str) -> None:
        """Keep a message we cannot store, with why, then acknowledge it so it stops coming back."""
        self._redis.xadd(
            self._keys.tagged_dead,
            {
                "entry_id": message.entry_id,
                "reason": reason[:2000],
                "fields": json.dumps(message.fields)[:1_000_000],
                "failed_at": datetime.now(UTC).isoformat(),
            },
        )
        self.ack([message.entry_id])

    def backlog(self) -> tuple[int, int]:
        """(pending, lag) of the group, for the metrics."""
        for group in self._redis.xinfo_groups(self._keys.tagged):
            name = as_text(group["name"])
            if name == self._group:
                return int(group.get("pending") or 0), int(group.get("lag") or 0)
        return 0, 0
