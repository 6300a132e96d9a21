"""Killing the extract worker with SIGKILL while it holds a task loses nothing and duplicates
nothing: late acknowledgement leaves the message unacknowledged in Redis, the restarted worker gets
it back once the visibility timeout has passed, and store's idempotent upsert absorbs any repeat."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import pytest
import redis
from sqlalchemy import func, select

from services.common.names import Keys
from services.store import database
from services.store.tables import articles, mentions
from tests.conftest import REPO, stream_payloads
from tests.e2e.conftest import newswire

pytestmark = pytest.mark.e2e
VISIBILITY_TIMEOUT_S = 3


def _start(command: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    # Its own session, so a kill reaches the Celery main process and its pool children alike.
    return subprocess.Popen(
        [sys.executable, "-m", "services.cli", command],
        cwd=REPO,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(0.02)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_sigkill_while_holding_a_task_still_stores_every_article_once(
    service_env: dict[str, str], sqlite_url: str, redis_url: str, namespace: str
) -> None:
    env = {
        **service_env,
        "NEWSWIRE_DB_URL": sqlite_url,
        "NEWSWIRE_NER_BACKEND": "onnx",
        "NEWSWIRE_VISIBILITY_TIMEOUT_S": str(VISIBILITY_TIMEOUT_S),
    }
    keys = Keys(namespace)
    client = redis.Redis.from_url(redis_url)
    unacked = f"{keys.celery_prefix}unacked"
    engine = database.make_engine(sqlite_url)
    database.upgrade(engine)

    def stored() -> int:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(articles)).scalar_one())

    store = _start("store", env)
    worker = _start("extract", env)
    try:
        queued = newswire("ingest", "--once", env=env)
        assert queued.returncode == 0, queued.stderr
        # The first task waits while the worker loads its model: it is held, not yet acknowledged.
        _wait_for(lambda: client.hlen(unacked) > 0, 120, "the worker to take a task")
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        held = client.hlen(unacked)
        assert held == 1, "the killed worker's task must still be unacknowledged in Redis"
        assert stored() < 3

        time.sleep(VISIBILITY_TIMEOUT_S + 1)
        worker = _start("extract", env)
        _wait_for(lambda: stored() == 3, 180, "all three articles to be stored after the restart")
        _wait_for(lambda: client.hlen(unacked) == 0, 60, "every task to be acknowledged")
    finally:
        _stop(worker)
        _stop(store)

    with engine.connect() as connection:
        assert stored() == 3
        spans = connection.execute(
            select(mentions.c.article_id, mentions.c.field, mentions.c.start, mentions.c.end)
        ).all()
    assert spans and len(spans) == len(set(spans))
    # A redelivered version is no change: no second article event (entities, events and the story
    # extract found are published as well, under their own kinds).
    kinds = [payload["kind"] for payload in stream_payloads(client, keys.events)]
    assert kinds.count("article.upserted") == 3
    engine.dispose()
