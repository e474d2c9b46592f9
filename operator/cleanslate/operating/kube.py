"""The few Kubernetes API calls cleanslate makes itself, with every write counted.

kopf watches, posts events and manages its finalizer; this client writes the status
subresource, reads Secrets and consumes manual-action annotations. It never writes ``spec``
(Argo CD must see no drift), and a status write replaces ``/status`` whole so that records
the core deleted (a cleared purge failure) disappear instead of lingering in a merge.

Both writes are conditional, as JSON Patch ``test`` operations the API server applies
atomically with the change:

* a status write tests ``status.writeSequence``, the counter the writer last read or wrote,
  and stores it plus one. A replica that was frozen (a GC pause, a stuck node) while another
  took over holds an older number: its write fails with ``StaleRecord`` instead of
  overwriting the newer record, and it places nothing. A shard (``--selector``) also tests
  its label: once an account is relabelled to another shard, the old shard's writes fail
  the same way, even in the instant before its watch tells it the account left.
* an annotation is removed only while it still holds the value that was handled, so a new
  value written meanwhile survives to be acted on.

Errors are translated here: ``ApiUnavailable`` (no answer, a timeout, 429 or 5xx: wait and
retry), ``StaleRecord`` (the fence held: stand down), anything else is raised as it came.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
from kubernetes_asyncio import client, config
from kubernetes_asyncio.client.exceptions import ApiException

from cleanslate.api import GROUP, VERSION

ACCOUNTS = "tradingaccounts"
POLICIES = "purgepolicies"
SEQUENCE = "writeSequence"
"""The status field every write tests and increments (the fence)."""
RELEASED = "releasedSequence"
"""The status field a replica sets to the ``writeSequence`` of the write it lets go with."""
UNAVAILABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


class ApiUnavailable(Exception):
    """The API server did not answer in time, or answered that it cannot serve now."""


class StaleRecord(Exception):
    """A conditional write found that someone else wrote the object since it was read."""


@dataclass(frozen=True, slots=True)
class Fence:
    """What the writer believes the stored status is: its ``writeSequence`` (None when the
    record has none yet) and whether the object has a status at all."""

    sequence: int | None
    has_status: bool

    def test(self) -> dict[str, Any]:
        """The JSON Patch ``test`` that holds only while nobody else has written."""
        if not self.has_status:
            return {"op": "test", "path": "/status", "value": None}
        return {"op": "test", "path": f"/status/{SEQUENCE}", "value": self.sequence}

    @classmethod
    def of(cls, body: Mapping[str, Any]) -> Fence:
        status = body.get("status")
        if not isinstance(status, Mapping):
            return cls(None, status is not None)
        sequence = status.get(SEQUENCE)
        return cls(sequence if isinstance(sequence, int) else None, True)


def _pointer(key: str) -> str:
    """A JSON Pointer token (RFC 6901): annotation keys hold ``/``."""
    return key.replace("~", "~0").replace("/", "~1")


@asynccontextmanager
async def _translated(conflict_is_stale: bool = False) -> AsyncIterator[None]:
    try:
        yield
    except ApiException as exc:
        if exc.status in UNAVAILABLE_STATUSES:
            raise ApiUnavailable(f"HTTP {exc.status} {exc.reason}") from None
        if conflict_is_stale and exc.status == 422 and _patch_not_applicable(exc.body):
            raise StaleRecord("a JSON Patch test failed: the object changed since read") from None
        raise
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        raise ApiUnavailable(f"{type(exc).__name__}: {exc}"[:300]) from None


def _patch_not_applicable(body: object) -> bool:
    """A failed JSON Patch ``test`` is a 422 like a schema violation, but a bare one: the
    API server says only "the server rejected our request due to an error in our request",
    with no field causes. A schema violation names its fields (``details.causes``)."""
    try:
        status = json.loads(str(body or "{}"))
    except ValueError:
        return False
    details = status.get("details") if isinstance(status, dict) else None
    return isinstance(status, dict) and not (details or {}).get("causes")


SECRET_TYPE_LABEL = "cleanslate.dev/secret-type"
SECRET_TYPE = "exchange-credentials"
"""The label a Secret's owner sets to let cleanslate use it (as Argo CD marks its cluster
Secrets with ``argocd.argoproj.io/secret-type``): being able to name a Secret in a
TradingAccount must not be enough to trade with it."""


PARTIAL_METADATA = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"
"""The Accept header that asks the API server for an object's metadata only."""


class SecretUnavailable(Exception):
    """The Secret is missing or unreadable; the message names it and never its data."""


class Kube:
    """A kubernetes-asyncio client with the calls the operator needs."""

    def __init__(
        self,
        api: client.ApiClient,
        timeout: float = 30.0,
        shard: Mapping[str, str] | None = None,
    ) -> None:
        self._api = api
        self.shard = dict(shard or {})
        """The labels an account must carry for this process to write its status (the shard's
        ``--selector``); tested atomically with every status write."""
        self._custom = client.CustomObjectsApi(api)
        self._core = client.CoreV1Api(api)
        self.timeout = timeout
        """Seconds one request may take; a paused API server must not hang a cycle forever."""
        self.writes = 0
        """API writes made so far (status patches and annotation removals)."""

    @classmethod
    async def connect(
        cls,
        kubeconfig: str | None = None,
        timeout: float = 30.0,
        shard: Mapping[str, str] | None = None,
    ) -> Kube:
        """In-cluster config when running in a pod, else the kubeconfig (KUBECONFIG)."""
        try:
            config.load_incluster_config()
        except config.ConfigException:
            await config.load_kube_config(config_file=kubeconfig)
        return cls(client.ApiClient(), timeout, shard)

    @property
    def api(self) -> client.ApiClient:
        """The underlying client, for the few calls other modules make (token reviews)."""
        return self._api

    async def close(self) -> None:
        await self._api.close()

    async def write_status(
        self, namespace: str, name: str, status: Mapping[str, Any], fence: Fence
    ) -> None:
        """Replace the status subresource if nobody wrote it since ``fence`` was read
        (``StaleRecord`` otherwise), and while the account still carries this shard's labels.
        JSON Patch ``add`` replaces an existing member."""
        await self._fenced_patch(
            namespace, name, fence, [{"op": "add", "path": "/status", "value": dict(status)}]
        )

    async def release_status(self, namespace: str, name: str, fence: Fence) -> int:
        """Mark the stored status as let go by its writer, if it is still the record
        ``fence`` names (``StaleRecord`` otherwise) and the account still carries this
        shard's labels: ``writeSequence`` moves on by one and ``releasedSequence`` names the
        new number. Nothing else in the status changes. Returns the new number."""
        assert fence.has_status and fence.sequence is not None
        after = fence.sequence + 1
        await self._fenced_patch(
            namespace,
            name,
            fence,
            [
                {"op": "add", "path": f"/status/{SEQUENCE}", "value": after},
                {"op": "add", "path": f"/status/{RELEASED}", "value": after},
            ],
        )
        return after

    async def _fenced_patch(
        self, namespace: str, name: str, fence: Fence, operations: list[dict[str, Any]]
    ) -> None:
        """Apply ``operations`` to the status only while ``fence`` still names the stored
        record and the account carries this shard's labels (``StaleRecord`` otherwise)."""
        shard = [
            {"op": "test", "path": f"/metadata/labels/{_pointer(key)}", "value": value}
            for key, value in sorted(self.shard.items())
        ]
        self.writes += 1
        async with _translated(conflict_is_stale=True):
            await self._custom.patch_namespaced_custom_object_status(
                GROUP,
                VERSION,
                namespace,
                ACCOUNTS,
                name,
                [*shard, fence.test(), *operations],
                _content_type="application/json-patch+json",
                _request_timeout=self.timeout,
            )

    async def write_policy_status(
        self, namespace: str, name: str, status: Mapping[str, Any]
    ) -> None:
        """Replace a PurgePolicy's status (``policy_status``): every writer computes the
        same value from the same spec, so there is nothing to fence."""
        patch = {"status": dict(status)}
        self.writes += 1
        async with _translated(conflict_is_stale=False):
            await self._custom.patch_namespaced_custom_object_status(
                GROUP,
                VERSION,
                namespace,
                POLICIES,
                name,
                patch,
                _content_type="application/merge-patch+json",
                _request_timeout=self.timeout,
            )

    async def remove_annotation(self, namespace: str, name: str, key: str, value: str) -> bool:
        """Consume a manual-action annotation if it still holds ``value`` (metadata only; the
        spec is never touched). False when it was changed or removed meanwhile: a new value is
        a new request, left for the next cycle."""
        path = f"/metadata/annotations/{_pointer(key)}"
        patch = [{"op": "test", "path": path, "value": value}, {"op": "remove", "path": path}]
        self.writes += 1
        try:
            async with _translated(conflict_is_stale=True):
                await self._custom.patch_namespaced_custom_object(
                    GROUP,
                    VERSION,
                    namespace,
                    ACCOUNTS,
                    name,
                    patch,
                    _content_type="application/json-patch+json",
                    _request_timeout=self.timeout,
                )
        except StaleRecord:
            return False
        return True

    async def read_account(self, namespace: str, name: str) -> dict[str, Any] | None:
        """The account as stored now (a quorum read), or None when it is gone."""
        try:
            async with _translated():
                obj: dict[str, Any] = await self._custom.get_namespaced_custom_object(
                    GROUP, VERSION, namespace, ACCOUNTS, name, _request_timeout=self.timeout
                )
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return obj

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

    async def secret_labels(self, namespace: str, name: str) -> Mapping[str, str]:
        """A Secret's labels, read as PartialObjectMetadata: the API server sends the
        metadata only, so a Secret cleanslate may not use never has its data read."""
        try:
            meta = await self._api.call_api(
                "/api/v1/namespaces/{namespace}/secrets/{name}",
                "GET",
                path_params={"namespace": namespace, "name": name},
                header_params={"Accept": PARTIAL_METADATA},
                response_types_map={200: "object"},
                auth_settings=["BearerToken"],
                _return_http_data_only=True,
                _request_timeout=self.timeout,
            )
        except ApiException as exc:
            reason = "not found" if exc.status == 404 else f"unreadable (HTTP {exc.status})"
            raise SecretUnavailable(f"Secret {namespace}/{name} is {reason}") from None
        labels = (
            ((meta or {}).get("metadata") or {}).get("labels") if isinstance(meta, dict) else None
        )
        return dict(labels or {})

    async def read_secret(self, namespace: str, name: str) -> dict[str, str]:
        """A Secret's decoded data, from the account's own namespace only, and only when the
        Secret carries the opt-in label: the label is read first from the metadata alone
        (``secret_labels``), and the data fetched only when it is there."""
        labels = await self.secret_labels(namespace, name)
        if labels.get(SECRET_TYPE_LABEL) != SECRET_TYPE:
            raise SecretUnavailable(
                f"Secret {namespace}/{name} is not marked for cleanslate: its owner must label "
                f"it {SECRET_TYPE_LABEL}={SECRET_TYPE}"
            )
        try:
            secret = await self._core.read_namespaced_secret(
                name, namespace, _request_timeout=self.timeout
            )
        except ApiException as exc:
            reason = (
                "not found"
                if exc.status == 404
                else "not readable by the operator: the platform grants Secret access per "
                "namespace (Helm value rbac.secretNamespaces)"
                if exc.status == 403
                else f"unreadable (HTTP {exc.status})"
            )
            raise SecretUnavailable(f"Secret {namespace}/{name} is {reason}") from None
        labels = (secret.metadata.labels if secret.metadata else None) or {}
        if labels.get(SECRET_TYPE_LABEL) != SECRET_TYPE:  # relabelled between the two reads
            raise SecretUnavailable(
                f"Secret {namespace}/{name} is not marked for cleanslate: its owner must label "
                f"it {SECRET_TYPE_LABEL}={SECRET_TYPE}"
            )
        data = secret.data or {}
        try:
            return {k: base64.b64decode(v).decode() for k, v in data.items()}
        except (ValueError, UnicodeDecodeError):
            raise SecretUnavailable(f"Secret {namespace}/{name} has undecodable data") from None
