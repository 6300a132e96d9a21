"""Normalising feed entries into articles: URLs, HTML to text, ids, versions, dates, authors, language.

Entries come from the bundled sample feeds (RSS 2.0 with content:encoded, Atom, WordPress-style RSS)
run through the real parser, edited as text where a case needs a variation of them.
"""

import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.common.schema import Article
from services.ingest.feeds import Feed
from services.ingest.normalise import canonical_url, html_to_text, normalise
from services.ingest.parse import parse_feed

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "feeds"
RFA = "rfa-english.xml"
IRRAWADDY = "irrawaddy.xml"
AP = "ap-asia-pacific.atom"
ALL_SAMPLES = [RFA, IRRAWADDY, AP]

RFA_LINK = "https://www.rfa.org/english/news/myanmar/kachin-kia-kan-paik-ti-border-11212024.html"
RFA_DATE = "<pubDate>Thu, 21 Nov 2024 16:40:00 +0000</pubDate>"
RFA_GUID = '<guid isPermaLink="false">rfa-english-myanmar-kan-paik-ti-20241121</guid>'
RFA_CONTENT_START = "<content:encoded><![CDATA["
RFA_CONTENT_END = "]]></content:encoded>"


FETCHED_AT = datetime(2024, 12, 5, 12, 0, tzinfo=UTC)
Edit = Callable[[str], str]

FEED = Feed(name="sample", url="https://feeds.example.org/sample.xml", outlet="Sample Outlet")


def sample(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


def without(text: str, start: str, end: str) -> str:
    """``text`` with the first span from ``start`` through ``end`` (inclusive) removed."""
    i = text.index(start)
    j = text.index(end, i) + len(end)
    return text[:i] + text[j:]


def replaced(text: str, old: str, new: str) -> str:
    assert old in text, f"fixture edit found nothing to replace: {old!r}"
    return text.replace(old, new)


def article_from(xml: str, feed: Feed = FEED, fetched_at: datetime = FETCHED_AT) -> Article:
    parsed = parse_feed(xml.encode("utf-8"))
    assert len(parsed.entries) == 1
    article = normalise(parsed.entries[0], feed, fetched_at, parsed.link, parsed.language)
    assert article is not None
    return article


# --- canonical_url -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/story?utm_source=rss&utm_medium=feed", "https://example.com/story"),
        ("https://example.com/story?utm_campaign=x&id=7", "https://example.com/story?id=7"),
        ("https://example.com/story?UTM_Source=rss&id=7", "https://example.com/story?id=7"),
        ("https://example.com/story?fbclid=IwAR0abc", "https://example.com/story"),
        ("https://example.com/story?gclid=Cj0KCQ&page=2", "https://example.com/story?page=2"),
        (
            "https://example.com/story?b=2&utm_source=x&a=1&fbclid=y&c=3&gclid=z",
            "https://example.com/story?b=2&a=1&c=3",
        ),
        ("https://example.com/story?z=1&a=2&m=3", "https://example.com/story?z=1&a=2&m=3"),
        ("https://example.com/story?tag=a&tag=b", "https://example.com/story?tag=a&tag=b"),
        ("https://example.com/story?id=7#comments", "https://example.com/story?id=7"),
        ("https://example.com/story#top", "https://example.com/story"),
        ("HTTPS://WWW.Example.COM/story", "https://www.example.com/story"),
        ("https://example.com/News/Story-Title.HTML", "https://example.com/News/Story-Title.HTML"),
        ("https://example.com/a/b/c/", "https://example.com/a/b/c/"),
        ("https://example.com:8443/story", "https://example.com:8443/story"),
        ("https://example.com", "https://example.com/"),
        ("  https://example.com/story  \n", "https://example.com/story"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        ("/news/story.html", "https://example.com/section/", "https://example.com/news/story.html"),
        ("story.html", "https://example.com/section/index.html", "https://example.com/section/story.html"),
        ("../other.html", "https://example.com/a/b/index.html", "https://example.com/a/other.html"),
        ("//cdn.example.com/story", "https://example.com/", "https://cdn.example.com/story"),
        ("/story?utm_source=rss#x", "https://Example.com/", "https://example.com/story"),
        ("https://other.org/story", "https://example.com/", "https://other.org/story"),
    ],
)
def test_canonical_url_resolves_relative_links_against_base(url: str, base: str, expected: str) -> None:
    assert canonical_url(url, base) == expected


# --- html_to_text ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("", ""),
        ("   \n\t ", ""),
        ("<p></p><p> </p>", ""),
        ("plain text", "plain text"),
        ("<p>One.</p><p>Two.</p>", "One.\n\nTwo."),
        ("<p>One.</p>\n<p>Two.</p>\n<p>Three.</p>", "One.\n\nTwo.\n\nThree."),
        ("  lots   of\t\n  space  ", "lots of space"),
        ("<p>  spread\n   over\tlines  </p>", "spread over lines"),
        ("<p>Hello <b>bold</b> and <i>italic</i></p>", "Hello bold and italic"),
        ("x<span>y</span>z", "xyz"),
        ("<div><p>First <a href='/x'>link</a></p><div><p>Deep</p></div></div>", "First link\n\nDeep"),
        ("<ul><li>one</li><li>two</li></ul>", "one\n\ntwo"),
        ("<h2>Heading</h2>Body text", "Heading\n\nBody text"),
        ("<blockquote>Quoted</blockquote><p>After</p>", "Quoted\n\nAfter"),
        ("line one<br>line two", "line one\n\nline two"),
        ("a<br/>b<br />c", "a\n\nb\n\nc"),
        ("<p>Tom &amp; Jerry&nbsp;show</p>", "Tom & Jerry show"),
        ("<p>Visible</p><!-- a comment -->", "Visible"),
        ("<p>Kachin’s “quoted” text</p>", "Kachin’s “quoted” text"),
    ],
)
def test_html_to_text(html: str, expected: str) -> None:
    assert html_to_text(html) == expected


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("Intro<p>Para</p>", "Intro\n\nPara"),
        ("<p>One</p>Loose text<p>Two</p>", "One\n\nLoose text\n\nTwo"),
        ("<strong>BANGKOK</strong><p>Story</p>", "BANGKOK\n\nStory"),
        ("Lead sentence.<ul><li>item</li></ul>", "Lead sentence.\n\nitem"),
    ],
)
def test_html_to_text_starts_a_paragraph_before_a_block_element(html: str, expected: str) -> None:
    # Text that comes before a block element is its own paragraph, as a browser renders it.
    assert html_to_text(html) == expected


# --- normalise: identity -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_SAMPLES)
def test_same_entry_parsed_twice_has_same_id_and_version(name: str) -> None:
    first = article_from(sample(name))
    second = article_from(sample(name))
    assert (first.id, first.version) == (second.id, second.version)


@pytest.mark.parametrize(
    ("name", "link", "variant"),
    [
        (RFA, RFA_LINK, RFA_LINK + "?utm_source=rss&amp;utm_medium=feed"),
        (RFA, RFA_LINK, RFA_LINK + "#comments"),
        (RFA, RFA_LINK, RFA_LINK + "?fbclid=IwAR0abc#top"),
        (RFA, RFA_LINK, RFA_LINK.replace("https://www.rfa.org", "https://WWW.RFA.org")),
        (
            AP,
            "https://apnews.com/article/myanmar-kachin-kanpaiti-rare-earths-china-border",
            "https://apnews.com/article/myanmar-kachin-kanpaiti-rare-earths-china-border?utm_campaign=x&amp;gclid=y",
        ),
    ],
)
def test_id_ignores_tracking_params_fragment_and_host_case(name: str, link: str, variant: str) -> None:
    original = article_from(sample(name))
    tracked = article_from(replaced(sample(name), link, variant))
    assert tracked.id == original.id
    assert tracked.url == original.url


def test_id_is_the_same_for_the_same_url_in_two_feeds() -> None:
    other_feed = Feed(name="other", url="https://elsewhere.example/feed.xml", outlet="Other Outlet")
    assert article_from(sample(RFA)).id == article_from(sample(RFA), feed=other_feed).id


def test_different_links_have_different_ids() -> None:
    other = replaced(sample(RFA), RFA_LINK, RFA_LINK.replace("11212024", "11222024"))
    assert article_from(other).id != article_from(sample(RFA)).id


def test_id_falls_back_to_guid_without_a_link() -> None:
    no_link = without(sample(RFA), "<link>" + RFA_LINK, "</link>")
    article = article_from(no_link)
    assert article.url == "rfa-english-myanmar-kan-paik-ti-20241121"
    assert article.id != article_from(sample(RFA)).id
    # The GUID is stable, so an edit does not make a new article, only a new version.
    edited = article_from(replaced(no_link, "Kachin rebels capture", "Kachin rebels seize"))
    assert (edited.id, edited.url) == (article.id, article.url)
    assert edited.version != article.version


def test_id_falls_back_to_content_hash_without_link_or_guid() -> None:
    bare = without(without(sample(RFA), "<link>" + RFA_LINK, "</link>"), RFA_GUID, RFA_GUID)
    article = article_from(bare)
    assert article.url == ""
    assert article.id == article_from(bare).id
    assert article.id != article_from(without(sample(RFA), "<link>" + RFA_LINK, "</link>")).id
    edited = article_from(replaced(bare, "Kachin rebels capture", "Kachin rebels seize"))
    assert edited.id != article.id


def test_entry_with_no_link_guid_title_or_body_is_dropped() -> None:
    xml = '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item></item></channel></rss>'
    parsed = parse_feed(xml.encode())
    assert len(parsed.entries) == 1
    assert normalise(parsed.entries[0], FEED, FETCHED_AT, parsed.link, parsed.language) is None


# --- normalise: versions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "old", "new"),
    [
        (RFA, "Kachin rebels capture last", "Kachin rebels take last"),
        (RFA, "Residents had no information about casualties", "Residents had some information about casualties"),
        (RFA, "RFA Burmese</dc:creator>", "RFA English</dc:creator>"),
        (RFA, "Thu, 21 Nov 2024 16:40:00", "Thu, 21 Nov 2024 17:40:00"),
        (IRRAWADDY, "China hands back 302", "China returns 302"),
        (IRRAWADDY, "The KIA has invited China", "The KIA has asked China"),
        (AP, "Myanmar rebels seize key", "Myanmar rebels take key"),
        (AP, "KIA forces advanced towards", "KIA troops advanced towards"),
    ],
)
def test_version_changes_when_content_changes(name: str, old: str, new: str) -> None:
    original = article_from(sample(name))
    edited = article_from(replaced(sample(name), old, new))
    assert edited.id == original.id
    assert edited.version != original.version


@pytest.mark.parametrize(
    ("name", "edit"),
    [
        (RFA, lambda xml: xml),
        (IRRAWADDY, lambda xml: xml),
        (AP, lambda xml: xml),
        # An entry without a date is published "at fetch time", but fetching it again is no edit.
        (RFA, lambda xml: replaced(xml, RFA_DATE, "")),
        (RFA, lambda xml: replaced(xml, "Thu, 21 Nov 2024", "Thu, 21 Nov 2099")),
    ],
    ids=["rfa", "irrawaddy", "ap", "rfa-undated", "rfa-future-dated"],
)
def test_version_does_not_change_when_only_fetched_at_changes(name: str, edit: Edit) -> None:
    xml = edit(sample(name))
    first = article_from(xml, fetched_at=FETCHED_AT)
    later = article_from(xml, fetched_at=FETCHED_AT + timedelta(hours=1))
    assert later.fetched_at != first.fetched_at
    assert (later.id, later.version) == (first.id, first.version)


# --- normalise: dates --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "edit", "expected"),
    [
        (RFA, lambda xml: xml, datetime(2024, 11, 21, 16, 40, tzinfo=UTC)),
        (IRRAWADDY, lambda xml: xml, datetime(2024, 12, 2, 7, 30, tzinfo=UTC)),
        (AP, lambda xml: xml, datetime(2024, 11, 27, 9, 15, tzinfo=UTC)),
        (
            RFA,
            lambda xml: replaced(xml, "16:40:00 +0000", "23:40:00 +0700"),
            datetime(2024, 11, 21, 16, 40, tzinfo=UTC),
        ),
        (
            RFA,
            lambda xml: replaced(xml, "16:40:00 +0000", "11:40:00 EST"),
            datetime(2024, 11, 21, 16, 40, tzinfo=UTC),
        ),
        (
            AP,
            lambda xml: replaced(xml, "<published>2024-11-27T09:15:00+00:00", "<published>2024-11-27T04:15:00-05:00"),
            datetime(2024, 11, 27, 9, 15, tzinfo=UTC),
        ),
        # Atom without <published> falls back to <updated>.
        (
            AP,
            lambda xml: without(
                replaced(xml, "<updated>2024-11-27T09:15:00", "<updated>2024-11-28T10:00:00"),
                "<published>",
                "</published>",
            ),
            datetime(2024, 11, 28, 10, 0, tzinfo=UTC),
        ),
        # A few hours ahead of the fetch is a scheduled story, not a broken clock.
        (
            RFA,
            lambda xml: replaced(xml, "Thu, 21 Nov 2024 16:40:00", "Thu, 05 Dec 2024 15:00:00"),
            datetime(2024, 12, 5, 15, 0, tzinfo=UTC),
        ),
    ],
)
def test_published_at_is_the_feed_date_in_utc(name: str, edit: Edit, expected: datetime) -> None:
    article = article_from(edit(sample(name)))
    assert article.published_at == expected
    assert article.published_at.utcoffset() == timedelta(0)
    assert article.published_at_is_fetch_time is False


@pytest.mark.parametrize(
    ("name", "edit"),
    [
        (RFA, lambda xml: replaced(xml, RFA_DATE, "")),
        (RFA, lambda xml: replaced(xml, "Thu, 21 Nov 2024", "Thu, 21 Nov 2099")),
        (RFA, lambda xml: replaced(xml, "Thu, 21 Nov 2024 16:40:00", "Thu, 05 Dec 2024 19:00:00")),
        (RFA, lambda xml: replaced(xml, RFA_DATE, "<pubDate>not a date</pubDate>")),
        (IRRAWADDY, lambda xml: replaced(xml, "Mon, 02 Dec 2024", "Mon, 02 Dec 2030")),
        (
            AP,
            lambda xml: without(
                without(xml, "<published>", "</published>"),
                "<updated>2024-11-27T09:15:00+00:00</updated>\n<author>",
                "<author>",
            ),
        ),
    ],
    ids=["missing", "far-future", "7h-ahead", "unparseable", "irrawaddy-future", "atom-undated"],
)
def test_missing_or_far_future_date_falls_back_to_fetch_time(name: str, edit: Edit) -> None:
    article = article_from(edit(sample(name)))
    assert article.published_at == FETCHED_AT
    assert article.published_at_is_fetch_time is True


@pytest.mark.parametrize(
    "edit",
    [
        lambda xml: replaced(xml, "Thu, 21 Nov 2024", "Thu, 21 Nov 2099"),
        lambda xml: replaced(xml, RFA_DATE, "<pubDate>not a date</pubDate>"),
    ],
    ids=["far-future", "unparseable"],
)
def test_date_fallback_does_not_touch_feedparsers_deprecated_alias(edit: Edit) -> None:
    # feedparser maps a missing ``updated_parsed`` to ``published_parsed`` with a DeprecationWarning
    # and says the alias will be removed; normalise must not depend on it.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        article = article_from(edit(sample(RFA)))
    assert [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)] == []
    assert article.published_at_is_fetch_time is True


# --- normalise: authors, body, language --------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "edit", "expected"),
    [
        (RFA, lambda xml: xml, ["RFA Burmese"]),
        (IRRAWADDY, lambda xml: xml, ["The Irrawaddy"]),
        (AP, lambda xml: xml, ["Associated Press"]),
        (
            RFA,
            lambda xml: replaced(
                xml,
                "<dc:creator>RFA Burmese</dc:creator>",
                "<dc:creator>Jane Doe</dc:creator><dc:creator>John Roe</dc:creator><dc:creator>Jane Doe</dc:creator>",
            ),
            ["Jane Doe", "John Roe"],
        ),
        (
            AP,
            lambda xml: replaced(
                xml,
                "<author><name>Associated Press</name></author>",
                "<author><name>Jane Doe</name></author><author><name> John Roe </name></author>",
            ),
            ["Jane Doe", "John Roe"],
        ),
        (RFA, lambda xml: replaced(xml, "<dc:creator>RFA Burmese</dc:creator>", ""), []),
        (AP, lambda xml: replaced(xml, "<author><name>Associated Press</name></author>", ""), []),
    ],
)
def test_authors(name: str, edit: Edit, expected: list[str]) -> None:
    assert article_from(edit(sample(name))).authors == expected


@pytest.mark.parametrize(
    ("name", "first_paragraph", "second_paragraph"),
    [
        (
            RFA,
            "Read RFA coverage of this topic in Burmese.",
            "The most powerful insurgent group in northern Myanmar had captured the last crossing in its region",
        ),
        (IRRAWADDY, "Over 300 junta soldiers who fled Kanpiketi", "People’s Liberation Army officers handed"),
        (AP, "BANGKOK — A significant rebel group", "The Kachin Independence Army (KIA)’s conquest"),
    ],
)
def test_body_text_comes_from_full_content(name: str, first_paragraph: str, second_paragraph: str) -> None:
    article = article_from(sample(name))
    paragraphs = article.body_text.split("\n\n")
    assert paragraphs[0].startswith(first_paragraph)
    assert paragraphs[1].startswith(second_paragraph)
    assert "<p>" in article.body_html
    assert "<" not in article.body_text
    assert len(article.body_text) > len(article.summary)


@pytest.mark.parametrize(
    ("name", "edit"),
    [
        (RFA, lambda xml: without(xml, RFA_CONTENT_START, RFA_CONTENT_END)),
        (IRRAWADDY, lambda xml: without(xml, RFA_CONTENT_START, RFA_CONTENT_END)),
        (AP, lambda xml: without(xml, '<content type="html">', "</content>")),
        # Atom content that is plain text is not HTML body; the summary is used.
        (AP, lambda xml: replaced(xml, '<content type="html">', '<content type="text">')),
    ],
)
def test_body_text_falls_back_to_summary(name: str, edit: Edit) -> None:
    article = article_from(edit(sample(name)))
    assert article.body_text == article.summary
    assert article.summary != ""
    assert "\n\n" not in article.body_text


def test_summary_and_title_are_plain_single_spaced_text() -> None:
    xml = replaced(sample(RFA), "<title>Kachin rebels capture", "<title>  Kachin\n   rebels   capture")
    article = article_from(xml)
    assert article.title == "Kachin rebels capture last junta-held border crossing in their region"
    assert article.summary.startswith("The most powerful insurgent group in northern Myanmar")


@pytest.mark.parametrize(
    ("name", "edit", "feed_language", "expected"),
    [
        (RFA, lambda xml: xml, "my", "my"),
        (RFA, lambda xml: xml, None, "en"),
        (RFA, lambda xml: replaced(xml, "<language>en</language>", "<language>en-GB</language>"), None, "en-GB"),
        (RFA, lambda xml: replaced(xml, "<language>en</language>", ""), None, "en"),  # detected
        (RFA, lambda xml: replaced(xml, "<language>en</language>", ""), "th", "th"),
        (IRRAWADDY, lambda xml: xml, None, "en"),
        (AP, lambda xml: xml, None, "en"),  # neither registry nor feed says: detected from the text
        (AP, lambda xml: xml, "en", "en"),
        (
            AP,
            lambda xml: replaced(
                xml,
                '<feed xmlns="http://www.w3.org/2005/Atom">',
                '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr">',
            ),
            None,
            "fr",
        ),
    ],
)
def test_language_from_registry_else_feed_else_detected(
    name: str, edit: Edit, feed_language: str | None, expected: str | None
) -> None:
    feed = Feed(name="sample", url="https://feeds.example.org/x.xml", outlet="Sample", language=feed_language)
    assert article_from(edit(sample(name)), feed=feed).language == expected


@pytest.mark.parametrize("name", ALL_SAMPLES)
def test_article_carries_feed_outlet_and_fetch_time(name: str) -> None:
    feed = Feed(name="registry-name", url="https://feeds.example.org/x.xml", outlet="Registry Outlet")
    article = article_from(sample(name), feed=feed)
    assert (article.feed, article.outlet, article.fetched_at) == ("registry-name", "Registry Outlet", FETCHED_AT)
    assert article.url.startswith("https://")


def test_relative_entry_link_is_resolved_against_the_feed_link() -> None:
    xml = replaced(
        sample(RFA), "<link>https://www.rfa.org/english/news/myanmar/kachin", "<link>/english/news/myanmar/kachin"
    )
    assert article_from(xml).url == RFA_LINK
