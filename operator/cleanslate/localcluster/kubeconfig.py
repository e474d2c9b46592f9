"""Kubeconfig files for the local control plane's users.

Credentials are embedded rather than referenced by path so that a kubeconfig can
be copied or mounted elsewhere (the demo, a container) and still work while the
plane runs.
"""

from __future__ import annotations

import base64
from pathlib import Path

import yaml

from .pki import KeyPair

CLUSTER_NAME = "cleanslate-local"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def render(server: str, ca_pem: bytes, user: str, client: KeyPair) -> str:
    """A single-context kubeconfig for ``user`` authenticating with ``client``."""
    context = f"{user}@{CLUSTER_NAME}"
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": CLUSTER_NAME,
                "cluster": {"server": server, "certificate-authority-data": _b64(ca_pem)},
            }
        ],
        "users": [
            {
                "name": user,
                "user": {
                    "client-certificate-data": _b64(client.cert_pem),
                    "client-key-data": _b64(client.key_pem),
                },
            }
        ],
        "contexts": [
            {
                "name": context,
                "context": {"cluster": CLUSTER_NAME, "user": user, "namespace": "default"},
            }
        ],
        "current-context": context,
        "preferences": {},
    }
    return yaml.safe_dump(document, sort_keys=False)


def write(path: Path, server: str, ca_pem: bytes, user: str, client: KeyPair) -> Path:
    """Write the kubeconfig with owner-only permissions, since it holds a private key."""
    path.write_text(render(server, ca_pem, user, client))
    path.chmod(0o600)
    return path
