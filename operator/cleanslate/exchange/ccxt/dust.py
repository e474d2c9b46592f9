"""Venues whose own dust conversion ccxt exposes, as data: the implicit-API method, what it
pays in, how often, and how its answer reads. Only Binance for now (its ``POST
/sapi/v1/asset/dust``, ccxt's ``sapi_post_asset_dust``, which ccxt signs with the ``asset``
list repeated as Binance wants: ``asset=SEI&asset=AMP``).

Binance's "Dust Transfer (USER_DATA)" (https://developers.binance.com/docs/wallet/asset/
dust-transfer) answers ``totalServiceCharge``, ``totalTransfered`` and ``transferResult``:
one entry per converted asset (``fromAsset``, ``amount``, ``transferedAmount``,
``serviceChargeAmount``, ``operateTime``, ``tranId``); an asset it refused is absent.
``totalTransfered`` is read as the BNB credited and ``totalServiceCharge`` as the fee beside
it (the documented example's charge is 2 % of the transferred total).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cleanslate.exchange.ccxt import markets
from cleanslate.exchange.port import DustConversion, DustTerms


@dataclass(frozen=True, slots=True)
class DustEndpoint:
    method: str
    """ccxt's implicit-API method name."""
    terms: DustTerms


ENDPOINTS: Mapping[str, DustEndpoint] = {
    "binance": DustEndpoint("sapi_post_asset_dust", DustTerms("BNB", timedelta(hours=6))),
}


def request(assets: list[str]) -> dict[str, Any]:
    return {"asset": assets}


def read(payload: Any, terms: DustTerms) -> DustConversion:
    """The conversion as Binance reports it; a missing total counts as nothing received."""
    body = payload if isinstance(payload, Mapping) else {}
    results = body.get("transferResult") or []
    converted = tuple(
        str(r["fromAsset"]) for r in results if isinstance(r, Mapping) and r.get("fromAsset")
    )
    received = markets.number(body.get("totalTransfered")) or markets.ZERO
    fee = markets.number(body.get("totalServiceCharge")) or markets.ZERO
    return DustConversion(terms.target, converted, received, fee)
