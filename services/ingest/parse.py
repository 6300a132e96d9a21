"""Parse feed bytes into entries: a pure function of bytes, built on feedparser."""

import io
from dataclasses import dataclass
from typing import Any

import feedparser


@dataclass(frozen=True)
class ParsedFeed:
    entries: list[dict[str, Any]]
    language: str | None
    link: str | None
    # feedparser's "bozo": the document was not well formed; what could be salvaged is in entries.
    malformed: bool
    problem: str | None


def parse_feed(body: bytes, content_type: str | None = None) -> ParsedFeed:
    headers = {"content-type": content_type} if content_type else None
    # A file object, never raw bytes or a string: feedparser would open a string that names a
    # local file or a URL, so a server answering with a path could make ingest read local files.
    document = feedparser.parse(io.BytesIO(body), response_headers=headers)
    problem = str(document.get("bozo_exception")) if document.get("bozo") else None
    feed = document.get("feed", {})
    return ParsedFeed(
        entries=list(document.get("entries", [])),
        language=feed.get("language"),
        link=feed.get("link"),
        malformed=bool(document.get("bozo")),
        problem=problem,
    )
