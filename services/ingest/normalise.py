"""Turn a parsed feed entry into an :class:`Article`: pure functions, no I/O.

An article's id is stable (canonical URL, else GUID, else a hash of its content), so the same story
polled twice or carried by two feeds is one article; its version is a hash of the normalised
content, so an edited story is a new version of the same article.
"""

import calendar
import hashlib
import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import lxml.html

from services.common.schema import Article
from services.ingest.feeds import Feed
from services.ingest.language import detect, from_zawgyi

# Query parameters that only track the reader; dropping them makes one story one URL.
_TRACKING_PARAMS = frozenset({"fbclid", "gclid", "dclid", "mc_cid", "mc_eid", "igshid", "ref", "cmpid"})
_BLOCK_TAGS = frozenset(
    {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr", "figure"}
)
# A publication date further ahead than this is a broken feed clock, not a scheduled story.
_MAX_FUTURE = timedelta(hours=6)


def canonical_url(url: str, base: str | None = None) -> str:
    """Absolute URL without fragment and tracking parameters, host lower-cased."""
    absolute = urljoin(base, url.strip()) if base else url.strip()
    parts = urlsplit(absolute)
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in _TRACKING_PARAMS
    ]
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", urlencode(query), ""))


# A heading that starts a list of links to other stories: it and what follows are page furniture,
# not the article, and must not reach the tagger. Cut only when every paragraph after it is as short
# as a headline, so a story that merely has such a line in the middle keeps its text.
_BOILERPLATE = re.compile(
    r"^(?:related(?: stories| articles| news| posts| coverage)|more stories|you (?:may|might) also like)\s*:?$",
    re.IGNORECASE,
)
_HEADLINE_CHARS = 160


def drop_boilerplate(paragraphs: list[str]) -> list[str]:
    for index, paragraph in enumerate(paragraphs):
        short_tail = all(len(p) <= _HEADLINE_CHARS for p in paragraphs[index + 1 :])
        if index and _BOILERPLATE.match(paragraph) and short_tail:
            return paragraphs[:index]
    return paragraphs


def html_to_text(html: str) -> str:
    """Readable plain text: block elements become paragraphs, whitespace is folded, and a trailing
    "RELATED STORIES" (or similar) list is dropped."""
    if not html.strip():
        return ""
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    for hidden in root.xpath("//script|//style"):
        hidden.drop_tree()
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.lower() in _BLOCK_TAGS:
            # A break before and after: text on either side of a block is its own paragraph.
            element.text = "\n\n" + (element.text or "")
            element.tail = "\n\n" + (element.tail or "")
    paragraphs = [" ".join(p.split()) for p in root.text_content().split("\n\n")]
    return "\n\n".join(drop_boilerplate([p for p in paragraphs if p]))


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


def _published(entry: dict[str, Any], fetched_at: datetime) -> tuple[datetime, bool]:
    for key in ("published_parsed", "updated_parsed"):
        # dict.get, not entry.get: feedparser maps a missing "updated" to "published" with a
        # deprecation warning, and we want each date for what it is.
        parsed = dict.get(entry, key)
        if isinstance(parsed, time.struct_time):
            when = datetime.fromtimestamp(calendar.timegm(parsed), UTC)
            if when <= fetched_at + _MAX_FUTURE:
                return when, False
    return fetched_at, True


def _body_html(entry: dict[str, Any]) -> str:
    contents = entry.get("content") or []
    html = [c.get("value", "") for c in contents if "html" in (c.get("type") or "text/html")]
    return "\n".join(h for h in html if h) or entry.get("summary", "")


def _authors(entry: dict[str, Any]) -> list[str]:
    names = [a.get("name", "").strip() for a in entry.get("authors") or [] if isinstance(a, dict)]
    names = [n for n in names if n] or ([entry["author"].strip()] if entry.get("author") else [])
    return list(dict.fromkeys(names))


@dataclass(frozen=True)
class Normalised:
    article: Article | None  # None when the entry has neither link, GUID nor content
    zawgyi: bool  # some of the entry's text was Zawgyi-encoded Burmese, now Unicode


def normalise(
    entry: dict[str, Any],
    feed: Feed,
    fetched_at: datetime,
    feed_link: str | None = None,
    feed_language: str | None = None,
) -> Article | None:
    """The article for one entry, or None when the entry has neither link, GUID nor content."""
    return normalise_entry(entry, feed, fetched_at, feed_link, feed_language).article


def normalise_entry(
    entry: dict[str, Any],
    feed: Feed,
    fetched_at: datetime,
    feed_link: str | None = None,
    feed_language: str | None = None,
) -> Normalised:
    """:func:`normalise`, and what it had to convert on the way (for ingest's metrics)."""
    # Zawgyi-encoded Burmese becomes Unicode before anything is hashed or read.
    texts = [
        from_zawgyi(text)
        for text in (
            " ".join((entry.get("title") or "").split()),
            _body_html(entry),
            entry.get("summary", ""),
            *_authors(entry),
        )
    ]
    zawgyi = any(converted for _, converted in texts)
    title, body_html, summary_html, *authors = (text for text, _ in texts)
    body_text = html_to_text(body_html)
    summary = html_to_text(summary_html)
    link = entry.get("link")
    url = canonical_url(link, feed_link) if link else ""
    guid = (entry.get("id") or "").strip()
    if url:
        article_id = _digest("url", url)
    elif guid:
        article_id = _digest("guid", feed.outlet, guid)
    elif title or body_text:
        article_id = _digest("content", feed.outlet, title, body_text)
    else:
        return Normalised(None, zawgyi)
    published_at, fallback = _published(entry, fetched_at)
    # A fetch-time fallback date is no part of the content: it would make every poll a new version.
    dated = "" if fallback else published_at.isoformat()
    version = _digest(json.dumps([title, url, authors, dated, summary, body_text], ensure_ascii=False))
    article = Article(
        id=article_id,
        version=version,
        feed=feed.name,
        outlet=feed.outlet,
        url=url or guid,
        title=title,
        authors=authors,
        published_at=published_at,
        published_at_is_fetch_time=fallback,
        fetched_at=fetched_at,
        summary=summary,
        body_html=body_html,
        body_text=body_text,
        language=feed.language or feed_language or entry.get("language") or detect(f"{title}\n{summary}\n{body_text}"),
        feeds=[feed.name],
    )
    return Normalised(article, zawgyi)
