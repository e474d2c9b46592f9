"""The Kubernetes calls of the kubectl plugin, with kubectl's kubeconfig and RBAC.

The plugin reads the same kubeconfig kubectl does (``--kubeconfig``, else ``$KUBECONFIG``,
else ``~/.kube/config``) and the same context and namespace, and acts as the user: what
RBAC forbids is refused by the API server and reported as kubectl reports it, never worked
around. Writes are merge patches of what a person would ``kubectl annotate`` or ``kubectl
patch``; the plugin never writes status.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from kubernetes_asyncio import client, config
from kubernetes_asyncio.client.exceptions import ApiException

from cleanslate.api import GROUP, VERSION

ACCOUNTS = "tradingaccounts"
POLICIES = "purgepolicies"
Obj = dict[str, Any]


class PluginError(Exception):
    """One line for the user (``error: ...``), exit code 1, as kubectl prints its errors."""


@dataclass(frozen=True)
class Target:
    kubeconfig: str | None
    context: str | None
    namespace: str | None
    """None: the context's namespace, else ``default``."""


def default_namespace(target: Target) -> str:
    if target.namespace:
        return target.namespace
    try:
        contexts, active = config.list_kube_config_contexts(target.kubeconfig)
    except (config.ConfigException, OSError) as exc:
        raise PluginError(f"cannot read the kubeconfig: {exc}") from None
    chosen = next((c for c in contexts if c.get("name") == target.context), active)
    namespace = ((chosen or {}).get("context") or {}).get("namespace")
    return str(namespace or "default")


def _error(exc: ApiException, what: str) -> PluginError:
    """The API server's own message: for 403 it names the user, verb and resource."""
    try:
        message = json.loads(exc.body or "{}").get("message") or exc.reason
    except (ValueError, AttributeError):
        message = exc.reason
    if exc.status == 403:
        return PluginError(f"forbidden: {message}")
    if exc.status == 404:
        return PluginError(f"{what} not found")
    return PluginError(f"{what}: {message}")


class Cluster:
    """An API client for one plugin invocation."""

    def __init__(self, api: client.ApiClient) -> None:
        self._api = api
        self._custom = client.CustomObjectsApi(api)
        self._core = client.CoreV1Api(api)

    @classmethod
    async def connect(cls, target: Target) -> Cluster:
        configuration = client.Configuration()
        try:
            await config.load_kube_config(
                config_file=target.kubeconfig,
                context=target.context,
                client_configuration=configuration,
            )
        except (config.ConfigException, OSError) as exc:
            raise PluginError(f"cannot read the kubeconfig: {exc}") from None
        return cls(client.ApiClient(configuration))

    async def close(self) -> None:
        await self._api.close()

    async def account(self, namespace: str, name: str) -> Obj:
        try:
            found: Obj = await self._custom.get_namespaced_custom_object(
                GROUP, VERSION, namespace, ACCOUNTS, name
            )
        except ApiException as exc:
            raise _error(exc, f'tradingaccount "{name}" in namespace "{namespace}"') from None
        return found

    async def accounts(self, namespace: str | None) -> list[Obj]:
        """The namespace's accounts, or every namespace's when None (``-A``)."""
        try:
            if namespace is None:
                listed = await self._custom.list_cluster_custom_object(GROUP, VERSION, ACCOUNTS)
            else:
                listed = await self._custom.list_namespaced_custom_object(
                    GROUP, VERSION, namespace, ACCOUNTS
                )
        except ApiException as exc:
            raise _error(exc, "tradingaccounts") from None
        items: list[Obj] = listed.get("items", [])
        return sorted(items, key=lambda o: (o["metadata"]["namespace"], o["metadata"]["name"]))

    async def policy(self, namespace: str, name: str) -> Obj | None:
        """The account's policy, or None when it is missing or the user may not read it."""
        try:
            found: Obj = await self._custom.get_namespaced_custom_object(
                GROUP, VERSION, namespace, POLICIES, name
            )
        except ApiException:
            return None
        return found

    async def patch_account(self, namespace: str, name: str, patch: Obj) -> Obj:
        try:
            patched: Obj = await self._custom.patch_namespaced_custom_object(
                GROUP,
                VERSION,
                namespace,
                ACCOUNTS,
                name,
                patch,
                _content_type="application/merge-patch+json",
            )
        except ApiException as exc:
            raise _error(exc, f'tradingaccount "{name}" in namespace "{namespace}"') from None
        return patched

    async def events(self, namespace: str, name: str) -> list[Obj]:
        """The account's events, oldest first."""
        try:
            listed = await self._core.list_namespaced_event(
                namespace,
                field_selector=f"involvedObject.kind=TradingAccount,involvedObject.name={name}",
            )
        except ApiException as exc:
            raise _error(exc, "events") from None
        items = [self._api.sanitize_for_serialization(e) for e in listed.items]
        return sorted(items, key=_event_time)


def _event_time(event: Obj) -> tuple[str, str]:
    """When the event first happened (events.k8s.io writes eventTime, core firstTimestamp)."""
    first = event.get("firstTimestamp") or event.get("eventTime") or event.get("lastTimestamp")
    return str(first or ""), str(event.get("metadata", {}).get("name", ""))
