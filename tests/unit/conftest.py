"""Unit tests are pure: any attempt to open a network connection fails the test."""

import socket
from collections.abc import Iterator

import pytest


class NetworkUsedInUnitTestError(RuntimeError):
    pass


@pytest.fixture(autouse=True)
def _no_sockets(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def refuse(*args: object, **kwargs: object) -> None:
        raise NetworkUsedInUnitTestError("unit tests must not open sockets; move this test to tests/integration")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    yield
