"""Parse feed bytes into entries: a pure function of bytes, with lxml for well-formed feeds
(``fastparse``) and feedparser for everything else.

Before feedparser sees a document we refuse two kinds of input outright: XML that declares entities
(the billion-laughs expansion and external-entity attacks need a DTD with ``<!ENTITY``; no real feed
declares one) and documents that are plainly not feeds (HTML pages, JSON), which feedparser would
otherwise turn into an empty, "malformed" feed and hide a wrong URL.
"""

import io
import re
from dataclasses import dataclass
from typing import Any

import feedparser

from services.ingest.errors import FetchError
from services.ingest.fastparse import NotFast, parse_fast

# Entity declarations may hide behind a DOCTYPE's internal subset anywhere before the root element.
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>]|head[\s>]|body[\s>])", re.I | re.S)
_PROLOG_SCAN = 64 * 1024


@dataclass(frozen=True)
class ParsedFeed:
    entries: list[dict[str, Any]]
    language: str | None
    link: str | None
    # feedparser's "bozo": the document was not well formed; what could be salvaged is in entries.
    malformed: bool
    problem: str | None
    # RSS <ttl>, in minutes as the feed wrote it; None when absent.
    ttl: str | None = None
    title: str | None = None
    # feedparser's name of the format (rss20, atom10, ...); empty when it found no feed at all.
    version: str = ""


def _bom_free(body: bytes) -> bytes:
    for bom in (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"):
        if body.startswith(bom):
            return body[len(bom) :]
    return body


def check_document(body: bytes, content_type: str | None, where: str = "document") -> None:
    """Refuse entity declarations and documents that are not feeds; raise :class:`FetchError`."""
    head = _bom_free(body[:_PROLOG_SCAN])
    # UTF-16 documents: look at them as ASCII by dropping the zero bytes.
    if head[:2] in (b"<\x00", b"\x00<"):
        head = head.replace(b"\x00", b"")
    stripped = head.lstrip()
    if _ENTITY_DECL.search(head.split(b"<rss", 1)[0].split(b"<feed", 1)[0].split(b"<rdf:RDF", 1)[0]):
        raise FetchError("xml_entities", f"{where}: declares XML entities; refused (entity expansion or XXE)")
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if stripped[:1] in (b"{", b"[") or media in ("application/json", "application/feed+json"):
        raise FetchError("not_a_feed", f"{where}: JSON, not an RSS, Atom or RDF feed ({media or 'no type'})")
    if _HTML_START.match(head) or (media == "text/html" and not stripped.startswith(b"<?xml")):
        raise FetchError("not_a_feed", f"{where}: an HTML page, not a feed (is the URL the feed's address?)")


def parse_slow(body: bytes, content_type: str | None = None) -> Any:
    """feedparser with its defaults: for anything the fast path declines."""
    headers = {"content-type": content_type} if content_type else None
    # A file object, never raw bytes or a string: feedparser would open a string that names a
    # local file or a URL, so a server answering with a path could make ingest read local files.
    return feedparser.parse(io.BytesIO(body), response_headers=headers)


def parse_feed(body: bytes, content_type: str | None = None, where: str = "document") -> ParsedFeed:
    check_document(body, content_type, where)
    try:
        document = parse_fast(body, content_type)
    except NotFast:
        document = parse_slow(body, content_type)
    problem = str(document.get("bozo_exception")) if document.get("bozo") else None
    feed = document.get("feed", {})
    entries = list(document.get("entries", []))
    version = document.get("version") or ""
    if not entries and not version:
        raise FetchError("not_a_feed", f"{where}: no RSS, Atom or RDF feed found ({problem or 'empty'})")
    ttl = feed.get("ttl")
    return ParsedFeed(
        entries=entries,
        language=feed.get("language"),
        link=feed.get("link"),
        malformed=bool(document.get("bozo")),
        problem=problem,
        ttl=str(ttl) if ttl is not None else None,
        title=feed.get("title"),
        version=version,
    )
