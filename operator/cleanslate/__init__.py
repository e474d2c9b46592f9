"""cleanslate: a Kubernetes operator that keeps crypto trading accounts clean."""

__version__ = "0.1.0"
