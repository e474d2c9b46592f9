"""The few Kubernetes API calls cleanslate makes itself, with every write counted.

kopf watches, posts events and manages its finalizer; this client writes the status
subresource, reads Secrets and consumes manual-action annotations. It never writes ``spec``
(Argo CD must see no drift), and a status write replaces ``/status`` whole so that records
the core deleted (a cleared purge failure) disappear instead of lingering in a merge.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from kubernetes_asyncio import client, config
from kubernetes_asyncio.client.exceptions import ApiException

from cleanslate.api import GROUP, VERSION

ACCOUNTS = "tradingaccounts"
POLICIES = "purgepolicies"


SECRET_TYPE_LABEL = "cleanslate.dev/secret-type"
SECRET_TYPE = "exchange-credentials"
"""The label a Secret's owner sets to let cleanslate use it (as Argo CD marks its cluster
Secrets with ``argocd.argoproj.io/secret-type``): being able to name a Secret in a
TradingAccount must not be enough to trade with it."""


class SecretUnavailable(Exception):
    """The Secret is missing or unreadable; the message names it and never its data."""


class Kube:
    """A kubernetes-asyncio client with the calls the operator needs."""

    def __init__(self, api: client.ApiClient) -> None:
        self._api = api
        self._custom = client.CustomObjectsApi(api)
        self._core = client.CoreV1Api(api)
        self.writes = 0
        """API writes made so far (status patches and annotation removals)."""

    @classmethod
    async def connect(cls, kubeconfig: str | None = None) -> Kube:
        """In-cluster config when running in a pod, else the kubeconfig (KUBECONFIG)."""
        try:
            config.load_incluster_config()
        except config.ConfigException:
            await config.load_kube_config(config_file=kubeconfig)
        return cls(client.ApiClient())

    @property
    def api(self) -> client.ApiClient:
        """The underlying client, for the few calls other modules make (token reviews)."""
        return self._api

    async def close(self) -> None:
        await self._api.close()

    async def write_status(self, namespace: str, name: str, status: Mapping[str, Any]) -> None:
        """Replace the status subresource (JSON Patch ``add`` replaces an existing member)."""
        patch = [{"op": "add", "path": "/status", "value": dict(status)}]
        self.writes += 1
        await self._custom.patch_namespaced_custom_object_status(
            GROUP,
            VERSION,
            namespace,
            ACCOUNTS,
            name,
            patch,
            _content_type="application/json-patch+json",
        )

    async def remove_annotations(self, namespace: str, name: str, keys: list[str]) -> None:
        """Consume manual-action annotations (metadata only; the spec is never touched)."""
        if not keys:
            return
        patch = {"metadata": {"annotations": dict.fromkeys(keys)}}
        self.writes += 1
        await self._custom.patch_namespaced_custom_object(
            GROUP,
            VERSION,
            namespace,
            ACCOUNTS,
            name,
            patch,
            _content_type="application/merge-patch+json",
        )

    async def read_policy(self, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            obj: dict[str, Any] = await self._custom.get_namespaced_custom_object(
                GROUP, VERSION, namespace, POLICIES, name
            )
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return obj

    async def read_secret(self, namespace: str, name: str) -> dict[str, str]:
        """A Secret's decoded data, from the account's own namespace only, and only when the
        Secret carries the opt-in label (checked before its data is even decoded)."""
        try:
            secret = await self._core.read_namespaced_secret(name, namespace)
        except ApiException as exc:
            reason = "not found" if exc.status == 404 else f"unreadable (HTTP {exc.status})"
            raise SecretUnavailable(f"Secret {namespace}/{name} is {reason}") from None
        labels = (secret.metadata.labels if secret.metadata else None) or {}
        if labels.get(SECRET_TYPE_LABEL) != SECRET_TYPE:
            raise SecretUnavailable(
                f"Secret {namespace}/{name} is not marked for cleanslate: its owner must label "
                f"it {SECRET_TYPE_LABEL}={SECRET_TYPE}"
            )
        data = secret.data or {}
        try:
            return {k: base64.b64decode(v).decode() for k, v in data.items()}
        except (ValueError, UnicodeDecodeError):
            raise SecretUnavailable(f"Secret {namespace}/{name} has undecodable data") from None
