"""Coinbase Advanced Trade v3 response shapes, as the public API reference documents them.

Each builder returns one JSON object with the documented field names (List Accounts, Get
Product, Get Product Book, Get Best Bid/Ask, Create Order, Batch Cancel, List Orders,
List Fills), including the fields the adapter ignores, so a test notices a field mix-up.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

KEY_NAME = "organizations/0f6c5b5e-1111-2222-3333-444455556666/apiKeys/9a8b7c6d-aaaa-bbbb"


def new_private_key_pem() -> str:
    """A throwaway EC P-256 key in the SEC1 PEM the CDP portal hands out."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


def iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def money(value: Decimal | str | int, currency: str) -> dict[str, str]:
    return {"value": str(value), "currency": currency}


def account(currency: str, available: str, hold: str = "0") -> dict[str, Any]:
    """A List Accounts entry."""
    return {
        "uuid": f"acc-{currency.lower()}",
        "name": f"{currency} Wallet",
        "currency": currency,
        "available_balance": money(available, currency),
        "default": True,
        "active": True,
        "created_at": "2021-05-31T09:59:59Z",
        "updated_at": "2024-01-15T10:30:00Z",
        "deleted_at": None,
        "type": "ACCOUNT_TYPE_CRYPTO" if currency not in ("USD", "EUR") else "ACCOUNT_TYPE_FIAT",
        "ready": True,
        "hold": money(hold, currency),
        "retail_portfolio_id": "portfolio-001",
        "platform": "ACCOUNT_PLATFORM_CONSUMER",
    }


def accounts_page(accounts: list[dict[str, Any]], cursor: str) -> dict[str, Any]:
    return {"accounts": accounts, "has_next": bool(cursor), "cursor": cursor, "size": len(accounts)}


def product(
    product_id: str,
    price: str,
    *,
    base_increment: str = "0.01",
    quote_increment: str = "0.0001",
    price_increment: str | None = None,
    base_min_size: str = "0.01",
    quote_min_size: str = "1",
    volume_24h: str = "1000",
    approximate_quote_24h_volume: str = "25000000",
    status: str = "online",
    trading_disabled: bool = False,
    is_disabled: bool = False,
    cancel_only: bool = False,
) -> dict[str, Any]:
    """A Get Product / List Products entry (field set as in a recorded Get Product answer,
    docs.rs nautilus-coinbase test_data/http_product.json, and the SDK's
    coinbase/rest/types/product_types.py). ``price_increment`` is the price tick; it equals
    ``quote_increment`` on most products and differs on sub-cent coins (ccxt issue 20026)."""
    base, quote = product_id.split("-")
    return {
        "product_id": product_id,
        "price": price,
        "price_percentage_change_24h": "-0.28",
        "volume_24h": volume_24h,
        "volume_percentage_change_24h": "12.5",
        "base_increment": base_increment,
        "quote_increment": quote_increment,
        "quote_min_size": quote_min_size,
        "quote_max_size": "150000000",
        "base_min_size": base_min_size,
        "base_max_size": "100000000",
        "base_name": base,
        "quote_name": quote,
        "watched": False,
        "is_disabled": is_disabled,
        "new": False,
        "status": status,
        "cancel_only": cancel_only,
        "limit_only": False,
        "post_only": False,
        "trading_disabled": trading_disabled,
        "auction_mode": False,
        "product_type": "SPOT",
        "quote_currency_id": quote,
        "base_currency_id": base,
        "mid_market_price": "",
        "alias": "",
        "alias_to": [],
        "base_display_symbol": base,
        "quote_display_symbol": quote,
        "view_only": False,
        "price_increment": price_increment or quote_increment,
        "display_name": product_id,
        "product_venue": "CBE",
        "approximate_quote_24h_volume": approximate_quote_24h_volume,
    }


def level(price: Decimal | str, size: Decimal | str) -> dict[str, str]:
    return {"price": str(price), "size": str(size)}


def pricebook(
    product_id: str, bids: list[dict[str, str]], asks: list[dict[str, str]], at: datetime
) -> dict[str, Any]:
    return {"product_id": product_id, "bids": bids, "asks": asks, "time": iso(at)}


def product_book(book: dict[str, Any]) -> dict[str, Any]:
    """Get Product Book: the pricebook plus the summary fields."""
    bid = Decimal(book["bids"][0]["price"]) if book["bids"] else Decimal(0)
    ask = Decimal(book["asks"][0]["price"]) if book["asks"] else Decimal(0)
    mid = (bid + ask) / 2
    return {
        "pricebook": book,
        "last": str(mid),
        "mid_market": str(mid),
        "spread_bps": str((ask - bid) / mid * 10000 if mid else 0),
        "spread_absolute": str(ask - bid),
    }


def create_success(order_id: str, request: dict[str, Any]) -> dict[str, Any]:
    return {
        "success": True,
        "success_response": {
            "order_id": order_id,
            "product_id": request["product_id"],
            "side": request["side"],
            "client_order_id": request["client_order_id"],
        },
        "order_configuration": request["order_configuration"],
    }


def create_failure(
    error: str,
    message: str,
    *,
    preview_failure_reason: str = "UNKNOWN_PREVIEW_FAILURE_REASON",
    new_order_failure_reason: str = "UNKNOWN_FAILURE_REASON",
    error_details: str = "",
    request: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Create Order refused: HTTP 200, ``success: false``, reasons in ``error_response``."""
    return {
        "success": False,
        "failure_reason": "UNKNOWN_FAILURE_REASON",
        "order_id": "",
        "error_response": {
            "error": error,
            "message": message,
            "error_details": error_details,
            "preview_failure_reason": preview_failure_reason,
            "new_order_failure_reason": new_order_failure_reason,
        },
        "order_configuration": (request or {}).get("order_configuration", {}),
    }


def http_error(error: str, message: str, code: int = 0) -> dict[str, Any]:
    """The body of an HTTP error (4xx/5xx)."""
    return {"error": error, "code": code, "message": message, "error_details": message}


def order(
    order_id: str,
    request: dict[str, Any],
    *,
    status: str,
    created: datetime,
    filled_size: Decimal = Decimal(0),
    average_filled_price: Decimal = Decimal(0),
    total_fees: Decimal = Decimal(0),
) -> dict[str, Any]:
    """A List Orders / Get Order entry."""
    (kind,) = request["order_configuration"]
    return {
        "order_id": order_id,
        "product_id": request["product_id"],
        "user_id": "user-1",
        "order_configuration": request["order_configuration"],
        "side": request["side"],
        "client_order_id": request["client_order_id"],
        "status": status,
        "time_in_force": "IMMEDIATE_OR_CANCEL" if "ioc" in kind else "GOOD_UNTIL_CANCELLED",
        "created_time": iso(created),
        "completion_percentage": "100" if status == "FILLED" else "0",
        "filled_size": str(filled_size),
        "average_filled_price": str(average_filled_price),
        "fee": "",
        "number_of_fills": "1" if filled_size else "0",
        "filled_value": str(filled_size * average_filled_price),
        "pending_cancel": False,
        "size_in_quote": False,
        "total_fees": str(total_fees),
        "size_inclusive_of_fees": False,
        "total_value_after_fees": str(filled_size * average_filled_price - total_fees),
        "trigger_status": "INVALID_ORDER_TYPE",
        "order_type": "MARKET" if kind.startswith("market") else "LIMIT",
        "reject_reason": "REJECT_REASON_UNSPECIFIED",
        "settled": status == "FILLED",
        "product_type": "SPOT",
        "reject_message": "",
        "cancel_message": "",
        "order_placement_source": "RETAIL_ADVANCED",
        "outstanding_hold_amount": "0",
        "is_liquidation": False,
        "last_fill_time": iso(created) if filled_size else None,
    }


def fill(
    order_id: str,
    product_id: str,
    side: str,
    price: Decimal,
    size: Decimal,
    commission: Decimal,
    liquidity: str,
    at: datetime,
    trade_id: str,
    *,
    size_in_quote: bool = False,
) -> dict[str, Any]:
    """A List Fills entry (fields of the SDK's coinbase/rest/types/orders_types.py ``Fill``).
    With ``size_in_quote`` the caller passes ``size`` in quote units, as Coinbase reports it."""
    return {
        "entry_id": f"entry-{trade_id}",
        "trade_id": trade_id,
        "order_id": order_id,
        "trade_time": iso(at),
        "trade_type": "FILL",
        "price": str(price),
        "size": str(size),
        "commission": str(commission),
        "product_id": product_id,
        "sequence_timestamp": iso(at),
        "liquidity_indicator": liquidity,
        "size_in_quote": size_in_quote,
        "user_id": "user-1",
        "side": side,
        "retail_portfolio_id": "portfolio-001",
    }


def transaction_summary(maker: str = "0.006", taker: str = "0.012") -> dict[str, Any]:
    """Get Transaction Summary (``/transaction_summary``), fields as the SDK reads them
    (coinbase/rest/types/fees_types.py ``GetTransactionSummaryResponse`` and ``FeeTier``);
    the rates are the entry tier's live answer quoted in ccxt PR 23347 (2024-08-07)."""
    return {
        "total_volume": 0,
        "total_fees": 0,
        "fee_tier": {
            "pricing_tier": "Advanced 1",
            "usd_from": "0",
            "usd_to": "1000",
            "taker_fee_rate": taker,
            "maker_fee_rate": maker,
            "aop_from": "",
            "aop_to": "",
        },
        "margin_rate": None,
        "goods_and_services_tax": None,
        "advanced_trade_only_volume": 0,
        "advanced_trade_only_fees": 0,
        "coinbase_pro_volume": 0,
        "coinbase_pro_fees": 0,
    }


def key_permissions(
    *,
    can_view: bool = True,
    can_trade: bool = True,
    can_transfer: bool = False,
    portfolio_uuid: str = "portfolio-001",
) -> dict[str, Any]:
    """Get API Key Permissions (``/key_permissions``), fields as the SDK reads them
    (coinbase/rest/types/data_api_types.py ``GetAPIKeyPermissionsResponse``)."""
    return {
        "can_view": can_view,
        "can_trade": can_trade,
        "can_transfer": can_transfer,
        "portfolio_uuid": portfolio_uuid,
        "portfolio_type": "DEFAULT",
    }


def server_time(at: datetime) -> dict[str, Any]:
    """Get Server Time (``/time``): ``iso``, ``epochSeconds``, ``epochMillis`` (SDK
    coinbase/rest/types/public_types.py ``GetServerTimeResponse``; int64 values arrive as
    strings, as proto3 JSON writes them)."""
    millis = int(at.timestamp() * 1000)
    return {"iso": iso(at), "epochSeconds": str(millis // 1000), "epochMillis": str(millis)}


def preview_answer(product_id: str, config: dict[str, Any], errs: list[str]) -> dict[str, Any]:
    """Preview Order's answer (SDK coinbase/rest/types/orders_types.py
    ``PreviewOrderResponse``): ``errs`` lists preview failure reasons, empty when the order
    would be accepted."""
    size = Decimal(config["base_size"])
    price = Decimal(config.get("limit_price") or "0")
    return {
        "order_total": str(size * price),
        "commission_total": "0",
        "errs": errs,
        "warning": [],
        "quote_size": str(size * price),
        "base_size": str(size),
        "best_bid": "",
        "best_ask": "",
        "is_max": False,
        "preview_id": f"preview-{product_id}",
    }
