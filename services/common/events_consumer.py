"""Subscribe to Newswire's change stream (``<namespace>:events``) from a downstream service.

Usage::

    consumer = EventsConsumer(redis.Redis(), Keys("newswire"), group="search-indexer", consumer="indexer-1")
    consumer.on("article.upserted", lambda change: index(change.id, change.version))
    consumer.run(stop_event)

What it promises:

- Each group sees every change at least once; replicas that share a group share the work.
- A message is acknowledged only after its handler returned. A handler that raises leaves it pending;
  it is delivered again once it has been idle ``retry_idle_ms``, to this consumer or any other of the
  group (XAUTOCLAIM), which also takes over what a consumer that died was holding.
- A message delivered ``max_deliveries`` times without success goes to the dead-letter stream
  (``<namespace>:events:dead:<group>``) with its reason, and is acknowledged so that it stops coming back.
- A message that is not a change this library can read (malformed JSON, unknown schema version) goes
  to the dead-letter stream at once: retrying cannot fix it.
- A kind with no handler is acknowledged and skipped, and so is a kind this library does not know
  yet (``skipped`` counts them): new kinds are added to the contract without a new schema version
  and never break a consumer, old or new.
- ``event.deleted`` says an event is gone (its last source no longer reports it); its ``version``
  is the revision after the event's last ``event.upserted``.

Handlers must be idempotent; ``Change.event_id`` is unique per change, for dropping repeats.
"""

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, get_args

import redis
from pydantic import ValidationError

from services.common.names import Keys
from services.common.schema import CHANGE_SCHEMA, Change, ChangeKind
from services.common.streams import as_text, live_entries

__all__ = ["Delivery", "EventsConsumer", "Handler", "UnknownKind"]

log = logging.getLogger(__name__)

Handler = Callable[[Change], None]
TRANSIENT = (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError)
KNOWN_KINDS = frozenset(get_args(ChangeKind))


@dataclass(frozen=True)
class UnknownKind:
    """A change of a kind added to the contract after this library was written."""

    kind: str


@dataclass(frozen=True)
class Delivery:
    entry_id: str
    fields: dict[str, str]
    deliveries: int


class EventsConsumer:
    def __init__(
        self,
        client: redis.Redis,
        keys: Keys,
        group: str,
        consumer: str,
        *,
        max_deliveries: int = 5,
        retry_idle_ms: int = 30_000,
        batch_size: int = 100,
        block_ms: int = 1000,
        start_at: str = "0",
    ) -> None:
        if max_deliveries < 1:
            raise ValueError("max_deliveries must be at least 1")
        self._redis = client
        self.stream = keys.events
        self.dead_letters = f"{keys.events}:dead:{group}"
        self.group = group
        self.consumer = consumer
        self._max_deliveries = max_deliveries
        self._retry_idle_ms = retry_idle_ms
        self._batch = batch_size
        self._block_ms = block_ms
        # "0": a new group starts with the stream's oldest change; "$": only with changes from now on.
        self._start_at = start_at
        self._handlers: dict[str, Handler] = {}
        self._claim_cursor = "0-0"
        self._group_ready = False
        self.handled = 0
        self.skipped = 0
        self.failed = 0
        self.dead_lettered = 0

    def on(self, kind: ChangeKind, handler: Handler) -> "EventsConsumer":
        """Call ``handler`` for every change of ``kind``; returns self, for chaining."""
        self._handlers[kind] = handler
        return self

    def ensure_group(self) -> None:
        try:
            self._redis.xgroup_create(self.stream, self.group, id=self._start_at, mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    def run(self, stop: threading.Event) -> None:
        """Consume until ``stop`` is set, riding out Redis restarts with a capped backoff."""
        backoff = 0.5
        while not stop.is_set():
            try:
                self.step()
                backoff = 0.5
            except TRANSIENT as exc:
                log.warning("redis unavailable, retrying", extra={"error": str(exc), "retry_in_s": backoff})
                stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)
            except redis.ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                self._group_ready = False  # Redis came back without it: create it again

    def step(self) -> int:
        """One round: retry or take over idle pending messages, else read new ones; handle them.
        Returns how many messages it saw."""
        if not self._group_ready:
            self.ensure_group()
        deliveries = self._claim() or self._read()
        for delivery in deliveries:
            self._handle(delivery)
        return len(deliveries)

    def _claim(self) -> list[Delivery]:
        cursor, entries, *_ = self._redis.xautoclaim(
            self.stream, self.group, self.consumer, self._retry_idle_ms, start_id=self._claim_cursor, count=self._batch
        )
        self._claim_cursor = as_text(cursor)
        live = live_entries(entries)
        if not live:
            return []
        # XAUTOCLAIM counted this delivery; XPENDING says how many there have been.
        pipe = self._redis.pipeline(transaction=False)
        for entry_id, _ in live:
            pipe.xpending_range(self.stream, self.group, min=entry_id, max=entry_id, count=1)
        counts = [rows[0]["times_delivered"] if rows else 1 for rows in pipe.execute()]
        return [Delivery(entry_id, fields, n) for (entry_id, fields), n in zip(live, counts, strict=True)]

    def _read(self) -> list[Delivery]:
        response: Any = self._redis.xreadgroup(
            self.group, self.consumer, {self.stream: ">"}, count=self._batch, block=self._block_ms
        )
        if not response:
            return []
        return [Delivery(entry_id, fields, 1) for entry_id, fields in live_entries(response[0][1])]

    def _handle(self, delivery: Delivery) -> None:
        change = _parse(delivery.fields)
        if isinstance(change, str):
            self._dead_letter(delivery, change)
            return
        if isinstance(change, UnknownKind) or change.kind not in self._handlers:
            self._redis.xack(self.stream, self.group, delivery.entry_id)
            self.skipped += 1
            return
        handler = self._handlers[change.kind]
        try:
            handler(change)
        except Exception as exc:  # noqa: BLE001 - a handler's failure of any kind means "retry later".
            self.failed += 1
            reason = f"{type(exc).__name__}: {exc}"
            if delivery.deliveries >= self._max_deliveries:
                self._dead_letter(delivery, f"failed {delivery.deliveries} times, last: {reason}")
            else:
                log.warning(
                    "handler failed, will retry",
                    extra={
                        "entry": delivery.entry_id,
                        "kind": change.kind,
                        "deliveries": delivery.deliveries,
                        "error": reason,
                    },
                )
            return
        self._redis.xack(self.stream, self.group, delivery.entry_id)
        self.handled += 1

    def _dead_letter(self, delivery: Delivery, reason: str) -> None:
        pipe = self._redis.pipeline(transaction=True)
        pipe.xadd(
            self.dead_letters,
            {
                "entry_id": delivery.entry_id,
                "reason": reason[:2000],
                "deliveries": str(delivery.deliveries),
                "fields": json.dumps(delivery.fields)[:1_000_000],
                "failed_at": datetime.now(UTC).isoformat(),
            },
        )
        pipe.xack(self.stream, self.group, delivery.entry_id)
        pipe.execute()
        self.dead_lettered += 1
        log.error("change dead-lettered", extra={"entry": delivery.entry_id, "reason": reason})


def _parse(fields: dict[str, str]) -> Change | UnknownKind | str:
    """The change a message carries, the new kind it is of, or why it carries none."""
    raw = fields.get("payload")
    if raw is None:
        return "no payload field"
    try:
        decoded = json.loads(raw)
    except ValueError as exc:
        return f"payload is not JSON: {exc}"
    version = decoded.get("schema_version") if isinstance(decoded, dict) else None
    if version != CHANGE_SCHEMA:
        return f"unsupported schema_version {version!r}: this library reads {CHANGE_SCHEMA}"
    kind = decoded.get("kind")
    if isinstance(kind, str) and kind not in KNOWN_KINDS:
        return UnknownKind(kind)
    try:
        return Change.model_validate(decoded)
    except ValidationError as exc:
        first = exc.errors()[0]
        return f"invalid change: {first['loc']}: {first['msg']}"
