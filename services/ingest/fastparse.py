"""A fast path for well-formed RSS 2.0, RSS 1.0 (RDF) and Atom 1.0, built on lxml.

feedparser is thorough and forgiving, and slow: about a millisecond per item with its defaults,
most of it in its pure-Python SAX handlers and HTML sanitiser. Most feeds are well formed, so we
read those with lxml (C) into the same entry shape that feedparser produces (``title``, ``link``,
``id``, ``summary``, ``content``, ``published_parsed``, ``updated_parsed``, ``authors``), which
``normalise`` turns into the same articles, ids and versions (a test holds the two paths to that).
Anything unusual goes to feedparser: a document lxml cannot parse (so feedparser's salvage of
broken XML still applies), a format we do not handle here, a declared charset that disagrees with
the document's. Sanitising is not lost: ``normalise`` turns HTML into text with lxml, dropping
scripts and styles, and downstream reads the text.

The parser never resolves entities, loads a DTD or touches the network.
"""

import re
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import feedparser
from lxml import etree

_ATOM = "{http://www.w3.org/2005/Atom}"
_RSS1 = "{http://purl.org/rss/1.0/}"
_RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_XHTML = "{http://www.w3.org/1999/xhtml}"
_CHARSET = re.compile(r"charset\s*=\s*\"?([\w.:-]+)", re.IGNORECASE)
_DECLARED = re.compile(rb"^\s*<\?xml[^>]*encoding\s*=\s*[\"']([\w.:-]+)", re.IGNORECASE)
_UTF8 = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})


class NotFast(Exception):  # noqa: N818 - a signal to use feedparser, not an error
    """This document is for feedparser."""


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
    )


def _text(element: Any) -> str:
    if element is None:
        return ""
    return "".join(element.itertext()).strip()


def _struct(value: str) -> time.struct_time | None:
    value = value.strip()
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value) if value[:1].isalpha() or "," in value else datetime.fromisoformat(value)
    except (TypeError, ValueError, IndexError):
        when = None
    if when is None:
        # feedparser knows many odd date formats; the same answer whichever path read the feed.
        parsed: time.struct_time | None = feedparser.datetimes._parse_date(value)
        return parsed
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).timetuple()


def _charset_conflicts(body: bytes, content_type: str | None) -> bool:
    found = _CHARSET.search(content_type or "")
    if not found:
        return False
    header = found.group(1).lower()
    declared = _DECLARED.match(body[:200])
    declared_name = declared.group(1).decode("ascii", "replace").lower() if declared else "utf-8"
    return header != declared_name and not (header in _UTF8 and declared_name in _UTF8)


def parse_fast(body: bytes, content_type: str | None = None) -> dict[str, Any]:
    """A feedparser-shaped result (``feed``, ``entries``, ``version``, ``bozo``) or :class:`NotFast`."""
    if _charset_conflicts(body, content_type):
        raise NotFast("the HTTP charset and the XML declaration disagree")
    try:
        root = etree.fromstring(body, _parser())
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise NotFast(str(exc)) from None
    tag = root.tag if isinstance(root.tag, str) else ""
    if tag == "rss":
        channel = root.find("channel")
        if channel is None or root.get("version", "2.0") not in ("2.0", "0.91", "0.92"):
            raise NotFast("not RSS 2.0")
        return _rss(channel, channel.findall("item"), "rss20", _DC)
    if tag == f"{_ATOM}feed":
        return _atom(root)
    if tag == f"{_RDF}RDF":
        channel = root.find(f"{_RSS1}channel")
        if channel is None:
            raise NotFast("RDF without an RSS 1.0 channel")
        return _rss(channel, root.findall(f"{_RSS1}item"), "rss10", _DC, ns=_RSS1)
    raise NotFast(f"root element {tag!r}")


def _rss(channel: Any, items: list[Any], version: str, dc: str, ns: str = "") -> dict[str, Any]:
    feed = {
        "title": _text(channel.find(f"{ns}title")),
        "link": _text(channel.find(f"{ns}link")),
        "language": _text(channel.find(f"{ns}language")) or _text(channel.find(f"{dc}language")) or None,
    }
    ttl = channel.find("ttl")
    if ttl is not None:
        feed["ttl"] = _text(ttl)
    entries = []
    for item in items:
        entry: dict[str, Any] = {}
        title = item.find(f"{ns}title")
        if title is not None:
            entry["title"] = _text(title)
        link = _text(item.find(f"{ns}link"))
        guid_element = item.find("guid")
        guid = _text(guid_element)
        if guid:
            entry["id"] = guid
            permalink = (guid_element.get("isPermaLink") or "true").lower() != "false"
            if not link and permalink:
                link = guid  # feedparser's "guidislink", whatever the GUID looks like
        if not guid and ns == _RSS1 and item.get(f"{_RDF}about"):
            entry["id"] = item.get(f"{_RDF}about")
        if link:
            entry["link"] = link
        description = item.find(f"{ns}description")
        if description is not None:
            entry["summary"] = description.text or ""
        encoded = item.find(f"{_CONTENT}encoded")
        if encoded is not None:
            entry["content"] = [{"type": "text/html", "value": encoded.text or ""}]
            entry.setdefault("summary", encoded.text or "")  # feedparser's fallback, kept
        date = _text(item.find("pubDate")) or _text(item.find(f"{dc}date"))
        if date:
            entry["published_parsed"] = _struct(date)
        authors = [_text(e) for e in item.findall(f"{dc}creator")] or [_text(e) for e in item.findall("author")]
        authors = [a for a in authors if a]
        if authors:
            entry["authors"] = [_rss_author(a) for a in authors]
            entry["author"] = authors[0]
        entries.append(entry)
    return {"feed": feed, "entries": entries, "version": version, "bozo": False}


_EMAIL_NAME = re.compile(r"^\s*(\S+@\S+)\s*\((.*)\)\s*$")
_NAME_EMAIL = re.compile(r"^\s*(.*?)\s*<(\S+@\S+)>\s*$")


def _rss_author(value: str) -> dict[str, str]:
    """RSS authors are "email (Name)", "Name <email>", a bare address or a name, as feedparser reads them."""
    if found := _EMAIL_NAME.match(value):
        return {"name": found.group(2).strip(), "email": found.group(1)}
    if found := _NAME_EMAIL.match(value):
        return {"name": found.group(1), "email": found.group(2)}
    if "@" in value and " " not in value.strip():
        return {"email": value.strip()}
    return {"name": value}


def _atom_text(element: Any) -> tuple[str, str]:
    """(value, type) of an Atom text construct, with ``type`` as feedparser names it."""
    if element is None:
        return "", "text/plain"
    kind = (element.get("type") or "text").lower()
    if kind == "xhtml":
        div = element.find(f"{_XHTML}div")
        inner = div if div is not None else element
        parts = [inner.text or ""] + [etree.tostring(child, encoding="unicode", with_tail=True) for child in inner]
        html = "".join(parts).replace(' xmlns="http://www.w3.org/1999/xhtml"', "")
        return html.strip(), "application/xhtml+xml"
    if kind == "html":
        return (element.text or "").strip(), "text/html"
    return _text(element), "text/plain"


def _atom(root: Any) -> dict[str, Any]:
    feed_link = ""
    for link in root.findall(f"{_ATOM}link"):
        if link.get("rel", "alternate") == "alternate":
            feed_link = link.get("href", "")
            break
    feed = {
        "title": _text(root.find(f"{_ATOM}title")),
        "link": feed_link,
        "language": root.get(_XML_LANG),
    }
    entries = []
    for item in root.findall(f"{_ATOM}entry"):
        entry: dict[str, Any] = {}
        title = item.find(f"{_ATOM}title")
        if title is not None:
            value, kind = _atom_text(title)
            entry["title"] = value
        for link in item.findall(f"{_ATOM}link"):
            if link.get("rel", "alternate") == "alternate" and link.get("href"):
                entry["link"] = link.get("href")
                break
        entry_id = _text(item.find(f"{_ATOM}id"))
        if entry_id:
            entry["id"] = entry_id
            entry.setdefault("link", entry_id)  # feedparser's "guidislink"
        summary = item.find(f"{_ATOM}summary")
        if summary is not None:
            entry["summary"] = _atom_text(summary)[0]
        content = item.find(f"{_ATOM}content")
        if content is not None and not content.get("src"):
            value, kind = _atom_text(content)
            entry["content"] = [{"type": kind, "value": value}]
            entry.setdefault("summary", value)  # feedparser's fallback, kept
        for key, name in (("published_parsed", "published"), ("updated_parsed", "updated")):
            date = _text(item.find(f"{_ATOM}{name}"))
            if date:
                entry[key] = _struct(date)
        authors = [_text(a.find(f"{_ATOM}name")) for a in item.findall(f"{_ATOM}author")]
        authors = [a for a in authors if a]
        if authors:
            entry["authors"] = [{"name": a} for a in authors]
            entry["author"] = authors[0]
        entries.append(entry)
    return {"feed": feed, "entries": entries, "version": "atom10", "bozo": False}
