"""Credentials in Redis and database URLs never reach a message or a log line."""

import pytest

from services.common.settings import redact_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:s3cret@redis:6379/0", "redis://:***@redis:6379/0"),
        (
            "rediss://default:s3cret@cache.example.org:6380/1?ssl_cert_reqs=required",
            "rediss://default:***@cache.example.org:6380/1?ssl_cert_reqs=required",
        ),
        (
            "postgresql://newswire:pa%40ss@postgres:5432/newswire?sslmode=require",
            "postgresql://newswire:***@postgres:5432/newswire?sslmode=require",
        ),
        ("postgresql://newswire:pw@[::1]/newswire", "postgresql://newswire:***@[::1]/newswire"),
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("sqlite:///data/newswire.db", "sqlite:///data/newswire.db"),
    ],
)
def test_redact_url_hides_the_password_and_keeps_the_rest(url: str, shown: str) -> None:
    assert redact_url(url) == shown
