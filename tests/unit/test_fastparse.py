"""The lxml fast path reads a feed into the same articles as feedparser does, ids and versions
included, and hands everything unusual to feedparser."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.common.schema import Article
from services.ingest.fastparse import NotFast, parse_fast
from services.ingest.feeds import Feed
from services.ingest.normalise import normalise
from services.ingest.parse import parse_feed, parse_slow

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "feeds"
FEED = Feed(name="f", url="https://news.example.org/feed", outlet="Example")
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)

RSS_RICH = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>Rich</title><link>https://news.example.org/</link><language>en-GB</language><ttl>45</ttl>
<item><title>Guns &amp; Roses   play
 Yangon</title><link>https://news.example.org/a?utm_source=rss#top</link><guid>a-1</guid>
<pubDate>Sat, 21 Nov 2026 08:00:00 +0630</pubDate><dc:creator>Ma Ma</dc:creator><dc:creator>Ko Ko</dc:creator>
<description>&lt;p&gt;Short &lt;b&gt;summary&lt;/b&gt;.&lt;/p&gt;</description>
<content:encoded><![CDATA[<p>First para with <a href="/rel">a relative link</a>.</p><script>alert(1)</script>
<p>Second.</p>]]></content:encoded></item>
<item><title>Permalink only</title><guid>https://news.example.org/p</guid>
<pubDate>Fri, 20 Nov 2026 10:00:00 GMT</pubDate>
<description>Plain words</description></item>
<item><title>Not a permalink</title><guid isPermaLink="false">https://news.example.org/np</guid>
<dc:date>2026-11-19T10:00:00Z</dc:date><author>desk@example.org (Desk)</author></item>
<item><description>No title, odd date</description><link>/relative/path</link><pubDate>2026-11-18 07:00</pubDate>
</item>
<item><title>Future</title><link>https://news.example.org/f</link><pubDate>Sat, 01 Jan 2099 00:00:00 GMT</pubDate>
</item>
</channel></rss>"""

ATOM_RICH = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="my">
<title>Atom</title><link rel="self" href="https://news.example.org/atom"/><link href="https://news.example.org/"/>
<id>urn:x</id><updated>2026-11-21T09:00:00Z</updated>
<entry><title type="html">&lt;b&gt;Bold&lt;/b&gt; move</title>
<link rel="alternate" href="https://news.example.org/x1"/>
<link rel="enclosure" href="https://news.example.org/x1.mp3"/><id>urn:x1</id>
<updated>2026-11-21T09:00:00+06:30</updated>
<author><name>A One</name></author><summary>Plain summary</summary>
<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>XHTML <em>body</em>.</p><p>Two.</p></div>
</content></entry>
<entry><title>Text only</title><id>urn:x2</id><published>2026-11-20T09:00:00Z</published>
<content type="html">&lt;p&gt;Escaped &amp;amp; html&lt;/p&gt;</content></entry>
</feed>"""

RDF = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://news.example.org/"><title>RDF</title><link>https://news.example.org/</link></channel>
<item rdf:about="https://news.example.org/r1"><title>R one</title><link>https://news.example.org/r1</link>
<description>Desc</description><dc:date>2026-11-21T01:02:03+00:00</dc:date><dc:creator>Reporter</dc:creator></item>
</rdf:RDF>"""


def _articles(document: object) -> list[Article | None]:
    d: dict = document  # type: ignore[type-arg,assignment]
    feed = d.get("feed", {})
    return [normalise(e, FEED, NOW, feed.get("link"), feed.get("language")) for e in d.get("entries", [])]


def _view(article: Article | None) -> object:
    if article is None:
        return None
    keep = ("id", "version", "title", "url", "authors", "published_at", "published_at_is_fetch_time")
    return {k: getattr(article, k) for k in keep} | {"summary": article.summary, "body_text": article.body_text}


@pytest.mark.parametrize(
    "body",
    [
        (SAMPLES / "rfa-english.xml").read_bytes(),
        (SAMPLES / "irrawaddy.xml").read_bytes(),
        (SAMPLES / "ap-asia-pacific.atom").read_bytes(),
        RSS_RICH,
        ATOM_RICH,
        RDF,
    ],
    ids=["rfa", "irrawaddy", "ap", "rss-rich", "atom-rich", "rdf"],
)
def test_fast_path_gives_the_same_articles_as_feedparser(body: bytes) -> None:
    fast = parse_fast(body)
    slow = parse_slow(body)
    assert fast["version"] == slow["version"]
    assert len(fast["entries"]) == len(slow["entries"]) > 0
    assert [_view(a) for a in _articles(fast)] == [_view(a) for a in _articles(slow)]
    assert fast["feed"].get("language") == slow["feed"].get("language")
    assert fast["feed"].get("link") == slow["feed"].get("link")


def test_rss_ttl_is_read() -> None:
    assert parse_feed(RSS_RICH).ttl == "45"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (RSS_RICH[: RSS_RICH.index(b"</item>") + 7], None),  # truncated: feedparser salvages
        (b'<?xml version="1.0"?><rss version="2.0"><channel><item><title>A & B</title></item></channel></rss>', None),
        (b'<?xml version="1.0"?><rss version="0.90"><channel></channel></rss>', None),
        (b'<?xml version="1.0"?><opml version="2.0"><body/></opml>', None),
        (RSS_RICH, "application/rss+xml; charset=iso-8859-1"),  # header and declaration disagree
    ],
    ids=["truncated", "bare-ampersand", "old-rss", "not-a-feed-root", "charset-conflict"],
)
def test_unusual_documents_go_to_feedparser(body: bytes, content_type: str | None) -> None:
    with pytest.raises(NotFast):
        parse_fast(body, content_type)


def test_parse_feed_marks_salvaged_documents_as_malformed_via_feedparser() -> None:
    truncated = RSS_RICH[: RSS_RICH.index(b"</item>") + 7]
    parsed = parse_feed(truncated)
    assert (parsed.malformed and [e["title"] for e in parsed.entries] == ["Guns & Roses play Yangon"]) or (
        parsed.malformed and len(parsed.entries) == 1
    )
