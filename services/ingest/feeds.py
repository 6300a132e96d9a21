"""The feed registry: which feeds to poll, as declared in a YAML file."""

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.common.errors import NewswireError


class FeedRegistryError(NewswireError):
    """The registry file is missing or malformed; the message says where."""


class Feed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    url: str
    outlet: str
    language: str | None = None
    # The shortest wait between two polls; the publisher's stated freshness can only lengthen it.
    poll_interval_s: int = Field(900, ge=60)
    # The longest wait between two polls of a healthy feed (default: NEWSWIRE_INGEST_MAX_INTERVAL_S).
    max_interval_s: int | None = Field(None, ge=60)
    # Fetch article pages for summary-only entries (default: NEWSWIRE_INGEST_FETCH_PAGES).
    fetch_pages: bool | None = None


def load_registry(path: Path) -> list[Feed]:
    """Read the registry; relative local feed paths are taken relative to the registry file."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FeedRegistryError(f"{path}: no such feed registry (set NEWSWIRE_FEEDS or --feeds)") from None
    except yaml.YAMLError as exc:
        raise FeedRegistryError(f"{path}: not valid YAML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise FeedRegistryError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise FeedRegistryError(f"{path}: cannot read the feed registry: {exc.strerror or exc}") from None
    entries = document.get("feeds") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise FeedRegistryError(f"{path}: expected a top-level 'feeds:' list")
    feeds: list[Feed] = []
    for index, entry in enumerate(entries):
        try:
            feed = Feed.model_validate(entry)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise FeedRegistryError(f"{path}: feed #{index + 1}: {problems}") from None
        if "://" not in feed.url:
            feed = feed.model_copy(update={"url": str((path.parent / feed.url).resolve())})
        feeds.append(feed)
    names = [f.name for f in feeds]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise FeedRegistryError(f"{path}: feed names must be unique, repeated: {', '.join(duplicates)}")
    return feeds
