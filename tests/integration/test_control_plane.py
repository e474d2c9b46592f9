"""The API-server behaviours the operator depends on, checked against a real one.

A throwaway CRD (widgets.test.cleanslate.dev) keeps this independent of the
project's own CRDs: it exercises structural-schema validation, the status
subresource, watches and printer columns, and RBAC for a least-privileged user.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes_asyncio import client, watch
from kubernetes_asyncio.client.exceptions import ApiException

from cleanslate.localcluster import Kubectl, KubectlError

pytestmark = pytest.mark.cluster

GROUP, VERSION, PLURAL = "test.cleanslate.dev", "v1", "widgets"
CRD_NAME = f"{PLURAL}.{GROUP}"
MERGE_PATCH = "application/merge-patch+json"
DEADLINE_SECONDS = 30.0

WIDGET_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": CRD_NAME},
    "spec": {
        "group": GROUP,
        "scope": "Namespaced",
        "names": {"plural": PLURAL, "singular": "widget", "kind": "Widget"},
        "versions": [
            {
                "name": VERSION,
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "additionalPrinterColumns": [
                    {"name": "Size", "type": "integer", "jsonPath": ".spec.size"},
                    {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
                    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                ],
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "required": ["size"],
                                "properties": {
                                    "size": {"type": "integer", "minimum": 1, "maximum": 10},
                                },
                            },
                            "status": {
                                "type": "object",
                                "properties": {"phase": {"type": "string"}},
                            },
                        },
                    }
                },
            }
        ],
    },
}


def widget(name: str, size: int) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Widget",
        "metadata": {"name": name},
        "spec": {"size": size},
    }


def eventually(check: Callable[[], bool], what: str) -> None:
    """Poll until ``check`` holds; for state that converges (RBAC caches), with a deadline."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {DEADLINE_SECONDS:.0f}s waiting for {what}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def widget_crd(kubectl: Kubectl) -> Iterator[str]:
    """Applies the CRD and waits server-side (``kubectl wait``) until it is Established."""
    kubectl.apply(WIDGET_CRD)
    kubectl("wait", "--for=condition=Established", f"crd/{CRD_NAME}", "--timeout=60s")
    yield CRD_NAME
    # Waited for, so that a rerun against a long-lived cluster never meets a
    # half-deleted CRD (the API server's own finalizer removes the widgets).
    kubectl("delete", "crd", CRD_NAME, "--ignore-not-found", "--timeout=60s")


async def test_widget_lifecycle(
    widget_crd: str, namespace: str, k8s_api: client.ApiClient, kubectl: Kubectl
) -> None:
    # Typed as Any: the bundled stubs declare `body: str` and omit `_content_type`,
    # both wrong for this generated client.
    objects: Any = client.CustomObjectsApi(k8s_api)
    target = (GROUP, VERSION, namespace, PLURAL)

    created = await objects.create_namespaced_custom_object(*target, widget("small", 3))
    created_version = created["metadata"]["resourceVersion"]

    await _assert_rejected(objects, target)
    await _assert_status_subresource(objects, target)
    await _assert_watch_sees_status(objects, target, created_version)
    _assert_printer_columns(kubectl, namespace)


async def _assert_rejected(objects: Any, target: tuple[str, ...]) -> None:
    with pytest.raises(ApiException) as rejected:
        await objects.create_namespaced_custom_object(*target, widget("too-small", 0))
    assert rejected.value.status == 422
    message = str(rejected.value.body)
    assert "spec.size" in message
    assert "should be greater than or equal to 1" in message


async def _assert_status_subresource(objects: Any, target: tuple[str, ...]) -> None:
    """Status is written only through /status; the main resource ignores it, and
    /status ignores spec, which is what lets an operator and users not clobber each other."""
    ignored = await objects.patch_namespaced_custom_object(
        *target, "small", {"status": {"phase": "Bogus"}}, _content_type=MERGE_PATCH
    )
    assert "status" not in ignored

    patched = await objects.patch_namespaced_custom_object_status(
        *target,
        "small",
        {"spec": {"size": 9}, "status": {"phase": "Ready"}},
        _content_type=MERGE_PATCH,
    )
    assert patched["status"] == {"phase": "Ready"}
    assert patched["spec"] == {"size": 3}


async def _assert_watch_sees_status(objects: Any, target: tuple[str, ...], since: str) -> None:
    """Watching from the creation's resourceVersion replays the later change, so
    the order of patch and watch cannot make this flaky."""
    stream = watch.Watch().stream(
        objects.list_namespaced_custom_object,
        *target,
        resource_version=since,
        field_selector="metadata.name=small",
        timeout_seconds=int(DEADLINE_SECONDS),
    )
    async with asyncio.timeout(DEADLINE_SECONDS), stream:
        async for event in stream:
            phase = event["object"].get("status", {}).get("phase")
            if event["type"] == "MODIFIED" and phase == "Ready":
                return
    pytest.fail("the watch ended without a MODIFIED event carrying status.phase=Ready")


def _assert_printer_columns(kubectl: Kubectl, namespace: str) -> None:
    lines = kubectl("get", PLURAL, "--namespace", namespace).splitlines()
    assert lines[0].split() == ["NAME", "SIZE", "PHASE", "AGE"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[1:]}
    assert rows["small"][:2] == ["3", "Ready"]


def test_restricted_user_needs_a_role(
    namespace: str, kubectl: Kubectl, restricted_kubectl: Kubectl
) -> None:
    with pytest.raises(KubectlError) as denied:
        restricted_kubectl("get", "configmaps", "--namespace", namespace)
    assert "forbidden" in denied.value.stderr.lower()
    assert "cleanslate-restricted" in denied.value.stderr

    kubectl(
        "create",
        "role",
        "cm-reader",
        "--verb=get,list",
        "--resource=configmaps",
        "--namespace",
        namespace,
    )
    kubectl(
        "create",
        "rolebinding",
        "cm-reader",
        "--role=cm-reader",
        "--user=cleanslate-restricted",
        "--namespace",
        namespace,
    )

    eventually(lambda: _allowed(restricted_kubectl, namespace, "configmaps"), "the RoleBinding")
    assert not _allowed(restricted_kubectl, namespace, "secrets")


def _allowed(kubectl: Kubectl, namespace: str, resource: str) -> bool:
    try:
        kubectl("get", resource, "--namespace", namespace)
    except KubectlError as error:
        if "forbidden" not in error.stderr.lower():
            raise
        return False
    return True
