"""``newswire feeds list|check|enable``: the operator's view of the shared feed schedule."""

import argparse
import json
import time
from typing import Any

import redis

from services.common.celery_config import make_app
from services.common.errors import NewswireError
from services.common.settings import load
from services.ingest.claims import FeedState
from services.ingest.errors import FetchError
from services.ingest.feeds import Feed, load_registry
from services.ingest.hosts import HostBusy
from services.ingest.service import build
from services.ingest.settings import IngestSettings


class FeedCommandError(NewswireError):
    """A ``newswire feeds`` command was given something it cannot act on."""


def _ago(timestamp: float, now: float) -> str:
    if not timestamp:
        return "never"
    return _span(now - timestamp) + " ago"


def _span(seconds: float) -> str:
    seconds = abs(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:.0f}s"


def describe(state: FeedState, due: float | None) -> str:
    if state.broken:
        return "broken"
    if state.failures:
        return f"failing ({state.failures})"
    if not state.last_poll:
        return "new"
    return "ok" if due is not None else "unscheduled"


def run_feeds_command(args: argparse.Namespace) -> int:
    settings = load(IngestSettings)
    feeds = load_registry(settings.feeds)
    client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=5)
    celery = make_app("ingest", settings.redis_url, settings.keys, settings.visibility_timeout_s)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise FeedCommandError(f"Redis at {settings.redis_url} does not answer ({exc})") from None
    finally:
        client.close()
    with build(settings, feeds, celery) as ingest:
        if args.feeds_command == "list":
            return _list(ingest.schedule.states(f.name for f in feeds), feeds, ingest.schedule.due_times(), args.json)
        if args.feeds_command == "enable":
            if args.name not in {f.name for f in feeds}:
                raise FeedCommandError(f"no feed named {args.name!r} in {settings.feeds}")
            ingest.schedule.enable(args.name)
            print(f"{args.name}: failures cleared; it is due now and every ingest replica will poll it")
            return 0
        by_name = {f.name: f for f in feeds}
        feed = by_name.get(args.target) or Feed(name="check", url=args.target, outlet="check")
        try:
            checked = ingest.check(feed)
        except FetchError as exc:
            print(f"{feed.url}: {exc.reason}: {exc}")
            return 1
        except HostBusy as busy:
            wait = f"try again in {busy.wait_s:.0f} s"
            print(f"{feed.url}: not fetched: {busy.host} is busy or asked us to slow down; {wait}")
            return 1
    fetched, parsed = checked.fetched, checked.parsed
    print(f"{fetched.url}: HTTP {fetched.status}, {len(fetched.body)} bytes, {parsed.version or 'unknown format'}")
    if fetched.moved_to:
        print(f"  moved permanently to {fetched.moved_to}")
    if parsed.malformed:
        print(f"  malformed, salvaged {len(parsed.entries)} entries: {parsed.problem}")
    print(
        f"  {len(parsed.entries)} entries → {len(checked.articles)} articles "
        f"({checked.invalid} without link, GUID or content; {checked.duplicates} repeated)"
    )
    for article, previous in zip(checked.articles, checked.previous, strict=True):
        status = "new" if previous is None else "unchanged" if previous == article.version else "changed"
        date = article.published_at.isoformat() + (
            " (fetch time: no usable date)" if article.published_at_is_fetch_time else ""
        )
        print(
            f"  [{status}] {article.title or '(no title)'}\n      {article.url}\n      {date}  lang={article.language}"
        )
    print("Nothing was queued.")
    return 0


def _list(states: dict[str, FeedState], feeds: list[Feed], due: dict[str, float], as_json: bool) -> int:
    now = time.time()
    rows: list[dict[str, Any]] = []
    for feed in feeds:
        state = states[feed.name]
        rows.append(
            {
                "name": feed.name,
                "outlet": feed.outlet,
                "state": describe(state, due.get(feed.name)),
                "url": state.url or feed.url,
                "failures": state.failures,
                "last_outcome": state.last_outcome,
                "last_success": state.last_success or None,
                "next_poll": due.get(feed.name),
                "broken": state.broken or None,
                "last_error": state.last_error or None,
            }
        )
    if as_json:
        for row in rows:
            print(json.dumps(row))
        return 0
    print(f"{'NAME':<28} {'STATE':<12} {'LAST':<14} {'SUCCEEDED':<10} {'NEXT':<8} URL")
    for row in rows:
        next_poll = row["next_poll"]
        when = "—" if next_poll is None else ("now" if next_poll <= now else "in " + _span(next_poll - now))
        print(
            f"{row['name']:<28} {row['state']:<12} {row['last_outcome'] or '—':<14} "
            f"{_ago(row['last_success'] or 0, now):<10} {when:<8} {row['url']}"
        )
        if row["broken"]:
            print(f"    broken: {row['broken']}")
    return 0
