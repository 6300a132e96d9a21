"""Helpers for running ``newswire`` as real subprocesses, each test in its own namespace."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, SAMPLE_FEEDS
from tests.tiny_ner import build


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("tiny-ner") / "model", max_length=16)


@pytest.fixture
def service_env(namespace: str, redis_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment for newswire subprocesses: this test's Redis namespace, no fixed metrics ports
    (tests run side by side), the bundled sample feeds."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWIRE_")}
    env.update(
        NEWSWIRE_REDIS_URL=redis_url,
        NEWSWIRE_REDIS_NAMESPACE=namespace,
        NEWSWIRE_FEEDS=str(SAMPLE_FEEDS),
        # Tests serve feeds from 127.0.0.1, which ingest refuses by default (server-side request forgery).
        NEWSWIRE_INGEST_ALLOW_NETWORKS="127.0.0.0/8",
        NEWSWIRE_INGEST_METRICS_PORT="0",
        NEWSWIRE_EXTRACT_METRICS_PORT="0",
        NEWSWIRE_STORE_METRICS_PORT="0",
        NEWSWIRE_STORE_API_PORT="0",
        NEWSWIRE_EXTRACT_METRICS_DIR=str(tmp_path / "prometheus"),
        HF_HUB_OFFLINE="1",
        PYTHONUNBUFFERED="1",
    )
    yield env


def newswire(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def summary(result: subprocess.CompletedProcess[str]) -> dict[str, int]:
    assert result.returncode == 0, f"newswire failed ({result.returncode}):\n{result.stdout}\n{result.stderr[-5000:]}"
    last = result.stdout.strip().splitlines()[-1]
    parsed: dict[str, int] = json.loads(last)
    return parsed
