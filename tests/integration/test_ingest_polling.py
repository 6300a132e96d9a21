"""Polling against a real HTTP server on 127.0.0.1 and the real Redis: conditional GET, the next
poll time, failure backoff, broken feeds, permanent redirects, host politeness, and `newswire feeds`."""

import email.utils
import json
import time
from collections.abc import Iterator

import pytest
import redis

from services import cli
from services.common.names import Keys
from services.ingest.hosts import host_of
from tests.integration.feedserver import FeedServer, Reply, Request, conditional, items, rss, running
from tests.integration.ingest_helpers import feed, make_ingest, sample

pytestmark = pytest.mark.integration


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with running() as s:
        yield s


def _due_in(client: redis.Redis, namespace: str, name: str) -> float:
    score = client.zscore(Keys(namespace).ingest_schedule, name)
    assert score is not None, f"{name} is not in the schedule"
    now = client.time()
    return float(score) - (now[0] + now[1] / 1e6)


def test_conditional_get_sends_back_validators_and_a_304_costs_no_parse(
    server: FeedServer, redis_url: str, namespace: str
) -> None:
    url = server.route("/feed.xml", conditional(rss(items(3))))
    feeds = [feed("cond", url)]
    first = make_ingest(redis_url, namespace, feeds).poll_all()
    assert (first.feeds, first.articles_new, first.entries, first.feeds_not_modified) == (1, 3, 3, 0)
    before = sample("newswire_ingest_feed_polls_total", outlet="Test Outlet", outcome="not_modified")

    # A second replica (a new Ingest) knows the validators from Redis alone.
    second = make_ingest(redis_url, namespace, feeds).poll_all()

    assert (second.feeds_not_modified, second.entries, second.articles_new, second.articles_unchanged) == (1, 0, 0, 0)
    first_request, second_request = server.hits("/feed.xml")
    assert "if-none-match" not in first_request.headers
    assert second_request.headers["if-none-match"] == '"v1"'
    assert second_request.headers["if-modified-since"] == "Sat, 21 Nov 2026 10:00:00 GMT"
    assert (
        second_request.headers["user-agent"].startswith("Newswire/")
        and "feeds@example.org" in (second_request.headers["user-agent"])
    )
    assert sample("newswire_ingest_feed_polls_total", outlet="Test Outlet", outcome="not_modified") == before + 1


@pytest.mark.parametrize(
    ("headers", "ttl", "expected"),
    [
        ({}, None, 900),  # nothing stated: the feed's minimum interval
        ({"Cache-Control": "public, max-age=7200"}, None, 7200),
        ({"Cache-Control": "max-age=7200"}, 180, 10800),  # <ttl> is minutes; the longest wins
        ({"Expires": "{in_3h}"}, None, 10800),
        ({"Cache-Control": "max-age=60"}, None, 900),  # never below the minimum
        ({"Cache-Control": "max-age=999999"}, None, 6 * 3600),  # never above the maximum
        ({"Cache-Control": "no-store, max-age=7200"}, None, 900),
    ],
)
def test_next_poll_is_the_longest_stated_freshness_clamped(
    server: FeedServer, redis_url: str, namespace: str, headers: dict[str, str], ttl: int | None, expected: float
) -> None:
    in_3h = email.utils.formatdate(time.time() + 10800, usegmt=True)
    headers = {k: v.replace("{in_3h}", in_3h) for k, v in headers.items()}
    # Items a week apart: publishing rate alone would say 3.5 days, so the rate is ignored here by
    # giving only two items (fewer than three dated entries say nothing about the rate).
    url = server.route("/f.xml", Reply(200, rss(items(2, hours_apart=168), ttl=ttl), headers))
    make_ingest(redis_url, namespace, [feed("f", url)]).poll_all()
    due = _due_in(redis.Redis.from_url(redis_url), namespace, "f")
    assert expected - 5 <= due <= expected + 1


def test_publishing_rate_sets_the_interval(server: FeedServer, redis_url: str, namespace: str) -> None:
    # One story every 4 hours: poll about every 2 hours (half the median gap), not every 15 minutes.
    url = server.route("/rate.xml", Reply(200, rss(items(6, hours_apart=4))))
    make_ingest(redis_url, namespace, [feed("rate", url)]).poll_all()
    assert 2 * 3600 - 5 <= _due_in(redis.Redis.from_url(redis_url), namespace, "rate") <= 2 * 3600 + 1


def test_jitter_spreads_feeds_that_state_the_same_freshness(server: FeedServer, redis_url: str, namespace: str) -> None:
    url = server.route("/j.xml", Reply(200, rss(items(1)), {"Cache-Control": "max-age=3600"}))
    feeds = [feed(f"j{i}", f"{url}?n={i}") for i in range(8)]
    make_ingest(redis_url, namespace, feeds, ingest_jitter=0.2).poll_all()
    client = redis.Redis.from_url(redis_url)
    dues = [_due_in(client, namespace, f.name) for f in feeds]
    assert all(3600 * 0.8 - 5 <= d <= 3600 * 1.2 + 1 for d in dues)
    assert max(dues) - min(dues) > 60  # not in lockstep


def test_failures_back_off_exponentially_then_the_feed_is_marked_broken_and_can_be_enabled(
    server: FeedServer,
    redis_url: str,
    namespace: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = server.route("/down.xml", Reply(500, b"oops"))
    feeds = [feed("down", url, poll_interval_s=60)]
    ingest = make_ingest(redis_url, namespace, feeds, ingest_broken_after=3)
    client = redis.Redis.from_url(redis_url)
    broken_before = sample(
        "newswire_ingest_feeds_marked_broken_total", outlet="Test Outlet", reason="http_server_error"
    )

    delays = []
    for _ in range(2):
        summary = ingest.poll_all()
        assert summary.feeds_failed == 1
        delays.append(_due_in(client, namespace, "down"))
    assert 55 <= delays[0] <= 61 and 115 <= delays[1] <= 121  # 60 s, then 120 s
    state = ingest.schedule.state("down")
    assert (state.failures, state.broken, state.last_outcome) == (2, "", "http_server_error")

    ingest.poll_all()  # the third failure marks it broken

    state = ingest.schedule.state("down")
    assert state.broken.startswith("http_server_error: ") and "HTTP 500" in state.broken
    assert client.zscore(Keys(namespace).ingest_schedule, "down") is None
    assert (
        sample("newswire_ingest_feeds_marked_broken_total", outlet="Test Outlet", reason="http_server_error")
        == broken_before + 1
    )
    assert ingest.poll_all().feeds == 0  # a broken feed is not polled
    assert len(server.hits("/down.xml")) == 3

    # The operator sees it and re-enables it with `newswire feeds`.
    registry = _registry(monkeypatch, redis_url, namespace, url)
    assert cli.main(["feeds", "list", "--json", "--feeds", str(registry)]) == 0
    [row] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (row["name"], row["state"], row["failures"]) == ("down", "broken", 3)
    assert cli.main(["feeds", "enable", "down", "--feeds", str(registry)]) == 0
    assert "due now" in capsys.readouterr().out
    assert ingest.schedule.state("down").failures == 0
    assert _due_in(client, namespace, "down") <= 0
    server.route("/down.xml", Reply(200, rss(items(1))))
    assert ingest.poll_all().articles_new == 1


def _registry(monkeypatch: pytest.MonkeyPatch, redis_url: str, namespace: str, url: str) -> object:
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp()) / "feeds.yaml"
    path.write_text(f"feeds:\n  - {{name: down, url: '{url}', outlet: Test Outlet, poll_interval_s: 60}}\n")
    monkeypatch.setenv("NEWSWIRE_REDIS_URL", redis_url)
    monkeypatch.setenv("NEWSWIRE_REDIS_NAMESPACE", namespace)
    monkeypatch.setenv("NEWSWIRE_INGEST_ALLOW_NETWORKS", "127.0.0.0/8")
    return path


def test_410_gone_marks_the_feed_broken_at_once(server: FeedServer, redis_url: str, namespace: str) -> None:
    url = server.route("/gone.xml", Reply(410, b"gone"))
    ingest = make_ingest(redis_url, namespace, [feed("gone", url)])
    ingest.poll_all()
    assert ingest.schedule.state("gone").broken.startswith("gone: ")


def test_feeds_check_shows_what_would_be_ingested_and_queues_nothing(
    server: FeedServer,
    redis_url: str,
    namespace: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = server.route("/check.xml", Reply(200, rss(items(2))))
    registry = _registry(monkeypatch, redis_url, namespace, url)
    assert cli.main(["feeds", "check", url, "--feeds", str(registry)]) == 0
    out = capsys.readouterr().out
    assert "2 entries → 2 articles" in out and "[new] story 0" in out and "Nothing was queued." in out
    client = redis.Redis.from_url(redis_url)
    assert client.llen(f"{namespace}:celery:extract") == 0
    assert not client.exists(Keys(namespace).ingest_seen)
    # A bad URL says what is wrong.
    assert cli.main(["feeds", "check", server.url("/missing.xml"), "--feeds", str(registry)]) == 1
    assert "gone: " in capsys.readouterr().out


def test_permanent_redirect_updates_the_url_and_a_temporary_one_does_not(
    server: FeedServer, redis_url: str, namespace: str
) -> None:
    new = server.route("/new.xml", Reply(200, rss(items(1))))
    old = server.route("/old.xml", Reply(301, headers={"Location": "/new.xml"}))
    temp_target = server.route("/t-target.xml", Reply(200, rss(items(1, prefix="t"))))
    temp = server.route("/temp.xml", Reply(302, headers={"Location": temp_target}))
    moved_before = sample("newswire_ingest_feed_moved_total", outlet="Test Outlet")
    ingest = make_ingest(redis_url, namespace, [feed("moved", old), feed("temp", temp)])

    assert ingest.poll_all().articles_new == 2
    assert ingest.schedule.state("moved").url == new
    assert ingest.schedule.state("temp").url == temp
    assert sample("newswire_ingest_feed_moved_total", outlet="Test Outlet") == moved_before + 1

    ingest.poll_all()
    assert len(server.hits("/old.xml")) == 1  # the second poll went straight to the new URL
    assert len(server.hits("/new.xml")) == 2
    assert len(server.hits("/temp.xml")) == 2


def test_429_backs_off_the_whole_host(server: FeedServer, redis_url: str, namespace: str) -> None:
    url = server.route("/a.xml", Reply(429, b"slow down", {"Retry-After": "120"}))
    other = server.route("/b.xml", Reply(200, rss(items(1))))
    backoffs = sample("newswire_ingest_host_backoffs_total", outlet="Test Outlet")
    ingest = make_ingest(redis_url, namespace, [feed("a", url, poll_interval_s=60)])
    ingest.poll_all()
    assert 115 <= _due_in(redis.Redis.from_url(redis_url), namespace, "a") <= 121
    assert sample("newswire_ingest_host_backoffs_total", outlet="Test Outlet") == backoffs + 1

    # Another feed on the same host is not fetched while the host backs off.
    other_ingest = make_ingest(redis_url, namespace, [feed("b", other)])
    summary = other_ingest.poll_all()
    assert (summary.feeds, summary.feeds_skipped) == (0, 1)
    assert server.hits("/b.xml") == []
    assert 110 <= _due_in(redis.Redis.from_url(redis_url), namespace, "b") <= 121


def test_per_host_concurrency_cap_and_minimum_gap(server: FeedServer, redis_url: str, namespace: str) -> None:
    def slow(request: Request) -> Reply:
        return Reply(200, rss(items(1, prefix=request.path.strip("/"))), delay_s=0.3)

    feeds = []
    for i in range(6):
        feeds.append(feed(f"s{i}", server.route(f"/s{i}.xml", slow)))
    ingest = make_ingest(redis_url, namespace, feeds, ingest_host_concurrency=2, ingest_workers=6)
    started = time.monotonic()
    assert ingest.poll_all().feeds == 6
    assert server.max_concurrent == 2
    assert time.monotonic() - started >= 0.9  # 6 requests, 2 at a time, 0.3 s each

    gap_server_feeds = [feed(f"g{i}", server.route(f"/g{i}.xml", Reply(200, rss(items(1))))) for i in range(3)]
    gapped = make_ingest(redis_url, namespace, gap_server_feeds, ingest_host_gap_s=0.4, ingest_workers=3)
    gapped.poll_all()
    starts = sorted(r.started for r in server.requests if r.path.startswith("/g"))
    # The gap is kept between the starts of requests as ingest sends them; what the server sees moves
    # by connection set-up and scheduling, so the span is the firm check.
    assert starts[-1] - starts[0] >= 0.75, starts


def test_a_redirect_to_another_host_keeps_that_hosts_politeness(
    server: FeedServer,
    redis_url: str,
    namespace: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with running() as target:  # another host: same address, another port
        refusing = server.route(
            "/r.xml",
            Reply(302, headers={"Location": target.route("/t.xml", Reply(429, b"slow down", {"Retry-After": "120"}))}),
        )
        ok = server.route("/ok.xml", Reply(200, rss(items(1))))
        backoffs = sample("newswire_ingest_host_backoffs_total", outlet="Test Outlet")
        ingest = make_ingest(redis_url, namespace, [feed("r", refusing, poll_interval_s=60)])
        assert ingest.poll_all().feeds_failed == 1

        # The host that refused backs off, not the one that redirected to it.
        now_ms = int(time.time() * 1000)
        assert 110 <= ingest._hosts.backoff_remaining(host_of(target.url("/")), now_ms) <= 121
        assert ingest._hosts.backoff_remaining(host_of(ok), now_ms) == 0
        assert sample("newswire_ingest_host_backoffs_total", outlet="Test Outlet") == backoffs + 1
        assert 115 <= _due_in(redis.Redis.from_url(redis_url), namespace, "r") <= 121
        assert make_ingest(redis_url, namespace, [feed("ok", ok)]).poll_all().articles_new == 1

        # Another feed whose redirect leads to the backing-off host is put back before that hop.
        moved = target.route("/t2.xml", Reply(200, rss(items(1, prefix="t2"))))
        via = server.route("/r2.xml", Reply(302, headers={"Location": moved}))
        summary = make_ingest(redis_url, namespace, [feed("r2", via)]).poll_all()
        assert (summary.feeds, summary.feeds_skipped) == (0, 1)
        assert len(server.hits("/r2.xml")) == 1 and target.hits("/t2.xml") == []
        assert 110 <= _due_in(redis.Redis.from_url(redis_url), namespace, "r2") <= 121
        # `newswire feeds check` says so rather than fail with a traceback.
        registry = _registry(monkeypatch, redis_url, namespace, via)
        assert cli.main(["feeds", "check", via, "--feeds", str(registry)]) == 1
        assert f"{host_of(moved)} is busy or asked us to slow down" in capsys.readouterr().out
        assert target.hits("/t2.xml") == []


def test_redirect_hops_share_the_concurrency_cap_of_the_host_they_reach(
    server: FeedServer, redis_url: str, namespace: str
) -> None:
    def slow(request: Request) -> Reply:
        return Reply(200, rss(items(1, prefix=request.path.strip("/"))), delay_s=0.3)

    with running() as target:
        direct = [feed(f"d{i}", target.route(f"/d{i}.xml", slow)) for i in range(2)]
        via = [
            feed(
                f"v{i}", server.route(f"/v{i}.xml", Reply(302, headers={"Location": target.route(f"/w{i}.xml", slow)}))
            )
            for i in range(2)
        ]
        ingest = make_ingest(redis_url, namespace, direct + via, ingest_host_concurrency=2, ingest_workers=4)
        assert ingest.poll_all().articles_new == 4
        # Two feeds on the target's own host and two that reach it by redirect: two at a time there.
        assert target.max_concurrent == 2
        assert [r.path for r in target.requests if r.path.startswith("/w")]


def test_a_redirect_chain_back_to_its_own_host_does_not_wait_for_itself(
    server: FeedServer, redis_url: str, namespace: str
) -> None:
    with running() as target:
        final = server.route("/home.xml", Reply(200, rss(items(1))))
        away = target.route("/away.xml", Reply(308, headers={"Location": final}))
        start = server.route("/start.xml", Reply(301, headers={"Location": away}))
        # One request at a time per host, and a gap longer than the whole poll may wait for a slot:
        # a chain that took a second slot on a host it already holds could not finish.
        ingest = make_ingest(
            redis_url, namespace, [feed("chain", start)], ingest_host_concurrency=1, ingest_host_gap_s=120
        )
        summary = ingest.poll_all()
        assert (summary.feeds, summary.articles_new) == (1, 1)
        assert [len(server.hits("/start.xml")), len(target.hits("/away.xml")), len(server.hits("/home.xml"))] == [
            1,
            1,
            1,
        ]
        # Every hop was permanent: the feed moved to where the chain ended.
        assert ingest.schedule.state("chain").url == final


def test_schedule_gauges_count_due_overdue_and_broken_feeds(server: FeedServer, redis_url: str, namespace: str) -> None:
    ok = server.route("/ok.xml", Reply(200, rss(items(1))))
    gone = server.route("/gone2.xml", Reply(410, b"gone"))
    feeds = [feed("ok", ok), feed("gone2", gone), feed("late", ok + "?late"), feed("due", ok + "?due")]
    ingest = make_ingest(redis_url, namespace, feeds)
    client = redis.Redis.from_url(redis_url)
    ingest.poll_all()  # "gone2" is now broken; the rest are due in 15 minutes
    now = ingest.schedule.now()
    client.zadd(Keys(namespace).ingest_schedule, {"late": now - 600, "due": now - 1})

    ingest._update_gauges()

    assert sample("newswire_ingest_feeds_due") == 2
    assert sample("newswire_ingest_feeds_overdue") == 1
    assert sample("newswire_ingest_feeds_broken") == 1
    assert sample("newswire_ingest_last_success_timestamp_seconds", outlet="Test Outlet") >= now - 60
    assert sample("newswire_ingest_fetch_duration_seconds_count", outlet="Test Outlet") >= 4
    assert sample("newswire_ingest_parse_duration_seconds_count", outlet="Test Outlet") >= 3
    assert sample("newswire_ingest_fetched_bytes_total", outlet="Test Outlet") > 0
    client.close()
