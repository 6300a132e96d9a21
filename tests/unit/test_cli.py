"""The `newswire` command's error path, in the shape of the per-service images: a service's image
lacks the other services' dependencies, so printing an error must not need them."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

# Runs the CLI in a fresh interpreter in which the named modules cannot be imported.
RUNNER = """
import sys
for name in sys.argv[1].split(","):
    sys.modules[name] = None  # makes `import name` raise ImportError
from services.cli import main
sys.exit(main(sys.argv[2:]))
"""


def _newswire(blocked: list[str], args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", RUNNER, ",".join(blocked), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_ingest_without_store_dependencies_reports_a_missing_registry(tmp_path: Path) -> None:
    result = _newswire(
        ["alembic", "sqlalchemy"], ["ingest", "--once"], {"NEWSWIRE_FEEDS": str(tmp_path / "missing.yaml")}
    )
    assert result.returncode == 2, result.stderr
    assert "missing.yaml: no such feed registry" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [("NEWSWIRE_STORE_BATCH_SIZE", "many"), ("NEWSWIRE_REDIS_NAMESPACE", "has space")],
)
def test_store_without_ingest_dependencies_names_the_bad_setting(variable: str, value: str) -> None:
    result = _newswire(["yaml", "feedparser", "httpx"], ["store"], {variable: value})
    assert result.returncode == 2, result.stderr
    assert variable in result.stderr
    assert "Traceback" not in result.stderr
