"""The platform's ``--ccxt-api-url`` redirect: every URL of the venue moves to the origin,
host kept in the path, and the origin still has to pass the operator's allow-list."""

from __future__ import annotations

import pytest

from cleanslate.api.account import Ccxt
from cleanslate.exchange.ccxt import api_origins, make_client
from cleanslate.exchange.ccxt_accounts import CcxtRefused, check_spec, redirect
from cleanslate.exchange.endpoints import EndpointPolicy
from cleanslate.operating.main import build_parser

ORIGIN = "http://127.0.0.1:8123"


async def test_every_api_url_moves_to_the_origin_with_its_host_in_the_path() -> None:
    client = make_client("binance", {})
    public = client.urls["api"]["public"]
    redirect(client, ORIGIN)
    redirect(client, ORIGIN)  # twice changes nothing
    assert client.urls["api"]["public"] == f"{ORIGIN}/{public.removeprefix('https://')}"
    assert api_origins(client) == [ORIGIN]
    await client.close()


def test_a_redirect_is_refused_unless_the_platform_allows_its_origin() -> None:
    config = Ccxt.model_validate({"exchangeId": "binance"})
    with pytest.raises(CcxtRefused) as refused:
        check_spec(config, EndpointPolicy(), ORIGIN)
    assert refused.value.reason == "EndpointNotAllowed"
    assert ORIGIN in str(refused.value)
    check_spec(config, EndpointPolicy.with_extra([ORIGIN]), ORIGIN)


def test_the_flag_takes_id_equals_origin() -> None:
    args = build_parser().parse_args(["--ccxt-api-url", f"binance={ORIGIN}"])
    assert args.ccxt_api_url == [f"binance={ORIGIN}"]
