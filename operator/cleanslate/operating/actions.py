"""Manual actions, requested by annotation and consumed once done.

``kubectl annotate ta NAME cleanslate.dev/retry-purge=BONK-USD`` clears a symbol's backoff
and retries now; ``cleanslate.dev/unfreeze=AUT-USD`` lifts a freeze;
``cleanslate.dev/liquidate=SEI-USD`` sells now whatever the backoff or value (the CLI's
``liquidate --force``). Values may list several symbols, comma-separated, each written as
the exchange writes it (``sei-usd`` is refused, never upper-cased). Every request is decided
in the cycle that sees it (``core.manual``): acted on, or refused with a warning event when
the account is suspended, not running, in DryRun (liquidate) or keeps the symbol; the
annotation is removed either way, never kept to act on later.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

RETRY = "cleanslate.dev/retry-purge"
UNFREEZE = "cleanslate.dev/unfreeze"
LIQUIDATE = "cleanslate.dev/liquidate"
KEYS = (RETRY, UNFREEZE, LIQUIDATE)
_SYMBOL = re.compile(r"^[A-Z0-9]{1,20}-[A-Z0-9]{1,20}$")


@dataclass(frozen=True)
class Requested:
    retry: frozenset[str] = frozenset()
    unfreeze: frozenset[str] = frozenset()
    liquidate: frozenset[str] = frozenset()
    present: tuple[str, ...] = ()
    """Annotation keys to remove once handled."""
    invalid: tuple[str, ...] = ()
    """Values that are not product ids, for an event."""

    def __bool__(self) -> bool:
        return bool(self.present)


def _symbols(value: str) -> tuple[frozenset[str], list[str]]:
    # Matched as written (spaces around commas aside), never upper-cased: a symbol that is
    # not a product id as the exchange writes it is refused with an event, not sold.
    items = [v.strip() for v in value.split(",") if v.strip()]
    return frozenset(v for v in items if _SYMBOL.match(v)), [
        v for v in items if not _SYMBOL.match(v)
    ]


def requested(annotations: Mapping[str, str] | None) -> Requested:
    annotations = annotations or {}
    parsed: dict[str, frozenset[str]] = {}
    invalid: list[str] = []
    for key in KEYS:
        symbols, bad = _symbols(annotations.get(key, ""))
        parsed[key] = symbols
        invalid.extend(f"{key}={b}" for b in bad)
    return Requested(
        retry=parsed[RETRY],
        unfreeze=parsed[UNFREEZE],
        liquidate=parsed[LIQUIDATE],
        present=tuple(k for k in KEYS if k in annotations),
        invalid=tuple(invalid),
    )
