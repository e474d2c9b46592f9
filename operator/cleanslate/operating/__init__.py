"""The operator: kopf handlers, the Kubernetes API and the per-account workers (the shell)."""
