"""Log formatting: one readable line (or one JSON object) per record, with the context as key=value."""

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

import pytest

from services.common.logs import JsonFormatter, TextFormatter

CREATED = datetime(2024, 12, 5, 12, 34, 56, 789000, tzinfo=UTC).timestamp()


def record(
    msg: str,
    args: tuple[object, ...] = (),
    extra: dict[str, object] | None = None,
    level: int = logging.INFO,
    exc: bool = False,
) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError("feed body is not XML")
        except ValueError:
            exc_info = sys.exc_info()
    made = logging.getLogger("newswire.test").makeRecord(
        "newswire.ingest.service", level, __file__, 1, msg, args, exc_info, extra=extra
    )
    made.created = CREATED
    return made


@pytest.mark.parametrize(
    ("service", "made", "expected"),
    [
        ("ingest", record("polled"), "12:34:56 INFO    ingest  polled"),
        (
            "ingest",
            record("polled %s: %d entries", ("rfa", 3), {"feed": "rfa", "entries": 3}),
            "12:34:56 INFO    ingest  polled rfa: 3 entries  feed=rfa entries=3",
        ),
        (
            "extract",
            record("tagged", extra={"article": "0123abcd", "version": "v9"}, level=logging.WARNING),
            "12:34:56 WARNING extract tagged  article=0123abcd version=v9",
        ),
        (
            "store",
            record("commit failed", extra={"error": None, "task": 7}, level=logging.ERROR),
            "12:34:56 ERROR   store   commit failed  error=None task=7",
        ),
        ("newswire", record("100% done"), "12:34:56 INFO    newswire 100% done"),
    ],
)
def test_text_formatter(service: str, made: logging.LogRecord, expected: str) -> None:
    assert TextFormatter(service).format(made) == expected


def test_text_formatter_appends_the_traceback() -> None:
    lines = TextFormatter("ingest").format(record("parse failed", extra={"feed": "rfa"}, exc=True)).splitlines()
    assert lines[0] == "12:34:56 INFO    ingest  parse failed  feed=rfa"
    assert lines[1] == "Traceback (most recent call last):"
    assert lines[-1] == "ValueError: feed body is not XML"


@pytest.mark.parametrize(
    ("service", "made", "expected"),
    [
        (
            "ingest",
            record("polled"),
            {
                "ts": "2024-12-05T12:34:56.789000+00:00",
                "level": "INFO",
                "service": "ingest",
                "logger": "newswire.ingest.service",
                "msg": "polled",
            },
        ),
        (
            "ingest",
            record("polled %s: %d entries", ("rfa", 3), {"feed": "rfa", "entries": 3, "ok": True, "lag": 1.5}),
            {
                "ts": "2024-12-05T12:34:56.789000+00:00",
                "level": "INFO",
                "service": "ingest",
                "logger": "newswire.ingest.service",
                "msg": "polled rfa: 3 entries",
                "feed": "rfa",
                "entries": 3,
                "ok": True,
                "lag": 1.5,
            },
        ),
        (
            "store",
            record(
                "Kachin’s “news” — saved",
                extra={"error": None, "ids": ["a", "b"], "when": datetime(2024, 1, 1, tzinfo=UTC)},
                level=logging.ERROR,
            ),
            {
                "ts": "2024-12-05T12:34:56.789000+00:00",
                "level": "ERROR",
                "service": "store",
                "logger": "newswire.ingest.service",
                "msg": "Kachin’s “news” — saved",
                "error": None,
                "ids": ["a", "b"],
                "when": "2024-01-01 00:00:00+00:00",
            },
        ),
    ],
)
def test_json_formatter(service: str, made: logging.LogRecord, expected: dict[str, Any]) -> None:
    line = JsonFormatter(service).format(made)
    assert "\n" not in line
    assert json.loads(line) == expected


def test_json_formatter_carries_the_traceback() -> None:
    entry = json.loads(JsonFormatter("ingest").format(record("parse failed", extra={"feed": "rfa"}, exc=True)))
    assert entry["feed"] == "rfa"
    assert entry["exc"].startswith("Traceback (most recent call last):")
    assert entry["exc"].endswith("ValueError: feed body is not XML")


def test_formatters_see_extras_passed_through_a_logger(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("newswire.test.logs")
    with caplog.at_level(logging.INFO, logger="newswire.test.logs"):
        logger.info("queued %s", "abc", extra={"article": "abc", "version": "v1"})
    [made] = caplog.records
    assert TextFormatter("ingest").format(made).endswith("queued abc  article=abc version=v1")
    entry = json.loads(JsonFormatter("ingest").format(made))
    assert (entry["msg"], entry["article"], entry["version"]) == ("queued abc", "abc", "v1")
