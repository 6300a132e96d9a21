"""Always-on behaviour of the services as deployed, one process each:

- SIGTERM mid-work (store mid-batch, extract mid-task, ingest mid-poll): the service stops taking
  work, finishes what it holds, exits 0 within a bounded time, and after a restart every article
  ends up stored exactly once (each published to the events stream once, tagged once);
- Redis going away and coming back: every service reconnects by itself, says it is not ready while
  Redis is away (the ``newswire_<service>_ready`` gauges) and ready again afterwards;
- a password-protected Redis, a TLS Redis (``rediss://``) and PostgreSQL's ``sslmode``: the
  settings reach every client.

Redis outages use a throwaway redis-server on a free port of its own, never the shared one.
"""

import http.server
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import yaml
from sqlalchemy import func, select

from services.common.names import GROUP_STORE, Keys
from services.store import database
from services.store.tables import articles
from tests import factories
from tests.conftest import REPO, SAMPLE_FEEDS
from tests.e2e.conftest import newswire, summary
from tests.e2e.test_services import _free_port, _samples
from tests.e2e.test_worker_crash import _start, _stop
from tests.observability import run_healthcheck

pytestmark = pytest.mark.e2e
SAMPLES = SAMPLE_FEEDS.parent / "feeds"
# What "a bounded time" means here: a batch, a task or a poll in flight, then the exit.
STOP_BOUND_S = 30.0


def _wait(condition: Callable[[], Any], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if condition():
                return
        except (httpx.HTTPError, OSError, redis.RedisError):
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(0.05)


def _stored(db_url: str) -> int:
    engine = database.make_engine(db_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(articles)).scalar_one())
    finally:
        engine.dispose()


def _sigterm_and_wait(proc: subprocess.Popen[bytes]) -> float:
    """Send SIGTERM to the service's main process alone, as docker stop (through init) does; return
    how long it took to exit, failing the test if it outlives the bound."""
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(STOP_BOUND_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        pytest.fail(f"the service did not stop within {STOP_BOUND_S}s of SIGTERM")
    assert proc.returncode == 0, f"exit status {proc.returncode} after SIGTERM"
    return time.monotonic() - started


class RedisServer:
    """A throwaway redis-server of this test's own, with append-only persistence so that a restart
    keeps the queue and the streams, as a production Redis (docker-compose.yml) does."""

    def __init__(self, directory: Path, *extra: str, tls: bool = False) -> None:
        self.port = _free_port()
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        ports = ["--port", "0", "--tls-port", str(self.port)] if tls else ["--port", str(self.port)]
        self.argv = [
            shutil.which("redis-server") or "redis-server",
            *ports,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "yes",
            "--dir",
            str(directory),
            "--logfile",
            str(directory / "redis.log"),
            *extra,
        ]
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, ping: Callable[[], object]) -> None:
        self.proc = subprocess.Popen(self.argv, start_new_session=True)
        _wait(ping, 20, f"redis-server on port {self.port}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(20)
        self.proc = None


@pytest.fixture
def throwaway_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start(lambda: redis.Redis(port=server.port).ping())
    yield server
    server.stop()


# --- SIGTERM mid-work -----------------------------------------------------------------------------


def test_store_stops_mid_batch_on_sigterm_and_loses_nothing(
    service_env: dict[str, str], sqlite_url: str, redis_client: redis.Redis, namespace: str
) -> None:
    keys = Keys(namespace)
    total = 600
    pipe = redis_client.pipeline(transaction=False)
    for n in range(total):
        pipe.xadd(keys.tagged, {"payload": factories.tagged(factories.article(n)).model_dump_json()})
    pipe.execute()
    database.upgrade(database.make_engine(sqlite_url))
    env = {**service_env, "NEWSWIRE_DB_URL": sqlite_url, "NEWSWIRE_STORE_BATCH_SIZE": "3"}

    store = _start("store", env)
    try:
        _wait(lambda: _stored(sqlite_url) >= 20, 120, "store to be busy")
        _sigterm_and_wait(store)
    finally:
        _stop(store)
    stored_before = _stored(sqlite_url)
    assert 0 < stored_before < total, "SIGTERM should have come mid-run"
    # Nothing held: every message store took is committed and acknowledged, and published once.
    assert redis_client.xpending(keys.tagged, GROUP_STORE)["pending"] == 0
    assert redis_client.xlen(keys.events) == stored_before

    store = _start("store", env)
    try:
        _wait(lambda: _stored(sqlite_url) == total, 120, "the rest to be stored after the restart")
        _wait(lambda: redis_client.xlen(keys.events) == total, 30, "the rest to be published")
    finally:
        _stop(store)
    assert _stored(sqlite_url) == total
    assert redis_client.xlen(keys.events) == total, "an article was published twice"


def test_extract_finishes_its_task_on_sigterm_and_loses_nothing(
    service_env: dict[str, str], sqlite_url: str, redis_client: redis.Redis, namespace: str
) -> None:
    keys = Keys(namespace)
    env = {**service_env, "NEWSWIRE_DB_URL": sqlite_url, "NEWSWIRE_NER_BACKEND": "onnx"}
    database.upgrade(database.make_engine(sqlite_url))
    store = _start("store", env)
    worker = _start("extract", env)
    try:
        assert newswire("ingest", "--once", env=env).returncode == 0
        # The worker holds its first task (loading the model inside it): late ack leaves it unacked.
        _wait(lambda: redis_client.hlen(f"{keys.celery_prefix}unacked") >= 1, 120, "the worker to hold a task")
        _sigterm_and_wait(worker)
        tagged_before = redis_client.xlen(keys.tagged)
        assert 1 <= tagged_before < 3, "the task in hand is finished, the others are left in the queue"
        assert redis_client.hlen(f"{keys.celery_prefix}unacked") == 0, "a task was left held"
        waiting = sum(redis_client.llen(k) for k in keys.celery_queue_lists("extract"))
        assert tagged_before + waiting == 3, "every task is either done or back in the queue"

        worker = _start("extract", env)
        _wait(lambda: _stored(sqlite_url) == 3, 180, "every article to be stored after the restart")
    finally:
        _stop(worker)
        _stop(store)
    assert redis_client.xlen(keys.tagged) == 3, "a task ran twice"


class SlowFeeds(http.server.ThreadingHTTPServer):
    """Serves the sample feeds slowly, and says when the n-th request has arrived."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.requests: list[str] = []
        self.second_request = threading.Event()
        super().__init__(("127.0.0.1", 0), _SlowHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _SlowHandler(http.server.BaseHTTPRequestHandler):
    server: SlowFeeds

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        if len(self.server.requests) == 2:
            self.server.second_request.set()
        time.sleep(self.server.delay_s)
        body = (SAMPLES / self.path.lstrip("/")).read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def slow_feeds(tmp_path: Path) -> Iterator[tuple[SlowFeeds, Path]]:
    server = SlowFeeds(delay_s=1.5)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    registry = yaml.safe_load(SAMPLE_FEEDS.read_text())
    for feed in registry["feeds"]:
        feed["url"] = f"{server.url}/{Path(feed['url']).name}"
    path = tmp_path / "feeds.yaml"
    path.write_text(yaml.safe_dump(registry))
    yield server, path
    server.shutdown()
    server.server_close()


def test_ingest_finishes_its_poll_on_sigterm_and_loses_nothing(
    service_env: dict[str, str],
    sqlite_url: str,
    redis_client: redis.Redis,
    namespace: str,
    slow_feeds: tuple[SlowFeeds, Path],
) -> None:
    server, registry = slow_feeds
    keys = Keys(namespace)
    env = {
        **service_env,
        "NEWSWIRE_DB_URL": sqlite_url,
        "NEWSWIRE_NER_BACKEND": "onnx",
        "NEWSWIRE_FEEDS": str(registry),
        # One poll at a time, so that the third feed is still untaken when SIGTERM arrives.
        "NEWSWIRE_INGEST_WORKERS": "1",
    }
    database.upgrade(database.make_engine(sqlite_url))
    store = _start("store", env)
    worker = _start("extract", env)
    try:
        ingest = _start("ingest", env)
        try:
            assert server.second_request.wait(60), "ingest never polled the second feed"
            took = _sigterm_and_wait(ingest)  # while the second feed's response is on its way
        finally:
            _stop(ingest)
        assert took >= 0.5, "the poll in flight should have been finished, not dropped"
        assert len(server.requests) == 2, "ingest took new work after SIGTERM"
        _wait(lambda: _stored(sqlite_url) == 2, 180, "the two polled feeds' articles to be stored")

        again = newswire("ingest", "--once", env=env)
        assert again.returncode == 0, again.stderr
        _wait(lambda: _stored(sqlite_url) == 3, 180, "the third feed's article after the restart")
    finally:
        _stop(worker)
        _stop(store)
    assert redis_client.xlen(keys.tagged) == 3, "an article was queued twice"


# --- Redis going away -----------------------------------------------------------------------------


def _ready(port: int, service: str) -> float | None:
    return _samples(port).get((f"newswire_{service}_ready", ()))


def test_services_reconnect_when_redis_comes_back_and_report_readiness(
    service_env: dict[str, str], sqlite_url: str, throwaway_redis: RedisServer
) -> None:
    url = f"redis://127.0.0.1:{throwaway_redis.port}/0"
    ports = {service: _free_port() for service in ("ingest", "extract", "store")}
    env = {
        **service_env,
        "NEWSWIRE_REDIS_URL": url,
        "NEWSWIRE_DB_URL": sqlite_url,
        "NEWSWIRE_NER_BACKEND": "onnx",
        **{f"NEWSWIRE_{service.upper()}_METRICS_PORT": str(port) for service, port in ports.items()},
    }
    database.upgrade(database.make_engine(sqlite_url))
    procs = [_start("store", env), _start("extract", env)]
    try:
        _wait(lambda: _ready(ports["store"], "store") == 1, 60, "store to be ready")
        _wait(lambda: _ready(ports["extract"], "extract") == 1, 120, "extract to be ready")

        throwaway_redis.stop()
        procs.append(_start("ingest", env))  # its first polls meet no Redis
        _wait(lambda: _ready(ports["store"], "store") == 0, 60, "store to report it is not ready")
        _wait(lambda: _ready(ports["ingest"], "ingest") == 0, 60, "ingest to report it is not ready")
        _wait(lambda: _ready(ports["extract"], "extract") == 0, 60, "extract to report it is not ready")
        time.sleep(3)  # a few retries against the closed port
        assert all(proc.poll() is None for proc in procs), "a service gave up while Redis was away"
        # docker compose sees the same: the healthchecks it runs fail while Redis is away.
        assert {service: run_healthcheck(service, port) for service, port in ports.items()} == {
            "ingest": 1,
            "extract": 1,
            "store": 1,
        }

        throwaway_redis.start(lambda: redis.Redis.from_url(url).ping())
        _wait(lambda: _stored(sqlite_url) == 3, 240, "the articles polled during the outage to be stored")
        for service, port in ports.items():
            _wait(lambda s=service, p=port: _ready(p, s) == 1, 60, f"{service} to be ready again")  # type: ignore[misc]
            assert run_healthcheck(service, port) == 0
        failures = _samples(ports["ingest"])
        # Ingest labels its failures by outlet too; a loop-level Redis failure has an empty outlet.
        redis_failures = sum(
            v
            for (name, labels), v in failures.items()
            if name == "newswire_ingest_feed_failures_total" and dict(labels).get("reason") == "redis"
        )
        assert redis_failures >= 1
        assert _samples(ports["store"])[("newswire_store_batch_failures_total", (("reason", "redis"),))] >= 1
    finally:
        for proc in reversed(procs):
            _stop(proc)


# --- Passwords and TLS reach every client ---------------------------------------------------------


def _run_once(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return newswire("run", "--once", "--json", "--timeout", "240", env=env, timeout=300)


def test_password_protected_redis_works_through_the_redis_url(service_env: dict[str, str], tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis", "--requirepass", "s3cret-pass")
    server.start(lambda: redis.Redis(port=server.port, password="s3cret-pass").ping())
    try:
        env = {**service_env, "NEWSWIRE_DB_URL": f"sqlite:///{tmp_path / 'db.sqlite'}", "NEWSWIRE_NER_BACKEND": "onnx"}
        wrong = _run_once({**env, "NEWSWIRE_REDIS_URL": f"redis://:wr0ng-pass@127.0.0.1:{server.port}/0"})
        assert wrong.returncode == 2
        assert "invalid username-password pair" in wrong.stderr
        assert "wr0ng-pass" not in wrong.stderr, "the password leaked into the message"

        # ingest (in this process), the Celery broker, extract's streams and store: all one URL.
        result = _run_once({**env, "NEWSWIRE_REDIS_URL": f"redis://:s3cret-pass@127.0.0.1:{server.port}/0"})
        assert summary(result)["articles_stored"] == 3
    finally:
        server.stop()


def _self_signed(directory: Path) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("openssl is missing: install it (Debian: apt-get install openssl) to test TLS")
    cert, key = directory / "redis.crt", directory / "redis.key"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    return cert, key


def test_tls_redis_works_through_a_rediss_url(service_env: dict[str, str], tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    server = RedisServer(
        tmp_path / "redis",
        "--tls-cert-file",
        str(cert),
        "--tls-key-file",
        str(key),
        "--tls-ca-cert-file",
        str(cert),
        "--tls-auth-clients",
        "no",
        tls=True,
    )
    url = f"rediss://127.0.0.1:{server.port}/0?ssl_cert_reqs=required&ssl_ca_certs={cert}"
    server.start(lambda: redis.Redis.from_url(url).ping())
    try:
        env = {**service_env, "NEWSWIRE_DB_URL": f"sqlite:///{tmp_path / 'db.sqlite'}", "NEWSWIRE_NER_BACKEND": "onnx"}
        # Plain text to a TLS port gets nowhere: the scheme really switches TLS on.
        with pytest.raises(redis.ConnectionError):
            redis.Redis(port=server.port, socket_timeout=2).ping()
        result = _run_once({**env, "NEWSWIRE_REDIS_URL": url})
        assert summary(result)["articles_stored"] == 3
    finally:
        server.stop()


def test_postgres_sslmode_reaches_the_database_client(pg_url: str) -> None:
    """The test server speaks no TLS, so sslmode=require must fail there, naming SSL, while
    sslmode=disable connects: the setting reaches libpq through NEWSWIRE_DB_URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWIRE_")}
    required = subprocess.run(
        [*_newswire_argv(), "migrate"],
        env={**env, "NEWSWIRE_DB_URL": f"{pg_url}?sslmode=require"},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        check=False,
    )
    assert required.returncode != 0
    assert "SSL" in required.stderr
    disabled = subprocess.run(
        [*_newswire_argv(), "migrate"],
        env={**env, "NEWSWIRE_DB_URL": f"{pg_url}?sslmode=disable"},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        check=False,
    )
    assert disabled.returncode == 0, disabled.stderr


def _newswire_argv() -> list[str]:
    return [sys.executable, "-m", "services.cli"]
