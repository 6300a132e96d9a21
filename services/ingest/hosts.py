"""Per-host politeness, shared by every ingest replica through Redis.

A host gets at most ``concurrency`` requests at once and at least ``gap`` seconds between the starts
of two requests, however many replicas poll it; a 429 or 503 from it backs off every feed on that
host, for as long as its ``Retry-After`` says or, without one, exponentially in the host's
consecutive refusals. Slots are leases that expire, so a replica that dies mid-request frees its
slot by itself. A redirect to another host is a request to that host: it waits for a slot there too
(``hops``), and a 429 or 503 from it backs off that host, not the one that redirected.
"""

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import redis

from services.common.names import Keys

log = logging.getLogger(__name__)

# KEYS: host hash, slots zset. ARGV: concurrency, gap_ms, token, lease_ms.
# Returns 0 when the slot is granted (-1: granted, and the host has refusals on record), else the
# milliseconds to wait before asking again.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local backoff = tonumber(redis.call('HGET', KEYS[1], 'backoff_until') or '0')
if backoff > now then return backoff - now end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[1]) then
  return 50
end
local next_ok = tonumber(redis.call('HGET', KEYS[1], 'next_ok') or '0')
if next_ok > now then return next_ok - now end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[3])
redis.call('HSET', KEYS[1], 'next_ok', now + tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[4]))
redis.call('PEXPIRE', KEYS[1], 7 * 86400 * 1000)
if redis.call('HEXISTS', KEYS[1], 'strikes') == 1 then return -1 end
return 0
"""

# KEYS: host hash. ARGV: base_ms, max_ms, retry_after_ms (0: none). Returns the backoff in ms.
_BACK_OFF = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local strikes = redis.call('HINCRBY', KEYS[1], 'strikes', 1)
local wait = tonumber(ARGV[1]) * 2 ^ math.min(strikes - 1, 30)
wait = math.max(wait, tonumber(ARGV[3]))
wait = math.min(wait, tonumber(ARGV[2]))
redis.call('HSET', KEYS[1], 'backoff_until', now + wait)
redis.call('PEXPIRE', KEYS[1], 7 * 86400 * 1000)
return wait
"""


def host_of(url: str) -> str:
    """The politeness key of a URL: its host and port, lower-cased; local files share one key."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return "local"
    return (parts.hostname or "").lower() + (f":{parts.port}" if parts.port else "")


class HostBusy(Exception):  # noqa: N818 - a signal to the caller, not a failure
    """The host cannot take a request within the wait the caller allowed."""

    def __init__(self, host: str, wait_s: float) -> None:
        super().__init__(f"{host} asks us to wait {wait_s:.1f}s")
        self.host = host
        self.wait_s = wait_s


class HostSlot:
    """One request slot on a host, held until released (a lease that expires if we die first)."""

    def __init__(
        self, gate: "HostGate", host: str, key: str, token: str, had_refusals: bool, released: bool = False
    ) -> None:
        self.gate = gate
        self.host = host
        self.key = key  # the host's slots key ("" for local files, which need no slot)
        self.token = token
        self.had_refusals = had_refusals  # call HostGate.succeeded after a good answer
        self.released = released

    def release(self) -> None:
        if not self.released:
            self.released = True
            self.gate._redis.zrem(self.key, self.token)


class HostGate:
    def __init__(
        self,
        client: redis.Redis,
        keys: Keys,
        concurrency: int,
        gap_s: float,
        lease_s: float,
        backoff_base_s: float,
        backoff_max_s: float,
    ) -> None:
        self._redis = client
        self._keys = keys
        self._concurrency = concurrency
        self._gap_ms = int(gap_s * 1000)
        self._lease_ms = int(lease_s * 1000)
        self._backoff_base_ms = int(backoff_base_s * 1000)
        self._backoff_max_ms = int(backoff_max_s * 1000)
        self._acquire = client.register_script(_ACQUIRE)
        self._back_off = client.register_script(_BACK_OFF)

    def acquire(self, host: str, token: str, max_wait_s: float) -> "HostSlot":
        """Take one of the host's request slots; raise :class:`HostBusy` when the host will not
        have one for longer than ``max_wait_s`` (it is backing off, or busy that long). The caller
        must release it (``release``, or the schedule's ``finish`` in the same round trip)."""
        if host == "local":
            return HostSlot(self, host, "", token, had_refusals=False, released=True)
        hash_key, slots_key = self._keys.ingest_host(host), self._keys.ingest_host_slots(host)
        waited = 0.0
        while True:
            wait_ms = int(
                self._acquire(keys=[hash_key, slots_key], args=[self._concurrency, self._gap_ms, token, self._lease_ms])
            )
            if wait_ms <= 0:
                return HostSlot(self, host, slots_key, token, had_refusals=wait_ms < 0)
            if waited + wait_ms / 1000 > max_wait_s:
                raise HostBusy(host, wait_ms / 1000)
            time.sleep(wait_ms / 1000)
            waited += wait_ms / 1000

    @contextmanager
    def slot(self, host: str, token: str, max_wait_s: float) -> Iterator["HostSlot"]:
        """:meth:`acquire` for the length of a ``with`` block."""
        held = self.acquire(host, token, max_wait_s)
        try:
            yield held
        finally:
            held.release()

    @contextmanager
    def hops(self, first: str, token: str, max_wait_s: float) -> Iterator[Callable[[str], None]]:
        """For a fetch that holds a slot on host ``first``: a function to call with each redirect
        target before it is requested, which takes a slot on each other host the chain reaches (and
        raises :class:`HostBusy` as :meth:`acquire` does). A host is entered once per chain, and
        every slot is held until the block ends, as the first host's is: a chain that comes back to
        a host it holds must not wait for itself. A block that ends without an error was a good
        answer from each host, which clears their refusals."""
        held: dict[str, HostSlot | None] = {first: None}

        def enter(url: str) -> None:
            host = host_of(url)
            if host not in held:
                held[host] = self.acquire(host, token, max_wait_s)

        try:
            yield enter
            for slot in held.values():
                if slot is not None and slot.had_refusals:
                    self.succeeded(slot.host)
        finally:
            for slot in held.values():
                if slot is not None:
                    slot.release()

    def back_off(self, host: str, retry_after_s: float | None) -> float:
        """The host refused us (429, 503): every feed on it waits; returns the wait in seconds."""
        wait_ms = self._back_off(
            keys=[self._keys.ingest_host(host)],
            args=[self._backoff_base_ms, self._backoff_max_ms, int((retry_after_s or 0) * 1000)],
        )
        return int(wait_ms) / 1000

    def succeeded(self, host: str) -> None:
        if host != "local":
            self._redis.hdel(self._keys.ingest_host(host), "strikes")

    def backoff_remaining(self, host: str, now_ms: int) -> float:
        until = self._redis.hget(self._keys.ingest_host(host), "backoff_until")
        return max(0.0, (int(until) - now_ms) / 1000) if until else 0.0
