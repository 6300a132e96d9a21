"""The extract Celery app: ``celery -A services.extract.celery_app worker`` loads ``app`` from here.

Celery's command line needs the app as a module attribute, so this module, alone in the project,
reads its settings when imported. ``newswire extract`` prepares the environment and runs it.
"""

import logging
import os
from typing import Any

from celery import Celery, bootsteps, signals
from prometheus_client import multiprocess

from services.common import logs
from services.common import metrics as common_metrics
from services.common.celery_config import make_app
from services.common.settings import load
from services.extract import metrics
from services.extract.settings import ExtractSettings
from services.extract.tasks import WorkerState, register

log = logging.getLogger(__name__)


class Readiness(bootsteps.StartStopStep):  # type: ignore[misc]
    """Readiness as the consumer sees it: Celery starts the consumer's steps once the broker
    connection is up, and stops them when it is lost (before reconnecting) or at shutdown."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def start(self, consumer: Any) -> None:
        metrics.READY.set(1)

    def stop(self, consumer: Any) -> None:
        metrics.READY.set(0)

    def shutdown(self, consumer: Any) -> None:
        metrics.READY.set(0)


def create_app(settings: ExtractSettings) -> Celery:
    app = make_app("extract", settings.redis_url, settings.keys, settings.visibility_timeout_s)
    app.conf.worker_concurrency = settings.extract_concurrency
    register(app, WorkerState(settings))
    app.steps["consumer"].add(Readiness)

    @signals.setup_logging.connect(weak=False)
    def _logging(**_: Any) -> None:
        logs.setup("extract", settings.log_level, settings.log_format)
        # Celery logs every task's full arguments on receipt and success; the task logs a short line.
        for chatty in ("celery.app.trace", "celery.worker.strategy"):
            logging.getLogger(chatty).setLevel(logging.WARNING)

    @signals.worker_init.connect(weak=False)
    def _serve_metrics(**_: Any) -> None:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            common_metrics.serve_multiprocess(settings.extract_metrics_port)
            log.info("metrics served", extra={"port": settings.extract_metrics_port})

    @signals.worker_process_shutdown.connect(weak=False)
    def _forget_process(pid: int | None = None, **_: Any) -> None:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            multiprocess.mark_process_dead(pid or os.getpid())  # type: ignore[no-untyped-call]

    return app


app = create_app(load(ExtractSettings))
