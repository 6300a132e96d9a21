"""The Prometheus configuration and alert rules, checked by Prometheus's own promtool: the config and
the rules must load, and every alert's unit tests (deploy/prometheus/tests/alerts_test.yml) must pass.

promtool comes from Debian's ``prometheus`` package; ``make test`` installs it (scripts/ensure-promtool).
A missing promtool fails these tests: an alert nobody evaluated is a hope, not a check.
"""

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = REPO / "deploy" / "prometheus"
CONFIG = PROMETHEUS_DIR / "prometheus.yml"
RULES = PROMETHEUS_DIR / "alerts.yml"
RULE_TESTS = PROMETHEUS_DIR / "tests" / "alerts_test.yml"
DEPLOYMENT_GUIDE = REPO / "docs" / "deployment.md"


def _promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is missing: run scripts/ensure-promtool (Debian: apt-get install prometheus)")
    return subprocess.run(
        [promtool, *map(str, args)], capture_output=True, text=True, timeout=120, check=False, cwd=REPO
    )


def _rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def _alerts() -> set[str]:
    return {rule["alert"] for rule in _rules() if "alert" in rule}


def _cases() -> list[dict[str, Any]]:
    """Every alert_rule_test entry of the rules' unit tests."""
    tests = yaml.safe_load(RULE_TESTS.read_text())["tests"]
    return [case for test in tests for case in test.get("alert_rule_test") or []]


def test_promtool_accepts_the_prometheus_config() -> None:
    result = _promtool("check", "config", CONFIG)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_accepts_the_alert_rules() -> None:
    result = _promtool("check", "rules", RULES)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(_rules())} rules found" in result.stdout


def test_alert_rules_pass_their_unit_tests() -> None:
    result = _promtool("test", "rules", RULE_TESTS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_check_catches_a_broken_rule(tmp_path: Path) -> None:
    """The check above is a real one: a typo in an expression fails it."""
    broken = tmp_path / "alerts.yml"
    broken.write_text(RULES.read_text().replace("sum(increase(", "sum(increse(", 1))
    result = _promtool("check", "rules", broken)
    assert result.returncode != 0
    assert "increse" in result.stdout + result.stderr


def test_promtool_test_catches_an_alert_that_does_not_fire(tmp_path: Path) -> None:
    """The unit tests are real ones: raise one alert's threshold out of reach and they fail."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "alerts.yml").write_text(RULES.read_text().replace("> 1000", "> 1000000", 1))
    (tmp_path / "tests" / "alerts_test.yml").write_text(RULE_TESTS.read_text())
    result = _promtool("test", "rules", tmp_path / "tests" / "alerts_test.yml")
    assert result.returncode != 0
    assert "StoreLagHigh" in result.stdout + result.stderr


def test_every_alert_has_a_firing_and_a_quiet_unit_test() -> None:
    firing = {case["alertname"] for case in _cases() if case.get("exp_alerts")}
    quiet = {case["alertname"] for case in _cases() if not case.get("exp_alerts")}
    alerts = _alerts()
    assert alerts - firing == set(), "alerts with no unit test in which they fire"
    assert alerts - quiet == set(), "alerts with no unit test in which they stay quiet"
    assert (firing | quiet) - alerts == set(), "unit tests for alerts that do not exist"


def test_the_operator_hears_about_every_failure_the_issue_names() -> None:
    """Feeds not polled on time, broken feeds rising, the extract backlog growing, tasks failing or
    dead-lettered, store lag, no extract worker alive, end-to-end latency too high; and (issue 3's
    gauge) feeds that stay overdue."""
    assert {
        "IngestFeedsNotPolled",
        "IngestFeedsOverdue",
        "IngestFeedFailuresRising",
        "ExtractBacklogGrowing",
        "ExtractTasksFailing",
        "ExtractTasksDeadLettered",
        "StoreLagHigh",
        "ExtractNoWorkerAlive",
        "EndToEndLatencyHigh",
    } <= _alerts()
    no_worker = next(rule for rule in _rules() if rule.get("alert") == "ExtractNoWorkerAlive")
    assert 'up{job="extract"}' in no_worker["expr"]
    overdue = next(rule for rule in _rules() if rule.get("alert") == "IngestFeedsOverdue")
    # Every replica reports the one shared schedule: max, not sum, or two replicas double the count.
    assert overdue["expr"].startswith("max(newswire_ingest_feeds_overdue)")


def test_every_alert_has_a_runbook_entry() -> None:
    guide = DEPLOYMENT_GUIDE.read_text()
    headings = {
        re.sub(r"[^a-z0-9 -]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in guide.splitlines()
        if line.startswith("#")
    }
    for rule in _rules():
        if "alert" not in rule:
            continue
        anchor = rule["alert"].lower()
        assert rule["annotations"]["runbook_url"] == f"docs/deployment.md#{anchor}"
        assert anchor in headings, f"docs/deployment.md has no section '### {rule['alert']}'"
