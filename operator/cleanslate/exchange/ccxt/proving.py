"""The Live gate's proof: what ccxt really sends to the venue, built offline.

ccxt's ``has`` and ``features`` describe what a method accepts, not what reaches the venue:
its cryptocom drops the client id, its bitstamp passes ``postOnly`` and ``timeInForce``
through under ccxt's own names (Bitstamp reads ``moc_order`` and ``ioc_order``), its gate
refuses an id of our length. So before a venue may trade Live, ``prove`` builds three sell
orders on a probe market through the venue's real ccxt class, with placeholder credentials,
and stops each at ccxt's HTTP seam (``fetch``) before anything leaves the process:

* a plain limit order: it must carry our client id (its value, under any name);
* the same order post-only, and the same order IOC: each must differ from the plain one, and
  not only by ccxt's unified key passed through verbatim (``postOnly=true``), unless the
  venue's data says that name is the venue's own (Binance's ``timeInForce``), or names the
  venue's own parameter and value that carry the flag and the request sets them where the
  plain one does not (Bitget's ``force``: ``post_only``, ``IOC``; ``own_flags``); where the
  venue's data names parameters the adapter sends INSTEAD of ccxt's (``flag_params``:
  Bitstamp's ``moc_order``, ``ioc_order``), the flagged order is built with those, and each
  must be in the request by that name and value as ccxt encodes it (``moc_order=true``);
* the ticks and minimums ccxt reports must be the venue's: a venue whose data says they are
  placeholders (``ClientIdSemantics.unknown_ticks``: ccxt's upbit reports 1e-8 for every
  market) is not proven;
* the order lookup must reach closed orders: a venue whose lookup reads one page and has no
  closed-order listing would, after a lost IOC answer, sell a second time; nor may the
  venue's data say the lookup misses some (``ClientIdSemantics.lookup_misses``);
* the venue's ticks must be fixed steps: ccxt's bitfinex gives prices in significant digits
  (``precisionMode`` SIGNIFICANT_DIGITS, a step that moves with the price), which
  ``markets.product`` reads as SUSPENDED for every market, so such a venue would sell
  nothing and is not Live.

What ccxt cannot build offline (a venue that asks the server something first, a probe market
that lacks the venue's own fields) is not proven either. Each failure is a sentence naming
the missing piece, for ``ExchangeCapable=False``. Reading an order back by its id is proven
for the tested venues by their fakes (``tests/fakes/ccxt_venues``), not here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ccxt.base.decimal_to_precision import SIGNIFICANT_DIGITS, TICK_SIZE

from cleanslate.exchange.ccxt.adapter import derived_client_id
from cleanslate.exchange.ccxt.capabilities import ClientIdSemantics, LookupKind, semantics
from cleanslate.exchange.ccxt.client import make_client

PROBE_ID = "cs-probe-ns-account-a12-s3-x9"
"""An id of the shape and length cleanslate sends (namespace, account, attempt, slice)."""
PLACEHOLDERS = {
    "apiKey": "probe-key",
    "secret": "cHJvYmUtc2VjcmV0LWZvci1zaWduaW5nLW9ubHk=",
    "password": "probe-pass",
    "uid": "1",
}
"""Credentials that sign but reach no one (base64, since some venues decode the secret)."""


UNIFIED_ID = "clientOrderId"
"""ccxt's unified name for the client order id (a venue's own name is in its data)."""


class _Stop(Exception):
    """Raised at the HTTP seam: the request was built and is not sent."""


@dataclass(frozen=True)
class Wire:
    """The request ccxt built for one probe order."""

    method: str
    url: str
    body: str

    @property
    def text(self) -> str:
        return f"{self.url}\n{self.body}"


@dataclass(frozen=True)
class Proof:
    """What the gate proved of a venue; ``unproven`` names each missing piece."""

    unproven: tuple[str, ...]

    @property
    def proven(self) -> bool:
        return not self.unproven


def _probe_market(client: Any, info: Mapping[str, Any]) -> dict[str, Any]:
    """A spot market PROBE/USD with known ticks and minimums, in the client's precision mode,
    carrying the venue's own fields where its createOrder reads them (``probe_market_info``)."""
    tick = client.precisionMode == TICK_SIZE
    return {
        "id": "PROBEUSD",
        "symbol": "PROBE/USD",
        "base": "PROBE",
        "quote": "USD",
        "baseId": "PROBE",
        "quoteId": "USD",
        "type": "spot",
        "spot": True,
        "margin": False,
        "swap": False,
        "future": False,
        "option": False,
        "contract": False,
        "active": True,
        "precision": {"amount": 0.01 if tick else 2, "price": 0.01 if tick else 2},
        "limits": {
            "amount": {"min": 0.01, "max": None},
            "price": {"min": 0.01, "max": None},
            "cost": {"min": 1, "max": None},
        },
        "altname": "PROBEUSD",
        "info": dict(info),
    }


def _pem_placeholders() -> dict[str, str]:
    """Placeholders for venues that sign with a PEM key (Coinbase's CDP keys): a fresh EC
    P-256 key, generated here and thrown away."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    return {**PLACEHOLDERS, "apiKey": "organizations/probe/apiKeys/probe", "secret": pem}


async def _wire(exchange_id: str, facts: ClientIdSemantics, params: dict[str, Any]) -> Wire | str:
    """The last request ccxt built for one limit sell, or why it built none."""
    built = await _build(exchange_id, facts, params, PLACEHOLDERS)
    if isinstance(built, str) and "PEM" in built:
        built = await _build(exchange_id, facts, params, _pem_placeholders())
    return built


async def _build(
    exchange_id: str,
    facts: ClientIdSemantics,
    params: dict[str, Any],
    credentials: Mapping[str, str],
) -> Wire | str:
    client = make_client(exchange_id, credentials)
    client.enableRateLimit = False
    client.set_markets([_probe_market(client, facts.probe_market_info)])
    seen: list[Wire] = []

    async def capture(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        seen.append(Wire(method, url, body if isinstance(body, str) else str(body or "")))
        raise _Stop

    client.fetch = capture
    try:
        await client.create_order("PROBE/USD", "limit", "sell", 1.0, 100.0, params)
    except _Stop:
        pass
    except Exception as exc:  # ccxt refused to build it: that is the finding
        return f"{type(exc).__name__}: {str(exc)[:160]}"
    finally:
        await client.close()
    orders = [w for w in seen if w.method != "GET"]
    if not orders:
        asked = ", ".join(sorted({w.url.split("?")[0] for w in seen})) or "nothing"
        return f"ccxt asks the server before it builds an order ({asked})"
    return orders[-1]


def _verbatim(name: str, wire: Wire) -> bool:
    """ccxt's unified parameter passed through under its own name (as a query or form key,
    or a JSON key): the venue reads its own names, not ccxt's."""
    return re.search(rf'(^|[?&{{,\s"]){re.escape(name)}("?\s*[:=])', wire.text) is not None


async def prove(
    exchange_id: str, has: Mapping[str, Any], facts: ClientIdSemantics | None = None
) -> Proof:
    """Build the probe orders and say what is not proven (see the module docstring), with
    the venue's client-id facts (``capabilities.semantics``) unless ``facts`` are given."""
    facts = facts or semantics(exchange_id)
    our_id = derived_client_id(PROBE_ID, facts)
    base = {**facts.order_params, facts.param: our_id}
    plain = await _wire(exchange_id, facts, dict(base))
    if isinstance(plain, str):
        return Proof((f"cannot build an order offline to check it ({plain})",))
    maker = await _wire(exchange_id, facts, {**base, **_flag_params(facts, "postOnly")})
    ioc = await _wire(exchange_id, facts, {**base, **_flag_params(facts, "IOC")})
    unproven: list[str] = []
    if our_id not in plain.text:
        unproven.append("the client order id does not reach the venue (ccxt drops it)")
    elif _verbatim(UNIFIED_ID, plain) and UNIFIED_ID not in facts.wire_names:
        unproven.append(f"the client order id goes out as ccxt's {UNIFIED_ID!r}")
    unproven += _flag("post-only", "postOnly", maker, plain, facts, "postOnly")
    unproven += _flag("IOC", "timeInForce", ioc, plain, facts, "IOC")
    if facts.unknown_ticks:
        unproven.append(f"ticks and minimums are not known: {facts.unknown_ticks}")
    lists_closed = has.get("fetchOrders") is True or has.get("fetchClosedOrders") is True
    if facts.lookup.kind is LookupKind.ONE_PAGE and not lists_closed:
        unproven.append(
            "no closed-order lookup: after a lost IOC answer a restart would sell again"
        )
    if facts.lookup_misses:
        unproven.append(f"the order lookup can miss a finished order: {facts.lookup_misses}")
    if await _significant_digits(exchange_id):
        unproven.append(
            "ticks unknown: ccxt gives this venue's prices in significant digits, not fixed "
            "steps, so every market reads SUSPENDED and nothing would sell"
        )
    return Proof(tuple(unproven))


async def _significant_digits(exchange_id: str) -> bool:
    """Whether ccxt states the venue's precision in significant digits (no fixed tick)."""
    client = make_client(exchange_id, {})
    try:
        return bool(client.precisionMode == SIGNIFICANT_DIGITS)
    finally:
        await client.close()


def _flag_params(facts: ClientIdSemantics, flag: str) -> dict[str, Any]:
    """What the adapter sends for ``flag`` (``postOnly`` or ``IOC``): the venue's own
    parameters where its data names them (``flag_params``), else ccxt's unified one."""
    own = facts.flag_params.get(flag)
    if own:
        return dict(own)
    return {"postOnly": True} if flag == "postOnly" else {"timeInForce": "IOC"}


def _flag(
    what: str,
    unified: str,
    flagged: Wire | str,
    plain: Wire,
    facts: ClientIdSemantics,
    flag: str,
) -> list[str]:
    if isinstance(flagged, str):
        return [f"{what}: ccxt refuses to build it ({flagged})"]
    if flagged.text == plain.text:
        return [f"{what} does not reach the venue (the request is the same without it)"]
    own_params = facts.flag_params.get(flag)
    if own_params:
        # sent under the venue's own names: each must be in the request as sent (ccxt's
        # encoding: a boolean is ``true`` in a form body and in JSON), none in the plain one
        for name, value in own_params.items():
            encoded = str(value).lower() if isinstance(value, bool) else str(value)
            if not _carries(flagged, name, encoded) or _carries(plain, name, encoded):
                return [f"{what} does not reach the venue as its {name}={encoded}"]
        return []
    if _verbatim(unified, flagged) and unified not in facts.wire_names:
        own = facts.own_flags.get(unified)
        if own is not None and _carries(flagged, *own) and not _carries(plain, *own):
            return []
        return [f"{what} goes out as ccxt's {unified!r}, a name the venue is not known to read"]
    return []


def _carries(wire: Wire, name: str, value: str) -> bool:
    """The request sets the venue's own parameter ``name`` to ``value`` (a query or form
    key, or a JSON key with a string value): Bitget's ``force`` of ``post_only`` or ``IOC``."""
    pattern = rf'(^|[?&{{,\s"]){re.escape(name)}("?\s*[:=]\s*"?){re.escape(value)}($|[&",}}\s])'
    return re.search(pattern, wire.text) is not None


_PROOFS: dict[str, Proof] = {}


async def proof_of(exchange_id: str, has: Mapping[str, Any]) -> Proof:
    """``prove``, once per exchange id and process (it depends on ccxt's code only)."""
    if exchange_id not in _PROOFS:
        _PROOFS[exchange_id] = await prove(exchange_id, has)
    return _PROOFS[exchange_id]


def cached_proof(exchange_id: str) -> Proof | None:
    """The proof ``proof_of`` made for ``exchange_id`` in this process, if it made one."""
    return _PROOFS.get(exchange_id)


__all__ = ["PROBE_ID", "Proof", "Wire", "cached_proof", "proof_of", "prove"]
