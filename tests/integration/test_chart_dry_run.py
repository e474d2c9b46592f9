"""The chart's rendered objects and the plain manifests are accepted by a real API
server (server-side dry run after the CRDs are applied for real), their pods pass the
restricted Pod Security Standard, and the namespaced RBAC grants exactly what
docs/install.md says: checked with ``kubectl auth can-i`` as the operator's
ServiceAccount.

This lives with the integration tests because it needs their ``kubectl`` and
``namespace`` fixtures; the offline chart tests are in tests/deploy/test_helm.py."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from cleanslate.localcluster import Kubectl, KubectlError, ToolNotFoundError, find_tool

pytestmark = pytest.mark.cluster

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "cleanslate"
MANIFESTS = ROOT / "manifests"
PROJECT_CRDS = [
    "tradingaccounts.cleanslate.dev",
    "purgepolicies.cleanslate.dev",
    "clusterkopfpeerings.kopf.dev",
    "kopfpeerings.kopf.dev",
]
MONITORING_KINDS = {"servicemonitors": "ServiceMonitor", "prometheusrules": "PrometheusRule"}


def stub_crd(plural: str, kind: str) -> dict[str, Any]:
    """A schemaless stand-in for a Prometheus Operator CRD, so its objects can be dry-run."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.monitoring.coreos.com"},
        "spec": {
            "group": "monitoring.coreos.com",
            "scope": "Namespaced",
            "names": {"plural": plural, "kind": kind, "singular": kind.lower()},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                        }
                    },
                }
            ],
        },
    }


@pytest.fixture(scope="module")
def helm() -> Path:
    try:
        return find_tool("helm")
    except ToolNotFoundError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def crds(kubectl: Kubectl) -> None:
    """The project's and kopf's CRDs, applied for real; stubs for the monitoring kinds
    only where the cluster has no Prometheus Operator (a real one is never replaced)."""
    files = [*sorted((ROOT / "crds").glob("*.yaml")), MANIFESTS / "crds" / "kopf.dev_peerings.yaml"]
    args = [arg for path in files for arg in ("-f", str(path))]
    kubectl(
        "apply", "--server-side", "--force-conflicts", "--field-manager=cleanslate-tests", *args
    )
    names = list(PROJECT_CRDS)
    for plural, kind in MONITORING_KINDS.items():
        name = f"{plural}.monitoring.coreos.com"
        names.append(name)
        try:
            kubectl("get", "crd", name)
        except KubectlError:
            kubectl.apply(stub_crd(plural, kind))
    kubectl("wait", "--for=condition=established", "--timeout=60s", *[f"crd/{n}" for n in names])


@pytest.fixture
def tenants(kubectl: Kubectl) -> Iterator[list[str]]:
    names = [f"tenant-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    for name in names:
        kubectl("create", "namespace", name)
    yield names
    for name in names:
        kubectl("delete", "namespace", name, "--wait=false", "--ignore-not-found")


@pytest.fixture
def release_namespace(kubectl: Kubectl, namespace: str) -> str:
    """The test namespace, warning on anything the restricted Pod Security level forbids."""
    kubectl("label", "namespace", namespace, "pod-security.kubernetes.io/warn=restricted")
    return namespace


def server_dry_run(kubectl: Kubectl, manifest: Path) -> subprocess.CompletedProcess[str]:
    """``kubectl apply --server-side --dry-run=server``, keeping stderr for the warnings."""
    result = subprocess.run(
        [
            str(kubectl.binary),
            f"--kubeconfig={kubectl.kubeconfig}",
            "apply",
            "--server-side",
            "--dry-run=server",
            "--field-manager=cleanslate-tests",
            "-f",
            str(manifest),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "would violate PodSecurity" not in result.stderr, result.stderr
    return result


def render_chart(helm: Path, tmp_path: Path, namespace: str, values: dict[str, Any]) -> Path:
    values_file = tmp_path / "values.json"
    values_file.write_text(json.dumps(values))
    result = subprocess.run(
        [
            str(helm),
            "template",
            "cleanslate",
            str(CHART),
            "--namespace",
            namespace,
            "-f",
            str(values_file),
            # the cluster has the monitoring kinds (the ``crds`` fixture); ``helm template``
            # does not ask it, so it is told
            "--api-versions=monitoring.coreos.com/v1/PrometheusRule",
            "--api-versions=monitoring.coreos.com/v1/ServiceMonitor",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(result.stdout)
    return rendered


def object_count(path: Path) -> int:
    return sum(1 for doc in yaml.safe_load_all(path.read_text()) if doc)


MONITORING: dict[str, Any] = {
    "metrics": {
        "serviceMonitor": {"enabled": True},
        "prometheusRule": {"enabled": True},
        "dashboard": {"enabled": True},
    }
}


@pytest.mark.parametrize("variant", ["default-with-monitoring", "shards", "namespaced"])
def test_rendered_chart_passes_server_side_dry_run(
    kubectl: Kubectl,
    helm: Path,
    crds: None,
    release_namespace: str,
    tenants: list[str],
    tmp_path: Path,
    variant: str,
) -> None:
    choices: dict[str, dict[str, Any]] = {
        "default-with-monitoring": MONITORING,
        "shards": {
            "shards": [
                {"name": "a", "selector": "cleanslate.dev/shard=a"},
                {"name": "b", "selector": "cleanslate.dev/shard=b"},
                {"name": "c", "namespaces": tenants, "selector": "cleanslate.dev/shard=c"},
            ]
        },
        "namespaced": {"watchNamespaces": tenants},
    }
    values = choices[variant]
    rendered = render_chart(helm, tmp_path, release_namespace, values)
    result = server_dry_run(kubectl, rendered)
    applied = [line for line in result.stdout.splitlines() if "(server dry run)" in line]
    assert len(applied) == object_count(rendered), result.stdout


def test_plain_manifests_pass_server_side_dry_run(
    kubectl: Kubectl, crds: None, release_namespace: str, tenants: list[str], tmp_path: Path
) -> None:
    """manifests/ with its namespaces renamed to the test's own."""
    renames = {
        "cleanslate-system": release_namespace,
        "tenant-a": tenants[0],
        "tenant-b": tenants[1],
    }
    paths = [
        *sorted(MANIFESTS.glob("*.yaml")),
        *sorted((MANIFESTS / "namespaced").glob("*.yaml")),
        MANIFESTS / "monitoring" / "servicemonitor.yaml",
        ROOT / "deploy" / "monitoring" / "prometheusrule.yaml",
    ]
    text = "\n---\n".join(path.read_text() for path in paths)
    for old, new in renames.items():
        text = text.replace(f": {old}\n", f": {new}\n").replace(f"- {old}\n", f"- {new}\n")
        text = text.replace(f"[{old}]", f"[{new}]")
    # Cluster-scoped objects of a second install must not clash with a real one.
    text = text.replace("name: cleanslate-operator\n", f"name: {release_namespace}-operator\n")
    manifest = tmp_path / "manifests.yaml"
    manifest.write_text(text)
    assert "cleanslate-system" not in text and "tenant-a\n" not in text
    result = server_dry_run(kubectl, manifest)
    applied = [line for line in result.stdout.splitlines() if "(server dry run)" in line]
    assert len(applied) == object_count(manifest), result.stdout


def can_i(kubectl: Kubectl, who: str, verb: str, resource: str, namespace: str) -> bool:
    """``resource/sub`` asks about the subresource (``kubectl`` would read ``sub`` as a name)."""
    kind, _, sub = resource.partition("/")
    extra = [f"--subresource={sub}"] if sub else []
    try:
        answer = kubectl("auth", "can-i", verb, kind, *extra, f"--as={who}", "-n", namespace)
    except KubectlError as exc:  # "no" exits 1
        if exc.returncode == 1:
            return False
        raise
    return answer.strip() == "yes"


def test_namespaced_rbac_grants_exactly_what_the_operator_needs(
    kubectl: Kubectl,
    helm: Path,
    crds: None,
    release_namespace: str,
    tenants: list[str],
    tmp_path: Path,
) -> None:
    rendered = render_chart(helm, tmp_path, release_namespace, {"watchNamespaces": [tenants[0]]})
    wanted = {"ServiceAccount", "Role", "RoleBinding"}
    objects = [doc for doc in yaml.safe_load_all(rendered.read_text()) if doc]
    rbac = tmp_path / "rbac.yaml"
    rbac.write_text(yaml.safe_dump_all([doc for doc in objects if doc["kind"] in wanted]))
    kubectl("apply", "-f", str(rbac))
    operator = f"system:serviceaccount:{release_namespace}:cleanslate"
    tenant, other = tenants

    granted = {
        ("watch", "tradingaccounts.cleanslate.dev"),
        ("patch", "tradingaccounts.cleanslate.dev"),
        ("patch", "tradingaccounts.cleanslate.dev/status"),
        ("list", "purgepolicies.cleanslate.dev"),
        ("create", "events"),
        ("get", "secrets"),
        ("patch", "kopfpeerings.kopf.dev"),
    }
    denied = {
        ("update", "tradingaccounts.cleanslate.dev"),
        ("delete", "tradingaccounts.cleanslate.dev"),
        ("create", "tradingaccounts.cleanslate.dev"),
        ("patch", "purgepolicies.cleanslate.dev"),
        ("list", "secrets"),
        ("watch", "secrets"),
        ("create", "pods"),
        ("delete", "events"),
    }
    for verb, resource in granted:
        assert can_i(kubectl, operator, verb, resource, tenant), f"cannot {verb} {resource}"
        assert not can_i(kubectl, operator, verb, resource, other), f"{verb} {resource} leaks"
    for verb, resource in denied:
        assert not can_i(kubectl, operator, verb, resource, tenant), f"may {verb} {resource}"
    assert not can_i(kubectl, operator, "list", "namespaces", tenant)
    assert not can_i(kubectl, operator, "list", "customresourcedefinitions", tenant)


def test_cluster_wide_install_reads_secrets_only_in_the_listed_namespaces(
    kubectl: Kubectl,
    helm: Path,
    crds: None,
    release_namespace: str,
    tenants: list[str],
    tmp_path: Path,
) -> None:
    tenant, other = tenants
    values = {"rbac": {"secretNamespaces": [tenant]}, "metrics": {"secure": False}}
    rendered = render_chart(helm, tmp_path, release_namespace, values)
    wanted = {"ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"}
    objects = [doc for doc in yaml.safe_load_all(rendered.read_text()) if doc]
    objects = [doc for doc in objects if "-tenant-" not in doc["metadata"]["name"]]
    unique = f"{release_namespace}-operator"  # cluster-scoped names must not clash
    for doc in objects:
        if doc["kind"].startswith("Cluster"):
            doc["metadata"]["name"] = unique
            if "roleRef" in doc:
                doc["roleRef"]["name"] = unique
    rbac = tmp_path / "rbac.yaml"
    rbac.write_text(yaml.safe_dump_all([doc for doc in objects if doc["kind"] in wanted]))
    kubectl("apply", "-f", str(rbac))
    operator = f"system:serviceaccount:{release_namespace}:cleanslate"
    try:
        assert can_i(kubectl, operator, "get", "secrets", tenant)
        assert not can_i(kubectl, operator, "get", "secrets", other)
        assert not can_i(kubectl, operator, "get", "secrets", release_namespace)
        assert not can_i(kubectl, operator, "list", "secrets", tenant)
        for namespace in (tenant, other):  # the accounts themselves are still cluster-wide
            assert can_i(kubectl, operator, "watch", "tradingaccounts.cleanslate.dev", namespace)
    finally:
        kubectl("delete", "clusterrolebinding,clusterrole", unique, "--ignore-not-found")


# The default install's rights, as docs/install.md shows them ("What the operator can do"):
# (verb, resource, namespace or "tenant"/"kube-system"/"release") -> allowed.
DEFAULT_CAN_I = [
    ("watch", "tradingaccounts.cleanslate.dev", "tenant", True),
    ("patch", "tradingaccounts.cleanslate.dev", "tenant", True),
    ("update", "tradingaccounts.cleanslate.dev", "tenant", False),
    ("patch", "tradingaccounts.cleanslate.dev/status", "tenant", True),
    ("get", "tradingaccounts.cleanslate.dev/status", "tenant", False),
    ("list", "purgepolicies.cleanslate.dev", "tenant", True),
    ("get", "purgepolicies.cleanslate.dev", "tenant", False),
    ("patch", "purgepolicies.cleanslate.dev", "tenant", False),
    ("patch", "purgepolicies.cleanslate.dev/status", "tenant", True),
    ("create", "events", "tenant", True),
    ("get", "secrets", "tenant", False),
    ("get", "secrets", "kube-system", False),
    ("list", "secrets", "tenant", False),
    ("patch", "clusterkopfpeerings.kopf.dev", "tenant", True),
    ("get", "clusterkopfpeerings.kopf.dev", "tenant", False),
    ("list", "customresourcedefinitions", "tenant", True),
    ("create", "pods", "release", False),
    ("list", "namespaces", "tenant", False),
]


def test_the_default_install_has_the_rights_docs_install_md_lists(
    kubectl: Kubectl,
    helm: Path,
    crds: None,
    release_namespace: str,
    tenants: list[str],
    tmp_path: Path,
) -> None:
    """``kubectl auth can-i`` as the operator of a default cluster-wide install: the table in
    docs/install.md, row by row. No Secret is readable anywhere, kube-system included."""
    rendered = render_chart(helm, tmp_path, release_namespace, {"metrics": {"secure": False}})
    objects = [doc for doc in yaml.safe_load_all(rendered.read_text()) if doc]
    unique = f"{release_namespace}-operator"
    kept = []
    for doc in objects:
        if doc["kind"] == "ServiceAccount":
            kept.append(doc)
        elif doc["kind"] in ("ClusterRole", "ClusterRoleBinding") and doc["metadata"][
            "name"
        ].endswith("-operator"):
            doc["metadata"]["name"] = unique
            if "roleRef" in doc:
                doc["roleRef"]["name"] = unique
            kept.append(doc)
    rbac = tmp_path / "rbac.yaml"
    rbac.write_text(yaml.safe_dump_all(kept))
    kubectl("apply", "-f", str(rbac))
    operator = f"system:serviceaccount:{release_namespace}:cleanslate"
    where = {"tenant": tenants[0], "kube-system": "kube-system", "release": release_namespace}
    docs = (ROOT / "docs" / "install.md").read_text()
    try:
        for verb, resource, namespace, allowed in DEFAULT_CAN_I:
            answer = can_i(kubectl, operator, verb, resource, where[namespace])
            assert answer is allowed, f"can-i {verb} {resource} -n {namespace}: {answer}"
            row = f"| `{verb}` | `{resource}` | {namespace} | {'yes' if allowed else 'no'} |"
            assert row in docs, f"docs/install.md lacks the row {row}"
    finally:
        kubectl("delete", "clusterrolebinding,clusterrole", unique, "--ignore-not-found")
