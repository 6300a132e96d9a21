"""Several ingest replicas share one schedule in the real Redis: each due feed is polled by one of
them, never by two at once, and a claim left by a dead replica expires."""

import itertools
import threading
import time
from collections import defaultdict
from collections.abc import Iterator

import pytest
import redis

from services.common.names import Keys
from services.ingest.claims import FeedState, SharedSchedule
from tests.integration.feedserver import FeedServer, Reply, Request, items, rss, running
from tests.integration.ingest_helpers import feed, make_ingest

pytestmark = pytest.mark.integration


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with running() as s:
        yield s


def _overlaps(requests: list[Request]) -> list[str]:
    """Paths that had two requests under way at the same time."""
    by_path: dict[str, list[Request]] = defaultdict(list)
    for r in requests:
        by_path[r.path].append(r)
    bad = []
    for path, hits in by_path.items():
        hits.sort(key=lambda r: r.started)
        if any(b.started < a.ended for a, b in itertools.pairwise(hits)):
            bad.append(path)
    return bad


def _slow_feed(request: Request) -> Reply:
    return Reply(200, rss(items(2, prefix=request.path.strip("/").replace(".xml", ""))), delay_s=0.05)


def test_four_replicas_share_the_schedule_and_poll_each_due_feed_once(
    server: FeedServer, redis_url: str, namespace: str
) -> None:
    feeds = [feed(f"r{i}", server.route(f"/r{i}.xml", _slow_feed)) for i in range(40)]
    replicas = [
        make_ingest(redis_url, namespace, feeds, seed=n, ingest_workers=4, user_agent=f"Replica-{n}") for n in range(4)
    ]
    stop = threading.Event()
    threads = [threading.Thread(target=r.run_forever, args=(stop,)) for r in replicas]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 20
    while len(server.requests) < 40 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # a second poll of any feed would show up now
    stop.set()
    for t in threads:
        t.join(30)

    assert sorted(r.path for r in server.requests) == sorted(f"/r{i}.xml" for i in range(40))
    agents = {r.headers["user-agent"].split(" ")[0] for r in server.requests}
    assert len(agents) >= 2, "the work was not shared"
    assert _overlaps(server.requests) == []
    # Every feed is back in the schedule, due after its interval, with its state written once.
    due = replicas[0].schedule.due_times()
    now = replicas[0].schedule.now()
    assert set(due) == {f.name for f in feeds} and all(d - now > 800 for d in due.values())
    client = redis.Redis.from_url(redis_url)
    assert list(client.scan_iter(match=f"{Keys(namespace).ingest_claim_prefix}*")) == []


def test_replicas_running_once_at_the_same_time_never_poll_a_feed_twice_at_once(
    server: FeedServer, redis_url: str, namespace: str
) -> None:
    feeds = [feed(f"o{i}", server.route(f"/o{i}.xml", _slow_feed)) for i in range(20)]
    replicas = [make_ingest(redis_url, namespace, feeds, seed=n, ingest_workers=5) for n in range(3)]
    results = []
    threads = [threading.Thread(target=lambda r=r: results.append(r.poll_all())) for r in replicas]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert _overlaps(server.requests) == []
    polled = sum(s.feeds for s in results)
    skipped = sum(s.feeds_skipped for s in results)
    assert polled + skipped == 60 and polled == len(server.requests) >= 20
    # Each article was queued once, however many replicas polled its feed.
    assert sum(s.articles_new for s in results) == 40


def test_a_dead_replicas_claim_expires_and_its_late_result_is_not_recorded(redis_url: str, namespace: str) -> None:
    client = redis.Redis.from_url(redis_url)
    keys = Keys(namespace)
    dying = SharedSchedule(client, keys, claim_ttl_s=1.0, replica="dying")
    other = SharedSchedule(client, keys, claim_ttl_s=1.0, replica="other")
    dying.sync(["a", "b"])

    held = dying.claim_due(10)
    assert sorted(c.name for c in held) == ["a", "b"]
    assert other.claim_due(10) == []  # held: nobody else gets them
    assert other.claim("a") is None

    time.sleep(1.2)  # the dying replica never finishes; its claims expire
    taken = other.claim_due(10)
    assert sorted(c.name for c in taken) == ["a", "b"]

    late = next(c for c in held if c.name == "a")
    assert dying.finish(late, FeedState(etag="stale"), 60) is False
    fresh = next(c for c in taken if c.name == "a")
    assert other.finish(fresh, FeedState(etag="fresh"), 60) is True
    assert other.state("a").etag == "fresh"
    client.close()
