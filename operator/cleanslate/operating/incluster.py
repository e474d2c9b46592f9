"""In-cluster login that finds the API server the way client-go does.

kopf's ``login_with_service_account`` always names ``https://kubernetes.default.svc``. A pod
on the host network (``dnsPolicy`` aside), or a cluster whose DNS is not up yet, cannot
resolve that name, while every client-go program in the same pod reaches the API server
through ``KUBERNETES_SERVICE_HOST`` and ``KUBERNETES_SERVICE_PORT``, which the kubelet sets in
every container (and which a platform may override, e.g. to a node-local address). The
operator's second client (``kube.Kube``, kubernetes_asyncio's ``load_incluster_config``)
already follows them; this login makes kopf's watches and patches go to the same place.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import kopf

HOST_VARIABLE = "KUBERNETES_SERVICE_HOST"
PORT_VARIABLE = "KUBERNETES_SERVICE_PORT"


def service_url(environ: Mapping[str, str]) -> str | None:
    """``https://host:port`` from the two variables, as client-go's ``InClusterConfig`` builds
    it (``net.JoinHostPort``: an IPv6 host gets brackets); None unless both are set."""
    host = environ.get(HOST_VARIABLE, "").strip()
    port = environ.get(PORT_VARIABLE, "").strip()
    if not host or not port:
        return None
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"https://{host}:{port}"


def login_in_cluster(environ: Mapping[str, str], **kwargs: Any) -> kopf.ConnectionInfo | None:
    """kopf's service-account login, pointed at the address the environment names.

    None outside a pod (no token file), so the caller falls back to the kubeconfig."""
    info = kopf.login_with_service_account(**kwargs)
    url = service_url(environ)
    if info is None or url is None:
        return info
    return dataclasses.replace(info, server=url)
