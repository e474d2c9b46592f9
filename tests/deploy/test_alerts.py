"""The alert rules pass the checks Prometheus users run: ``promtool check rules`` validates
them and ``promtool test rules`` runs tests/deploy/alerts.test.yaml, where every alert fires
on the documents' condition after its ``for`` and stays silent just short of it.

The rule file checked is the chart's files/alerts.yaml; test_manifests.py keeps
deploy/monitoring/prometheusrule.yaml equal to it, so both are covered."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from cleanslate.localcluster import ToolNotFoundError, find_tool

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "helm" / "cleanslate" / "files" / "alerts.yaml"
UNIT_TESTS = Path(__file__).with_name("alerts.test.yaml")


@pytest.fixture(scope="module")
def promtool() -> Path:
    try:
        return find_tool("promtool")
    except ToolNotFoundError as exc:
        pytest.skip(str(exc))


def run(promtool: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(promtool), *args], capture_output=True, text=True, timeout=120, check=False
    )


def alert_names() -> set[str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return {rule["alert"] for group in groups for rule in group["rules"] if "alert" in rule}


def unit_tests() -> list[dict[str, Any]]:
    tests: list[dict[str, Any]] = yaml.safe_load(UNIT_TESTS.read_text())["tests"]
    return tests


def test_promtool_check_rules_accepts_the_alerts(promtool: Path) -> None:
    result = run(promtool, "check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alert_names())} rules found" in result.stdout, result.stdout


def test_promtool_check_rules_rejects_a_broken_expression(promtool: Path, tmp_path: Path) -> None:
    """The check can fail: a typo in PromQL is caught before Prometheus loads the rules."""
    groups = yaml.safe_load(RULES.read_text())
    groups["groups"][0]["rules"][0]["expr"] = "max by (namespace (cleanslate_frozen_symbols) > 5"
    broken = tmp_path / "alerts.yaml"
    broken.write_text(yaml.safe_dump(groups))
    result = run(promtool, "check", "rules", str(broken))
    assert result.returncode != 0
    assert "parse error" in result.stdout + result.stderr


def test_promtool_unit_tests_of_every_alert_pass(promtool: Path) -> None:
    result = run(promtool, "test", "rules", str(UNIT_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr


def test_promtool_unit_tests_fail_when_a_threshold_moves(promtool: Path, tmp_path: Path) -> None:
    """The unit tests can fail: loosening the frozen-symbols limit to >= 5 makes the
    "5 frozen symbols stay silent" case fire."""
    rules = tmp_path / "alerts.yaml"
    rules.write_text(
        RULES.read_text().replace(
            "(cleanslate_frozen_symbols) > 5", "(cleanslate_frozen_symbols) >= 5"
        )
    )
    doc = yaml.safe_load(UNIT_TESTS.read_text())
    doc["rule_files"] = [str(rules)]
    moved = tmp_path / "alerts.test.yaml"
    moved.write_text(yaml.safe_dump(doc, sort_keys=False))
    result = run(promtool, "test", "rules", str(moved))
    assert result.returncode != 0
    assert "CleanslateTooManyFrozenSymbols" in result.stdout + result.stderr


def test_every_alert_has_a_firing_and_a_silent_unit_test() -> None:
    firing, silent = set(), set()
    for case in unit_tests():
        for check in case["alert_rule_test"]:
            (firing if check["exp_alerts"] else silent).add(check["alertname"])
    assert firing == alert_names()
    assert silent >= alert_names()


def test_unit_tests_cover_the_rule_file_the_chart_ships() -> None:
    rule_files = yaml.safe_load(UNIT_TESTS.read_text())["rule_files"]
    assert [(UNIT_TESTS.parent / f).resolve() for f in rule_files] == [RULES.resolve()]
