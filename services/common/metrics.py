"""Helpers for exposing each service's Prometheus metrics.

Metric names follow the Prometheus naming guide: ``newswire_<service>_<thing>_<unit>[_total]``, base
units (seconds, bytes), bounded label values only. Each service declares its own metrics, once, in
its own ``metrics`` module.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, multiprocess, start_http_server

NAMESPACE = "newswire"

# Buckets in seconds for end-to-end latencies, which range from seconds to days.
E2E_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 12 * 3600, 86400, 3 * 86400)


def serve(port: int, addr: str = "0.0.0.0") -> None:
    """Serve ``/metrics`` of this process's default registry on a daemon thread. Port 0 disables."""
    if port:
        start_http_server(port, addr=addr)


def serve_multiprocess(port: int, addr: str = "0.0.0.0") -> None:
    """Serve ``/metrics`` aggregated over every process that writes to ``PROMETHEUS_MULTIPROC_DIR``
    (Celery's prefork children), as prometheus-client's multiprocess mode prescribes."""
    if not port:
        return
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    start_http_server(port, addr=addr, registry=registry)


@contextmanager
def multiprocess_dir(path: str) -> Iterator[str]:
    """Prepare an empty multiprocess directory: stale files from a previous run would be summed in."""
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        if name.endswith(".db"):
            os.remove(os.path.join(path, name))
    yield path
