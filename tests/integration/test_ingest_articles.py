"""Articles worth tagging, against a real server and Redis: one story syndicated in two feeds is one
article with both feeds recorded; summary-only feeds get their page's main text; Burmese in Zawgyi
arrives as Unicode."""

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from services.common.names import Keys
from tests.integration.feedserver import FeedServer, Reply, rss, running
from tests.integration.ingest_helpers import feed, make_ingest, sample

pytestmark = pytest.mark.integration


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with running() as s:
        yield s


def _queued(redis_url: str, namespace: str) -> list[dict[str, Any]]:
    """The Article payloads of the tasks queued for extract, as the worker would receive them."""
    client = redis.Redis.from_url(redis_url)
    raw = client.lrange(f"{namespace}:celery:extract", 0, -1)
    client.close()
    payloads = []
    for message in raw:
        body = json.loads(base64.b64decode(json.loads(message)["body"]))
        payloads.append(body[0][0])
    return payloads


def test_one_story_in_two_feeds_is_one_article_with_both_feeds(
    server: FeedServer, redis_url: str, namespace: str
) -> None:
    story = {"title": "Border town falls", "link": "https://news.example.org/story?utm_source=a#top", "guid": "x1"}
    same = {**story, "link": "https://NEWS.example.org/story?utm_medium=rss", "guid": "other-guid"}
    first = server.route("/a.xml", Reply(200, rss([story])))
    second = server.route("/b.xml", Reply(200, rss([same])))
    before = sample("newswire_ingest_articles_total", outlet="Test Outlet", result="syndicated")

    summary_a = make_ingest(redis_url, namespace, [feed("feed-a", first)]).poll_all()
    summary_b = make_ingest(redis_url, namespace, [feed("feed-b", second)]).poll_all()

    assert (summary_a.articles_new, summary_b.articles_new, summary_b.articles_unchanged) == (1, 0, 1)
    [payload] = _queued(redis_url, namespace)  # one article, queued once
    assert payload["url"] == "https://news.example.org/story" and payload["feeds"] == ["feed-a"]
    client = redis.Redis.from_url(redis_url)
    recorded = client.hget(Keys(namespace).ingest_article_feeds, payload["id"])
    client.close()
    assert recorded == b"feed-a,feed-b"
    assert sample("newswire_ingest_articles_total", outlet="Test Outlet", result="syndicated") == before + 1

    # When the story changes, the new version carries every feed that has it.
    server.route("/b.xml", Reply(200, rss([{**same, "description": "Updated with casualty figures."}])))
    assert make_ingest(redis_url, namespace, [feed("feed-b", second)]).poll_all().articles_changed == 1
    [changed] = [p for p in _queued(redis_url, namespace) if p["summary"].startswith("Updated")]
    assert changed["feeds"] == ["feed-a", "feed-b"] and changed["id"] == payload["id"]


PAGE = (
    b"<html><head><title>Border town falls</title></head><body><nav>Home | World | Asia</nav>"
    b"<article><h1>Border town falls</h1>"
    + b"<p>The Kachin Independence Army took the border town on Wednesday after days of fighting, residents said.</p>"
    * 4
    + b"<p>About 300 soldiers fled across the border, according to a local official.</p></article>"
    b"<div class='related'><h3>RELATED STORIES</h3><ul><li><a href='/x'>Junta chief visits Beijing</a></li>"
    b"<li><a href='/y'>Rare earth prices climb</a></li></ul></div><footer>Copyright 2026</footer></body></html>"
)


def test_summary_only_feed_gets_the_main_text_of_its_page(server: FeedServer, redis_url: str, namespace: str) -> None:
    page = server.route("/story.html", Reply(200, PAGE, {"Content-Type": "text/html; charset=utf-8"}))
    missing = server.url("/missing.html")
    items = [
        {"title": "Border town falls", "link": page, "description": "Rebels take the town."},
        {"title": "Gone", "link": missing, "description": "This page is gone."},
    ]
    url = server.route("/summary.xml", Reply(200, rss(items)))
    summary = make_ingest(redis_url, namespace, [feed("summ", url)], ingest_fetch_pages=True).poll_all()

    assert summary.articles_new == 2
    by_title = {p["title"]: p for p in _queued(redis_url, namespace)}
    article = by_title["Border town falls"]
    assert article["summary"] == "Rebels take the town."  # kept
    assert "took the border town on Wednesday" in article["body_text"]
    assert "300 soldiers fled" in article["body_text"]
    assert "RELATED STORIES" not in article["body_text"] and "Rare earth prices" not in article["body_text"]
    assert "Home | World" not in article["body_text"]
    # A page that cannot be had leaves the summary as the body, and says why.
    assert by_title["Gone"]["body_text"] == "This page is gone."
    assert sample("newswire_ingest_pages_total", outlet="Test Outlet", outcome="gone") >= 1
    # The page was fetched with the same politeness: our User-Agent, through the host gate.
    [hit] = server.hits("/story.html")
    assert hit.headers["user-agent"].startswith("Newswire/")


def test_zawgyi_feed_arrives_as_unicode_with_its_language_detected(
    server: FeedServer, redis_url: str, namespace: str
) -> None:
    unicode_title = "မြန်မာနိုင်ငံ ကချင်ပြည်နယ်တွင် တိုက်ပွဲများ ဖြစ်ပွားခဲ့သည်"
    zawgyi_title = "ျမန္မာႏိုင္ငံ ကခ်င္ျပည္နယ္တြင္ တိုက္ပြဲမ်ား ျဖစ္ပြားခဲ့သည္"
    body = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Burmese</title>'
        f"<link>https://my.example.org/</link><item><title>{zawgyi_title}</title>"
        f"<link>https://my.example.org/1</link><description>{zawgyi_title}</description></item></channel></rss>"
    ).encode()
    url = server.route("/my.xml", Reply(200, body))
    unicode_url = server.route(
        "/my-unicode.xml", Reply(200, body.decode().replace(zawgyi_title, unicode_title).encode())
    )
    converted = sample("newswire_ingest_zawgyi_converted_total", outlet="Zawgyi Outlet")
    make_ingest(redis_url, namespace, [feed("burmese", url, outlet="Zawgyi Outlet")]).poll_all()
    [article] = _queued(redis_url, namespace)
    assert article["title"] == unicode_title
    assert article["summary"] == unicode_title
    assert article["language"] == "my"
    # Counted by outlet: one entry converted. The same story already in Unicode converts nothing.
    assert sample("newswire_ingest_zawgyi_converted_total", outlet="Zawgyi Outlet") == converted + 1
    unicode_feed = feed("burmese-unicode", unicode_url, outlet="Unicode Outlet")
    assert make_ingest(redis_url, namespace, [unicode_feed]).poll_all().articles_unchanged == 1
    assert sample("newswire_ingest_zawgyi_converted_total", outlet="Unicode Outlet") == 0
    assert sample("newswire_ingest_zawgyi_converted_total", outlet="Zawgyi Outlet") == converted + 1
