"""A paper account's state, and its JSON file, so a restarted operator finds what it left.

The market needs no saving (it is a function of seed and time); the account does: balances,
every order with its fills and its progress through the trade flow, the time up to which the
simulation has run, the BONK placement counters and the random source's state. One file per
account, ``<state_dir>/<quoted account key>.json``, replaced atomically (write to a temporary
file, fsync, rename) so a crash leaves the previous or the next state, never half of one.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

from cleanslate.core.market import Fill, Order, OrderStatus, OrderType, Side
from cleanslate.files import read_regular

FORMAT_VERSION = 1
ZERO = Decimal("0")


@dataclass(slots=True)
class OrderRecord:
    """An order as the simulator tracks it; ``Order`` is its frozen public view."""

    order_id: str
    client_order_id: str
    product_id: str
    side: Side
    order_type: OrderType
    base_size: Decimal
    limit_price: Decimal | None
    post_only: bool
    created_at: datetime
    expires_at: datetime | None = None
    status: OrderStatus = OrderStatus.OPEN
    filled_size: Decimal = ZERO
    filled_value: Decimal = ZERO
    fees: Decimal = ZERO
    queue_ahead: Decimal = ZERO
    """Base size resting ahead of this order at its price when it was placed."""
    traded_through: Decimal = ZERO
    """Base volume of simulated trades that reached this order's price since placement."""
    fills: list[Fill] = field(default_factory=list)
    cancelled_at: datetime | None = None
    """When a cancel request closed it (the venue's clock); None otherwise."""

    @property
    def remaining(self) -> Decimal:
        return self.base_size - self.filled_size

    def to_order(self) -> Order:
        average = self.filled_value / self.filled_size if self.filled_size else None
        return Order(
            order_id=self.order_id,
            client_order_id=self.client_order_id,
            product_id=self.product_id,
            side=self.side,
            order_type=self.order_type,
            base_size=self.base_size,
            limit_price=self.limit_price,
            status=self.status,
            created_at=self.created_at,
            filled_size=self.filled_size,
            average_filled_price=average,
            fees=self.fees,
            post_only=self.post_only,
            fills=tuple(self.fills),
        )


@dataclass(slots=True)
class AccountState:
    balances: dict[str, Decimal]
    """Total per asset; what is on hold is derived from the open orders."""
    processed_until: datetime
    orders: dict[str, OrderRecord] = field(default_factory=dict)
    placements: dict[str, int] = field(default_factory=dict)
    """Placements per product, for products with an ``AlternatingReject`` quirk."""
    trade_seq: int = 0

    def by_client_id(self) -> dict[str, OrderRecord]:
        return {o.client_order_id: o for o in self.orders.values()}


def state_file(state_dir: Path, account: str) -> Path:
    return state_dir / f"{quote(account, safe='')}.json"


def save(path: Path, state: AccountState, rng: random.Random) -> None:
    """Replace the file atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(_encode_state(state, rng), separators=(",", ":"))
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


MAX_STATE_BYTES = 256 * 1024 * 1024
"""Far above any ledger (a few hundred bytes per order); a larger or non-regular file (a
named pipe, a device) is refused instead of read without end."""


def _balance(asset: str, text: Any) -> Decimal:
    """A saved balance: a finite, non-negative number. A hand-edited ledger with a negative
    balance would otherwise be accepted silently and sold against."""
    value = Decimal(str(text))
    if not value.is_finite() or value < 0:
        raise ValueError(f"balances.{asset}: {str(text)[:40]!r} is not a balance")
    return value


def load(path: Path, rng: random.Random) -> AccountState | None:
    """The saved state (and the random source restored into ``rng``), or None if unsaved."""
    try:
        data = json.loads(read_regular(path, MAX_STATE_BYTES).decode("utf-8"))
    except FileNotFoundError:
        return None
    if data.get("version") != FORMAT_VERSION:
        raise ValueError(f"{path}: unsupported paper state version {data.get('version')!r}")
    version, internal, gauss = data["rng"]
    rng.setstate((version, tuple(internal), gauss))
    return AccountState(
        balances={k: _balance(k, v) for k, v in data["balances"].items()},
        processed_until=datetime.fromisoformat(data["processedUntil"]),
        orders={o["orderId"]: _decode_order(o) for o in data["orders"]},
        placements=dict(data["placements"]),
        trade_seq=int(data["tradeSeq"]),
    )


def _encode_state(state: AccountState, rng: random.Random) -> dict[str, Any]:
    return {
        "version": FORMAT_VERSION,
        "processedUntil": state.processed_until.isoformat(),
        "balances": {k: str(v) for k, v in state.balances.items()},
        "orders": [_encode_order(o) for o in state.orders.values()],
        "placements": state.placements,
        "tradeSeq": state.trade_seq,
        "rng": list(rng.getstate()),
    }


def _encode_order(o: OrderRecord) -> dict[str, Any]:
    return {
        "orderId": o.order_id,
        "clientOrderId": o.client_order_id,
        "productId": o.product_id,
        "side": o.side.value,
        "orderType": o.order_type.value,
        "baseSize": str(o.base_size),
        "limitPrice": None if o.limit_price is None else str(o.limit_price),
        "postOnly": o.post_only,
        "createdAt": o.created_at.isoformat(),
        "expiresAt": None if o.expires_at is None else o.expires_at.isoformat(),
        "status": o.status.value,
        "filledSize": str(o.filled_size),
        "filledValue": str(o.filled_value),
        "fees": str(o.fees),
        "queueAhead": str(o.queue_ahead),
        "tradedThrough": str(o.traded_through),
        "fills": [_encode_fill(f) for f in o.fills],
        "cancelledAt": None if o.cancelled_at is None else o.cancelled_at.isoformat(),
    }


def _decode_order(d: dict[str, Any]) -> OrderRecord:
    return OrderRecord(
        order_id=d["orderId"],
        client_order_id=d["clientOrderId"],
        product_id=d["productId"],
        side=Side(d["side"]),
        order_type=OrderType(d["orderType"]),
        base_size=Decimal(d["baseSize"]),
        limit_price=None if d["limitPrice"] is None else Decimal(d["limitPrice"]),
        post_only=bool(d["postOnly"]),
        created_at=datetime.fromisoformat(d["createdAt"]),
        expires_at=None if d["expiresAt"] is None else datetime.fromisoformat(d["expiresAt"]),
        status=OrderStatus(d["status"]),
        filled_size=Decimal(d["filledSize"]),
        filled_value=Decimal(d["filledValue"]),
        fees=Decimal(d["fees"]),
        queue_ahead=Decimal(d["queueAhead"]),
        traded_through=Decimal(d["tradedThrough"]),
        fills=[_decode_fill(f) for f in d["fills"]],
        cancelled_at=_time_or_none(d.get("cancelledAt")),
    )


def _time_or_none(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _encode_fill(f: Fill) -> dict[str, Any]:
    return {
        "orderId": f.order_id,
        "productId": f.product_id,
        "side": f.side.value,
        "price": str(f.price),
        "size": str(f.size),
        "fee": str(f.fee),
        "liquidity": f.liquidity,
        "at": f.at.isoformat(),
        "tradeId": f.trade_id,
    }


def _decode_fill(d: dict[str, Any]) -> Fill:
    return Fill(
        order_id=d["orderId"],
        product_id=d["productId"],
        side=Side(d["side"]),
        price=Decimal(d["price"]),
        size=Decimal(d["size"]),
        fee=Decimal(d["fee"]),
        liquidity=d["liquidity"],
        at=datetime.fromisoformat(d["at"]),
        trade_id=d["tradeId"],
    )
