"""The services as deployed: one process each, scraped on /metrics; and `newswire run` in its
continuous mode, stopped with Ctrl-C."""

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from services.store import database
from services.store.tables import articles
from tests.conftest import REPO
from tests.e2e.conftest import newswire
from tests.e2e.test_worker_crash import _start, _stop, _wait_for

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _samples(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _stored(db_url: str) -> int:
    engine = database.make_engine(db_url)
    with engine.connect() as connection:
        count = int(connection.execute(select(func.count()).select_from(articles)).scalar_one())
    engine.dispose()
    return count


def test_each_service_reports_what_it_did_on_metrics(service_env: dict[str, str], sqlite_url: str) -> None:
    extract_port, store_port = _free_port(), _free_port()
    env = {
        **service_env,
        "NEWSWIRE_DB_URL": sqlite_url,
        "NEWSWIRE_NER_BACKEND": "onnx",
        "NEWSWIRE_EXTRACT_METRICS_PORT": str(extract_port),
        "NEWSWIRE_STORE_METRICS_PORT": str(store_port),
    }
    database.upgrade(database.make_engine(sqlite_url))  # so the test can count rows from the start
    store, worker = _start("store", env), _start("extract", env)
    try:
        assert newswire("ingest", "--once", env=env).returncode == 0
        _wait_for(lambda: _stored(sqlite_url) == 3, 180, "three stored articles")
        # Metrics of the prefork child reach the main process through the multiprocess directory.
        _wait_for(
            lambda: _samples(extract_port).get(("newswire_extract_tasks_total", (("outcome", "ok"),))) == 3,
            30,
            "extract to count three tasks",
        )
        extracted, stored = _samples(extract_port), _samples(store_port)
    finally:
        _stop(worker)
        _stop(store)

    ((labels, value),) = [(dict(k), v) for (name, k), v in extracted.items() if name.endswith("ner_backend_info")]
    assert labels["backend"] == "transformers" and labels["model"].startswith("newswire-ner") and value == 1
    assert extracted[("newswire_extract_ner_fallback", ())] == 0
    assert extracted[("newswire_extract_task_duration_seconds_count", ())] == 3
    assert sum(v for (name, _), v in extracted.items() if name == "newswire_extract_mentions_total") > 0
    assert stored[("newswire_store_upserts_total", (("kind", "article"), ("operation", "insert")))] == 3
    # Three articles, and the entities, events and story extract found in them.
    assert stored[("newswire_store_events_published_total", ())] > 3
    assert stored[("newswire_store_pending_messages", ())] == 0
    assert stored[("newswire_store_fetch_to_commit_seconds_count", ())] == 3


def test_run_keeps_polling_until_ctrl_c_then_stops_every_service(service_env: dict[str, str], sqlite_url: str) -> None:
    env = {**service_env, "NEWSWIRE_DB_URL": sqlite_url, "NEWSWIRE_NER_BACKEND": "onnx"}
    database.upgrade(database.make_engine(sqlite_url))  # so the test can count rows from the start
    run = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "run"],
        cwd=REPO,
        env=env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_for(lambda: _stored(sqlite_url) == 3, 180, "three stored articles")
        started = time.monotonic()
        os.killpg(run.pid, signal.SIGINT)  # what a terminal's Ctrl-C sends: the whole group
        output, _ = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()

    assert run.returncode == 0, output[-3000:]
    assert time.monotonic() - started < 45
    assert "Traceback" not in output
    # No service outlives the command.
    leftovers = subprocess.run(["pgrep", "-s", str(run.pid)], capture_output=True, text=True, check=False)
    assert leftovers.stdout.strip() == ""
