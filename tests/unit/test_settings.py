"""Settings from NEWSWIRE_* variables: defaults, and errors that name the variable that is wrong."""

import os
from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from services.common.names import Keys
from services.common.settings import CommonSettings, SettingsError, load
from services.extract.settings import ExtractSettings
from services.ingest.settings import IngestSettings
from services.store.settings import StoreSettings


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the variables a test sets are seen, whatever the developer's shell exports."""
    for name in list(os.environ):
        if name.upper().startswith("NEWSWIRE_"):
            monkeypatch.delenv(name)


def test_common_defaults() -> None:
    settings = load(CommonSettings)
    assert (
        settings.redis_url,
        settings.redis_namespace,
        settings.visibility_timeout_s,
        settings.log_level,
        settings.log_format,
    ) == ("redis://127.0.0.1:6379/0", "newswire", 900, "INFO", "text")


def test_ingest_defaults() -> None:
    settings = load(IngestSettings)
    assert settings.feeds == Path("feeds.yaml")
    assert settings.fetch_timeout_s == 20.0
    assert settings.max_feed_bytes == 10 * 1024 * 1024
    assert settings.ingest_metrics_port == 9101
    assert settings.user_agent.startswith("Newswire/")
    assert settings.redis_namespace == "newswire"


def test_extract_defaults() -> None:
    settings = load(ExtractSettings)
    assert (settings.ner_backend, settings.ner_model, settings.ner_fallback) == (
        "transformers",
        "dslim/bert-base-NER",
        True,
    )
    assert (settings.ner_stride, settings.ner_min_score, settings.extract_concurrency) == (32, 0.5, 1)
    assert (settings.extract_max_retries, settings.tagged_maxlen, settings.extract_metrics_port) == (5, 100_000, 9102)


def test_store_defaults() -> None:
    settings = load(StoreSettings)
    assert settings.db_url == "sqlite:///data/newswire.db"
    assert (settings.store_batch_size, settings.store_block_ms, settings.store_claim_idle_s) == (1000, 1000, 60)
    assert (settings.events_maxlen, settings.store_consumer_name, settings.auto_migrate) == (1_000_000, None, True)
    assert settings.store_metrics_port == 9103


@pytest.mark.parametrize(
    ("cls", "variable", "value", "attribute", "expected"),
    [
        (IngestSettings, "NEWSWIRE_INGEST_METRICS_PORT", "9999", "ingest_metrics_port", 9999),
        (IngestSettings, "NEWSWIRE_FEEDS", "/etc/newswire/feeds.yaml", "feeds", Path("/etc/newswire/feeds.yaml")),
        (IngestSettings, "NEWSWIRE_FETCH_TIMEOUT_S", "2.5", "fetch_timeout_s", 2.5),
        (IngestSettings, "NEWSWIRE_LOG_FORMAT", "json", "log_format", "json"),
        (IngestSettings, "newswire_log_level", "DEBUG", "log_level", "DEBUG"),
        (ExtractSettings, "NEWSWIRE_NER_BACKEND", "spacy", "ner_backend", "spacy"),
        (ExtractSettings, "NEWSWIRE_NER_FALLBACK", "false", "ner_fallback", False),
        (StoreSettings, "NEWSWIRE_DB_URL", "postgresql://u@h/db", "db_url", "postgresql://u@h/db"),
        (StoreSettings, "NEWSWIRE_AUTO_MIGRATE", "0", "auto_migrate", False),
        (StoreSettings, "NEWSWIRE_REDIS_URL", "rediss://:pw@redis:6380/2", "redis_url", "rediss://:pw@redis:6380/2"),
    ],
)
def test_variables_are_read(
    monkeypatch: pytest.MonkeyPatch,
    cls: type[BaseSettings],
    variable: str,
    value: str,
    attribute: str,
    expected: object,
) -> None:
    monkeypatch.setenv(variable, value)
    assert getattr(load(cls), attribute) == expected


@pytest.mark.parametrize(
    ("cls", "variable", "value", "problem"),
    [
        (IngestSettings, "NEWSWIRE_INGEST_METRICS_PORT", "notaport", "valid integer"),
        (IngestSettings, "NEWSWIRE_INGEST_METRICS_PORT", "70000", "less than or equal to 65535"),
        (IngestSettings, "NEWSWIRE_INGEST_METRICS_PORT", "-1", "greater than or equal to 0"),
        (IngestSettings, "NEWSWIRE_FETCH_TIMEOUT_S", "0", "greater than 0"),
        (IngestSettings, "NEWSWIRE_MAX_FEED_BYTES", "lots", "valid integer"),
        (IngestSettings, "NEWSWIRE_REDIS_NAMESPACE", "has space", "should match pattern"),
        (IngestSettings, "NEWSWIRE_VISIBILITY_TIMEOUT_S", "0", "greater than 0"),
        (IngestSettings, "NEWSWIRE_LOG_LEVEL", "LOUD", "'DEBUG', 'INFO', 'WARNING' or 'ERROR'"),
        (IngestSettings, "NEWSWIRE_LOG_FORMAT", "xml", "'text' or 'json'"),
        (ExtractSettings, "NEWSWIRE_NER_BACKEND", "regex", "'transformers', 'onnx' or 'spacy'"),
        (ExtractSettings, "NEWSWIRE_NER_MIN_SCORE", "1.5", "less than or equal to 1"),
        (ExtractSettings, "NEWSWIRE_EXTRACT_CONCURRENCY", "0", "greater than or equal to 1"),
        (ExtractSettings, "NEWSWIRE_NER_FALLBACK", "maybe", "valid boolean"),
        (StoreSettings, "NEWSWIRE_STORE_BATCH_SIZE", "20000", "less than or equal to 10000"),
        (StoreSettings, "NEWSWIRE_STORE_BLOCK_MS", "5", "greater than or equal to 10"),
        (StoreSettings, "NEWSWIRE_AUTO_MIGRATE", "maybe", "valid boolean"),
    ],
)
def test_bad_variable_is_named_in_the_error(
    monkeypatch: pytest.MonkeyPatch, cls: type[BaseSettings], variable: str, value: str, problem: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load(cls)
    lines = str(caught.value).splitlines()
    assert lines[0] == "invalid settings:"
    assert len(lines) == 2
    assert lines[1].strip().startswith(f"{variable}: ")
    assert problem in lines[1]
    assert repr(value) in lines[1]


def test_every_bad_variable_gets_its_own_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSWIRE_INGEST_METRICS_PORT", "notaport")
    monkeypatch.setenv("NEWSWIRE_LOG_LEVEL", "LOUD")
    monkeypatch.setenv("NEWSWIRE_FETCH_TIMEOUT_S", "-3")
    with pytest.raises(SettingsError) as caught:
        load(IngestSettings)
    named = sorted(line.strip().split(":")[0] for line in str(caught.value).splitlines()[1:])
    assert named == ["NEWSWIRE_FETCH_TIMEOUT_S", "NEWSWIRE_INGEST_METRICS_PORT", "NEWSWIRE_LOG_LEVEL"]


def test_another_services_variable_does_not_affect_this_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSWIRE_INGEST_METRICS_PORT", "notaport")
    assert load(StoreSettings).store_metrics_port == 9103
    with pytest.raises(SettingsError, match="NEWSWIRE_INGEST_METRICS_PORT"):
        load(IngestSettings)


def test_unprefixed_variable_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INGEST_METRICS_PORT", "1234")
    monkeypatch.setenv("REDIS_URL", "redis://elsewhere:6379/0")
    settings = load(IngestSettings)
    assert (settings.ingest_metrics_port, settings.redis_url) == (9101, "redis://127.0.0.1:6379/0")


@pytest.mark.parametrize(
    ("namespace", "tagged", "events", "seen", "celery_prefix"),
    [
        (None, "newswire:tagged", "newswire:events", "newswire:ingest:seen", "newswire:celery:"),
        (
            "nwtest-abc123",
            "nwtest-abc123:tagged",
            "nwtest-abc123:events",
            "nwtest-abc123:ingest:seen",
            "nwtest-abc123:celery:",
        ),
        ("prod.eu:1", "prod.eu:1:tagged", "prod.eu:1:events", "prod.eu:1:ingest:seen", "prod.eu:1:celery:"),
    ],
)
def test_keys_use_the_namespace(
    monkeypatch: pytest.MonkeyPatch,
    namespace: str | None,
    tagged: str,
    events: str,
    seen: str,
    celery_prefix: str,
) -> None:
    if namespace is not None:
        monkeypatch.setenv("NEWSWIRE_REDIS_NAMESPACE", namespace)
    for cls in (IngestSettings, ExtractSettings, StoreSettings):
        keys = load(cls).keys
        assert isinstance(keys, Keys)
        assert (keys.tagged, keys.events, keys.ingest_seen, keys.celery_prefix) == (tagged, events, seen, celery_prefix)
        assert keys.tagged_dead == f"{tagged}:dead"
        assert keys.extract_dead.endswith(":extract:dead")
        assert keys.extract_dead.startswith(keys.namespace + ":")


def test_settings_are_frozen() -> None:
    settings = load(IngestSettings)
    with pytest.raises(ValueError, match="frozen"):
        settings.ingest_metrics_port = 1  # type: ignore[misc]
