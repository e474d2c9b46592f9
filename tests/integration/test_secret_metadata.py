"""Secrets cleanslate may not use are not read (issue 27 item 6), on the real API server.

The operator reads a Secret's metadata first (PartialObjectMetadata: the API server sends no
``data``) and fetches the data only when the owner's opt-in label is there.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes_asyncio import client

from cleanslate.localcluster import Kubectl
from cleanslate.operating.kube import (
    PARTIAL_METADATA,
    SECRET_TYPE,
    SECRET_TYPE_LABEL,
    Kube,
    SecretUnavailable,
)

pytestmark = pytest.mark.cluster


def secret(namespace: str, name: str, labelled: bool) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {SECRET_TYPE_LABEL: SECRET_TYPE} if labelled else {"team": "a"},
        },
        "stringData": {"apiKey": "key-material-1", "secret": "key-material-2"},
    }


async def test_an_unlabelled_secret_is_refused_from_its_metadata_and_its_data_never_read(
    kubectl: Kubectl, k8s_api: client.ApiClient, namespace: str
) -> None:
    # created, not applied: client-side ``kubectl apply`` copies the whole manifest, data
    # included, into the last-applied-configuration annotation, which is metadata
    for name, labelled in (("theirs", False), ("ours", True)):
        kubectl("create", "-f", "-", input=json.dumps(secret(namespace, name, labelled)))
    kube = Kube(k8s_api)
    full_reads: list[str] = []
    read = kube._core.read_namespaced_secret

    async def counted(name: str, ns: str, **kwargs: Any) -> Any:
        full_reads.append(name)
        return await read(name, ns, **kwargs)

    kube._core.read_namespaced_secret = counted  # type: ignore[method-assign]
    seen: list[Any] = []
    call_api = k8s_api.call_api

    async def recorded(*args: Any, **kwargs: Any) -> Any:
        answer = await call_api(*args, **kwargs)
        if (kwargs.get("header_params") or {}).get("Accept") == PARTIAL_METADATA:
            seen.append(answer)
        return answer

    k8s_api.call_api = recorded  # type: ignore[method-assign]

    with pytest.raises(SecretUnavailable, match="not marked for cleanslate"):
        await kube.read_secret(namespace, "theirs")
    assert full_reads == []
    # what the metadata read brought back holds no data at all
    assert seen and seen[0]["kind"] == "PartialObjectMetadata" and "data" not in seen[0]
    assert "key-material" not in repr(seen)

    assert await kube.read_secret(namespace, "ours") == {
        "apiKey": "key-material-1",
        "secret": "key-material-2",
    }
    assert full_reads == ["ours"]
    with pytest.raises(SecretUnavailable, match="not found"):
        await kube.read_secret(namespace, "missing")
