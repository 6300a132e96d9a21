"""Parse feed bytes into entries: a pure function of bytes, built on feedparser."""

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
    document = feedparser.parse(body, response_headers=headers)
    problem = str(document.get("bozo_exception")) if document.get("bozo") else None
    feed = document.get("feed", {})
    return ParsedFeed(
        entries=list(document.get("entries", [])),
        language=feed.get("language"),
        link=feed.get("link"),
        malformed=bool(document.get("bozo")),
        problem=problem,
    )
