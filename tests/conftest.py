import random

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--existing-cluster",
        action="store_true",
        default=False,
        help="run cluster tests against $KUBECONFIG (e.g. kind) instead of starting "
        "a local control plane; same as CLEANSLATE_EXISTING_CLUSTER=1",
    )
    parser.addoption(
        "--random-order-seed",
        type=int,
        default=None,
        metavar="SEED",
        help="run the tests in an order shuffled by SEED, to find tests that depend on "
        "the ones before them (`make test-random`); the default order is the file order",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    seed = config.getoption("--random-order-seed")
    if seed is not None:
        random.Random(seed).shuffle(items)


def pytest_report_header(config: pytest.Config) -> str | None:
    seed = config.getoption("--random-order-seed")
    return None if seed is None else f"random order: --random-order-seed={seed}"
