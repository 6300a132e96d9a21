"""Hostile and broken input from a real HTTP server: each case ends in a clear error, a metric and a
log line, time and memory stay bounded, and the other feeds are still ingested."""

import gzip
import logging
import time
import tracemalloc
from collections.abc import Iterator

import brotli
import pytest

from services.ingest.feeds import Feed
from tests.integration.feedserver import FeedServer, Reply, items, rss, running
from tests.integration.ingest_helpers import feed, make_ingest, sample

pytestmark = pytest.mark.integration

OUTLET = "Hostile Outlet"
MB = 1024 * 1024


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with running() as s:
        yield s


def _poll_one(
    redis_url: str, namespace: str, url: str, caplog: pytest.LogCaptureFixture, **overrides: object
) -> tuple[str, float]:
    """Poll one feed; return the reason it failed (the metric and the log line both say it)."""
    ingest = make_ingest(redis_url, namespace, [Feed(name="h", url=url, outlet=OUTLET)], **overrides)  # type: ignore[arg-type]
    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        summary = ingest.poll_all()
    elapsed = time.monotonic() - started
    assert summary.feeds_failed == 1
    state = ingest.schedule.state("h")
    [record] = [r for r in caplog.records if r.getMessage() == "feed poll failed"]
    assert record.__dict__["reason"] == state.last_outcome and record.__dict__["feed"] == "h"
    assert state.last_error
    return state.last_outcome, elapsed


@pytest.mark.parametrize(
    ("reply", "reason", "overrides"),
    [
        # A server that drips one byte a second never trips the read timeout: the total one stops it.
        (Reply(200, rss(items(3)), drip_s=1.0), "timeout", {"fetch_total_timeout_s": 2.0}),
        (Reply(200, rss(items(1)), delay_s=3.0), "timeout", {"fetch_timeout_s": 0.5}),
        (Reply(200, b"<rss>" + b" " * (2 * MB) + b"</rss>"), "too_large", {"max_feed_bytes": MB}),
        (
            Reply(200, gzip.compress(b"<rss>" + b"\0" * (64 * MB)), {"Content-Encoding": "gzip"}),
            "too_large",
            {"max_feed_bytes": MB},
        ),
        (
            Reply(200, brotli.compress(b"<rss>" + b"\0" * (64 * MB)), {"Content-Encoding": "br"}),
            "too_large",
            {"max_feed_bytes": MB},
        ),
        (Reply(200, b"not gzip at all", {"Content-Encoding": "gzip"}), "bad_encoding", {}),
        (Reply(200, rss(items(1)), {"Content-Encoding": "compress"}), "bad_encoding", {}),
        (
            Reply(
                200,
                b"<!DOCTYPE html><html><head><title>Home</title></head><body>Hi</body></html>",
                {"Content-Type": "text/html"},
            ),
            "not_a_feed",
            {},
        ),
        (Reply(200, b'{"version": "https://jsonfeed.org/version/1", "items": []}'), "not_a_feed", {}),
        (
            Reply(
                200,
                b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">'
                b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]><rss version="2.0"><channel><title>&lol3;</title>'
                b"</channel></rss>",
            ),
            "xml_entities",
            {},
        ),
        (
            Reply(
                200,
                b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
                b'<rss version="2.0"><channel><item><title>&xxe;</title></item></channel></rss>',
            ),
            "xml_entities",
            {},
        ),
        (Reply(503, b"busy"), "rate_limited", {}),
        (Reply(404, b"nope"), "gone", {}),
        (Reply(403, b"forbidden"), "http_client_error", {}),
        (Reply(502, b"bad gateway"), "http_server_error", {}),
    ],
    ids=[
        "drip",
        "slow-headers",
        "too-large",
        "gzip-bomb",
        "brotli-bomb",
        "corrupt-gzip",
        "unknown-encoding",
        "html",
        "json",
        "billion-laughs",
        "xxe",
        "503",
        "404",
        "403",
        "502",
    ],
)
def test_hostile_responses_fail_clearly_and_boundedly(
    server: FeedServer,
    redis_url: str,
    namespace: str,
    caplog: pytest.LogCaptureFixture,
    reply: Reply,
    reason: str,
    overrides: dict[str, object],
) -> None:
    url = server.route("/h.xml", reply)
    before = sample("newswire_ingest_feed_failures_total", outlet=OUTLET, reason=reason)
    tracemalloc.start()
    try:
        got, elapsed = _poll_one(redis_url, namespace, url, caplog, **overrides)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert got == reason
    assert sample("newswire_ingest_feed_failures_total", outlet=OUTLET, reason=reason) == before + 1
    assert elapsed < 6
    assert peak < 16 * MB  # a 64 MB bomb never reaches memory


def test_redirect_loop_and_too_many_redirects(
    server: FeedServer, redis_url: str, namespace: str, caplog: pytest.LogCaptureFixture
) -> None:
    server.route("/l1", Reply(302, headers={"Location": "/l2"}))
    loop = server.route("/l2", Reply(302, headers={"Location": "/l1"}))
    assert _poll_one(redis_url, namespace, loop, caplog)[0] == "redirect_loop"
    for i in range(8):
        server.route(f"/c{i}", Reply(301, headers={"Location": f"/c{i + 1}"}))
    caplog.clear()
    assert _poll_one(redis_url, namespace, server.url("/c0"), caplog, ingest_max_redirects=3)[0] == "too_many_redirects"
    assert len([r for r in server.requests if r.path.startswith("/c")]) == 4


def test_redirect_to_another_scheme_is_refused(
    server: FeedServer, redis_url: str, namespace: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = server.route("/r", Reply(302, headers={"Location": "file:///etc/passwd"}))
    assert _poll_one(redis_url, namespace, url, caplog)[0] == "bad_redirect"


def test_gzip_and_brotli_feeds_are_decoded(server: FeedServer, redis_url: str, namespace: str) -> None:
    body = rss(items(2))
    gz = server.route("/gz.xml", Reply(200, gzip.compress(body), {"Content-Encoding": "gzip"}))
    br = server.route("/br.xml", Reply(200, brotli.compress(rss(items(2, prefix="br"))), {"Content-Encoding": "br"}))
    summary = make_ingest(redis_url, namespace, [feed("gz", gz), feed("br", br)]).poll_all()
    assert (summary.feeds_failed, summary.articles_new) == (0, 4)
    assert "br" in server.hits("/gz.xml")[0].headers["accept-encoding"]


# --- SSRF -----------------------------------------------------------------------------------------


def test_loopback_is_refused_by_default_without_any_request(
    server: FeedServer, redis_url: str, namespace: str, caplog: pytest.LogCaptureFixture
) -> None:
    for host in ("127.0.0.1", "localhost"):
        caplog.clear()
        url = server.route("/private.xml", Reply(200, rss(items(1)))).replace("127.0.0.1", host)
        assert _poll_one(redis_url, namespace, url, caplog, ingest_allow_networks="")[0] == "blocked_address"
    assert server.requests == []


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",  # the cloud metadata address
        "http://10.0.0.1/feed.xml",
        "http://192.168.1.1/feed.xml",
        "http://[::1]:9/feed.xml",
        "http://[::ffff:127.0.0.2]:9/feed.xml",
        "http://127.0.0.2:9/feed.xml",  # loopback, but outside the allowed 127.0.0.1/32
    ],
)
def test_a_redirect_to_a_forbidden_address_is_refused(
    server: FeedServer, redis_url: str, namespace: str, caplog: pytest.LogCaptureFixture, target: str
) -> None:
    # The check happens before any connection, so no traffic ever leaves for these addresses.
    url = server.route("/jump.xml", Reply(302, headers={"Location": target}))
    got = _poll_one(redis_url, namespace, url, caplog, ingest_allow_networks="127.0.0.1/32")[0]
    assert got == "blocked_address"
    assert [r.path for r in server.requests] == ["/jump.xml"]


def test_local_feed_files_stay_allowed(tmp_path: object, redis_url: str, namespace: str) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "local.xml"
    path.write_bytes(rss(items(2)))
    summary = make_ingest(redis_url, namespace, [feed("local", str(path))], ingest_allow_networks="").poll_all()
    assert (summary.feeds_failed, summary.articles_new) == (0, 2)


# --- broken but salvageable documents ----------------------------------------------------------


def test_broken_documents_are_salvaged_and_counted_and_the_other_feeds_go_on(
    server: FeedServer, redis_url: str, namespace: str, caplog: pytest.LogCaptureFixture
) -> None:
    good = rss(items(3, prefix="good"))
    truncated = rss(items(3, prefix="cut"))
    truncated = truncated[: truncated.index(b"</item>") + 7]
    future = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>https://n.example.org/</link>'
        b"<item><title>From the future</title><link>https://n.example.org/f</link>"
        b"<pubDate>Sat, 01 Jan 2099 00:00:00 GMT</pubDate></item>"
        b"<item><title>Undated</title><link>https://n.example.org/u</link><pubDate>yesterday-ish</pubDate></item>"
        b"<item><title>No link or GUID</title><description>Only text.</description></item>"
        b"<item><description></description></item>"
        b"<item><title>Twice</title><guid>dup</guid></item><item><title>Twice, edited</title><guid>dup</guid></item>"
        b"</channel></rss>"
    )
    wrong_charset = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
        "<item><title>Café naïve</title><link>https://n.example.org/c</link></item></channel></rss>"
    ).encode("latin-1")
    feeds = [
        feed("good", server.route("/good.xml", Reply(200, good)), outlet=OUTLET),
        feed("cut", server.route("/cut.xml", Reply(200, truncated)), outlet=OUTLET),
        feed("odd", server.route("/odd.xml", Reply(200, future)), outlet=OUTLET),
        feed(
            "charset", server.route("/cs.xml", Reply(200, wrong_charset, {"Content-Type": "text/xml"})), outlet=OUTLET
        ),
        feed("html", server.route("/html.xml", Reply(200, b"<html><body>moved</body></html>")), outlet=OUTLET),
    ]
    malformed = sample("newswire_ingest_feeds_malformed_total", outlet=OUTLET)
    fallback = sample("newswire_ingest_articles_total", outlet=OUTLET, result="date_fallback")
    duplicate = sample("newswire_ingest_articles_total", outlet=OUTLET, result="duplicate")
    invalid = sample("newswire_ingest_articles_total", outlet=OUTLET, result="invalid")
    ingest = make_ingest(redis_url, namespace, feeds)

    with caplog.at_level(logging.WARNING):
        summary = ingest.poll_all()

    assert summary.feeds == 5 and summary.feeds_failed == 1  # only the HTML page fails
    # good 3 + salvaged 1 + odd 4 (future, undated, no-link, one of the twins) + charset 1
    assert summary.articles_new == 3 + 1 + 4 + 1
    assert sample("newswire_ingest_feeds_malformed_total", outlet=OUTLET) >= malformed + 1
    assert sample("newswire_ingest_articles_total", outlet=OUTLET, result="date_fallback") == fallback + 5
    assert sample("newswire_ingest_articles_total", outlet=OUTLET, result="duplicate") == duplicate + 1
    assert sample("newswire_ingest_articles_total", outlet=OUTLET, result="invalid") == invalid + 1
    messages = {r.getMessage() for r in caplog.records}
    assert {
        "feed is malformed, keeping what could be salvaged",
        "feed repeats an item (same GUID or link); keeping its last occurrence",
    } <= messages
    assert ingest.schedule.state("html").last_outcome == "not_a_feed"
