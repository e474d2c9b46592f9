"""The typed API of the two custom resources (group cleanslate.dev, version v1alpha1).

These models are the single source of the CRDs in ``crds/``.
"""

GROUP = "cleanslate.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
