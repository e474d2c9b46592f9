"""How the API server's answers to a fenced write are read."""

from __future__ import annotations

import pytest
from kubernetes_asyncio.client.exceptions import ApiException

from cleanslate.operating.kube import ApiUnavailable, StaleRecord, _translated

TEST_FAILED = (
    '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server '
    'rejected our request due to an error in our request","reason":"Invalid","details":{},'
    '"code":422}'
)
"""kube-apiserver 1.34's answer to a JSON Patch whose ``test`` fails (captured)."""
SCHEMA_ERROR = (
    '{"kind":"Status","status":"Failure","message":"TradingAccount.cleanslate.dev \\"a\\" is '
    'invalid: status.cycles: Invalid value: -1","reason":"Invalid","details":{"name":"a",'
    '"causes":[{"reason":"FieldValueInvalid","field":"status.cycles"}]},"code":422}'
)


def answer(status: int, body: str = "{}") -> ApiException:
    exc = ApiException(status=status, reason="x")
    exc.body = body
    return exc


async def raised(exc: BaseException) -> type[BaseException]:
    try:
        async with _translated(conflict_is_stale=True):
            raise exc
    except BaseException as seen:  # the test reads which type came out
        return type(seen)
    raise AssertionError("nothing raised")


async def test_a_failed_patch_test_is_a_stale_record_and_a_schema_error_is_not() -> None:
    assert await raised(answer(422, TEST_FAILED)) is StaleRecord
    assert await raised(answer(422, SCHEMA_ERROR)) is ApiException


@pytest.mark.parametrize("status", [429, 500, 503, 504])
async def test_overload_and_server_errors_are_an_outage(status: int) -> None:
    assert await raised(answer(status)) is ApiUnavailable


async def test_a_refused_connection_or_a_timeout_is_an_outage() -> None:
    assert await raised(ConnectionRefusedError("refused")) is ApiUnavailable
    assert await raised(TimeoutError()) is ApiUnavailable
    assert await raised(answer(403)) is ApiException
