"""A tenant cannot choose where the operator sends credentials, nor make it use a Secret its
owner did not mark for cleanslate."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from kubernetes_asyncio import client

from cleanslate.api.account import ExchangeSpec, Mode
from cleanslate.clock import SimulatedClock
from cleanslate.exchange.endpoints import EndpointNotAllowed, EndpointPolicy
from cleanslate.operating.exchanges import CredentialsMissing, EndpointRefused, build_exchange
from cleanslate.operating.kube import PARTIAL_METADATA, SECRET_TYPE, SECRET_TYPE_LABEL, Kube

from .keys import KEY_NAME, new_private_key_pem

START = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("url", ["https://api.coinbase.com", "https://API.coinbase.com:443/"])
def test_coinbase_production_is_allowed_by_default(url: str) -> None:
    assert EndpointPolicy().check(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://api.coinbase.com",
        "https://api.coinbase.com:8443",
        "https://api.coinbase.com.evil.example",
        "http://payments.billing.svc.cluster.local",
        "http://169.254.169.254",
        "https://api.coinbase.com/api/v3/brokerage/accounts#",
        "https://api.coinbase.com#",
        "https://api.coinbase.com?x=1",
        "https://evil.example#@api.coinbase.com",
        "https://user@api.coinbase.com",
        "https://api.coinbase.com\\@evil.example",
        "ftp://api.coinbase.com",
    ],
)
def test_anything_else_is_refused_by_default(url: str) -> None:
    with pytest.raises(EndpointNotAllowed):
        EndpointPolicy().check(url)


def test_the_operator_flag_allows_a_sandbox_origin_and_nothing_beside_it() -> None:
    policy = EndpointPolicy.with_extra(["http://127.0.0.1:8081"])

    assert policy.check("http://127.0.0.1:8081/") == "http://127.0.0.1:8081/"
    assert policy.check("https://api.coinbase.com")
    for url in ("http://127.0.0.1:8082", "http://127.0.0.1:8081/internal#"):
        with pytest.raises(EndpointNotAllowed):
            policy.check(url)


def test_a_flag_with_a_path_is_refused_at_start_up() -> None:
    with pytest.raises(EndpointNotAllowed):
        EndpointPolicy.with_extra(["https://proxy.example/coinbase"])


class RecordingKube:
    """Fails the test if the Secret is read: a refused address must cost no Secret read."""

    def __init__(self) -> None:
        self.reads: list[tuple[str, str]] = []

    async def read_secret(self, namespace: str, name: str) -> dict[str, str]:
        self.reads.append((namespace, name))
        return {"apiKeyName": KEY_NAME, "apiPrivateKey": new_private_key_pem()}


@pytest.mark.parametrize("mode", [Mode.DRY_RUN, Mode.LIVE])
async def test_a_tenant_base_url_is_refused_before_the_secret_is_read(
    mode: Mode, tmp_path: Path
) -> None:
    kube = RecordingKube()
    spec = ExchangeSpec.model_validate(
        {
            "name": "coinbase",
            "credentialsSecretRef": {"name": "coinbase"},
            "coinbase": {"baseUrl": "http://payments.billing.svc.cluster.local/steal#"},
        }
    )

    with pytest.raises(EndpointRefused) as refused:
        await build_exchange(
            spec,
            mode,
            namespace="tenant-a",
            name="acct",
            clock=SimulatedClock(START),
            kube=kube,  # type: ignore[arg-type]
            state_dir=tmp_path,
        )

    assert kube.reads == []
    assert refused.value.reason == "EndpointNotAllowed"
    assert "--allow-exchange-url" in str(refused.value)


class FakeCore:
    def __init__(self, labels: dict[str, str] | None) -> None:
        self.labels = labels
        self.full_reads: list[str] = []

    async def read_namespaced_secret(self, name: str, namespace: str, **_: Any) -> Any:
        self.full_reads.append(name)
        data = {"apiKeyName": "b3Jn", "apiPrivateKey": "LS0tLS1CRUdJTg=="}
        meta = client.V1ObjectMeta(name=name, namespace=namespace, labels=self.labels)
        return client.V1Secret(metadata=meta, data=data)


class FakeMetadataApi:
    """The API server's answer to a PartialObjectMetadata GET: metadata, no data."""

    def __init__(self, labels: dict[str, str] | None) -> None:
        self.labels = labels
        self.accepts: list[str] = []

    async def call_api(self, path: str, method: str, **kwargs: Any) -> Any:
        self.accepts.append(kwargs["header_params"]["Accept"])
        return {
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": {"name": kwargs["path_params"]["name"], "labels": self.labels},
        }

    async def close(self) -> None:
        return None


async def kube_with(labels: dict[str, str] | None) -> Kube:
    kube = Kube(client.ApiClient())
    await kube.close()
    kube._api = FakeMetadataApi(labels)  # type: ignore[assignment]
    kube._core = FakeCore(labels)  # type: ignore[assignment]
    return kube


@pytest.mark.parametrize(
    "labels", [None, {}, {SECRET_TYPE_LABEL: "other"}, {"argocd.argoproj.io/secret-type": "x"}]
)
async def test_an_unmarked_secret_is_not_used_and_the_message_says_how_to_mark_it(
    labels: dict[str, str] | None, tmp_path: Path
) -> None:
    kube = await kube_with(labels)
    spec = ExchangeSpec.model_validate(
        {"name": "coinbase", "credentialsSecretRef": {"name": "coinbase"}}
    )
    try:
        with pytest.raises(CredentialsMissing) as missing:
            await build_exchange(
                spec,
                Mode.DRY_RUN,
                namespace="tenant-a",
                name="acct",
                clock=SimulatedClock(START),
                kube=kube,
                state_dir=tmp_path,
            )
    finally:
        await kube.close()

    assert f"{SECRET_TYPE_LABEL}={SECRET_TYPE}" in str(missing.value)
    assert "tenant-a/coinbase" in str(missing.value)
    # refused from its metadata: the Secret's data was never fetched (issue 27)
    assert kube._core.full_reads == []  # type: ignore[attr-defined]
    assert kube._api.accepts == [PARTIAL_METADATA]  # type: ignore[attr-defined]


async def test_a_marked_secret_is_read() -> None:
    kube = await kube_with({SECRET_TYPE_LABEL: SECRET_TYPE})
    try:
        data = await kube.read_secret("tenant-a", "coinbase")
    finally:
        await kube.close()

    assert data["apiKeyName"] == "org"


def test_the_operator_refuses_to_start_with_a_steerable_allowed_url(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from cleanslate.operating.main import main

    with pytest.raises(SystemExit) as exited:
        main(["--allow-exchange-url", "https://proxy.example/coinbase#"])

    assert exited.value.code == 2
    assert "--allow-exchange-url" in capsys.readouterr().err
