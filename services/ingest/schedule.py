"""When to poll a feed next: pure arithmetic over what the publisher told us, no I/O.

A publisher states how long a copy stays fresh in several ways (RSS ``<ttl>`` in minutes,
``Cache-Control: max-age`` and ``Expires`` per RFC 9111 §5.2.2.1 and §5.3, ``Retry-After`` per
RFC 9110 §10.2.3); the feed's own entry dates say how often it really publishes. We honour the
longest of them, clamp it between the feed's minimum and maximum interval, and add jitter so that
feeds registered together do not poll in lockstep.
"""

import itertools
import random
import re
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

_MAX_AGE = re.compile(r"(?:^|,)\s*(?:s-maxage|max-age)\s*=\s*\"?(\d+)", re.IGNORECASE)
_NO_STORE = re.compile(r"(?:^|,)\s*(?:no-store|no-cache)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Freshness:
    """What one response said about how long it stays fresh, in seconds (None: not said)."""

    ttl_s: float | None = None
    max_age_s: float | None = None
    expires_s: float | None = None
    retry_after_s: float | None = None
    publish_gap_s: float | None = None

    def longest(self) -> float | None:
        stated = [v for v in (self.ttl_s, self.max_age_s, self.expires_s, self.retry_after_s, self.publish_gap_s) if v]
        return max(stated) if stated else None


def _http_date(value: str) -> datetime | None:
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def max_age(cache_control: str | None) -> float | None:
    """``max-age`` (or ``s-maxage``) in seconds; None when absent or when the response forbids reuse."""
    if not cache_control or _NO_STORE.search(cache_control):
        return None
    found = _MAX_AGE.search(cache_control)
    return float(found.group(1)) if found else None


def expires_in(expires: str | None, now: datetime) -> float | None:
    """Seconds until ``Expires``; an invalid date means "already expired" (RFC 9111 §5.3), so None."""
    when = _http_date(expires) if expires else None
    return max(0.0, (when - now).total_seconds()) if when else None


def retry_after(value: str | None, now: datetime) -> float | None:
    """``Retry-After`` as delay-seconds or an HTTP-date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    when = _http_date(value)
    return max(0.0, (when - now).total_seconds()) if when else None


def ttl_seconds(ttl: object) -> float | None:
    """RSS ``<ttl>`` is minutes; anything that is not a positive number is ignored."""
    try:
        minutes = float(str(ttl).strip())
    except ValueError:
        return None
    return minutes * 60 if minutes > 0 else None


def publish_gap(published: Iterable[datetime], now: datetime) -> float | None:
    """Half the median gap between the newest entries: poll about twice per story the feed publishes.

    Needs at least three dated entries; dates in the future are a broken clock and are left out.
    """
    dates = sorted((d for d in published if d <= now), reverse=True)[:20]
    if len(dates) < 3:
        return None
    gaps = [(a - b).total_seconds() for a, b in itertools.pairwise(dates)]
    gap = statistics.median(gaps)
    return gap / 2 if gap > 0 else None


def freshness(
    headers: Mapping[str, str], now: datetime, ttl: object = None, published: Iterable[datetime] = ()
) -> Freshness:
    return Freshness(
        ttl_s=ttl_seconds(ttl) if ttl is not None else None,
        max_age_s=max_age(headers.get("cache-control")),
        expires_s=expires_in(headers.get("expires"), now),
        retry_after_s=retry_after(headers.get("retry-after"), now),
        publish_gap_s=publish_gap(published, now),
    )


def jittered(interval: float, jitter: float, rng: random.Random) -> float:
    """``interval`` moved by up to ±``jitter`` of itself."""
    return interval * (1 + rng.uniform(-jitter, jitter)) if jitter else interval


def next_interval(stated: float | None, minimum: float, maximum: float, jitter: float, rng: random.Random) -> float:
    """The delay before the next poll of a healthy feed: the longest stated freshness, at least
    ``minimum`` and at most ``maximum``, with jitter that never leaves that range."""
    base = min(max(stated or minimum, minimum), maximum)
    return min(max(jittered(base, jitter, rng), minimum), maximum)


def failure_backoff(failures: int, minimum: float, maximum: float, jitter: float, rng: random.Random) -> float:
    """Exponential backoff after ``failures`` consecutive failures (1 → minimum, 2 → twice...)."""
    exponent = min(max(failures - 1, 0), 30)
    return min(jittered(minimum * 2**exponent, jitter, rng), maximum)
