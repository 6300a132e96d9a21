"""Tagged articles per second through store (Redis in, upsert, outbox, publish, acknowledge) into
PostgreSQL and SQLite, against a baseline of one transaction per article measured in the same run.

    make bench-store            (or: .venv/bin/python bench/store/bench_store.py [--articles N])

The batched side runs store exactly as deployed, at batch size ``--batch`` (default: store's
own default NEWSWIRE_STORE_BATCH_SIZE, 1000). On PostgreSQL both write paths are measured:
``executemany`` (multi-row INSERT ... ON CONFLICT) and ``copy``, the default (binary COPY: new rows
straight into their tables, the rest into a staging table and one INSERT ... SELECT ... ON CONFLICT).
The baseline is the same store with a batch of one: one transaction per article. Each article
carries a realistic load: a 2,000-character body, 12 mentions, 6 entities with aliases, an event
shared with three other articles (so sources merge), and a story shared with nine others.


A last PostgreSQL figure runs ``--replicas`` (2) store processes in one consumer group, as
``docker compose up --scale store=2`` does: one store process uses one core, and this machine has two.
Each measurement runs ``--repeat`` times (3), each on a fresh database, and reports the median run.
The last line of output is one JSON object with every figure and the ratios against the baseline.
"""

import argparse
import json
import multiprocessing
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import redis
from sqlalchemy import Engine, func, select

from services.common.names import GROUP_STORE, Keys
from services.common.schema import Article, Entity, Event, EventCounts, Mention, TaggedArticle, Tagger
from services.store import database
from services.store.bulk import WritePath
from services.store.consumer import TaggedConsumer
from services.store.service import Store
from services.store.settings import StoreSettings
from services.store.tables import articles

REDIS_URL = os.environ.get("NEWSWIRE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PG_URL = os.environ.get("NEWSWIRE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
BASE = datetime(2026, 11, 1, tzinfo=UTC)
WORDS = [
    "the",
    "army",
    "said",
    "fighting",
    "broke",
    "out",
    "near",
    "the",
    "town",
    "on",
    "wednesday",
    "as",
    "residents",
    "fled",
    "across",
    "the",
    "river",
]


def payloads(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        body = " ".join(rng.choice(WORDS) for _ in range(340))[:2000]
        entity_ids = rng.sample(range(300), 6)
        ents = [
            Entity(
                id=f"bench:e{e}",
                type="LOC" if e % 3 == 0 else "ORG",
                name=f"Entity {e}",
                aliases=[f"E{e}", f"Entity-{e}"],
                gazetteer_id=f"geonames:{e}" if e % 3 == 0 else None,
                latitude=20.0 + e / 100 if e % 3 == 0 else None,
                longitude=96.0 + e / 100 if e % 3 == 0 else None,
            )
            for e in entity_ids
        ]
        mentions = [
            Mention(
                field="body",
                start=k * 100,
                end=k * 100 + 8,
                text=body[k * 100 : k * 100 + 8] or "x",
                label="ORG",
                score=0.9,
                entity_id=f"bench:e{entity_ids[k % 6]}",
            )
            for k in range(12)
        ]
        ev = Event(
            id=f"bench:ev{seed}-{i // 4}",
            type="Battles",
            sub_type="Armed clash",
            actors=[ents[1].id],
            targets=[ents[2].id],
            place_id=ents[0].id,
            date=(BASE + timedelta(days=i // 40)).date(),
            date_precision="day",
            counts=EventCounts(killed=rng.randint(0, 9)),
            evidence=body[:200],
            confidence=0.7,
        )
        article = Article(
            id=f"bench-{seed}-{i:08d}-0123456789",
            version=f"v1-{uuid.uuid4().hex}",
            feed="bench-feed",
            outlet=f"Outlet {i % 7}",
            url=f"https://example.org/{seed}/{i}",
            title=f"Bench article {i}",
            authors=["Reporter"],
            published_at=BASE + timedelta(minutes=i),
            fetched_at=BASE + timedelta(minutes=i, seconds=30),
            summary=body[:300],
            body_html=f"<p>{body}</p>",
            body_text=body,
            language="en",
        )
        tagged = TaggedArticle(
            article=article,
            mentions=mentions,
            entities=ents,
            events=[ev],
            story_id=f"bench:story{seed}-{i // 10}",
            tagger=Tagger(backend="spacy", model="bench"),
            tagged_at=BASE,
        )
        out.append(tagged.model_dump_json())
    return out


class Database:
    """A fresh, migrated database per measurement, removed afterwards."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._name = ""

    def __enter__(self) -> Engine:
        if self.kind == "sqlite":
            self._tmp = tempfile.TemporaryDirectory()
            url = f"sqlite:///{self._tmp.name}/bench.db"
        else:
            self._name = f"nwbench_{uuid.uuid4().hex[:10]}"
            with psycopg.connect(PG_URL, autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{self._name}"')
            url = f"{PG_URL.rsplit('/', 1)[0]}/{self._name}"
        self.engine = database.make_engine(url)
        database.upgrade(self.engine)
        return self.engine

    def __exit__(self, *_: object) -> None:
        self.engine.dispose()
        if self._tmp is not None:
            self._tmp.cleanup()
        if self._name:
            with psycopg.connect(PG_URL, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self._name}" WITH (FORCE)')


def _replica(url: str, namespace: str, name: str, batch: int, path: WritePath, go: Any) -> None:
    """One store process of a group, as ``--scale store=N`` runs them: its own engine and Redis client."""
    client = redis.Redis.from_url(REDIS_URL)
    engine = database.make_engine(url)
    keys = Keys(namespace)
    consumer = TaggedConsumer(client, keys, GROUP_STORE, name, batch, block_ms=10, claim_idle_ms=600_000)
    store = Store(engine, client, consumer, keys, events_maxlen=10_000_000, write_path=path)
    go.wait()
    while store.step(threading.Event()):
        pass
    engine.dispose()


def through_store(kind: str, messages: list[str], batch: int, path: WritePath, replicas: int = 1) -> dict[str, Any]:
    client = redis.Redis.from_url(REDIS_URL)
    keys = Keys(f"nwbench-{uuid.uuid4().hex[:10]}")
    try:
        pipe = client.pipeline(transaction=False)
        for payload in messages:
            pipe.xadd(keys.tagged, {"payload": payload})
        pipe.execute()
        with Database(kind) as engine:
            consumer = TaggedConsumer(client, keys, GROUP_STORE, "bench", batch, block_ms=10, claim_idle_ms=600_000)
            consumer.ensure_group()
            if replicas == 1:
                store = Store(engine, client, consumer, keys, events_maxlen=10_000_000, write_path=path)
                stop = threading.Event()
                started = time.perf_counter()
                while store.step(stop):
                    pass
                seconds = time.perf_counter() - started
            else:
                # Processes, each with its share of the two cores; timed from when all are ready.
                context = multiprocessing.get_context("fork")
                go = context.Event()
                url = engine.url.render_as_string(hide_password=False)
                group = [
                    context.Process(target=_replica, args=(url, keys.namespace, f"bench-{n}", batch, path, go))
                    for n in range(replicas)
                ]
                for process in group:
                    process.start()
                time.sleep(1.0)  # imports done, engines made
                started = time.perf_counter()
                go.set()
                for process in group:
                    process.join()
                seconds = time.perf_counter() - started
                assert all(p.exitcode == 0 for p in group), "a store replica failed"
            with engine.connect() as connection:
                stored = connection.execute(select(func.count()).select_from(articles)).scalar_one()
            assert stored == len(messages), f"stored {stored} of {len(messages)}"
            published = client.xlen(keys.events)
    finally:
        for key in client.scan_iter(match=f"{keys.namespace}:*"):
            client.delete(key)
        client.close()
    return {
        "articles": len(messages),
        "batch": batch,
        "replicas": replicas,
        "seconds": round(seconds, 3),
        "articles_per_s": round(len(messages) / seconds, 1),
        "changes_published": published,
    }


def median_of(
    repeat: int, kind: str, messages: list[str], batch: int, path: WritePath, replicas: int = 1
) -> dict[str, Any]:
    """The run with the median rate of ``repeat`` runs, with every run's rate beside it: on a shared
    machine one run can be 10 % off either way."""
    runs = sorted(
        (through_store(kind, messages, batch, path, replicas) for _ in range(repeat)), key=lambda r: r["articles_per_s"]
    )
    median = runs[len(runs) // 2]
    median["runs_articles_per_s"] = [r["articles_per_s"] for r in runs]
    return median


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=4000, help="articles for each batched measurement")
    parser.add_argument("--baseline-articles", type=int, default=300, help="articles for each baseline")
    parser.add_argument(
        "--batch",
        type=int,
        default=StoreSettings.model_fields["store_batch_size"].default,
        help="NEWSWIRE_STORE_BATCH_SIZE of the batched side (default: store's own)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of each measurement, each on a fresh database; the median is reported",
    )
    parser.add_argument(
        "--replicas", type=int, default=2, help="store processes in one consumer group for the last PostgreSQL figure"
    )
    args = parser.parse_args()

    results: dict[str, Any] = {}
    for kind, paths in (("postgresql", ("executemany", "copy")), ("sqlite", ("executemany",))):
        figures: dict[str, Any] = {}
        baseline = median_of(args.repeat, kind, payloads(args.baseline_articles, 1), 1, "executemany")
        figures["baseline_one_transaction_per_article"] = baseline
        print(f"{kind} baseline: {baseline['articles_per_s']} articles/s", file=sys.stderr)
        for seed, path in enumerate(paths, start=2):
            batched = median_of(args.repeat, kind, payloads(args.articles, seed), args.batch, path)  # type: ignore[arg-type]
            batched["ratio_vs_baseline"] = round(batched["articles_per_s"] / baseline["articles_per_s"], 1)
            figures[f"batched_{path}"] = batched
            print(f"{kind} {path}: {batched['articles_per_s']} articles/s", file=sys.stderr)
        if kind == "postgresql" and args.replicas > 1:
            # Both cores: store replicas in one consumer group, as `docker compose up --scale store=N`.
            group = median_of(
                args.repeat, kind, payloads(args.articles * args.replicas, 4), args.batch, "copy", args.replicas
            )
            group["ratio_vs_baseline"] = round(group["articles_per_s"] / baseline["articles_per_s"], 1)
            group["ratio_vs_one_replica"] = round(
                group["articles_per_s"] / figures["batched_copy"]["articles_per_s"], 2
            )
            figures["batched_copy_replicas"] = group
            print(f"{kind} copy, {args.replicas} replicas: {group['articles_per_s']} articles/s", file=sys.stderr)
        results[kind] = figures
    pg = results["postgresql"]
    best = max(("executemany", "copy"), key=lambda p: pg[f"batched_{p}"]["articles_per_s"])
    results["summary"] = {
        "postgresql_best_path": best,
        "postgresql_articles_per_s": pg[f"batched_{best}"]["articles_per_s"],
        "postgresql_ratio_vs_baseline": pg[f"batched_{best}"]["ratio_vs_baseline"],
        "postgresql_copy_vs_executemany": round(
            pg["batched_copy"]["articles_per_s"] / pg["batched_executemany"]["articles_per_s"], 2
        ),
        "postgresql_replicas_articles_per_s": pg.get("batched_copy_replicas", {}).get("articles_per_s"),
        "sqlite_articles_per_s": results["sqlite"]["batched_executemany"]["articles_per_s"],
        "sqlite_ratio_vs_baseline": results["sqlite"]["batched_executemany"]["ratio_vs_baseline"],
        "targets": {"postgresql_ratio_vs_baseline": 20, "articles_per_s": 2000},
    }
    print(json.dumps(results))


if __name__ == "__main__":
    main()
