import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--existing-cluster",
        action="store_true",
        default=False,
        help="run cluster tests against $KUBECONFIG (e.g. kind) instead of starting "
        "a local control plane; same as CLEANSLATE_EXISTING_CLUSTER=1",
    )
