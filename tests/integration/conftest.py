"""Integration fixtures: every Ingest a test built is closed afterwards (its sockets included)."""

from collections.abc import Iterator

import pytest

from tests.integration.ingest_helpers import close_all


@pytest.fixture(autouse=True)
def _close_ingests() -> Iterator[None]:
    yield
    close_all()
