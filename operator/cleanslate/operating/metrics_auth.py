"""``/metrics`` for authorised scrapers only (``--metrics-auth``).

The metrics carry per-account values (NAV, open positions, failures per symbol): they are not
for every pod in the cluster. As controller-runtime's secure metrics serving does, a request
must carry a bearer token that the API server authenticates (TokenReview) and authorises for
``get`` on the non-resource URL ``/metrics`` (SubjectAccessReview); Prometheus' ServiceAccount
is bound to a ClusterRole granting that. Everything fails closed: no token is 401, a token
that is unknown or not allowed is 403, and an API server that cannot answer is 503.

Answers are cached per token (by its SHA-256, never the token itself) for a minute, so a
scrape every 30 s costs the API server two reviews a minute per scraper at most.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from typing import Protocol

from aiohttp import web
from kubernetes_asyncio import client
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

logger = logging.getLogger("cleanslate.operator")
METRICS_PATH = "/metrics"
CACHE_SECONDS = 60.0
CACHE_ENTRIES = 256


class Reviewer(Protocol):
    async def allowed(self, token: str) -> bool:
        """True when the token's user may ``get`` /metrics; raises when nobody can tell."""
        ...


class KubeReviewer:
    """Asks the API server, through the operator's own client, with a short cache."""

    def __init__(
        self,
        api: client.ApiClient,
        *,
        now: Callable[[], float] = time.monotonic,
        ttl: float = CACHE_SECONDS,
    ) -> None:
        self._authn = client.AuthenticationV1Api(api)
        self._authz = client.AuthorizationV1Api(api)
        self._now, self._ttl = now, ttl
        self._cache: dict[str, tuple[float, bool]] = {}

    async def allowed(self, token: str) -> bool:
        key = hashlib.sha256(token.encode()).hexdigest()
        cached = self._cache.get(key)
        if cached is not None and cached[0] > self._now():
            return cached[1]
        verdict = await self._review(token)
        if len(self._cache) >= CACHE_ENTRIES:
            self._cache.clear()
        self._cache[key] = (self._now() + self._ttl, verdict)
        return verdict

    async def _review(self, token: str) -> bool:
        review = await self._authn.create_token_review(
            client.V1TokenReview(spec=client.V1TokenReviewSpec(token=token))
        )
        status = review.status
        if status is None or not status.authenticated or status.user is None:
            return False
        user = status.user
        access = await self._authz.create_subject_access_review(
            client.V1SubjectAccessReview(
                spec=client.V1SubjectAccessReviewSpec(
                    user=user.username,
                    groups=user.groups,
                    uid=user.uid,
                    extra=user.extra,
                    non_resource_attributes=client.V1NonResourceAttributes(
                        path=METRICS_PATH, verb="get"
                    ),
                )
            )
        )
        return bool(access.status and access.status.allowed)


def metrics_app(registry: CollectorRegistry, reviewer: Reviewer) -> web.Application:
    """The aiohttp application serving ``registry`` at /metrics to authorised callers."""

    async def metrics(request: web.Request) -> web.Response:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return web.Response(status=401, text="Unauthorized: a bearer token is required\n")
        try:
            allowed = await reviewer.allowed(token.strip())
        except Exception as exc:  # fail closed, and say why without the token
            logger.warning("metrics: cannot review a scraper's token: %s", type(exc).__name__)
            return web.Response(status=503, text="cannot review the token now\n")
        if not allowed:
            return web.Response(status=403, text="Forbidden: get on /metrics is not allowed\n")
        return web.Response(
            body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    app = web.Application()
    app.router.add_get(METRICS_PATH, metrics)
    return app


async def serve_metrics(
    registry: CollectorRegistry, reviewer: Reviewer, port: int, host: str = "0.0.0.0"
) -> web.AppRunner:
    """Start the secure endpoint on the running loop; ``await runner.cleanup()`` stops it."""
    runner = web.AppRunner(metrics_app(registry, reviewer), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
