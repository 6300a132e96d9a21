"""``newswire run``: ingest, an extract worker and store on one machine, in the foreground.

Extract and store run as child processes (``newswire extract`` and ``newswire store``), exactly as
they run in deployment; ingest runs in this process. With ``--once`` it polls every feed once, waits
until every queued article is stored (or dead-lettered), prints a summary and stops the children.
"""

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import redis

from services.common import logs, metrics
from services.common.celery_config import make_app
from services.common.errors import NewswireError
from services.common.settings import load, redact_url
from services.extract.settings import ExtractSettings
from services.ingest.claims import SharedSchedule
from services.ingest.feeds import load_registry
from services.ingest.service import PollSummary, build
from services.ingest.settings import IngestSettings
from services.store import database
from services.store.repository import article_count, mention_count, stored_versions
from services.store.settings import StoreSettings

log = logging.getLogger("newswire.run")
STOP_GRACE_S = 30.0


class LaunchError(NewswireError):
    """Something ``newswire run`` needs is missing; the message says how to fix it."""


@dataclass
class RunSummary:
    feeds: int
    feeds_failed: int
    entries: int
    articles_new: int
    articles_changed: int
    articles_unchanged: int
    articles_queued: int
    articles_stored: int
    articles_failed: int
    mentions: int
    db_articles: int
    db_mentions: int
    seconds: float


def _check_redis(url: str) -> redis.Redis:
    client = redis.Redis.from_url(url, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise LaunchError(
            f"Redis at {redact_url(url)} does not answer ({exc}). Start one with `redis-server --daemonize yes` "
            "(Debian/Ubuntu: `apt-get install redis-server`; macOS: `brew install redis`), "
            "or point --redis / NEWSWIRE_REDIS_URL at a running server."
        ) from None
    return client


def describe_ner(settings: ExtractSettings) -> str:
    """Say up front which NER model the worker will get, without loading it here."""
    if settings.ner_backend == "spacy":
        return "NER: spaCy en_core_web_sm (NEWSWIRE_NER_BACKEND=spacy)"
    if settings.ner_backend == "onnx":
        return "NER: Newswire's own ONNX model (NEWSWIRE_NER_BACKEND=onnx)"
    model = settings.ner_model
    if Path(model).is_dir():
        return f"NER: transformers model from {model}"
    from huggingface_hub import try_to_load_from_cache

    if isinstance(try_to_load_from_cache(model, "config.json"), str):
        return f"NER: transformers model {model} (from the local Hugging Face cache)"
    if not settings.ner_fallback:
        raise LaunchError(
            f"NER model {model} is not on this machine and NEWSWIRE_NER_FALLBACK=false forbids the "
            "offline fallback (Newswire's own model): download the model, or set NEWSWIRE_NER_MODEL to a local "
            "folder, or NEWSWIRE_NER_BACKEND=onnx to run Newswire's own model on purpose."
        )
    # Not cached: make the workers look offline at once instead of retrying an unreachable hub.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return (
        f"NER: model {model} is not on this machine, so extract uses Newswire's own offline model "
        "(newswire-ner, shipped in the repository). For the transformers model, set NEWSWIRE_NER_MODEL "
        "to a local folder or pre-download it; NEWSWIRE_NER_FALLBACK=false makes this an error."
    )


class Children:
    """The extract and store processes, started and stopped together."""

    def __init__(self) -> None:
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str) -> None:
        self.procs[name] = subprocess.Popen([sys.executable, "-m", "services.cli", name])

    def dead(self) -> list[str]:
        return [f"{name} (exit {p.returncode})" for name, p in self.procs.items() if p.poll() is not None]

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for name, proc in self.procs.items():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("child did not stop in time, killing it", extra={"child": name})
                proc.kill()
                proc.wait()


def _forget_what_the_database_lacks(client: redis.Redis, seen_key: str, db_url: str) -> int:
    """Ingest remembers in Redis what it queued; a database that was replaced or wiped since (a new
    clone, a deleted SQLite file) holds none of it. Forget those entries so they are queued again:
    the store's upserts make any repeat harmless."""
    seen: dict[bytes, bytes] = client.hgetall(seen_key)  # type: ignore[assignment]
    if not seen:
        return 0
    engine = database.make_engine(db_url)
    with engine.connect() as connection:
        stored = stored_versions(connection, [k.decode() for k in seen])
    engine.dispose()
    missing = [k for k, v in seen.items() if stored.get(k.decode()) != v.decode()]
    if missing:
        client.hdel(seen_key, *missing)
        log.info("queuing again what the database does not hold", extra={"articles": len(missing)})
    return len(missing)


def _wait_stored(
    engine_url: str,
    queued: list[tuple[str, str]],
    dead_streams: list[str],
    client: redis.Redis,
    children: Children,
    timeout_s: float,
) -> tuple[int, int, int]:
    """Wait until every queued article version is stored, or its message was dead-lettered."""
    engine = database.make_engine(engine_url)
    dead_before = sum(client.xlen(s) for s in dead_streams)
    wanted = dict(queued)
    deadline = time.monotonic() + timeout_s
    last_report = 0.0
    while True:
        with engine.connect() as connection:
            found = stored_versions(connection, list(wanted))
        stored = [i for i, v in wanted.items() if found.get(i) == v]
        failed = sum(client.xlen(s) for s in dead_streams) - dead_before
        if len(stored) + failed >= len(wanted):
            with engine.connect() as connection:
                mentions = mention_count(connection, stored) if stored else 0
            engine.dispose()
            return len(stored), failed, mentions
        if children.dead():
            raise LaunchError(f"a service stopped early: {', '.join(children.dead())}; see its log above")
        if time.monotonic() > deadline:
            raise LaunchError(
                f"gave up after {timeout_s:.0f}s: {len(stored)} of {len(wanted)} articles stored. "
                "Is the extract worker running? Raise --timeout for a slow model."
            )
        if time.monotonic() - last_report > 10:
            log.info("waiting for the store", extra={"stored": len(stored), "of": len(wanted)})
            last_report = time.monotonic()
        time.sleep(0.25)


def run_local(once: bool, as_json: bool, timeout_s: float) -> int:
    ingest_settings = load(IngestSettings)
    store_settings = load(StoreSettings)
    extract_settings = load(ExtractSettings)
    logs.setup("run", ingest_settings.log_level, ingest_settings.log_format)
    started = time.monotonic()
    try:
        feeds = load_registry(ingest_settings.feeds)
        client = _check_redis(ingest_settings.redis_url)
        engine = database.make_engine(store_settings.db_url)
        database.upgrade(engine)
        engine.dispose()
        if _forget_what_the_database_lacks(client, ingest_settings.keys.ingest_seen, store_settings.db_url):
            # A 304 would skip those articles' feeds: fetch them in full once more.
            SharedSchedule(client, ingest_settings.keys, ingest_settings.ingest_claim_ttl_s).forget_validators(
                f.name for f in feeds
            )
        log.info(describe_ner(extract_settings))
    except LaunchError as exc:
        print(f"newswire: {exc}", file=sys.stderr)
        return 2
    # Children migrate nothing more: the schema is at head already.
    os.environ["NEWSWIRE_AUTO_MIGRATE"] = "false"
    metrics.serve(ingest_settings.ingest_metrics_port)
    log.info(
        "starting",
        extra={"feeds": len(feeds), "db": store_settings.db_url, "redis": ingest_settings.redis_url, "once": once},
    )
    children = Children()
    children.start("store")
    children.start("extract")
    celery = make_app("ingest", ingest_settings.redis_url, ingest_settings.keys, ingest_settings.visibility_timeout_s)
    keys = ingest_settings.keys
    try:
        with build(ingest_settings, feeds, celery) as ingest:
            if not once:
                stop = threading.Event()
                for signum in (signal.SIGINT, signal.SIGTERM):
                    signal.signal(signum, lambda *_: stop.set())
                ingest.run_forever(stop)
                log.info("stopping: letting extract and store finish what they hold")
                return 0
            summary: PollSummary = ingest.poll_all()
        stored, failed, mentions = _wait_stored(
            store_settings.db_url, summary.queued, [keys.extract_dead, keys.tagged_dead], client, children, timeout_s
        )
    except LaunchError as exc:
        print(f"newswire: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        log.info("interrupted: stopping extract and store")
        return 130
    finally:
        children.stop()

    engine = database.make_engine(store_settings.db_url)
    with engine.connect() as connection:
        db_articles, db_mentions = article_count(connection), mention_count(connection)
    result = RunSummary(
        feeds=summary.feeds,
        feeds_failed=summary.feeds_failed,
        entries=summary.entries,
        articles_new=summary.articles_new,
        articles_changed=summary.articles_changed,
        articles_unchanged=summary.articles_unchanged,
        articles_queued=len(summary.queued),
        articles_stored=stored,
        articles_failed=failed,
        mentions=mentions,
        db_articles=db_articles,
        db_mentions=db_mentions,
        seconds=round(time.monotonic() - started, 1),
    )
    print(
        f"\nPolled {result.feeds} feeds ({result.feeds_failed} failed): {result.entries} entries, "
        f"{result.articles_new} new and {result.articles_changed} changed articles, "
        f"{result.articles_unchanged} unchanged.\n"
        f"Stored {result.articles_stored} articles with {result.mentions} entity mentions"
        f"{f', {result.articles_failed} failed (see the dead-letter streams)' if result.articles_failed else ''}. "
        f"The database now holds {result.db_articles} articles and {result.db_mentions} mentions "
        f"({redact_url(store_settings.db_url)}). Took {result.seconds}s."
    )
    if as_json:
        print(json.dumps(asdict(result)))
    return 1 if result.articles_failed or (result.feeds and result.feeds_failed == result.feeds) else 0
