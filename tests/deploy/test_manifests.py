"""The deployment artifacts say what they claim: plain manifests parse and are locked
down, RBAC is least-privilege, the alerts and dashboard cover what the documents ask
for and only use metrics the operator exports, and every copy equals its source."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
import yaml

from cleanslate.metrics import Metrics

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "manifests"
MONITORING = ROOT / "deploy" / "monitoring"
CHART = ROOT / "helm" / "cleanslate"

# What the operator may do to each resource, and why (docs/install.md says the same).
ALLOWED_VERBS: dict[tuple[str, str], set[str]] = {
    ("cleanslate.dev", "tradingaccounts"): {"get", "list", "watch", "patch"},
    ("cleanslate.dev", "tradingaccounts/status"): {"patch"},
    ("cleanslate.dev", "purgepolicies"): {"list", "watch"},
    ("cleanslate.dev", "purgepolicies/status"): {"patch"},
    ("", "events"): {"create"},
    ("", "secrets"): {"get"},
    ("kopf.dev", "clusterkopfpeerings"): {"list", "watch", "patch"},
    ("kopf.dev", "kopfpeerings"): {"list", "watch", "patch"},
    ("apiextensions.k8s.io", "customresourcedefinitions"): {"list", "watch"},
}
REQUIRED_ALERTS = {
    "CleanslatePurgeFailuresPersistent",
    "CleanslateTooManyFrozenSymbols",
    "CleanslateBalanceStale",
    "CleanslateCyclesOverBudget",
    "CleanslateAccountNotClean",
    "CleanslateBalanceFetchErrors",
    "CleanslatePositionCapExceeded",
    "CleanslateExposureOverCap",
}
DOCUMENT_PANELS = {
    "Open Positions",
    "Account Value",
    "Cycle Duration",
    "Risk Rejections by Reason",
    "Purges by Result",
    "Fills",
    "Fees (24h)",
    "Frozen Symbols",
    "Balance Age",
}


def load_all(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def objects(*paths: Path) -> Iterator[dict[str, Any]]:
    for path in paths:
        yield from load_all(path)


def only(kind: str, path: Path) -> dict[str, Any]:
    [found] = [doc for doc in load_all(path) if doc["kind"] == kind]
    return found


def exported_series() -> set[str]:
    """Every series name the operator's metrics produce (counters end in _total)."""
    suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"], "gauge": [""]}
    return {
        family.name + suffix
        for family in Metrics().registry.collect()
        for suffix in suffixes[family.type]
    }


def referenced_series(expr: str) -> set[str]:
    return set(re.findall(r"\bcleanslate_[a-z_]+\b", expr))


YAML_FILES = sorted(
    [*MANIFESTS.rglob("*.yaml"), *(ROOT / "deploy").rglob("*.yaml"), *(CHART / "crds").glob("*")]
)


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_yaml_document_parses_into_a_kubernetes_object(path: Path) -> None:
    docs = load_all(path)
    assert docs
    for doc in docs:
        assert doc["apiVersion"] and doc["kind"] and doc["metadata"]["name"]


DEPLOYMENTS = [MANIFESTS / "deployment.yaml", MANIFESTS / "namespaced" / "deployment.yaml"]


@pytest.mark.parametrize("path", DEPLOYMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_deployment_runs_locked_down(path: Path) -> None:
    pod = only("Deployment", path)["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    [container] = pod["containers"]
    security = container["securityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["readOnlyRootFilesystem"] is True
    assert security["capabilities"]["drop"] == ["ALL"]
    assert container["resources"]["requests"] and container["resources"]["limits"]


@pytest.mark.parametrize("path", DEPLOYMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_deployment_probes_kopf_liveness_endpoint(path: Path) -> None:
    [container] = only("Deployment", path)["spec"]["template"]["spec"]["containers"]
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": 8080}
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports == {"metrics": 9090, "healthz": 8080}


@pytest.mark.parametrize("path", DEPLOYMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_deployment_mounts_writable_state_dir_and_tmp(path: Path) -> None:
    pod = only("Deployment", path)["spec"]["template"]["spec"]
    [container] = pod["containers"]
    args = container["args"]
    state_dir = args[args.index("--state-dir") + 1]
    mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
    assert set(mounts) == {state_dir, "/tmp"}
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    assert all("emptyDir" in volumes[name] for name in mounts.values())
    assert args[args.index("--metrics-port") + 1] == "9090"
    assert args[args.index("--liveness-port") + 1] == "8080"


def test_namespaced_deployment_differs_only_in_its_namespace_args() -> None:
    cluster_wide, namespaced = (only("Deployment", path) for path in DEPLOYMENTS)
    wide_container = cluster_wide["spec"]["template"]["spec"]["containers"][0]
    ns_container = namespaced["spec"]["template"]["spec"]["containers"][0]
    assert "--all-namespaces" in wide_container["args"]
    assert "--all-namespaces" not in ns_container["args"]
    wide_container["args"] = ns_container["args"] = []
    assert cluster_wide == namespaced


def rbac_rules(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    for doc in load_all(path):
        if doc["kind"] in {"Role", "ClusterRole"}:
            for rule in doc["rules"]:
                yield doc["kind"], rule


RBAC_FILES = [MANIFESTS / "rbac.yaml", MANIFESTS / "namespaced" / "rbac.yaml"]


@pytest.mark.parametrize("path", RBAC_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_rbac_grants_only_the_verbs_each_resource_needs(path: Path) -> None:
    rules = list(rbac_rules(path))
    assert rules
    for _, rule in rules:
        assert "*" not in rule["verbs"] + rule["resources"] + rule["apiGroups"]
        assert "resourceNames" not in rule and "nonResourceURLs" not in rule
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                allowed = ALLOWED_VERBS.get((group, resource))
                assert allowed is not None, f"unexpected resource {group}/{resource}"
                assert set(rule["verbs"]) <= allowed, f"{group}/{resource}: {rule['verbs']}"


def test_operator_can_never_enumerate_secrets_or_write_specs() -> None:
    for path in RBAC_FILES:
        for _, rule in rbac_rules(path):
            if "secrets" in rule["resources"]:
                assert rule["verbs"] == ["get"]
            assert not {"create", "update", "delete", "deletecollection"} & set(rule["verbs"]) or (
                rule["resources"] == ["events"] and rule["verbs"] == ["create"]
            )


def test_namespaced_install_has_no_cluster_rights_and_covers_its_namespaces() -> None:
    docs = load_all(MANIFESTS / "namespaced" / "rbac.yaml")
    assert {doc["kind"] for doc in docs} == {"Role", "RoleBinding"}
    args = only("Deployment", DEPLOYMENTS[1])["spec"]["template"]["spec"]["containers"][0]["args"]
    served = {args[i + 1] for i, arg in enumerate(args) if arg == "--namespace"}
    assert served
    for kind in ("Role", "RoleBinding"):
        assert {doc["metadata"]["namespace"] for doc in docs if doc["kind"] == kind} == served
    peerings = load_all(MANIFESTS / "namespaced" / "peering.yaml")
    assert {doc["metadata"]["namespace"] for doc in peerings} == served
    assert {doc["kind"] for doc in peerings} == {"KopfPeering"}


def test_bindings_name_the_deployments_service_account() -> None:
    deployment = only("Deployment", DEPLOYMENTS[0])
    account = only("ServiceAccount", MANIFESTS / "serviceaccount.yaml")
    assert (
        deployment["spec"]["template"]["spec"]["serviceAccountName"] == account["metadata"]["name"]
    )
    for path in RBAC_FILES:
        for doc in load_all(path):
            if doc["kind"].endswith("Binding"):
                assert doc["subjects"] == [
                    {
                        "kind": "ServiceAccount",
                        "name": account["metadata"]["name"],
                        "namespace": account["metadata"]["namespace"],
                    }
                ]


def test_peering_object_matches_the_peering_argument() -> None:
    args = only("Deployment", DEPLOYMENTS[0])["spec"]["template"]["spec"]["containers"][0]["args"]
    peering = only("ClusterKopfPeering", MANIFESTS / "peering.yaml")
    assert args[args.index("--peering") + 1] == peering["metadata"]["name"]
    crds = load_all(MANIFESTS / "crds" / "kopf.dev_peerings.yaml")
    names = {doc["metadata"]["name"] for doc in crds}
    assert names == {"clusterkopfpeerings.kopf.dev", "kopfpeerings.kopf.dev"}


def test_service_and_service_monitor_reach_the_metrics_port() -> None:
    deployment = only("Deployment", DEPLOYMENTS[0])
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    service = only("Service", MANIFESTS / "service.yaml")
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == "metrics"
    monitor = only("ServiceMonitor", MANIFESTS / "monitoring" / "servicemonitor.yaml")
    selected = monitor["spec"]["selector"]["matchLabels"]
    assert selected.items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["endpoints"][0]["port"] == service["spec"]["ports"][0]["name"]
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"


def alert_rules() -> dict[str, dict[str, Any]]:
    rule = only("PrometheusRule", MONITORING / "prometheusrule.yaml")
    return {r["alert"]: r for group in rule["spec"]["groups"] for r in group["rules"]}


def test_prometheus_rule_has_the_documents_alerts() -> None:
    assert set(alert_rules()) >= REQUIRED_ALERTS


def test_alert_thresholds_follow_the_documents() -> None:
    alerts = alert_rules()
    frozen = alerts["CleanslateTooManyFrozenSymbols"]["expr"]
    assert frozen.endswith("(cleanslate_frozen_symbols) > 5")
    assert alerts["CleanslateBalanceStale"]["expr"].endswith("> 1800")
    assert alerts["CleanslateBalanceFetchErrors"]["expr"].endswith(">= 3")
    assert "cleanslate_purge_failure_count" in alerts["CleanslatePurgeFailuresPersistent"]["expr"]
    assert "cleanslate_cycle_over_budget_total" in alerts["CleanslateCyclesOverBudget"]["expr"]
    assert "dirty_since_seconds" in alerts["CleanslateAccountNotClean"]["expr"]


def test_alerts_use_only_exported_metrics_and_link_to_an_existing_runbook() -> None:
    series = exported_series()
    operations = (ROOT / "docs" / "operations.md").read_text()
    anchors = {
        re.sub(r"[^a-z0-9 -]", "", heading.lower()).replace(" ", "-")
        for heading in re.findall(r"^#+ (.+)$", operations, flags=re.MULTILINE)
    }
    for name, rule in alert_rules().items():
        assert referenced_series(rule["expr"]) <= series, name
        assert rule["labels"]["severity"] in {"info", "warning", "critical"}
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]
        anchor = rule["annotations"]["runbook_url"].rsplit("#", 1)[1]
        assert anchor in anchors, f"{name}: no heading for #{anchor} in docs/operations.md"


def dashboard() -> dict[str, Any]:
    return cast(dict[str, Any], json.loads((MONITORING / "cleanslate-dashboard.json").read_text()))


def test_dashboard_has_the_documents_panels() -> None:
    titles = {panel["title"] for panel in dashboard()["panels"]}
    assert titles >= DOCUMENT_PANELS


def test_dashboard_queries_use_only_exported_metrics() -> None:
    series = exported_series()
    panels = [panel for panel in dashboard()["panels"] if panel["type"] != "row"]
    for panel in panels:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert referenced_series(target["expr"]) <= series, panel["title"]
            assert referenced_series(target["expr"]), panel["title"]


def test_dashboard_panels_have_unique_ids_and_do_not_overlap() -> None:
    panels = dashboard()["panels"]
    assert len({panel["id"] for panel in panels}) == len(panels)
    cells: set[tuple[int, int]] = set()
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24
        area = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not area & cells, panel["title"]
        cells |= area


def test_chart_crds_are_the_generated_crds() -> None:
    generated = sorted(path.name for path in (ROOT / "crds").glob("*.yaml"))
    assert generated
    for name in generated:
        assert (CHART / "crds" / name).read_bytes() == (ROOT / "crds" / name).read_bytes(), (
            f"helm/cleanslate/crds/{name} differs from crds/{name}: "
            "run cp crds/*.yaml helm/cleanslate/crds/"
        )
    peering = MANIFESTS / "crds" / "kopf.dev_peerings.yaml"
    assert (CHART / "crds" / peering.name).read_bytes() == peering.read_bytes()
    expected = {*generated, peering.name}
    assert {path.name for path in (CHART / "crds").iterdir()} == expected


def test_chart_monitoring_files_are_the_deploy_monitoring_files() -> None:
    rule = only("PrometheusRule", MONITORING / "prometheusrule.yaml")
    assert yaml.safe_load((CHART / "files" / "alerts.yaml").read_text()) == rule["spec"]
    chart_dashboard = json.loads((CHART / "files" / "cleanslate-dashboard.json").read_text())
    assert chart_dashboard == dashboard()


def _default_base(dockerfile: str) -> str:
    """The BASE build argument's default: what a user's plain `docker build` uses."""
    found = re.search(r"^ARG BASE=(\S+)$", dockerfile, flags=re.MULTILINE)
    assert found, "the Dockerfile has no ARG BASE with a default"
    return found.group(1)


def test_dockerfile_builds_a_slim_non_root_image_running_the_operator() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    bases = re.findall(r"^FROM (\S+)", dockerfile, flags=re.MULTILINE)
    assert bases == ["${BASE}", "${BASE}"]  # one base for both stages; tests here pass their own
    assert _default_base(dockerfile).startswith("python:3.11-slim")
    assert re.search(r"^USER 10001(:10001)?$", dockerfile, flags=re.MULTILINE)
    assert 'ENTRYPOINT ["cleanslate", "operator"]' in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert {"!pyproject.toml", "!requirements.lock", "!README.md", "!operator/"} <= set(
        ignored[ignored.index("*") :]
    )


def test_dockerfile_pins_its_base_by_digest_and_installs_only_hashed_locked_packages() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    base = _default_base(dockerfile)
    assert re.fullmatch(r"[\w./:-]+@sha256:[0-9a-f]{64}", base), f"{base} is not pinned"
    installs = re.findall(r"pip install ([^\n&]*)", dockerfile.replace("\\\n", " "))
    assert installs, "the Dockerfile installs nothing with pip"
    locked, own = installs[0], installs[1:]
    assert "--require-hashes" in locked and "-r requirements.lock" in locked, locked
    assert own and all("--no-deps" in args for args in own), own  # nothing resolved later
    assert "COPY requirements.lock" in dockerfile


def test_the_lock_file_pins_every_dependency_with_hashes() -> None:
    text = (ROOT / "requirements.lock").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    pins: dict[str, str] = {}
    for entry in re.split(r"\n(?=\S)", "\n".join(lines).strip()):
        pinned = re.match(r"([A-Za-z0-9_.-]+)==\S+", entry)
        assert pinned, f"not pinned: {entry[:60]!r}"
        assert "--hash=sha256:" in entry, f"no hash: {pinned.group(1)}"
        pins[normalized(pinned.group(1))] = entry
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wanted = [
        *project["project"]["dependencies"],
        *project["project"]["optional-dependencies"]["ccxt"],  # the image has the extra
        *project["build-system"]["requires"],
    ]
    missing = {normalized(re.split(r"[\[<>=!~; ]", w, maxsplit=1)[0]) for w in wanted} - set(pins)
    assert not missing, f"pyproject dependencies not in requirements.lock: {missing}"


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


RUNBOOK_CASES = {
    "Purge fails every cycle": "cleanslate.dev/liquidate=",
    "Purge failures not clearing": "excludedSymbols",
    "Cycle over budget": "maxLiquidationsPerCycle",
    "Too many frozen symbols": "cleanslate.dev/unfreeze=",
    "Stale balance": "status.balance",
}


def test_runbook_answers_each_troubleshooting_case_with_commands() -> None:
    operations = (ROOT / "docs" / "operations.md").read_text()
    sections = re.split(r"^### ", operations, flags=re.MULTILINE)
    for case, must_mention in RUNBOOK_CASES.items():
        [section] = [s for s in sections if s.startswith(case + "\n")]
        assert "```bash" in section and "kubectl " in section, case
        assert must_mention in section, case
    for command in (
        "kubectl get ta -A",
        "kubectl describe ta X",
        "kubectl get events --field-selector involvedObject.name=X",
        "kubectl annotate ta X cleanslate.dev/retry-purge=SEI-USD",
        "kubectl annotate ta X cleanslate.dev/unfreeze=AUT-USD",
        "kubectl annotate ta X cleanslate.dev/liquidate=SEI-USD",
        "/spec/bans",
        "/spec/universe/excludedSymbols",
    ):
        assert command in operations, command


def test_install_guide_explains_every_rbac_rule() -> None:
    install = (ROOT / "docs" / "install.md").read_text()
    table = install.split("### RBAC: why each rule is needed", 1)[1]
    for _, resource in ALLOWED_VERBS:
        assert f"`{resource}`" in table, resource
    for path in RBAC_FILES:
        for _, rule in rbac_rules(path):
            assert rule["resources"][0] in {resource for _, resource in ALLOWED_VERBS}
