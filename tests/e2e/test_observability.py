"""A real Prometheus scrapes the running services while they carry the sample feeds end to end.

Prometheus (Debian's ``prometheus`` package; ``make test`` installs it with scripts/ensure-promtool)
runs on a free loopback port with its own data directory and a generated configuration that scrapes
each service's /metrics on 127.0.0.1 every second and loads the real alert rules. The tests then ask
it, in PromQL over its HTTP API, whether what it saw matches what the database holds; they collect
the services' live /metrics to check that every metric a dashboard or an alert names is really
exposed; and they have Prometheus evaluate every dashboard query and alert rule.
"""

import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import yaml
from sqlalchemy import func, select

from services.common.names import Keys
from services.store import database
from services.store.tables import articles, mentions
from tests.conftest import REDIS_URL, SAMPLE_FEEDS, stream_payloads
from tests.e2e.test_services import _free_port
from tests.e2e.test_worker_crash import _start, _stop
from tests.observability import (
    RULES,
    exposed_samples,
    for_prometheus,
    metric_names,
    queries,
    run_healthcheck,
    shown_samples,
)

pytestmark = pytest.mark.e2e
SCRAPE_S = 1
JOBS = ("ingest", "extract", "store", "api")
API_READS = 3


@dataclass
class Observed:
    prometheus: str  # base URL of the test's Prometheus
    ports: dict[str, int]  # job -> its metrics port
    db_url: str
    namespace: str
    exposed: dict[str, set[str]]  # job -> sample names its live /metrics can carry
    shown: set[str]  # the sample names the services' /metrics carried at the end of the run
    healthy: dict[str, int]  # job -> exit status of its docker-compose.yml healthcheck


def _wait(condition: Callable[[], Any], timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            value = condition()
        except (httpx.HTTPError, OSError):
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(0.2)


def query(base: str, promql: str) -> dict[str, Any]:
    response = httpx.get(f"{base}/api/v1/query", params={"query": promql}, timeout=10)
    body: dict[str, Any] = response.json()
    return body


def scalar(base: str, promql: str) -> float | None:
    """The value of a query that yields one sample, or None while it yields none."""
    body = query(base, promql)
    assert body["status"] == "success", f"{promql}: {body}"
    result = body["data"]["result"]
    if not result:
        return None
    assert len(result) == 1, f"{promql} yields {len(result)} series"
    return float(result[0]["value"][1])


def _prometheus_config(path: Path, ports: dict[str, int]) -> None:
    config = {
        "global": {"scrape_interval": f"{SCRAPE_S}s", "evaluation_interval": f"{SCRAPE_S}s"},
        "rule_files": [str(RULES)],
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": [f"127.0.0.1:{ports[job]}"]}]} for job in JOBS
        ],
    }
    path.write_text(yaml.safe_dump(config))


def _start_prometheus(config: Path, data: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("prometheus is missing: run scripts/ensure-promtool (Debian: apt-get install prometheus)")
    with log.open("wb") as out:
        return subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={data}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--storage.tsdb.retention.time=1h",
                "--log.level=warn",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _count(db_url: str, table: Any) -> int:
    engine = database.make_engine(db_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(table)).scalar_one())
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Observed]:
    """ingest (continuous), extract and store on the sample feeds, scraped by a real Prometheus until
    every count has reached it; the services and Prometheus are stopped afterwards."""
    tmp = tmp_path_factory.mktemp("observability")
    namespace = f"nwtest-{uuid.uuid4().hex[:12]}"
    client = redis.Redis.from_url(REDIS_URL)
    client.ping()
    db_url = f"sqlite:///{tmp / 'newswire.db'}"
    database.upgrade(database.make_engine(db_url))
    ports = {job: _free_port() for job in JOBS}
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWIRE_")}
    env.update(
        NEWSWIRE_REDIS_URL=REDIS_URL,
        NEWSWIRE_REDIS_NAMESPACE=namespace,
        NEWSWIRE_FEEDS=str(SAMPLE_FEEDS),
        NEWSWIRE_DB_URL=db_url,
        NEWSWIRE_NER_BACKEND="onnx",
        NEWSWIRE_INGEST_METRICS_PORT=str(ports["ingest"]),
        NEWSWIRE_EXTRACT_METRICS_PORT=str(ports["extract"]),
        NEWSWIRE_STORE_METRICS_PORT=str(ports["store"]),
        NEWSWIRE_STORE_API_PORT="0",  # the read API runs on its own, as in docker-compose.yml
        NEWSWIRE_EXTRACT_METRICS_DIR=str(tmp / "prometheus-extract"),
        HF_HUB_OFFLINE="1",
        PYTHONUNBUFFERED="1",
    )
    prometheus_port = _free_port()
    base = f"http://127.0.0.1:{prometheus_port}"
    _prometheus_config(tmp / "prometheus.yml", ports)
    prometheus = _start_prometheus(tmp / "prometheus.yml", tmp / "tsdb", prometheus_port, tmp / "prometheus.log")
    api_env = {**env, "NEWSWIRE_STORE_API_PORT": str(ports["api"])}
    services = [_start("store", env), _start("extract", env), _start("ingest", env), _start("api", api_env)]
    try:
        _wait(lambda: httpx.get(f"{base}/-/ready", timeout=2).status_code == 200, 60, "Prometheus to be ready")
        _wait(lambda: _count(db_url, articles) == 3, 240, "three stored articles")
        for _ in range(API_READS):
            assert httpx.get(f"http://127.0.0.1:{ports['api']}/v1/articles", timeout=10).status_code == 200
        # Counters reach Prometheus one scrape later; wait until every service's last word is in.
        _wait(
            lambda: (
                scalar(base, 'sum(newswire_store_messages_total{outcome="stored"})') == 3
                and scalar(base, 'sum(newswire_extract_tasks_total{outcome="ok"})') == 3
                and scalar(base, "max(newswire_ingest_extract_queue_messages)") == 0
                and scalar(base, "min(newswire_store_pending_messages)") == 0
                and scalar(base, 'sum(newswire_store_api_requests_total{route="/v1/articles"})') == API_READS
            ),
            60,
            "Prometheus to see the whole run",
        )
        pages = {job: httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text for job, port in ports.items()}
        exposed = {job: exposed_samples(text) for job, text in pages.items()}
        shown = set().union(*(shown_samples(text) for text in pages.values()))
        healthy = {job: run_healthcheck(job, port) for job, port in ports.items()}
        yield Observed(base, ports, db_url, namespace, exposed, shown, healthy)
    finally:
        for proc in reversed(services):
            _stop(proc)
        if prometheus.poll() is None:
            prometheus.send_signal(signal.SIGTERM)
            try:
                prometheus.wait(30)
            except subprocess.TimeoutExpired:
                prometheus.kill()
                prometheus.wait()
        for key in client.scan_iter(match=f"{namespace}:*", count=1000):
            client.delete(key)
        client.close()


def test_prometheus_counts_match_what_was_stored(observed: Observed) -> None:
    base, db_url = observed.prometheus, observed.db_url
    stored_articles, stored_mentions = _count(db_url, articles), _count(db_url, mentions)
    assert stored_articles == 3
    assert stored_mentions > 0
    client = redis.Redis.from_url(REDIS_URL)
    events = stream_payloads(client, Keys(observed.namespace).events)
    client.close()
    article_events = [e for e in events if e["kind"] == "article.upserted"]

    assert scalar(base, "sum(newswire_ingest_articles_queued_total)") == stored_articles
    assert scalar(base, 'sum(newswire_ingest_articles_total{result="new"})') == stored_articles
    assert scalar(base, 'sum(newswire_extract_tasks_total{outcome="ok"})') == stored_articles
    assert scalar(base, 'sum(newswire_store_upserts_total{kind="article", operation="insert"})') == stored_articles
    assert scalar(base, 'sum(newswire_store_upserts_total{kind="mention", operation="insert"})') == stored_mentions
    assert scalar(base, "sum(newswire_extract_mentions_total)") == stored_mentions
    # Every change store published (articles, and the entities, events and stories they carry) counted once.
    assert scalar(base, "sum(newswire_store_events_published_total)") == len(events)
    assert len(article_events) == stored_articles
    assert scalar(base, "sum(newswire_store_fetch_to_commit_seconds_count)") == stored_articles
    # The overview's end-to-end panel: every article committed within a few minutes of its fetch.
    assert scalar(base, 'sum(newswire_store_fetch_to_commit_seconds_bucket{le="300.0"})') == stored_articles
    assert scalar(base, 'sum(newswire_ingest_feed_polls_total{outcome="ok"})') == 3
    assert scalar(base, 'sum(newswire_store_api_requests_total{route="/v1/articles", status="200"})') == API_READS


def test_prometheus_sees_every_service_up_and_ready(observed: Observed) -> None:
    base = observed.prometheus
    for job in JOBS:
        assert scalar(base, f'up{{job="{job}"}}') == 1
    for job in ("ingest", "extract", "store"):  # the read API's readiness is its /readyz
        assert scalar(base, f'newswire_{job}_ready{{job="{job}"}}') == 1
    assert scalar(base, 'newswire_extract_ner_backend_info{model=~"newswire-ner.*"}') == 1
    # Chosen on purpose (NEWSWIRE_NER_BACKEND=onnx), so not the fallback the alert is about.
    assert scalar(base, "newswire_extract_ner_fallback") == 0


def test_compose_healthchecks_pass_on_the_running_services(observed: Observed) -> None:
    assert observed.healthy == {job: 0 for job in JOBS}


def test_every_metric_a_dashboard_or_alert_names_is_exposed_live(observed: Observed) -> None:
    exposed = set().union(*observed.exposed.values())
    assert "newswire_store_upserts_total" in exposed and "newswire_extract_task_duration_seconds_bucket" in exposed
    missing = sorted(
        f"{where}: {name}" for where, expr in queries() for name in metric_names(expr) if name not in exposed
    )
    assert not missing, "queries name metrics that no running service exposes:\n" + "\n".join(missing)
    for job, names in observed.exposed.items():
        own = "newswire_store_api_" if job == "api" else f"newswire_{job}_"
        assert {name for name in names if name.startswith("newswire_")} <= {
            name for name in names if name.startswith(own)
        }, f"{job} exposes another service's metrics"


def test_prometheus_evaluates_every_dashboard_query_and_alert(observed: Observed) -> None:
    base = observed.prometheus
    failures = []
    empty = []
    for where, expr in queries():
        body = query(base, for_prometheus(expr))
        if body["status"] != "success":
            failures.append(f"{where}: {body.get('error')}")
        elif (
            where.startswith("newswire-")
            and not body["data"]["result"]
            and metric_names(expr) <= observed.shown
            and "rate(" not in expr
        ):
            empty.append(where)
    assert not failures, "\n".join(failures)
    # A panel on metrics that have samples shows data (a rate may not yet: it needs two scrapes of
    # a change; a labelled counter has no sample before its first increment, a failure say).
    assert not empty, "dashboard queries with no data after a full run:\n" + "\n".join(empty)


def test_prometheus_loaded_and_evaluated_every_alert_rule(observed: Observed) -> None:
    base = observed.prometheus
    alerts = {rule["alert"] for rule in yaml.safe_load(RULES.read_text())["groups"][0]["rules"]}
    assert alerts

    def evaluated() -> list[dict[str, Any]] | None:
        groups = httpx.get(f"{base}/api/v1/rules", timeout=5).json()["data"]["groups"]
        rules = [rule for group in groups for rule in group["rules"]]
        return rules if all(rule["health"] != "unknown" for rule in rules) else None

    rules = _wait(evaluated, 30, "every rule to be evaluated")
    assert {rule["name"] for rule in rules} >= alerts
    broken = [f"{rule['name']}: {rule.get('lastError')}" for rule in rules if rule["health"] != "ok"]
    assert not broken, "\n".join(broken)
    # A healthy run raises nothing critical (the spaCy fallback is a warning, and only after 10 minutes).
    firing = [
        rule["name"] for rule in rules if rule["labels"].get("severity") == "critical" and rule["state"] == "firing"
    ]
    assert firing == []
