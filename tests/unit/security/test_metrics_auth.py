"""Per-account metrics only for scrapers the API server authorises; fail closed otherwise."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from kubernetes_asyncio import client
from prometheus_client import CollectorRegistry, Gauge

from cleanslate.operating.metrics_auth import KubeReviewer, metrics_app

GOOD, BAD = "good-token", "bad-token"


class Tokens:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail

    async def allowed(self, token: str) -> bool:
        if self.fail:
            raise client.ApiException(status=500)
        return token == GOOD


def registry() -> CollectorRegistry:
    reg = CollectorRegistry()
    gauge = Gauge("cleanslate_account_value_usd", "NAV", ["namespace", "account"], registry=reg)
    gauge.labels("tenant-a", "main").set(12345)
    return reg


@pytest.mark.parametrize(
    ("headers", "fail", "code"),
    [
        ({}, False, 401),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, False, 401),
        ({"Authorization": f"Bearer {BAD}"}, False, 403),
        ({"Authorization": f"Bearer {GOOD}"}, True, 503),
        ({"Authorization": f"Bearer {GOOD}"}, False, 200),
    ],
    ids=["no-token", "basic", "not-allowed", "api-down", "allowed"],
)
async def test_only_an_authorised_token_sees_the_account_values(
    headers: dict[str, str], fail: bool, code: int
) -> None:
    async with TestClient(TestServer(metrics_app(registry(), Tokens(fail)))) as http:
        response = await http.get("/metrics", headers=headers)
        body = await response.text()

    assert response.status == code
    assert ('namespace="tenant-a"' in body) is (code == 200)


class FakeAuthn:
    def __init__(self, authenticated: bool) -> None:
        self.authenticated, self.calls = authenticated, 0

    async def create_token_review(self, body: client.V1TokenReview) -> client.V1TokenReview:
        self.calls += 1
        user = client.V1UserInfo(username="system:serviceaccount:monitoring:prometheus")
        user.groups = ["system:serviceaccounts"]
        status = client.V1TokenReviewStatus(authenticated=self.authenticated, user=user)
        return client.V1TokenReview(spec=body.spec, status=status)


class FakeAuthz:
    def __init__(self, allowed: bool) -> None:
        self.allowed = allowed
        self.asked: list[Any] = []

    async def create_subject_access_review(
        self, body: client.V1SubjectAccessReview
    ) -> client.V1SubjectAccessReview:
        self.asked.append(body.spec)
        status = client.V1SubjectAccessReviewStatus(allowed=self.allowed)
        return client.V1SubjectAccessReview(spec=body.spec, status=status)


def reviewer(authenticated: bool, allowed: bool, clock: list[float]) -> KubeReviewer:
    review = KubeReviewer(client.ApiClient(), now=lambda: clock[0], ttl=60)
    review._authn = FakeAuthn(authenticated)  # type: ignore[assignment]
    review._authz = FakeAuthz(allowed)  # type: ignore[assignment]
    return review


@pytest.mark.parametrize(
    ("authenticated", "allowed", "verdict"),
    [(False, True, False), (True, False, False), (True, True, True)],
    ids=["unknown-token", "not-bound", "bound"],
)
async def test_a_token_is_authenticated_then_authorised_for_get_on_metrics(
    authenticated: bool, allowed: bool, verdict: bool
) -> None:
    review = reviewer(authenticated, allowed, [0.0])

    assert await review.allowed(GOOD) is verdict

    asked = review._authz.asked  # type: ignore[attr-defined]
    if not authenticated:
        assert asked == []
        return
    [spec] = asked
    assert spec.user == "system:serviceaccount:monitoring:prometheus"
    assert spec.groups == ["system:serviceaccounts"]
    attrs = spec.non_resource_attributes
    assert (attrs.path, attrs.verb) == ("/metrics", "get")


async def test_verdicts_are_cached_for_a_minute_per_token() -> None:
    clock = [0.0]
    review = reviewer(True, True, clock)

    for _ in range(3):
        await review.allowed(GOOD)
    clock[0] = 61.0
    await review.allowed(GOOD)
    await review.allowed("another")

    assert review._authn.calls == 3  # type: ignore[attr-defined]
