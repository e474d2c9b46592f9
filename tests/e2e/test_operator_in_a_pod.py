"""The chart installed as docs/install.md says; the operator in its pod, with the real
authenticator, authorizer, probes and kubelet. Tests run in file order and share the release:
ready, demo accounts settle, RBAC as the API server decides it, metrics auth, a rolling
upgrade mid-purge, then a namespaced install in its place."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cleanslate.demo import SETTLED
from cleanslate.localcluster import KubectlError

from .conftest import CHART, NAMESPACE, RELEASE, ROOT, E2eCluster, values_file, wait_until

pytestmark = pytest.mark.e2e

SERVICE_ACCOUNT = f"system:serviceaccount:{NAMESPACE}:{RELEASE}"
SELECTOR = "app.kubernetes.io/name=cleanslate"
DEMO = ROOT / "examples" / "demo"
READY_SECONDS = 300.0
SETTLE_SECONDS = 300.0


@pytest.fixture(scope="module")
def installed(e2e: E2eCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2eCluster]:
    """``helm install`` then ``kubectl rollout status``, as docs/install.md; uninstalled after."""
    values = values_file(tmp_path_factory.mktemp("values"), e2e.platform_values())
    began = time.monotonic()
    e2e.helm(
        "install", RELEASE, str(CHART),
        "--namespace", NAMESPACE, "--create-namespace",
        "-f", str(values), "--wait", "--timeout", f"{READY_SECONDS:.0f}s",
    )  # fmt: skip
    e2e.timings["helm install --wait"] = time.monotonic() - began
    e2e.kubectl("-n", NAMESPACE, "rollout", "status", f"deploy/{RELEASE}", "--timeout=60s")
    yield e2e
    e2e.kubectl("delete", "-f", str(DEMO), "--ignore-not-found", "--wait=false")
    e2e.helm_run("uninstall", RELEASE, "--namespace", NAMESPACE, "--wait")


def pods(e2e: E2eCluster, namespace: str = NAMESPACE) -> list[dict[str, Any]]:
    out = e2e.kubectl("get", "pods", "-n", namespace, "-l", SELECTOR, "-o", "json")
    items: list[dict[str, Any]] = json.loads(out)["items"]
    return items


def ready(pod: dict[str, Any]) -> bool:
    conditions = pod.get("status", {}).get("conditions", [])
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def states(e2e: E2eCluster) -> dict[str, str]:
    out = e2e.kubectl(
        "get", "tradingaccounts", "-A", "-o",
        "jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}="
        "{.status.accountState}{'\\n'}{end}",
    )  # fmt: skip
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def explain(e2e: E2eCluster) -> str:
    """The accounts' table and the operator's last log lines, for a failed wait."""
    table = e2e.kubectl("get", "tradingaccounts", "-A", "-o", "wide")
    logs = e2e.kubectl("logs", "-n", NAMESPACE, f"deploy/{RELEASE}", "--tail=40")
    return f"{table}\n--- operator log ---\n{logs}"


def test_the_operator_pod_is_ready_through_its_probes(installed: E2eCluster) -> None:
    [pod] = pods(installed)
    assert ready(pod)
    [status] = pod["status"]["containerStatuses"]
    assert status["ready"] and status["started"] and status["restartCount"] == 0
    [spec] = pod["spec"]["containers"]
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert spec[probe]["httpGet"]["path"] == "/healthz", probe
    # the token volume of ServiceAccount admission, which the operator logs in with
    mounts = {m["mountPath"] for m in spec["volumeMounts"]}
    assert "/var/run/secrets/kubernetes.io/serviceaccount" in mounts


def test_the_container_runs_as_uid_10001_on_a_read_only_root(installed: E2eCluster) -> None:
    deploy = f"deploy/{RELEASE}"
    assert installed.kubectl("exec", "-n", NAMESPACE, deploy, "--", "id", "-u").strip() == "10001"
    with pytest.raises(KubectlError, match="Read-only file system"):
        installed.kubectl("exec", "-n", NAMESPACE, deploy, "--", "touch", "/opt/written")
    # the emptyDir state directory is the writable place
    installed.kubectl("exec", "-n", NAMESPACE, deploy, "--", "touch", "/var/lib/cleanslate/probe")


def test_the_demo_accounts_settle_as_documented(installed: E2eCluster) -> None:
    """examples/demo: three accounts CLEAN, the DryRun one and the one the exchange rejects
    stay Dirty (the latter backing off), as `make demo` shows outside a pod."""
    began = time.monotonic()
    installed.kubectl("apply", "-f", str(DEMO / "00-namespaces.yaml"))
    installed.kubectl("apply", "-f", str(DEMO))

    def settled() -> bool:
        failures = installed.kubectl(
            "get", "ta", "bonk", "-n", "tenant-a", "-o", "jsonpath={.status.failureCount}"
        ).strip()
        return states(installed) == SETTLED and failures not in ("", "0")

    wait_until("the demo accounts settle", settled, SETTLE_SECONDS, lambda: explain(installed))
    installed.timings["demo accounts settle"] = time.monotonic() - began


CAN_I: list[tuple[str, str, str, bool]] = [
    # verb, resource, namespace ("" = all), allowed
    ("watch", "tradingaccounts.cleanslate.dev", "", True),
    ("patch", "tradingaccounts.cleanslate.dev", "tenant-a", True),
    ("patch", "tradingaccounts.cleanslate.dev/status", "tenant-a", True),
    ("create", "tradingaccounts.cleanslate.dev", "tenant-a", False),
    ("delete", "tradingaccounts.cleanslate.dev", "tenant-a", False),
    ("update", "tradingaccounts.cleanslate.dev", "tenant-a", False),
    ("watch", "purgepolicies.cleanslate.dev", "", True),
    ("patch", "purgepolicies.cleanslate.dev", "tenant-a", False),
    ("create", "events", "tenant-a", True),
    # the chart's default reads no Secret anywhere: Live accounts need rbac.secretNamespaces
    # (docs/install.md); the test below grants tenant-a and checks tenant-b stays closed
    ("get", "secrets", "tenant-a", False),
    ("list", "secrets", "tenant-a", False),
    ("watch", "secrets", "", False),
    ("patch", "clusterkopfpeerings.kopf.dev", "", True),
    ("delete", "clusterkopfpeerings.kopf.dev", "", False),
    ("watch", "customresourcedefinitions.apiextensions.k8s.io", "", True),
    ("create", "customresourcedefinitions.apiextensions.k8s.io", "", False),
    ("create", "tokenreviews.authentication.k8s.io", "", True),
    ("create", "subjectaccessreviews.authorization.k8s.io", "", True),
    ("create", "pods", NAMESPACE, False),
    ("get", "configmaps", NAMESPACE, False),
    ("create", "serviceaccounts/token", NAMESPACE, False),
    ("*", "*", "", False),
]


def can_i(e2e: E2eCluster, verb: str, resource: str, namespace: str) -> bool:
    """``kubectl auth can-i`` as the operator's ServiceAccount (yes: exit 0, no: exit 1)."""
    scope = ["-n", namespace] if namespace else ["--all-namespaces"]
    kind, _, sub = resource.partition("/")
    extra = [f"--subresource={sub}"] if sub else []
    try:
        e2e.kubectl("auth", "can-i", verb, kind, *extra, *scope, f"--as={SERVICE_ACCOUNT}")
    except KubectlError as exc:
        if exc.returncode == 1:
            return False
        raise
    return True


def test_the_service_account_can_do_its_work_and_nothing_more(installed: E2eCluster) -> None:
    table = [(v, r, n, can_i(installed, v, r, n)) for v, r, n, _ in CAN_I]
    assert table == CAN_I


def token(e2e: E2eCluster, name: str) -> str:
    return e2e.kubectl("create", "token", name, "-n", NAMESPACE, "--duration=10m").strip()


def get_with(e2e: E2eCluster, bearer: str, *args: str) -> subprocess.CompletedProcess[str]:
    """kubectl with a ServiceAccount's token instead of the admin certificate."""
    assert e2e.plane is not None
    return subprocess.run(
        [
            str(e2e.kubectl.binary),
            f"--server={e2e.plane.server}",
            f"--certificate-authority={e2e.plane.credentials.ca.cert_path}",
            f"--token={bearer}",
            "--kubeconfig=/dev/null",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_secret_outside_rbac_secret_namespaces_cannot_be_read(
    installed: E2eCluster, tmp_path: Path
) -> None:
    if installed.plane is None:
        pytest.skip("reads with the ServiceAccount's token against the local plane")
    values = values_file(
        tmp_path, installed.platform_values(), {"rbac": {"secretNamespaces": ["tenant-a"]}}
    )
    installed.helm(
        "upgrade", RELEASE, str(CHART), "--namespace", NAMESPACE, "-f", str(values), "--wait"
    )
    for namespace in ("tenant-a", "tenant-b"):
        installed.kubectl(
            "create", "secret", "generic", "exchange", "-n", namespace, "--from-literal=apiKey=k"
        )
    operator_token = token(installed, RELEASE)
    inside = get_with(installed, operator_token, "get", "secret", "exchange", "-n", "tenant-a")
    outside = get_with(installed, operator_token, "get", "secret", "exchange", "-n", "tenant-b")
    assert inside.returncode == 0, inside.stderr
    assert outside.returncode != 0 and "Forbidden" in outside.stderr
    assert not can_i(installed, "get", "secrets", "tenant-b")


def metrics(port: int, bearer: str | None) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics")
    if bearer is not None:
        request.add_header("Authorization", f"Bearer {bearer}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read().decode()
            assert "cleanslate_" in body
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_metrics_answer_a_metrics_reader_and_refuse_anyone_else(installed: E2eCluster) -> None:
    if installed.plane is None:
        pytest.skip("reaches the pod's port on the node (host network)")
    kubectl = installed.kubectl
    for name in ("scraper", "nosy"):
        kubectl("create", "serviceaccount", name, "-n", NAMESPACE)
    kubectl(
        "create", "clusterrolebinding", "e2e-scraper",
        f"--clusterrole={RELEASE}-metrics-reader", f"--serviceaccount={NAMESPACE}:scraper",
    )  # fmt: skip
    assert metrics(9090, token(installed, "scraper")) == 200
    assert metrics(9090, token(installed, "nosy")) == 403
    assert metrics(9090, None) == 401


def test_an_upgrade_mid_purge_stops_the_old_pod_within_its_grace_period(
    installed: E2eCluster, tmp_path: Path
) -> None:
    """A rolling upgrade while an account is being purged: the old container exits by
    itself (code 0) before terminationGracePeriodSeconds, and the new pod finishes the
    purge."""
    # A policy that rests maker-first (pace: fixed): the adaptive pace would sell SEI's wide
    # spread at once as a taker, and there would be no purge in progress to upgrade under.
    resting = json.loads(
        installed.kubectl("get", "purgepolicy", "default", "-n", "tenant-b", "-o", "json")
    )
    resting["metadata"] = {"name": "resting", "namespace": "tenant-b"}
    resting["spec"].setdefault("execution", {})["pace"] = "fixed"
    resting.pop("status", None)
    installed.kubectl("apply", "-f", "-", input=json.dumps(resting))
    installed.kubectl(
        "apply", "-f", "-",
        input=json.dumps({
            "apiVersion": "cleanslate.dev/v1alpha1",
            "kind": "TradingAccount",
            "metadata": {"name": "mid-purge", "namespace": "tenant-b"},
            "spec": {
                "policyRef": {"name": "resting"},
                "mode": "Live",
                "intervalSeconds": 5,
                "exchange": {"paper": {"seed": 7, "holdings": {"USD": 100, "SEI": 400}}},
            },
        }),
    )  # fmt: skip
    wait_until(
        "the account is being purged (Cleaning, or an order in flight)",
        lambda: purging(installed, "tenant-b", "mid-purge"),
        SETTLE_SECONDS,
        lambda: explain(installed),
    )
    [old] = pods(installed)
    grace = int(old["spec"]["terminationGracePeriodSeconds"])
    watcher = subprocess.Popen(
        [
            str(installed.kubectl.binary), f"--kubeconfig={installed.kubeconfig}",
            "get", "pods", "-n", NAMESPACE, "-l", SELECTOR, "-w", "-o", "json",
            "--output-watch-events",
        ],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        values = values_file(
            tmp_path,
            installed.platform_values(),
            {"rbac": {"secretNamespaces": ["tenant-a"]}, "podAnnotations": {"e2e/roll": "1"}},
        )
        began = time.monotonic()
        installed.helm(
            "upgrade", RELEASE, str(CHART), "--namespace", NAMESPACE, "-f", str(values), "--wait"
        )
        installed.timings["helm upgrade --wait (roll)"] = time.monotonic() - began
    finally:
        watcher.terminate()
        out, _ = watcher.communicate(timeout=30)
    seen = states_of(out, old["metadata"]["name"])
    last = seen[-1]
    # the first deleting state has the grace period the deletion asked for (the kubelet's
    # final delete rewrites both fields with a grace of 0)
    deleting = next(pod for pod in seen if pod["metadata"].get("deletionTimestamp"))
    [status] = last["status"]["containerStatuses"]
    terminated = status["state"].get("terminated") or status["lastState"].get("terminated")
    assert terminated is not None, status
    assert terminated["exitCode"] == 0, terminated
    deleted = _seconds(deleting["metadata"]["deletionTimestamp"]) - int(
        deleting["metadata"]["deletionGracePeriodSeconds"]
    )  # deletionTimestamp is when the grace period would end
    took = _seconds(terminated["finishedAt"]) - deleted
    installed.timings["old pod stopped after SIGTERM"] = took
    assert took < grace, (took, grace)
    wait_until(
        "the account the old pod was purging is CLEAN",
        lambda: states(installed).get("tenant-b/mid-purge") == "Clean",
        SETTLE_SECONDS,
    )


def purging(e2e: E2eCluster, namespace: str, name: str) -> bool:
    out = e2e.kubectl("get", "ta", name, "-n", namespace, "-o", "json")
    status = json.loads(out).get("status", {})
    return bool(status.get("inFlight")) or status.get("accountState") == "Cleaning"


def test_a_namespaced_install_sees_only_its_namespaces(
    installed: E2eCluster, tmp_path: Path
) -> None:
    """The cluster-wide release replaced by one with watchNamespaces: [tenant-b]. An account
    in tenant-b is reconciled; one in tenant-a is not touched, and the ServiceAccount
    cannot even list accounts outside tenant-b."""
    installed.helm("uninstall", RELEASE, "--namespace", NAMESPACE, "--wait")
    values = values_file(tmp_path, installed.platform_values(), {"watchNamespaces": ["tenant-b"]})
    installed.helm(
        "install", RELEASE, str(CHART), "--namespace", NAMESPACE, "-f", str(values), "--wait"
    )
    for namespace in ("tenant-a", "tenant-b"):
        installed.kubectl(
            "apply", "-f", "-",
            input=json.dumps({
                "apiVersion": "cleanslate.dev/v1alpha1",
                "kind": "TradingAccount",
                "metadata": {"name": "scoped", "namespace": namespace},
                "spec": {
                    "policyRef": {"name": "default"},
                    "exchange": {"paper": {"seed": 8, "holdings": {"USD": 50}}},
                },
            }),
        )  # fmt: skip
    wait_until(
        "the tenant-b account is reconciled",
        lambda: bool(states(installed).get("tenant-b/scoped")),
        SETTLE_SECONDS,
        lambda: explain(installed),
    )
    assert states(installed).get("tenant-a/scoped", "") == ""
    assert can_i(installed, "list", "tradingaccounts.cleanslate.dev", "tenant-b")
    assert not can_i(installed, "list", "tradingaccounts.cleanslate.dev", "tenant-a")
    assert not can_i(installed, "list", "tradingaccounts.cleanslate.dev", "")


def states_of(watch_output: str, name: str) -> list[dict[str, Any]]:
    """Every state of pod ``name`` in a ``kubectl get -w -o json --output-watch-events``
    stream (a sequence of JSON objects, the last one possibly cut short), in order."""
    decoder, index, seen = json.JSONDecoder(), 0, []
    while index < len(watch_output):
        while index < len(watch_output) and watch_output[index].isspace():
            index += 1
        if index >= len(watch_output):
            break
        try:
            event, index = decoder.raw_decode(watch_output, index)
        except json.JSONDecodeError:
            break  # the watch was stopped in the middle of writing an object
        if event["object"]["metadata"]["name"] == name:
            seen.append(event["object"])
    assert seen, f"no event for {name}"
    return seen


def _seconds(timestamp: str) -> float:
    return time.mktime(time.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ"))
