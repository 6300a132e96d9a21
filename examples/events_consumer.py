"""A downstream consumer of Newswire's change stream, in a dozen lines of real work.

    .venv/bin/python examples/events_consumer.py                 # follow the stream until Ctrl-C
    .venv/bin/python examples/events_consumer.py --once          # handle what is there, then exit

It joins the consumer group "example-printer" on ``newswire:events`` and prints each change; a real
consumer would fetch the changed thing from the read API (``GET /v1/articles/{id}``) and index it.
Run two copies and they share the work; kill one and the other takes over what it held.
"""

import argparse
import signal
import threading

import redis

from services.common.events_consumer import EventsConsumer
from services.common.names import Keys
from services.common.schema import Change


def on_article(change: Change) -> None:
    print(f"article {change.id} is now at version {change.version} ({change.mentions} mentions)", flush=True)


def on_event(change: Change) -> None:
    print(f"event {change.id} changed (revision {change.version})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--namespace", default="newswire")
    parser.add_argument("--group", default="example-printer")
    parser.add_argument("--once", action="store_true", help="handle what is in the stream now, then exit")
    args = parser.parse_args()

    consumer = EventsConsumer(
        redis.Redis.from_url(args.redis),
        Keys(args.namespace),
        group=args.group,
        consumer="printer-1",
        max_deliveries=5,  # then to <namespace>:events:dead:<group>, with the reason
        retry_idle_ms=30_000,  # a failed or orphaned message is tried again after this long
        block_ms=200,
    )
    consumer.on("article.upserted", on_article).on("event.upserted", on_event)
    consumer.on("entity.upserted", lambda c: print(f"entity {c.id} revision {c.version}", flush=True))
    consumer.on("story.updated", lambda c: print(f"story {c.id} revision {c.version}", flush=True))
    # Its last source no longer reports it: drop it from whatever you built from it.
    consumer.on("event.deleted", lambda c: print(f"event {c.id} deleted (revision {c.version})", flush=True))

    if args.once:
        consumer.ensure_group()
        while consumer.step():
            pass
        return
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    consumer.run(stop)


if __name__ == "__main__":
    main()
