"""The ``newswire`` command: every service's entry point, and ``run`` for all of them at once."""

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence

from services.common.errors import NewswireError

DESCRIPTION = """\
Newswire turns news feeds into a live, deduplicated stream of entities and events.

  newswire run --once        poll every feed once, tag and store what is new, print a summary
  newswire run               the same, continuously, until Ctrl-C
  newswire ingest|extract|store   one service each, for deployment
  newswire api               serve the read API alone (store serves it too)
  newswire migrate           bring the database schema up to date
  newswire eval              score extraction (entities, events, stories) against a gold set

Every option is also a NEWSWIRE_* environment variable (see .env.example)."""


def _stop_event() -> threading.Event:
    """An event set by SIGTERM or SIGINT: services finish what they hold, then return."""
    stop = threading.Event()

    def _handle(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _handle)
    signal.signal(signal.SIGINT, _handle)
    return stop


def _common_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--redis", metavar="URL", help="Redis server (NEWSWIRE_REDIS_URL)")


def _apply_flags(args: argparse.Namespace) -> None:
    """Flags become NEWSWIRE_* variables, so that child processes see the same settings."""
    for flag, variable in (("redis", "REDIS_URL"), ("db", "DB_URL"), ("feeds", "FEEDS")):
        value = getattr(args, flag, None)
        if value:
            os.environ[f"NEWSWIRE_{variable}"] = str(value)


def cmd_ingest(args: argparse.Namespace) -> int:
    from services.common import logs, metrics
    from services.common.celery_config import make_app
    from services.common.settings import load
    from services.ingest.feeds import load_registry
    from services.ingest.service import build
    from services.ingest.settings import IngestSettings

    settings = load(IngestSettings)
    logs.setup("ingest", settings.log_level, settings.log_format)
    feeds = load_registry(settings.feeds)
    metrics.serve(settings.ingest_metrics_port)
    celery = make_app("ingest", settings.redis_url, settings.keys, settings.visibility_timeout_s)
    with build(settings, feeds, celery) as ingest:
        if args.once:
            summary = ingest.poll_all()
            ingest.sample_backlog()
            print(f"polled {summary.feeds} feeds, queued {len(summary.queued)} articles")
            return 1 if summary.feeds_failed == summary.feeds and summary.feeds else 0
        ingest.run_forever(_stop_event())
    return 0


def cmd_feeds(args: argparse.Namespace) -> int:
    from services.ingest.commands import run_feeds_command

    return run_feeds_command(args)


def cmd_extract(args: argparse.Namespace) -> int:
    from services.common.metrics import multiprocess_dir
    from services.common.settings import load
    from services.extract.settings import ExtractSettings

    settings = load(ExtractSettings)
    # prometheus-client reads this when it is imported, so it must be set before Celery starts.
    with multiprocess_dir(os.path.abspath(settings.extract_metrics_dir)) as path:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    argv = [
        sys.executable,
        "-m",
        "celery",
        "--quiet",  # no banner: `newswire run` shows one stream of log lines
        "-A",
        "services.extract.celery_app",
        "worker",
        "--queues",
        "extract",
        "--concurrency",
        str(settings.extract_concurrency),
        "--hostname",
        f"extract-{os.getpid()}@%h",
        "--loglevel",
        settings.log_level,
        # Gossip and mingle only slow the start and chatter; nothing here uses them.
        "--without-gossip",
        "--without-mingle",
    ]
    os.execv(sys.executable, argv)
    return 0  # not reached


def cmd_store(args: argparse.Namespace) -> int:
    import redis

    from services.common import logs, metrics
    from services.common.names import GROUP_STORE
    from services.common.settings import load
    from services.store import database
    from services.store.consumer import TaggedConsumer
    from services.store.service import Store
    from services.store.settings import StoreSettings

    settings = load(StoreSettings)
    logs.setup("store", settings.log_level, settings.log_format)
    engine = database.make_engine(settings.db_url)
    if settings.auto_migrate:
        database.upgrade(engine)
    else:
        database.check_schema(engine)
    metrics.serve(settings.store_metrics_port)
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=30, health_check_interval=30)
    consumer_name = settings.store_consumer_name or f"{os.uname().nodename}-{os.getpid()}"
    consumer = TaggedConsumer(
        client,
        settings.keys,
        GROUP_STORE,
        consumer_name,
        settings.store_batch_size,
        settings.store_block_ms,
        settings.store_claim_idle_s * 1000,
    )
    stop = _stop_event()
    if settings.store_api_port:
        from services.store.api import serve_in_thread

        serve_in_thread(engine, settings, stop)
    Store(
        engine,
        client,
        consumer,
        settings.keys,
        settings.events_maxlen,
        settings.events_max_age_s,
        settings.store_write_path,
    ).run(stop)
    return 0


def cmd_api(args: argparse.Namespace) -> int:
    import uvicorn

    from services.common import logs
    from services.common.settings import load
    from services.store import database
    from services.store.api import create_app
    from services.store.settings import StoreSettings

    settings = load(StoreSettings)
    logs.setup("api", settings.log_level, settings.log_format)
    engine = database.make_engine(settings.db_url)
    database.check_schema(engine)
    port = args.port if args.port is not None else settings.store_api_port
    uvicorn.run(create_app(engine, settings), host=settings.store_api_host, port=port, log_level="warning")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from services.common import logs
    from services.common.settings import load
    from services.store import database
    from services.store.settings import StoreSettings

    settings = load(StoreSettings)
    logs.setup("migrate", settings.log_level, settings.log_format)
    engine = database.make_engine(settings.db_url)
    database.upgrade(engine, args.revision)
    print(f"database schema at {database.current_revision(engine)}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from services.launch import run_local

    return run_local(once=args.once, as_json=args.json, timeout_s=args.timeout)


def cmd_eval(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from services.common import logs
    from services.evaluation import load_gold, run, score, table
    from services.extract.encoder import Encoder
    from services.extract.settings import ExtractSettings
    from services.extract.taggers import ModelLoadError, load_tagger

    logs.setup("eval", "WARNING", "text")
    folder = Path(args.gold)
    gold = load_gold(folder)  # a GoldError is a NewswireError: main() reports it
    try:
        settings = ExtractSettings()  # the window overlap and score floor the worker would use
        tagger = load_tagger(
            args.backend, args.model or "", fallback=False, stride=settings.ner_stride, min_score=settings.ner_min_score
        )
    except ModelLoadError as exc:
        print(f"newswire eval: {exc}", file=sys.stderr)
        return 2
    scores = score(run(folder, tagger, None if args.no_encoder else Encoder()), gold)
    scores["backend"] = tagger.info.backend
    print(table(scores))
    if args.json:
        print(json.dumps(scores, sort_keys=True))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newswire", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="ingest, extract and store together, in the foreground (local use)",
        description="Start ingest, an extract worker and store together, with one log stream. "
        "Ctrl-C stops all three cleanly.",
    )
    run.add_argument("--once", action="store_true", help="poll every feed once, wait until stored, exit")
    run.add_argument("--json", action="store_true", help="end with the summary as one line of JSON")
    run.add_argument("--feeds", metavar="FILE", help="feed registry YAML (NEWSWIRE_FEEDS)")
    run.add_argument("--db", metavar="URL", help="database URL (NEWSWIRE_DB_URL)")
    run.add_argument(
        "--timeout",
        type=float,
        default=600,
        metavar="S",
        help="with --once: give up waiting for the store after S seconds (default 600)",
    )
    _common_flags(run)
    run.set_defaults(handler=cmd_run)

    ingest = commands.add_parser("ingest", help="poll feeds and queue new articles")
    ingest.add_argument("--once", action="store_true", help="poll every feed once and exit")
    ingest.add_argument("--feeds", metavar="FILE", help="feed registry YAML (NEWSWIRE_FEEDS)")
    _common_flags(ingest)
    ingest.set_defaults(handler=cmd_ingest)

    feeds = commands.add_parser(
        "feeds",
        help="list feeds and their health, check one, re-enable a broken one",
        description="Inspect and repair the feed schedule that every ingest replica shares.",
    )
    feeds_commands = feeds.add_subparsers(dest="feeds_command", required=True, metavar="ACTION")
    feeds_list = feeds_commands.add_parser("list", help="every feed: state, failures, last success, next poll")
    feeds_list.add_argument("--json", action="store_true", help="one JSON object per feed")
    feeds_check = feeds_commands.add_parser(
        "check", help="fetch one feed (a URL or a registry name) and show what would be ingested, queuing nothing"
    )
    feeds_check.add_argument("target", metavar="URL|NAME")
    feeds_enable = feeds_commands.add_parser("enable", help="clear a broken feed's failures and poll it again")
    feeds_enable.add_argument("name", metavar="NAME")
    for sub in (feeds_list, feeds_check, feeds_enable):
        sub.add_argument("--feeds", metavar="FILE", help="feed registry YAML (NEWSWIRE_FEEDS)")
        _common_flags(sub)
    feeds.set_defaults(handler=cmd_feeds)

    extract = commands.add_parser("extract", help="run a Celery worker that tags articles")
    _common_flags(extract)
    extract.set_defaults(handler=cmd_extract)

    store = commands.add_parser("store", help="consume tagged articles into the database")
    store.add_argument("--db", metavar="URL", help="database URL (NEWSWIRE_DB_URL)")
    _common_flags(store)
    store.set_defaults(handler=cmd_store)

    api = commands.add_parser(
        "api",
        help="serve only the read API (newswire store serves it too, on NEWSWIRE_STORE_API_PORT)",
    )
    api.add_argument("--db", metavar="URL", help="database URL (NEWSWIRE_DB_URL)")
    api.add_argument("--port", type=int, help="port (NEWSWIRE_STORE_API_PORT, default 9104)")
    api.set_defaults(handler=cmd_api)

    migrate = commands.add_parser("migrate", help="bring the database schema up to date")
    migrate.add_argument("--db", metavar="URL", help="database URL (NEWSWIRE_DB_URL)")
    migrate.add_argument("revision", nargs="?", default="head", help="target revision (default: head)")
    migrate.set_defaults(handler=cmd_migrate)

    evaluate = commands.add_parser(
        "eval",
        help="score extraction against a gold set (precision, recall, F1)",
        description="Run the gold folder's articles through NER, linking, events and stories, and print "
        "precision, recall and F1 against its annotations (format: tests/gold/README.md).",
    )
    evaluate.add_argument("--gold", metavar="DIR", default="tests/gold", help="gold folder (default tests/gold)")
    evaluate.add_argument("--json", action="store_true", help="end with the scores as one line of JSON")
    evaluate.add_argument(
        "--backend",
        choices=["onnx", "transformers", "spacy"],
        default="onnx",
        help="NER backend (default: Newswire's own model, the offline default; spacy needs the spacy extra)",
    )
    evaluate.add_argument(
        "--model", metavar="PATH", help="model folder: a transformers checkpoint, or an exported ONNX model (onnx)"
    )
    evaluate.add_argument("--no-encoder", action="store_true", help="stories without the sentence encoder")
    evaluate.set_defaults(handler=cmd_eval)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _apply_flags(args)
    try:
        return int(args.handler(args))
    except NewswireError as exc:
        print(f"newswire: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
