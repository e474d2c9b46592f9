"""A local Kubernetes control plane (etcd + kube-apiserver) for tests and the demo.

Built from Go modules by ``hack/build-tools.sh`` and started as plain processes,
because CI has no Docker; see docs/local-cluster.md.
"""

from .kubectl import Kubectl, KubectlError
from .plane import ControlPlaneError, LocalControlPlane
from .tools import ToolNotFoundError, find_tool, tools_dir

__all__ = [
    "ControlPlaneError",
    "Kubectl",
    "KubectlError",
    "LocalControlPlane",
    "ToolNotFoundError",
    "find_tool",
    "tools_dir",
]
