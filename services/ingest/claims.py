"""The feed schedule and each feed's state, in Redis, shared by every ingest replica.

- ``schedule`` is a sorted set of feed name → Unix time it is next due.
- A replica takes due feeds with one Lua script (atomic on the server): for each due feed it sets a
  claim key ``NX`` with an expiry and pushes the feed's due time past that expiry. Only one replica
  can hold a feed's claim; a replica that dies leaves a claim that expires, and the feed is due again
  when it does. Finishing a poll checks the claim's token, so a replica whose claim expired (it was
  stalled longer than the claim lasts) cannot overwrite the state written by the next one.
- Times come from Redis (``TIME``), never from a replica's clock, so replicas with skewed clocks agree.
- Broken feeds leave the schedule until ``newswire feeds enable`` puts them back.

Keys are built inside the scripts from a prefix; this assumes one Redis server (not Redis Cluster).
"""

import itertools
import os
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import redis

from services.common.names import Keys

_CLAIM_DUE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local limit, lease_ms, token, prefix = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4]
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'WITHSCORES', 'LIMIT', 0, limit)
local state_prefix = ARGV[5]
local out = {tostring(now)}
for i = 1, #due, 2 do
  local name = due[i]
  if redis.call('SET', prefix .. name, token .. ':' .. name, 'NX', 'PX', lease_ms) then
    redis.call('ZADD', KEYS[1], 'XX', now + lease_ms / 1000, name)
    table.insert(out, name)
    table.insert(out, due[i + 1])
    table.insert(out, redis.call('HGETALL', state_prefix .. name))
  end
end
return out
"""

_CLAIM_ONE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', tonumber(ARGV[2])) then
  local due = redis.call('ZSCORE', KEYS[2], ARGV[3])
  redis.call('ZADD', KEYS[2], 'XX', now + tonumber(ARGV[2]) / 1000, ARGV[3])
  return {tostring(now), redis.call('HGETALL', KEYS[3]), due or ''}
end
return false
"""

# KEYS: claim, schedule, state, and a host's slots key (or the state key again: nothing to release).
# ARGV: token, name, delay_s (negative: leave the schedule), slot token ('' for none), then
# field/value pairs to write into the state hash.
_FINISH = """
if ARGV[4] ~= '' then redis.call('ZREM', KEYS[4], ARGV[4]) end
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
if #ARGV > 4 then redis.call('HSET', KEYS[3], unpack(ARGV, 5)) end
local delay = tonumber(ARGV[3])
if delay < 0 then
  redis.call('ZREM', KEYS[2], ARGV[2])
else
  redis.call('ZADD', KEYS[2], now + delay, ARGV[2])
end
redis.call('DEL', KEYS[1])
return 1
"""

_TIME = "local t = redis.call('TIME') return tostring(tonumber(t[1]) + tonumber(t[2]) / 1e6)"


@dataclass(frozen=True)
class FeedState:
    """What ingest remembers about a feed between polls (all replicas see the same)."""

    url: str = ""  # the URL polled now: the registry's, or where a permanent redirect led
    registry_url: str = ""  # the registry URL that ``url`` was derived from
    etag: str = ""
    last_modified: str = ""
    failures: int = 0
    broken: str = ""  # why the feed was marked broken; empty while it is not
    last_outcome: str = ""
    last_error: str = ""
    last_poll: float = 0.0
    last_success: float = 0.0
    stated_s: float = 0.0  # the longest freshness the publisher last stated (0: none)

    @classmethod
    def from_redis(cls, raw: Mapping[bytes, bytes]) -> "FeedState":
        values: dict[str, object] = {}
        for f in fields(cls):
            value = raw.get(f.name.encode())
            if value is None:
                continue
            text = value.decode("utf-8", "replace")
            values[f.name] = (
                int(text) if f.type in (int, "int") else float(text) if f.type in (float, "float") else text
            )
        return cls(**values)  # type: ignore[arg-type]

    def to_redis(self) -> dict[str, str]:
        return {f.name: str(getattr(self, f.name)) for f in fields(self)}


def _state(flat: list[bytes]) -> "FeedState":
    return FeedState.from_redis(dict(zip(flat[::2], flat[1::2], strict=True)))


@dataclass(frozen=True)
class Claim:
    name: str
    token: str
    due_at: float  # when the feed was due (Unix time)
    claimed_at: float  # Redis time when it was claimed
    # The feed's state, read in the same step as the claim: one round trip less per poll.
    state: "FeedState" = field(default_factory=lambda: FeedState())

    @property
    def lag_s(self) -> float:
        return max(0.0, self.claimed_at - self.due_at)


class SharedSchedule:
    def __init__(self, client: redis.Redis, keys: Keys, claim_ttl_s: float, replica: str | None = None) -> None:
        self._redis = client
        self._keys = keys
        self._lease_ms = int(claim_ttl_s * 1000)
        self.replica = replica or f"{socket.gethostname()}-{os.getpid()}"
        self._counter = itertools.count()
        self._claim_due = client.register_script(_CLAIM_DUE)
        self._claim_one = client.register_script(_CLAIM_ONE)
        self._finish = client.register_script(_FINISH)
        self._time = client.register_script(_TIME)

    def now(self) -> float:
        return float(self._time())

    def sync(self, names: Iterable[str]) -> None:
        """Make the schedule hold exactly the registry's feeds: new feeds are due now, feeds that
        left the registry are dropped, broken feeds stay out."""
        wanted = list(dict.fromkeys(names))
        now = self.now()
        members: Any = self._redis.zrange(self._keys.ingest_schedule, 0, -1)
        scheduled = {n.decode() for n in members}
        broken = self._redis.pipeline(transaction=False)
        for name in wanted:
            broken.hget(self._keys.ingest_feed(name), "broken")
        flags = broken.execute()
        pipe = self._redis.pipeline(transaction=False)
        gone = scheduled - set(wanted)
        if gone:
            pipe.zrem(self._keys.ingest_schedule, *gone)
        fresh = {name: now for name, flag in zip(wanted, flags, strict=True) if not flag and name not in scheduled}
        if fresh:
            pipe.zadd(self._keys.ingest_schedule, fresh, nx=True)
        pipe.execute()

    def _token(self) -> str:
        return f"{self.replica}:{next(self._counter)}"

    def claim_due(self, limit: int) -> list[Claim]:
        """Claim up to ``limit`` due feeds for this replica, oldest due first."""
        if limit <= 0:
            return []
        token = self._token()
        raw = self._claim_due(
            keys=[self._keys.ingest_schedule],
            args=[limit, self._lease_ms, token, self._keys.ingest_claim_prefix, self._keys.ingest_feed_prefix],
        )
        now = float(raw[0])
        rows = raw[1:]
        return [
            Claim(rows[i].decode(), f"{token}:{rows[i].decode()}", float(rows[i + 1]), now, _state(rows[i + 2]))
            for i in range(0, len(rows), 3)
        ]

    def claim(self, name: str) -> Claim | None:
        """Claim one feed whether it is due or not (``--once`` and ``feeds check``); None while
        another replica holds it."""
        token = f"{self._token()}:{name}"
        raw = self._claim_one(
            keys=[self._keys.ingest_claim(name), self._keys.ingest_schedule, self._keys.ingest_feed(name)],
            args=[token, self._lease_ms, name],
        )
        if raw is None:
            return None
        claimed_at = float(raw[0])
        due = raw[2]
        due_at = min(float(due), claimed_at) if due else claimed_at
        return Claim(name, token, due_at, claimed_at, _state(raw[1]))

    def finish(
        self, claim: Claim, state: FeedState, delay_s: float | None, slot: tuple[str, str] | None = None
    ) -> bool:
        """Write the feed's new state and next due time (``None``: leave the schedule, it is
        broken) and release the claim, and the host slot ``(slots key, token)`` if given, in one
        round trip. False when the claim had expired: nothing was written (the slot is released)."""
        # Only what changed: a 304 poll rewrites two timestamps, not the whole state.
        before = claim.state.to_redis() if claim.state.registry_url else {}
        flat = [x for k, v in state.to_redis().items() if before.get(k) != v for x in (k, v)]
        state_key = self._keys.ingest_feed(claim.name)
        slot_key, slot_token = slot or (state_key, "")
        done = self._finish(
            keys=[self._keys.ingest_claim(claim.name), self._keys.ingest_schedule, state_key, slot_key],
            args=[claim.token, claim.name, -1 if delay_s is None else delay_s, slot_token, *flat],
        )
        return bool(done)

    def release(self, claim: Claim, delay_s: float) -> bool:
        """Give a feed back unpolled, due again after ``delay_s`` (its host asked us to wait)."""
        state_key = self._keys.ingest_feed(claim.name)
        done = self._finish(
            keys=[self._keys.ingest_claim(claim.name), self._keys.ingest_schedule, state_key, state_key],
            args=[claim.token, claim.name, delay_s, ""],
        )
        return bool(done)

    def state(self, name: str) -> FeedState:
        return FeedState.from_redis(self._redis.hgetall(self._keys.ingest_feed(name)))  # type: ignore[arg-type]

    def states(self, names: Iterable[str]) -> dict[str, FeedState]:
        names = list(names)
        pipe = self._redis.pipeline(transaction=False)
        for name in names:
            pipe.hgetall(self._keys.ingest_feed(name))
        return {name: FeedState.from_redis(raw) for name, raw in zip(names, pipe.execute(), strict=True)}

    def due_times(self) -> dict[str, float]:
        members: Any = self._redis.zrange(self._keys.ingest_schedule, 0, -1, withscores=True)
        return {n.decode(): float(s) for n, s in members}

    def size(self) -> int:
        return int(self._redis.zcard(self._keys.ingest_schedule))

    def next_due(self) -> float | None:
        first: Any = self._redis.zrange(self._keys.ingest_schedule, 0, 0, withscores=True)
        return float(first[0][1]) if first else None

    def count_due(self, at: float) -> int:
        return int(self._redis.zcount(self._keys.ingest_schedule, "-inf", at))

    def forget_validators(self, names: Iterable[str]) -> None:
        """Drop the feeds' ETag and Last-Modified, so that their next poll fetches them in full."""
        pipe = self._redis.pipeline(transaction=False)
        for name in names:
            pipe.hdel(self._keys.ingest_feed(name), "etag", "last_modified")
        pipe.execute()

    def enable(self, name: str) -> None:
        """Clear a feed's failures and broken mark and make it due now."""
        pipe = self._redis.pipeline(transaction=True)
        pipe.hset(self._keys.ingest_feed(name), mapping={"broken": "", "failures": "0"})
        pipe.zadd(self._keys.ingest_schedule, {name: self.now()})
        pipe.execute()
