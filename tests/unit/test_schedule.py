"""The scheduling arithmetic, the address guard and the capped decoder: pure functions, table-tested."""

import gzip
import ipaddress
import random
import zlib
from datetime import UTC, datetime, timedelta

import brotli
import pytest

from services.ingest import schedule
from services.ingest.errors import FetchError
from services.ingest.fetch import _Decoder
from services.ingest.guard import is_forbidden

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("max-age=300", 300),
        ("public, max-age=3600", 3600),
        ('max-age="120"', 120),
        ("s-maxage=60, max-age=30", 60),
        ("no-cache, max-age=3600", None),
        ("no-store", None),
        ("private", None),
        (None, None),
    ],
)
def test_max_age(value: str | None, expected: float | None) -> None:
    assert schedule.max_age(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120),
        ("Sat, 21 Nov 2026 12:30:00 GMT", 1800),
        ("Sat, 21 Nov 2026 11:00:00 GMT", 0),  # in the past: no wait
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after(value: str | None, expected: float | None) -> None:
    assert schedule.retry_after(value, NOW) == expected


@pytest.mark.parametrize(("value", "expected"), [("Sat, 21 Nov 2026 14:00:00 GMT", 7200), ("0", None), ("x", None)])
def test_expires(value: str, expected: float | None) -> None:
    assert schedule.expires_in(value, NOW) == expected


@pytest.mark.parametrize(("ttl", "expected"), [("60", 3600), (" 5 ", 300), ("0", None), ("-3", None), ("soon", None)])
def test_ttl_is_minutes(ttl: str, expected: float | None) -> None:
    assert schedule.ttl_seconds(ttl) == expected


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        ([0, 2, 4, 6], 3600),  # every 2 hours: poll every hour
        ([0, 1], None),  # too few to say
        ([0, 1, 1, 1], None),  # median gap 0
        ([-48, 0, 4, 8, 12], 7200),  # a future date is left out
    ],
)
def test_publish_gap(hours: list[float], expected: float | None) -> None:
    dates = [NOW - timedelta(hours=h) for h in hours]
    assert schedule.publish_gap(dates, NOW) == expected


@pytest.mark.parametrize(
    ("stated", "expected"),
    [(None, 900), (60, 900), (3600, 3600), (10**7, 21600)],
)
def test_next_interval_is_clamped(stated: float | None, expected: float) -> None:
    assert schedule.next_interval(stated, 900, 21600, 0.0, random.Random(0)) == expected


def test_jitter_stays_within_its_fraction_and_the_clamp() -> None:
    rng = random.Random(1)
    values = [schedule.next_interval(3600, 900, 21600, 0.1, rng) for _ in range(200)]
    assert all(3240 <= v <= 3960 for v in values) and max(values) - min(values) > 300
    edge = [schedule.next_interval(21600, 900, 21600, 0.1, rng) for _ in range(50)]
    assert all(v <= 21600 for v in edge)


@pytest.mark.parametrize(("failures", "expected"), [(1, 60), (2, 120), (3, 240), (10, 30720), (40, 86400)])
def test_failure_backoff_doubles_up_to_the_maximum(failures: int, expected: float) -> None:
    assert schedule.failure_backoff(failures, 60, 86400, 0.0, random.Random(0)) == expected


@pytest.mark.parametrize(
    ("address", "forbidden"),
    [
        ("127.0.0.1", True),
        ("10.1.2.3", True),
        ("172.16.0.1", True),
        ("192.168.0.10", True),
        ("169.254.169.254", True),
        ("100.64.0.1", True),
        ("0.0.0.0", True),
        ("224.0.0.1", True),
        ("::1", True),
        ("fd00:ec2::254", True),
        ("fe80::1", True),
        ("::ffff:127.0.0.1", True),
        ("::ffff:10.0.0.1", True),
        ("93.184.216.34", False),
        ("2606:2800:220:1:248:1893:25c8:1946", False),
        ("::ffff:93.184.216.34", False),
    ],
)
def test_forbidden_addresses(address: str, forbidden: bool) -> None:
    assert is_forbidden(ipaddress.ip_address(address)) is forbidden


def test_allow_list_opens_only_its_networks() -> None:
    allowed = [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("10.0.0.0/24")]
    assert not is_forbidden(ipaddress.ip_address("127.0.0.5"), allowed)
    assert not is_forbidden(ipaddress.ip_address("::ffff:127.0.0.5"), allowed)
    assert not is_forbidden(ipaddress.ip_address("10.0.0.9"), allowed)
    assert is_forbidden(ipaddress.ip_address("10.0.1.9"), allowed)
    assert is_forbidden(ipaddress.ip_address("169.254.169.254"), allowed)


def _decode(encoding: str, data: bytes, limit: int, chunk: int = 1000) -> bytes:
    decoder = _Decoder(encoding, limit, "u")
    return b"".join(decoder.feed(data[i : i + chunk]) for i in range(0, len(data), chunk))


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda b: zlib.compress(b)[2:-4]),  # raw deflate, as some servers send it
        ("br", brotli.compress),
        ("identity", lambda b: b),
        ("", lambda b: b),
    ],
)
def test_decoder_round_trips_and_caps_output(encoding: str, compress: object) -> None:
    original = b"<rss>" + b"news " * 20000 + b"</rss>"
    packed = compress(original)  # type: ignore[operator]
    assert _decode(encoding, packed, len(original)) == original
    with pytest.raises(FetchError) as caught:
        _decode(encoding, packed, len(original) - 1)
    assert caught.value.reason == "too_large"


def test_decoder_refuses_unknown_and_corrupt_encodings() -> None:
    with pytest.raises(FetchError, match="not supported"):
        _Decoder("compress", 10, "u")
    with pytest.raises(FetchError) as caught:
        _decode("br", b"definitely not brotli", 1000)
    assert caught.value.reason == "bad_encoding"
