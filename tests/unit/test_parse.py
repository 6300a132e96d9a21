"""Parsing feed bytes: well-formed feeds, salvage from broken ones, non-feeds, and character sets."""

from pathlib import Path

import pytest

from services.ingest.errors import FetchError
from services.ingest.parse import parse_feed

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "feeds"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


@pytest.mark.parametrize(
    ("name", "title", "link", "language", "feed_link"),
    [
        (
            "rfa-english.xml",
            "Kachin rebels capture last junta-held border crossing in their region",
            "https://www.rfa.org/english/news/myanmar/kachin-kia-kan-paik-ti-border-11212024.html",
            "en",
            "https://www.rfa.org/english/news/myanmar",
        ),
        (
            "irrawaddy.xml",
            "China hands back 302 junta soldiers who fled KIA capture of Kanpiketi",
            "https://www.irrawaddy.com/news/burma/china-hands-back-302-junta-soldiers-who-fled-kanpiketi.html",
            "en",
            "https://www.irrawaddy.com",
        ),
        (
            "ap-asia-pacific.atom",
            "Myanmar rebels seize key trading town on the Chinese border",
            "https://apnews.com/article/myanmar-kachin-kanpaiti-rare-earths-china-border",
            None,
            "https://apnews.com/hub/asia-pacific",
        ),
    ],
)
def test_well_formed_samples(name: str, title: str, link: str, language: str | None, feed_link: str) -> None:
    parsed = parse_feed(sample(name))
    assert parsed.malformed is False
    assert parsed.problem is None
    assert [(e["title"], e["link"]) for e in parsed.entries] == [(title, link)]
    assert parsed.language == language
    assert parsed.link == feed_link


@pytest.mark.parametrize(
    ("name", "cut_after"),
    [
        ("rfa-english.xml", b"</item>"),
        ("rfa-english.xml", b"</dc:creator>"),
        ("irrawaddy.xml", b"</item>"),
        ("ap-asia-pacific.atom", b"</entry>"),
        ("ap-asia-pacific.atom", b"</author>"),
    ],
)
def test_truncated_feed_is_malformed_but_entries_are_salvaged(name: str, cut_after: bytes) -> None:
    body = sample(name)
    truncated = body[: body.index(cut_after) + len(cut_after)]
    parsed = parse_feed(truncated)
    assert parsed.malformed is True
    assert parsed.problem
    assert [e["title"] for e in parsed.entries] == [e["title"] for e in parse_feed(body).entries]


@pytest.mark.parametrize(
    ("body", "titles"),
    [
        # A bare ampersand is not XML; the loose parser still reads the item.
        (
            b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
            b"<item><title>Guns & Roses</title><link>https://e.com/a</link></item></channel></rss>",
            ["Guns & Roses"],
        ),
        # An unclosed element in the middle.
        (
            b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
            b"<item><title>First</title><link>https://e.com/1</link><b></item>"
            b"<item><title>Second</title><link>https://e.com/2</link></item></channel></rss>",
            ["First", "Second"],
        ),
    ],
)
def test_malformed_xml_is_flagged_and_salvaged(body: bytes, titles: list[str]) -> None:
    parsed = parse_feed(body)
    assert parsed.malformed is True
    assert parsed.problem
    assert [e["title"] for e in parsed.entries] == titles


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (
            b"<!DOCTYPE html><html><head><title>Not a feed</title></head>"
            b"<body><h1>Welcome</h1><p>Hello</p><a href='/news/1'>News</a></body></html>",
            "text/html; charset=utf-8",
        ),
        (b"<!DOCTYPE html><html><head><title>Not a feed</title></head><body><p>Hi</p></body></html>", None),
        (b'{"items": [{"title": "x", "url": "https://e.com/x"}]}', "application/json"),
        (b'{"items": [{"title": "x", "url": "https://e.com/x"}]}', None),
        (b"", None),
        (b"Service Unavailable", "text/plain"),
    ],
)
def test_non_feed_is_refused_as_not_a_feed(body: bytes, content_type: str | None) -> None:
    # An HTML page or JSON at a feed's address is a wrong URL, not an empty feed: it must say so.
    with pytest.raises(FetchError) as caught:
        parse_feed(body, content_type, where="feed x")
    assert caught.value.reason == "not_a_feed"
    assert str(caught.value).startswith("feed x: ")


@pytest.mark.parametrize(
    ("body", "content_type", "title"),
    [
        (
            '<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel><title>Café</title>'
            "<item><title>Naïve café: ½ price</title><link>https://e.com/a</link></item></channel></rss>".encode(
                "latin-1"
            ),
            None,
            "Naïve café: ½ price",
        ),
        (
            '<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel><title>Café</title>'
            "<item><title>Naïve café</title><link>https://e.com/a</link></item></channel></rss>".encode("latin-1"),
            "application/rss+xml; charset=ISO-8859-1",
            "Naïve café",
        ),
        (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Café</title>'
            "<item><title>Naïve café</title><link>https://e.com/a</link></item></channel></rss>".encode("latin-1"),
            "application/rss+xml; charset=iso-8859-1",
            "Naïve café",
        ),
        (
            '<?xml version="1.0" encoding="windows-1252"?><rss version="2.0"><channel><title>T</title>'
            "<item><title>“Quoted” — dash</title><link>https://e.com/a</link></item></channel></rss>".encode("cp1252"),
            None,
            "“Quoted” — dash",
        ),
        (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>မြန်မာ</title>'
            "<item><title>ကချင် Kachin</title><link>https://e.com/a</link></item></channel></rss>".encode(),
            "application/rss+xml; charset=utf-8",
            "ကချင် Kachin",
        ),
    ],
)
def test_charset_is_decoded(body: bytes, content_type: str | None, title: str) -> None:
    parsed = parse_feed(body, content_type)
    assert [e["title"] for e in parsed.entries] == [title]
    assert parsed.malformed is False


def test_body_that_names_a_local_file_is_parsed_as_bytes_not_opened(tmp_path: Path) -> None:
    # parse_feed is a pure function of the bytes it is given: a server that answers with a path must
    # not make ingest read that file from this machine's disk.
    local = tmp_path / "feed.xml"
    local.write_bytes(sample("rfa-english.xml"))
    with pytest.raises(FetchError, match="no RSS, Atom or RDF feed"):
        parse_feed(str(local).encode())
