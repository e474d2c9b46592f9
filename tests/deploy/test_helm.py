"""The Helm chart lints, renders the objects of manifests/ from its default values, and
renders one Deployment per shard, a namespaced install, and the monitoring toggles from
documented values. Objects the chart refuses (shards that could reconcile one account,
several replicas without peering) fail at render time.

The server-side dry run of the rendered objects against a real API server is in
tests/integration/test_chart_dry_run.py, next to the cluster fixtures it needs."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any, cast

import pytest
import yaml

from cleanslate.localcluster import ToolNotFoundError, find_tool

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "cleanslate"
MANIFESTS = ROOT / "manifests"
RELEASE, NAMESPACE = "cleanslate", "cleanslate-system"
Obj = dict[str, Any]

SHARDS_BY_SELECTOR = {
    "shards": [
        {"name": "a", "selector": "cleanslate.dev/shard=a"},
        {"name": "b", "selector": "cleanslate.dev/shard=b"},
    ]
}
SHARDS_BY_NAMESPACE = {
    "shards": [
        {"name": "east", "namespaces": ["tenant-a", "tenant-b"]},
        {"name": "west", "namespaces": ["tenant-c"]},
    ]
}
NAMESPACED = {"watchNamespaces": ["tenant-a", "tenant-b"]}
MONITORING_APIS = [
    "--api-versions=monitoring.coreos.com/v1/PrometheusRule",
    "--api-versions=monitoring.coreos.com/v1/ServiceMonitor",
]
"""A cluster with the Prometheus Operator, as ``helm template`` is told about it."""
SINGLE = {"peering": {"enabled": False}, "replicaCount": 1}
MONITORING = {
    "metrics": {
        "serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}},
        "prometheusRule": {"enabled": True},
        "dashboard": {"enabled": True},
    }
}


@pytest.fixture(scope="module")
def helm() -> Path:
    try:
        return find_tool("helm")
    except ToolNotFoundError as exc:
        pytest.skip(str(exc))


def run_helm(helm: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(helm), *args], capture_output=True, text=True, timeout=120, check=False
    )


def render_text(helm: Path, tmp_path: Path, values: dict[str, Any], *extra: str) -> str:
    values_file = tmp_path / "values.json"
    values_file.write_text(json.dumps(values))
    args = ["template", RELEASE, str(CHART), "--namespace", NAMESPACE, "-f", str(values_file)]
    result = run_helm(helm, *args, *MONITORING_APIS, *extra)
    assert result.returncode == 0, result.stderr
    return result.stdout


def render(helm: Path, tmp_path: Path, values: dict[str, Any], *extra: str) -> list[Obj]:
    text = render_text(helm, tmp_path, values, *extra)
    return [doc for doc in yaml.safe_load_all(text) if doc is not None]


def render_error(helm: Path, tmp_path: Path, values: dict[str, Any]) -> str:
    values_file = tmp_path / "values.json"
    values_file.write_text(json.dumps(values))
    result = run_helm(helm, "template", RELEASE, str(CHART), "-f", str(values_file))
    assert result.returncode != 0, "helm template should have refused these values"
    return result.stderr


def of_kind(docs: list[Obj], kind: str) -> list[Obj]:
    return [doc for doc in docs if doc["kind"] == kind]


def by_name(docs: list[Obj], kind: str) -> dict[str, Obj]:
    return {doc["metadata"]["name"]: doc for doc in of_kind(docs, kind)}


def container(deployment: Obj) -> Obj:
    [found] = deployment["spec"]["template"]["spec"]["containers"]
    return cast(Obj, found)


def manifest(path: Path, kind: str) -> Obj:
    [found] = [doc for doc in yaml.safe_load_all(path.read_text()) if doc and doc["kind"] == kind]
    return cast(Obj, found)


def operator_role(docs: list[Obj]) -> Obj:
    return by_name(docs, "ClusterRole")[f"{RELEASE}-operator"]


def without_names(docs: list[Obj], path: Path) -> bool:
    """Every object of the plain manifest ``path`` is rendered by the chart (labels aside)."""
    rendered = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    for plain in yaml.safe_load_all(path.read_text()):
        if not plain:
            continue
        found = rendered[(plain["kind"], plain["metadata"]["name"])]
        for key in ("spec", "rules", "roleRef", "subjects"):
            mine, theirs = found.get(key), plain.get(key)
            if key == "spec" and plain["kind"] == "NetworkPolicy":  # the chart adds instance
                mine = {k: v for k, v in mine.items() if k != "podSelector"}
                theirs = {k: v for k, v in theirs.items() if k != "podSelector"}
            assert mine == theirs, (plain["metadata"]["name"], key)
    return True


def flag_values(args: list[str], flag: str) -> list[str]:
    return [args[i + 1] for i, arg in enumerate(args) if arg == flag]


@pytest.mark.parametrize(
    "values",
    [{}, SHARDS_BY_SELECTOR, SHARDS_BY_NAMESPACE, NAMESPACED, MONITORING, SINGLE],
    ids=["default", "by-selector", "by-namespace", "namespaced", "monitoring", "single"],
)
def test_chart_lints_strictly(helm: Path, tmp_path: Path, values: dict[str, Any]) -> None:
    values_file = tmp_path / "values.json"
    values_file.write_text(json.dumps(values))
    result = run_helm(helm, "lint", "--strict", str(CHART), "-f", str(values_file))
    assert result.returncode == 0, result.stdout + result.stderr


CONTAINER_KEYS = (
    "args",
    "env",
    "ports",
    "startupProbe",
    "livenessProbe",
    "readinessProbe",
    "resources",
    "securityContext",
    "volumeMounts",
)


def test_default_values_render_the_objects_of_the_plain_manifests(
    helm: Path, tmp_path: Path
) -> None:
    docs = render(helm, tmp_path, {})
    assert sorted(doc["kind"] for doc in docs) == sorted(
        [
            "ServiceAccount",
            "ClusterRole",
            "ClusterRoleBinding",
            "ClusterRole",
            "ClusterRoleBinding",
            "ClusterRole",  # the tenants' view and edit roles
            "ClusterRole",
            "Deployment",
            "Service",
            "ClusterKopfPeering",
            "PodDisruptionBudget",
            "NetworkPolicy",
        ]
    )
    chart_role = operator_role(docs)
    assert chart_role["rules"] == manifest(MANIFESTS / "rbac.yaml", "ClusterRole")["rules"]
    assert without_names(docs, MANIFESTS / "metrics-auth.yaml")
    assert without_names(docs, MANIFESTS / "networkpolicy.yaml")
    [deployment] = of_kind(docs, "Deployment")
    plain = manifest(MANIFESTS / "deployment.yaml", "Deployment")
    assert deployment["metadata"]["name"] == plain["metadata"]["name"]
    assert deployment["spec"]["replicas"] == plain["spec"]["replicas"]
    assert deployment["spec"]["strategy"] == plain["spec"]["strategy"]
    chart_pod, plain_pod = deployment["spec"]["template"]["spec"], plain["spec"]["template"]["spec"]
    assert chart_pod["securityContext"] == plain_pod["securityContext"]
    for key in CONTAINER_KEYS:
        assert container(deployment)[key] == container(plain)[key], key
    assert chart_pod["volumes"] == plain_pod["volumes"]
    peering = manifest(MANIFESTS / "peering.yaml", "ClusterKopfPeering")
    assert list(by_name(docs, "ClusterKopfPeering")) == [peering["metadata"]["name"]]


def test_include_crds_renders_the_generated_crds(helm: Path, tmp_path: Path) -> None:
    docs = render(helm, tmp_path, {}, "--include-crds")
    rendered = by_name(docs, "CustomResourceDefinition")
    for path in sorted((ROOT / "crds").glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        assert rendered[crd["metadata"]["name"]] == crd
    assert {"clusterkopfpeerings.kopf.dev", "kopfpeerings.kopf.dev"} <= set(rendered)


def test_each_selector_shard_is_its_own_deployment_with_its_own_peering(
    helm: Path, tmp_path: Path
) -> None:
    docs = render(helm, tmp_path, SHARDS_BY_SELECTOR)
    deployments = by_name(docs, "Deployment")
    assert set(deployments) == {"cleanslate-a", "cleanslate-b"}
    for shard in ("a", "b"):
        deployment = deployments[f"cleanslate-{shard}"]
        args = container(deployment)["args"]
        assert flag_values(args, "--selector") == [f"cleanslate.dev/shard={shard}"]
        assert flag_values(args, "--peering") == [f"cleanslate-{shard}"]
        assert "--all-namespaces" in args
        labels = deployment["spec"]["selector"]["matchLabels"]
        assert labels["cleanslate.dev/shard"] == shard
        assert labels.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    assert set(by_name(docs, "ClusterKopfPeering")) == {"cleanslate-a", "cleanslate-b"}
    assert set(by_name(docs, "PodDisruptionBudget")) == {"cleanslate-a", "cleanslate-b"}
    [service] = of_kind(docs, "Service")
    for deployment in deployments.values():
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["selector"].items() <= pod_labels.items()


def test_three_selector_shards_split_accounts_disjointly_and_never_adopt_each_others_pods(
    helm: Path, tmp_path: Path
) -> None:
    """The layout the shard benchmark and the handover test run: three Deployments, each
    serving one value of the same account label (so an account is served by exactly one
    and a relabel moves it), each pausing only its own replicas (its own peering), and no
    Deployment's pod selector matching another shard's pods."""
    shards = [{"name": str(i), "selector": f"cleanslate.dev/shard={i}"} for i in range(3)]
    docs = render(helm, tmp_path, {"shards": shards})
    deployments = by_name(docs, "Deployment")
    assert len(deployments) == 3
    selectors = {
        name: flag_values(container(d)["args"], "--selector") for name, d in deployments.items()
    }
    assert all(len(v) == 1 for v in selectors.values()), selectors
    keys = {v[0].split("=", 1)[0] for v in selectors.values()}
    values = [v[0].split("=", 1)[1] for v in selectors.values()]
    assert keys == {"cleanslate.dev/shard"} and sorted(values) == ["0", "1", "2"]
    peerings = [flag_values(container(d)["args"], "--peering") for d in deployments.values()]
    assert len({p[0] for p in peerings}) == 3
    for name, deployment in deployments.items():
        wanted = deployment["spec"]["selector"]["matchLabels"].items()
        for other, theirs in deployments.items():
            pods = theirs["spec"]["template"]["metadata"]["labels"].items()
            assert (wanted <= pods) == (name == other), (name, other)


def test_namespace_shards_watch_their_namespaces_with_namespaced_peering(
    helm: Path, tmp_path: Path
) -> None:
    docs = render(helm, tmp_path, SHARDS_BY_NAMESPACE)
    deployments = by_name(docs, "Deployment")
    assert flag_values(container(deployments["cleanslate-east"])["args"], "--namespace") == [
        "tenant-a",
        "tenant-b",
    ]
    assert flag_values(container(deployments["cleanslate-west"])["args"], "--namespace") == [
        "tenant-c"
    ]
    peerings = {
        (doc["metadata"]["namespace"], doc["metadata"]["name"])
        for doc in of_kind(docs, "KopfPeering")
    }
    assert peerings == {
        ("tenant-a", "cleanslate-east"),
        ("tenant-b", "cleanslate-east"),
        ("tenant-c", "cleanslate-west"),
    }
    resources = {r for rule in operator_role(docs)["rules"] for r in rule["resources"]}
    assert "kopfpeerings" in resources and "clusterkopfpeerings" not in resources


def test_namespaced_install_binds_roles_in_each_tenant_namespace_only(
    helm: Path, tmp_path: Path
) -> None:
    docs = render(helm, tmp_path, NAMESPACED)
    # no cluster rights but the metrics' token reviews; the cluster-scoped roles besides are
    # the one Prometheus is bound to and the tenants' (bound to nobody by the chart)
    assert sorted(r["metadata"]["name"] for r in of_kind(docs, "ClusterRole")) == [
        "cleanslate-metrics-reader",
        "cleanslate-tenant-edit",
        "cleanslate-tenant-view",
    ]
    [delegation] = of_kind(docs, "ClusterRoleBinding")
    assert delegation["roleRef"]["name"] == "system:auth-delegator"
    insecure = render(
        helm,
        tmp_path,
        {**NAMESPACED, "metrics": {"secure": False}, "rbac": {"tenantRoles": False}},
    )
    assert not of_kind(insecure, "ClusterRole") and not of_kind(insecure, "ClusterRoleBinding")
    roles, bindings = of_kind(docs, "Role"), of_kind(docs, "RoleBinding")
    assert {role["metadata"]["namespace"] for role in roles} == {"tenant-a", "tenant-b"}
    assert {binding["metadata"]["namespace"] for binding in bindings} == {"tenant-a", "tenant-b"}
    plain = yaml.safe_load_all((MANIFESTS / "namespaced" / "rbac.yaml").read_text())
    plain_role = next(doc for doc in plain if doc["kind"] == "Role")
    assert all(role["rules"] == plain_role["rules"] for role in roles)
    for binding in bindings:
        assert binding["subjects"][0]["namespace"] == NAMESPACE
    [deployment] = of_kind(docs, "Deployment")
    args = container(deployment)["args"]
    assert flag_values(args, "--namespace") == ["tenant-a", "tenant-b"]
    assert "--all-namespaces" not in args
    assert {doc["metadata"]["namespace"] for doc in of_kind(docs, "KopfPeering")} == {
        "tenant-a",
        "tenant-b",
    }


def test_single_replica_without_peering_has_no_peering_at_all(helm: Path, tmp_path: Path) -> None:
    docs = render(helm, tmp_path, SINGLE)
    [deployment] = of_kind(docs, "Deployment")
    assert "--peering" not in container(deployment)["args"]
    assert not of_kind(docs, "ClusterKopfPeering") and not of_kind(docs, "PodDisruptionBudget")
    resources = {r for rule in operator_role(docs)["rules"] for r in rule["resources"]}
    assert not {"clusterkopfpeerings", "kopfpeerings"} & resources


def test_rollout_waits_for_every_replica_so_helm_wait_means_ready(
    helm: Path, tmp_path: Path
) -> None:
    """maxUnavailable 0: `helm --wait` and `rollout status` need every replica Ready; the
    surged pod is younger, so it stands by in the peering until the old one stops."""
    [deployment] = of_kind(render(helm, tmp_path, {}), "Deployment")
    assert deployment["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
    }


def test_without_peering_the_old_pod_stops_before_the_new_one_starts(
    helm: Path, tmp_path: Path
) -> None:
    [deployment] = of_kind(render(helm, tmp_path, SINGLE), "Deployment")
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}


def test_host_network_sets_the_matching_dns_policy_and_extra_env(
    helm: Path, tmp_path: Path
) -> None:
    env = [
        {"name": "KUBERNETES_SERVICE_HOST", "value": "127.0.0.1"},
        {"name": "KUBERNETES_SERVICE_PORT", "value": "6443"},
    ]
    [deployment] = of_kind(
        render(helm, tmp_path, {"hostNetwork": True, "extraEnv": env}), "Deployment"
    )
    pod = deployment["spec"]["template"]["spec"]
    assert pod["hostNetwork"] is True
    assert pod["dnsPolicy"] == "ClusterFirstWithHostNet"
    pod_ip = {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}
    assert container(deployment)["env"][1:] == [pod_ip, *env]
    # the ports are the node's, bound on the pod's IP (the node's address) only: replicas on
    # nodes sharing one host (make e2e's 127.0.0.1 and 127.0.0.2) do not collide
    assert flag_values(container(deployment)["args"], "--bind-address") == ["$(POD_IP)"]
    # a surged pod could wait forever for a node to free them
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}


def test_pods_use_the_pod_network_by_default(helm: Path, tmp_path: Path) -> None:
    [deployment] = of_kind(render(helm, tmp_path, {}), "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    assert "hostNetwork" not in pod and "dnsPolicy" not in pod
    # every address of the pod, so kubectl port-forward (to the pod's localhost) works
    assert "--bind-address" not in container(deployment)["args"]


def test_the_state_directory_is_an_emptydir_unless_a_volume_is_given(
    helm: Path, tmp_path: Path
) -> None:
    def state(values: dict[str, Any]) -> Obj:
        [deployment] = of_kind(render(helm, tmp_path, values), "Deployment")
        volumes = deployment["spec"]["template"]["spec"]["volumes"]
        return cast(Obj, next(v for v in volumes if v["name"] == "state"))

    assert state({}) == {"name": "state", "emptyDir": {"sizeLimit": "256Mi"}}
    shared = {"persistentVolumeClaim": {"claimName": "cleanslate-state"}}
    assert state({"volumes": {"state": shared}}) == {"name": "state", **shared}


def test_monitoring_toggles_render_the_deploy_monitoring_objects(
    helm: Path, tmp_path: Path
) -> None:
    docs = render(helm, tmp_path, MONITORING)
    [monitor] = of_kind(docs, "ServiceMonitor")
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    [service] = of_kind(docs, "Service")
    selected = monitor["spec"]["selector"]["matchLabels"]
    assert selected.items() <= service["metadata"]["labels"].items()
    [rule] = of_kind(docs, "PrometheusRule")
    source = manifest(ROOT / "deploy" / "monitoring" / "prometheusrule.yaml", "PrometheusRule")
    assert rule["spec"] == source["spec"]  # the {{ $labels }} templates pass through Helm
    [dashboard] = of_kind(docs, "ConfigMap")
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    board = json.loads(dashboard["data"]["cleanslate-dashboard.json"])
    source_board = ROOT / "deploy" / "monitoring" / "cleanslate-dashboard.json"
    assert board == json.loads(source_board.read_text())


def test_monitoring_objects_are_off_by_default(helm: Path, tmp_path: Path) -> None:
    kinds = {doc["kind"] for doc in render(helm, tmp_path, {})}
    assert not {"ServiceMonitor", "PrometheusRule", "ConfigMap"} & kinds


@pytest.mark.parametrize(
    "shards",
    [
        [{"name": "a", "selector": "tier=x"}, {"name": "b", "selector": "tier=x"}],
        [{"name": "a"}, {"name": "b", "selector": "tier=x"}],
        [{"name": "a", "selector": "tier=x"}, {"name": "b", "selector": "team=y"}],
        [{"name": "a", "namespaces": ["n1", "n2"]}, {"name": "b", "namespaces": ["n2"]}],
        [{"name": "a", "namespaces": ["n1"]}, {"name": "b"}],
    ],
    ids=["same-selector", "unsharded", "different-keys", "shared-namespace", "all-namespaces"],
)
def test_shards_that_could_share_an_account_are_refused(
    helm: Path, tmp_path: Path, shards: list[dict[str, Any]]
) -> None:
    assert "could reconcile the same accounts" in render_error(helm, tmp_path, {"shards": shards})


def test_shards_in_one_namespace_with_distinct_selectors_are_accepted(
    helm: Path, tmp_path: Path
) -> None:
    values = {
        "watchNamespaces": ["n1"],
        "shards": [{"name": "a", "selector": "s=1"}, {"name": "b", "selector": "s=2"}],
    }
    assert len(of_kind(render(helm, tmp_path, values), "Deployment")) == 2


def test_duplicate_shard_names_are_refused(helm: Path, tmp_path: Path) -> None:
    values = {"shards": [{"name": "a", "namespaces": ["n1"]}, {"name": "a", "namespaces": ["n2"]}]}
    assert "used twice" in render_error(helm, tmp_path, values)


def test_shard_outside_watch_namespaces_is_refused(helm: Path, tmp_path: Path) -> None:
    values = {"watchNamespaces": ["n1"], "shards": [{"name": "a", "namespaces": ["n2"]}]}
    assert "not in watchNamespaces" in render_error(helm, tmp_path, values)


def test_several_replicas_without_peering_are_refused(helm: Path, tmp_path: Path) -> None:
    values = {"replicaCount": 2, "peering": {"enabled": False}}
    assert "needs peering.enabled" in render_error(helm, tmp_path, values)


def test_values_schema_rejects_unknown_keys(helm: Path, tmp_path: Path) -> None:
    assert "additional properties" in render_error(helm, tmp_path, {"replicas": 3}).lower()


# --- issue 13: least privilege by default -----------------------------------------------------


def rule_ports(rules: list[Obj]) -> set[int]:
    return {port["port"] for rule in rules for port in rule.get("ports", [])}


def test_network_policy_allows_only_the_api_server_dns_and_public_https(
    helm: Path, tmp_path: Path
) -> None:
    docs = render(helm, tmp_path, {})
    [policy] = of_kind(docs, "NetworkPolicy")
    spec = policy["spec"]
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    [deployment] = of_kind(docs, "Deployment")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert spec["podSelector"]["matchLabels"].items() <= pod_labels.items()
    assert rule_ports(spec["ingress"]) == {9090, 8080}
    assert rule_ports(spec["egress"]) == {6443, 53, 443}
    [https] = [rule for rule in spec["egress"] if rule_ports([rule]) == {443}]
    [block] = https["to"]
    assert block["ipBlock"]["cidr"] == "0.0.0.0/0"
    assert {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"} <= set(
        block["ipBlock"]["except"]
    )


def test_network_policy_narrows_to_the_platforms_addresses_or_turns_off(
    helm: Path, tmp_path: Path
) -> None:
    monitoring = {"namespaceSelector": {"matchLabels": {"name": "monitoring"}}}
    values = {
        "networkPolicy": {
            "apiServer": {"cidrs": ["10.0.0.1/32"], "ports": [443]},
            "metricsFrom": [monitoring],
        }
    }
    [policy] = of_kind(render(helm, tmp_path, values), "NetworkPolicy")
    api = {
        "ports": [{"port": 443, "protocol": "TCP"}],
        "to": [{"ipBlock": {"cidr": "10.0.0.1/32"}}],
    }
    assert api in policy["spec"]["egress"]
    [metrics] = [r for r in policy["spec"]["ingress"] if rule_ports([r]) == {9090}]
    assert metrics["from"] == [monitoring]
    off = render(helm, tmp_path, {"networkPolicy": {"enabled": False}})
    assert not of_kind(off, "NetworkPolicy")


def test_only_the_platform_team_allows_other_exchange_origins(helm: Path, tmp_path: Path) -> None:
    [default] = of_kind(render(helm, tmp_path, {}), "Deployment")
    assert flag_values(container(default)["args"], "--allow-exchange-url") == []
    sandbox = {"exchange": {"allowedBaseUrls": ["https://sandbox.example:8443"]}}
    [deployment] = of_kind(render(helm, tmp_path, sandbox), "Deployment")
    assert flag_values(container(deployment)["args"], "--allow-exchange-url") == [
        "https://sandbox.example:8443"
    ]
    steering = {"exchange": {"allowedBaseUrls": ["https://proxy.example/path#"]}}
    assert "allowedBaseUrls" in render_error(helm, tmp_path, steering)


def test_the_platform_sets_how_old_a_shared_quote_may_be(helm: Path, tmp_path: Path) -> None:
    [default] = of_kind(render(helm, tmp_path, {}), "Deployment")
    assert flag_values(container(default)["args"], "--market-data-max-age-seconds") == ["30"]
    off = {"exchange": {"marketDataMaxAgeSeconds": 0}}
    [deployment] = of_kind(render(helm, tmp_path, off), "Deployment")
    assert flag_values(container(deployment)["args"], "--market-data-max-age-seconds") == ["0"]
    too_old = {"exchange": {"marketDataMaxAgeSeconds": 301}}
    assert "marketDataMaxAgeSeconds" in render_error(helm, tmp_path, too_old)


def test_the_platform_sets_how_far_a_venue_clock_may_be(helm: Path, tmp_path: Path) -> None:
    [default] = of_kind(render(helm, tmp_path, {}), "Deployment")
    assert flag_values(container(default)["args"], "--max-clock-offset-seconds") == ["30"]
    wider = {"exchange": {"maxClockOffsetSeconds": 120}}
    [deployment] = of_kind(render(helm, tmp_path, wider), "Deployment")
    assert flag_values(container(deployment)["args"], "--max-clock-offset-seconds") == ["120"]
    for bad in (0, 3601):
        off = {"exchange": {"maxClockOffsetSeconds": bad}}
        assert "maxClockOffsetSeconds" in render_error(helm, tmp_path, off)


def test_metrics_are_served_to_authorised_scrapers_by_default(helm: Path, tmp_path: Path) -> None:
    docs = render(helm, tmp_path, MONITORING)
    [deployment] = of_kind(docs, "Deployment")
    assert "--metrics-auth" in container(deployment)["args"]
    [monitor] = of_kind(docs, "ServiceMonitor")
    assert monitor["spec"]["endpoints"][0]["bearerTokenFile"].endswith("serviceaccount/token")
    reader = by_name(docs, "ClusterRole")[f"{RELEASE}-metrics-reader"]
    assert reader["rules"] == [{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}]
    binding = by_name(docs, "ClusterRoleBinding")[f"{RELEASE}-auth-delegator"]
    assert binding["roleRef"]["name"] == "system:auth-delegator"
    insecure = render(helm, tmp_path, {"metrics": {"secure": False}})
    [plain] = of_kind(insecure, "Deployment")
    assert "--metrics-auth" not in container(plain)["args"]
    assert f"{RELEASE}-auth-delegator" not in by_name(insecure, "ClusterRoleBinding")


def test_a_cluster_wide_install_can_read_secrets_only_in_listed_namespaces(
    helm: Path, tmp_path: Path
) -> None:
    docs = render(helm, tmp_path, {"rbac": {"secretNamespaces": ["tenant-a", "tenant-b"]}})
    assert not [r for r in operator_role(docs)["rules"] if "secrets" in r["resources"]]
    roles = of_kind(docs, "Role")
    assert {role["metadata"]["namespace"] for role in roles} == {"tenant-a", "tenant-b"}
    for role in roles:
        assert role["rules"] == [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]
    bindings = of_kind(docs, "RoleBinding")
    assert {b["roleRef"]["name"] for b in bindings} == {f"{RELEASE}-secrets"}
    wide = {"rbac": {"secretsClusterWide": True}}
    assert [
        r
        for r in operator_role(render(helm, tmp_path, wide))["rules"]
        if "secrets" in r["resources"]
    ]


def test_monitoring_without_the_prometheus_operator_fails_early_naming_the_value(
    helm: Path, tmp_path: Path
) -> None:
    for value, kind in (("prometheusRule", "PrometheusRule"), ("serviceMonitor", "ServiceMonitor")):
        error = render_error(helm, tmp_path, {"metrics": {value: {"enabled": True}}})
        assert f"metrics.{value}.enabled" in error and kind in error
        assert "resource mapping not found" not in error


def test_the_default_install_reads_no_secret_anywhere(helm: Path, tmp_path: Path) -> None:
    """Narrow by default (issue 27): a cluster-wide `get` on Secrets reaches kube-system; the
    platform grants it per namespace (secretNamespaces) or says so (secretsClusterWide)."""
    docs = render(helm, tmp_path, {})
    for doc in of_kind(docs, "ClusterRole") + of_kind(docs, "Role"):
        assert all("secrets" not in r.get("resources", []) for r in doc["rules"]), doc["metadata"]
    wide = operator_role(render(helm, tmp_path, {"rbac": {"secretsClusterWide": True}}))
    assert {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]} in wide["rules"]


def test_tenant_roles_aggregate_into_the_built_in_view_and_edit_roles(
    helm: Path, tmp_path: Path
) -> None:
    roles = by_name(render(helm, tmp_path, {}), "ClusterRole")
    view, edit = roles[f"{RELEASE}-tenant-view"], roles[f"{RELEASE}-tenant-edit"]
    assert view["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-view"] == "true"
    assert edit["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-edit"] == "true"
    assert "rbac.authorization.k8s.io/aggregate-to-view" not in edit["metadata"]["labels"]
    assert {v for r in view["rules"] for v in r["verbs"]} == {"get", "list", "watch"}
    plain = {
        d["metadata"]["name"]: d
        for d in yaml.safe_load_all((MANIFESTS / "tenant-roles.yaml").read_text())
        if d
    }
    for name in ("tenant-view", "tenant-edit"):
        assert plain[f"cleanslate-{name}"]["rules"] == roles[f"{RELEASE}-{name}"]["rules"]


def test_the_plain_manifests_have_the_charts_pod_disruption_budget(
    helm: Path, tmp_path: Path
) -> None:
    (chart,) = of_kind(render(helm, tmp_path, {}), "PodDisruptionBudget")
    plain = manifest(MANIFESTS / "pdb.yaml", "PodDisruptionBudget")
    assert plain["spec"]["minAvailable"] == chart["spec"]["minAvailable"]
    selector = plain["spec"]["selector"]["matchLabels"]
    pod = manifest(MANIFESTS / "deployment.yaml", "Deployment")["spec"]["template"]
    assert selector.items() <= pod["metadata"]["labels"].items()
