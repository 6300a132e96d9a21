"""The Grafana dashboards checked as data: valid JSON with what Grafana needs to load them, wired to
the provisioned Prometheus data source, and querying only metrics the services declare. (That the
services really expose them on their live /metrics, and that Prometheus evaluates every query, is
checked end to end in tests/e2e/test_observability.py.)"""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase

import services.ingest.metrics
from tests.observability import (
    DASHBOARDS,
    SAMPLE_SUFFIXES,
    dashboards,
    declared_samples,
    metric_names,
    panels,
    queries,
)

REPO = Path(__file__).resolve().parents[2]
PROVISIONING = REPO / "deploy" / "grafana" / "provisioning"
DRILL_DOWNS = {"newswire-ingest", "newswire-extract", "newswire-store"}


def _datasource() -> dict[str, Any]:
    (source,) = yaml.safe_load((PROVISIONING / "datasources" / "prometheus.yml").read_text())["datasources"]
    assert isinstance(source, dict)
    return source


def test_the_provider_loads_the_dashboards_from_where_compose_mounts_them() -> None:
    (provider,) = yaml.safe_load((PROVISIONING / "dashboards" / "newswire.yml").read_text())["providers"]
    assert provider["type"] == "file"
    # docker-compose.yml mounts deploy/grafana/provisioning at /etc/grafana/provisioning.
    mounted = Path("/etc/grafana/provisioning") / DASHBOARDS.relative_to(PROVISIONING)
    assert provider["options"]["path"] == str(mounted)
    assert len(dashboards()) == 1 + len(DRILL_DOWNS)


def test_there_is_an_overview_and_a_drill_down_per_service() -> None:
    uids = {board["uid"] for board in dashboards().values()}
    assert uids == {"newswire-overview"} | DRILL_DOWNS
    for name, board in dashboards().items():
        assert name == f"{board['uid']}.json"


@pytest.mark.parametrize("name", sorted(path.name for path in DASHBOARDS.glob("*.json")))
def test_dashboard_has_what_grafana_needs(name: str) -> None:
    board = dashboards()[name]
    assert isinstance(board["uid"], str) and 0 < len(board["uid"]) <= 40, "Grafana caps uids at 40 characters"
    assert board["title"].startswith("Newswire")
    assert isinstance(board["schemaVersion"], int) and board["schemaVersion"] >= 36
    assert "id" not in board or board["id"] is None, "a fixed id clashes with Grafana's database ids"
    assert "newswire" in board["tags"]
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    uid = _datasource()["uid"]
    cells: set[tuple[int, int]] = set()
    for panel in board["panels"]:
        grid = panel["gridPos"]
        assert set(grid) == {"h", "w", "x", "y"}
        assert grid["x"] >= 0 and grid["w"] > 0 and grid["x"] + grid["w"] <= 24, f"{panel['title']} is off the grid"
        covered = {
            (x, y) for x in range(grid["x"], grid["x"] + grid["w"]) for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not covered & cells, f"{panel['title']} overlaps another panel"
        cells |= covered
    for panel in panels(board):
        assert panel["type"] in ("timeseries", "stat", "gauge", "table", "bargauge"), panel["type"]
        assert panel["title"]
        assert panel["datasource"] == {"type": "prometheus", "uid": uid}
        assert panel["targets"], f"{panel['title']} has no query"
        ref_ids = [target["refId"] for target in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids))
        for target in panel["targets"]:
            assert target["expr"].strip()
            assert target["datasource"] == panel["datasource"]
    variables = {variable["name"] for variable in board["templating"]["list"]}
    for panel in panels(board):
        for target in panel["targets"]:
            used = set(re.findall(r"\$(\w+)", target["expr"])) - {"__rate_interval", "__interval", "__range"}
            assert used <= variables, f"{panel['title']} uses undefined variables {used - variables}"


def test_overview_shows_what_the_issue_asks_for() -> None:
    overview = dashboards()["newswire-overview.json"]
    exprs = " ".join(t["expr"] for panel in panels(overview) for t in panel["targets"])
    for metric in (
        "newswire_ingest_articles_queued_total",  # rate per stage
        "newswire_extract_tasks_total",
        "newswire_store_messages_total",
        "newswire_store_batch_failures_total",  # errors
        "newswire_extract_task_duration_seconds_bucket",  # duration per stage
        "newswire_store_fetch_to_commit_seconds_bucket",  # end-to-end latency
        "newswire_ingest_extract_queue_messages",  # backlog
        "newswire_store_consumer_lag_messages",
        "newswire_ingest_feed_failures_total",  # feed health
        "newswire_extract_mentions_total",  # entities per hour
    ):
        assert metric in exprs


def test_ingest_dashboard_shows_the_schedule_and_feed_health() -> None:
    """Feeds due, overdue and broken, the schedule lag, articles per outlet, and Zawgyi conversions
    (issue 3's later metrics)."""
    exprs = [t["expr"] for panel in panels(dashboards()["newswire-ingest.json"]) for t in panel["targets"]]
    named = set().union(*(metric_names(expr) for expr in exprs))
    assert {
        "newswire_ingest_feeds_due",
        "newswire_ingest_feeds_overdue",
        "newswire_ingest_feeds_broken",
        "newswire_ingest_schedule_lag_seconds_bucket",
        "newswire_ingest_feeds_marked_broken_total",
        "newswire_ingest_zawgyi_converted_total",
    } <= named
    # Every replica reports the one shared schedule: summing the replicas would multiply the feeds.
    for gauge in ("feeds_due", "feeds_overdue", "feeds_broken"):
        [expr] = [e for e in exprs if f"newswire_ingest_{gauge}{{" in e]
        assert expr.startswith("max("), expr
    per_outlet = [e for e in exprs if "newswire_ingest_articles_total" in e and "by (outlet)" in e]
    assert per_outlet, "no panel shows articles per outlet"
    for expr in per_outlet:
        assert 'result=~"new|changed"' in expr, expr


def test_every_ingest_metric_is_on_the_ingest_dashboard() -> None:
    """An operator who reads a metric's name in the runbook finds it in the drill-down (host backoffs,
    moved feeds, article pages, fetch and parse time and bytes were once declared and shown nowhere)."""
    shown = set().union(
        *(metric_names(t["expr"]) for panel in panels(dashboards()["newswire-ingest.json"]) for t in panel["targets"])
    )
    missing = []
    for value in vars(services.ingest.metrics).values():
        if isinstance(value, MetricWrapperBase):
            for family in value.describe():
                samples = {family.name + suffix for suffix in SAMPLE_SUFFIXES[family.type]}
                if not samples & shown:
                    missing.append(family.name)
    assert not missing, f"ingest metrics on no panel of its dashboard: {sorted(missing)}"


def test_drill_downs_filter_by_instance() -> None:
    for uid in DRILL_DOWNS:
        board = dashboards()[f"{uid}.json"]
        variables = {variable["name"]: variable for variable in board["templating"]["list"]}
        service = uid.removeprefix("newswire-")
        assert f'up{{job="{service}"}}' in variables["instance"]["query"]["query"]
        own = [t["expr"] for panel in panels(board) for t in panel["targets"] if f"newswire_{service}_" in t["expr"]]
        assert own
        for expr in own:
            if "newswire_store_api_" in expr:  # the read API's replicas are a job of their own
                assert 'up{job="api"}' in variables["api_instance"]["query"]["query"]
                assert 'instance=~"$api_instance"' in expr
            elif "queue_messages" not in expr:  # the extract queue is one, whoever samples it
                assert 'instance=~"$instance"' in expr


def test_every_metric_in_a_dashboard_or_alert_is_declared_by_a_service() -> None:
    declared = declared_samples()
    used = {(where, name) for where, expr in queries() for name in metric_names(expr)}
    assert len(used) > 50
    unknown = sorted(f"{where}: {name}" for where, name in used if name not in declared)
    assert not unknown, "queries name metrics no service declares:\n" + "\n".join(unknown)


def test_the_metric_name_check_catches_a_misspelt_metric() -> None:
    assert metric_names('sum(rate(newswire_store_mesages_total{outcome="stored"}[5m]))') == {
        "newswire_store_mesages_total"
    }
    assert "newswire_store_mesages_total" not in declared_samples()
