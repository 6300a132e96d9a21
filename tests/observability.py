"""What the Grafana dashboards and the Prometheus alert rules ask of the services, as data: every
PromQL query, the metric names it uses, and the sample names a live ``/metrics`` page exposes."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.parser import text_string_to_metric_families

import services.extract.metrics
import services.ingest.metrics
import services.store.api
import services.store.metrics

REPO = Path(__file__).resolve().parent.parent
DASHBOARDS = REPO / "deploy" / "grafana" / "provisioning" / "dashboards"
RULES = REPO / "deploy" / "prometheus" / "alerts.yml"
COMPOSE = REPO / "docker-compose.yml"

# The samples prometheus-client exposes for each metric type, as suffixes of the family's name.
SAMPLE_SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
    "info": ("_info",),
    "unknown": ("",),
}
# Grafana's built-in variables, and the dashboards' own, as Prometheus would see them substituted.
GRAFANA_VARIABLES = {
    "$__rate_interval": "1m",
    "$__interval": "15s",
    "$__range": "1h",
    "$instance": ".*",
    "$api_instance": ".*",
}
_METRIC = re.compile(r"\bnewswire_[a-z0-9_]+")


def dashboards() -> dict[str, dict[str, Any]]:
    """Every dashboard file, by file name."""
    return {path.name: json.loads(path.read_text()) for path in sorted(DASHBOARDS.glob("*.json"))}


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """The dashboard's panels, those inside rows included, rows themselves excluded."""
    found: list[dict[str, Any]] = []
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            found.extend(panel.get("panels") or [])
        else:
            found.append(panel)
    return found


def alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def queries() -> list[tuple[str, str]]:
    """(where, PromQL) of every dashboard target, template variable and alert rule."""
    found = []
    for name, dashboard in dashboards().items():
        for panel in panels(dashboard):
            for target in panel.get("targets") or []:
                found.append((f"{name}: {panel['title']} [{target['refId']}]", str(target["expr"])))
        for variable in dashboard.get("templating", {}).get("list", []):
            query = variable.get("query")
            if isinstance(query, dict):
                query = query.get("query")
            match = re.fullmatch(r"label_values\((.+),\s*\w+\)", str(query or ""))
            if match:
                found.append((f"{name}: variable {variable['name']}", match[1]))
    for rule in alert_rules():
        found.append((f"alerts.yml: {rule.get('alert') or rule.get('record')}", str(rule["expr"])))
    return found


def metric_names(expr: str) -> set[str]:
    """The Newswire metrics a PromQL expression names (Prometheus's own ``up`` aside)."""
    return set(_METRIC.findall(expr))


def for_prometheus(expr: str) -> str:
    """The query as Grafana sends it: its variables substituted."""
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    return expr


def exposed_samples(metrics_text: str) -> set[str]:
    """Every sample name a /metrics page can carry: the samples it shows, and for each metric family
    the samples of its type (a labelled counter shows no sample before its first increment)."""
    names: set[str] = set()
    for family in text_string_to_metric_families(metrics_text):
        names.update(family.name + suffix for suffix in SAMPLE_SUFFIXES.get(family.type, ("",)))
        names.update(sample.name for sample in family.samples)
    return names


def run_healthcheck(service: str, metrics_port: int) -> int:
    """Run the healthcheck docker-compose.yml gives a service, as Docker would inside its container
    (``CMD python -c ...``), against the service listening on ``metrics_port``; its exit status."""
    test = yaml.safe_load(COMPOSE.read_text())["services"][service]["healthcheck"]["test"]
    assert test[:2] == ["CMD", "python"], test
    (variable,) = re.findall(r"os\.environ\.get\('(NEWSWIRE_\w+_PORT)'", test[-1])
    env = {**os.environ, variable: str(metrics_port)}
    return subprocess.run([sys.executable, *test[2:]], env=env, timeout=30, check=False).returncode


def shown_samples(metrics_text: str) -> set[str]:
    """The sample names a /metrics page carries right now."""
    return {sample.name for family in text_string_to_metric_families(metrics_text) for sample in family.samples}


# The read API declares its metrics beside its routes, in services/store/api.py.
METRICS_MODULES: tuple[ModuleType, ...] = (
    services.ingest.metrics,
    services.extract.metrics,
    services.store.metrics,
    services.store.api,
)


def declared_samples() -> set[str]:
    """Every sample name the services' metrics modules can expose."""
    names: set[str] = set()
    for module in METRICS_MODULES:
        for value in vars(module).values():
            if isinstance(value, MetricWrapperBase):
                for family in value.describe():
                    names.update(family.name + suffix for suffix in SAMPLE_SUFFIXES[family.type])
    return names
