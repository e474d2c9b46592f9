"""May a purge a previous process left in ``status.inFlight`` go on selling?

A resumed purge passes the same guards as a new one, judged against the spec and policy as
they are now, not as they were when the purge started: a person who protects a symbol, sets
``suspend`` or ``mode: DryRun`` mid-purge, or a policy that now names the asset a quote
currency, stops it. So does a frozen symbol, and one a person left alone
(``spec.leaveAlone``). An ``inFlight`` entry whose symbol is no product
id (hand-edited or damaged state) is never traded either. The shell then cancels the purge's
resting order and closes the record; nothing more is sold.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from cleanslate.api.account import FrozenSymbol, Mode, TradingAccountSpec
from cleanslate.api.policy import PurgePolicySpec
from cleanslate.core.classification import protects
from cleanslate.core.freezing import is_frozen
from cleanslate.core.leave_alone import is_left_alone
from cleanslate.core.settlement import cash_currencies


def resume_refusal(
    symbol: str,
    spec: TradingAccountSpec,
    policy: PurgePolicySpec,
    frozen: Mapping[str, FrozenSymbol],
    now: datetime,
) -> str | None:
    """Why the in-flight purge of ``symbol`` must stop now, or None when it may resume."""
    asset, dash, _ = symbol.partition("-")
    if not dash or not asset:
        return "not a product id"
    checks = (
        (spec.suspend, "the account is suspended"),
        (spec.mode is Mode.DRY_RUN, "the account is in DryRun"),
        (asset in cash_currencies(spec, policy), f"{asset} is a quote or settlement currency"),
        (protects(spec, symbol), "protected symbol"),
        (is_left_alone(spec, symbol, now), "left alone by the account (spec.leaveAlone)"),
        (is_frozen(frozen, symbol, now), "frozen symbol"),
    )
    return next((why for refused, why in checks if refused), None)


__all__ = ["resume_refusal"]
