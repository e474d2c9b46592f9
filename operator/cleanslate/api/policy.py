"""``PurgePolicy``: how an account is cleaned. Every knob of the source documents lives here.

Defaults are the documents' production values, so an empty ``spec: {}`` is a complete,
conservative policy.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Self

from pydantic import ConfigDict, Field, model_validator
from pydantic.config import JsonDict

from cleanslate.api.account import Condition
from cleanslate.api.fields import (
    ApiModel,
    Asset,
    Duration,
    Fraction,
    NonNegative,
    Number,
    Percent,
    Positive,
    ProductId,
)

DEFAULT_QUOTE_CURRENCIES = ("USD", "USDC", "USDT", "BTC", "ETH")

DEFAULT_USD_PAR_CURRENCIES = ("USDC",)
"""Counted at $1 without a price: USDC only. Coinbase converts USDC and USD one for one
without a fee, so there a USDC is a dollar by redemption, not by a market; USDT trades at a
market price that has left $1 (about $0.95 in May 2022), so it is priced, never assumed."""

SETTLEMENT_CURRENCY = "USD"
"""The currency valuation is in and a default account sells into (``<ASSET>-USD``): cash,
never a position, and never releasable. An account's own ``settlementCurrencies`` are cash
too (``core.settlement.cash_currencies``)."""


class DustAction(StrEnum):
    """What to do with a holding below the dust threshold."""

    IGNORE = "Ignore"
    CLOSE = "Close"


class DustSweep(StrEnum):
    """Whether crumbs no sale can clear are converted through the venue's own endpoint."""

    OFF = "Off"
    VENUE_CONVERSION = "VenueConversion"


class Dust(ApiModel):
    """When a holding is too small to matter, and what to do about it.

    A holding is dust when it is worth less than ``thresholdUsd`` or less than
    ``thresholdPctOfAccount`` percent of the account's value (the legacy protocol's 1 %),
    that share capped at ``minPositionUsd``: the percentage marks crumbs, not positions. A
    holding the universe rejects is dust only under ``thresholdUsd`` (worth less than
    ``minLiquidationValueUsd`` it is a residual, at every account size; worth more, it is
    purged).
    """

    threshold_usd: NonNegative = Decimal("1")
    """Holdings worth less than this (USD) are dust (broker dust cleanup: $1)."""
    threshold_pct_of_account: Percent = Decimal("1")
    """Holdings worth less than this percentage of the account are dust, in percent: 1 means
    1 % (the legacy protocol's ``dust_pct_threshold=0.01``). ``cleanslate once --dust-pct``
    takes the same unit (2 = 2 %); a bare value below 1 there needs its % sign (0.5%), since
    the legacy protocol's flag of that name took a fraction."""
    action: DustAction = DustAction.CLOSE
    """Close (the documents' default): sell it, where the exchange's minimum allows; a
    position under ``minPositionUsd`` worth less than an order is closed too, so one holding
    gets one answer at every account size. Ignore: report and leave the holding (it does not
    block CLEAN)."""
    sweep: DustSweep = DustSweep.OFF
    """Off (the default): a holding the plan would sell but whose whole balance is under the
    venue's minimum order stays, reported as an unsellable remainder. VenueConversion (an
    opt-in): on a Live account, after the exit phase, such crumbs are converted through the
    venue's own conversion endpoint where it has one (Binance's dust transfer into BNB, at
    most once per 6 hours; the paper exchange's ``dustTarget``), in one request per cycle
    at most; never a protected, left-alone, unpriced or cash holding, nor the conversion's
    target. The venue takes its fee and what it pays is a holding like any other. A venue
    without such an endpoint reports the sweep as unavailable; DryRun lists it in the plan."""


class Unwind(ApiModel):
    """Gradual unwind of legacy non-compliant positions (the protocol's 'clean slate' option)."""

    fraction: Fraction = Decimal("0.25")
    """Fraction of what remains that is sold each cycle."""
    cycles: Annotated[int, Field(ge=1, le=100)] = 4
    """Number of cycles; the last one closes whatever remains."""


class Exposure(ApiModel):
    """Cap on the value at risk (non-quote holdings) as a share of the account's value.

    Quote currencies are outside the cap: BTC, ETH and USDT held as quote currencies count in
    NAV (at their bid, in USD) but never as value at risk, even though BTC and ETH move in
    price, because they are never sold and trimming other positions could not bring them
    under any cap. An account of mostly BTC and ETH therefore shows little at risk.
    """

    max_total_at_risk_pct: Percent = Decimal("25")
    """Trims bring at-risk value under this percentage of NAV (the LIVE profile's 25 %).
    Quote currencies (including BTC, ETH, USDT) and holdings the account keeps
    (protectedSymbols, leaveAlone) are outside this cap. Above 50 % the
    account's status carries a PolicyWarning condition and a RiskyPolicy event."""
    trim_interval_cycles: Annotated[int, Field(ge=1, le=1000)] = 1
    """Plan exposure trims only every N-th cycle, so a trim is not re-planned every cycle."""


class Tier(ApiModel):
    """A liquidity tier of the trading universe and the floors its symbols must clear."""

    name: Annotated[str, Field(min_length=1, max_length=63)]
    """The tier's name, e.g. tier1-core."""
    symbols: list[ProductId] = Field(default_factory=list, max_length=1000)
    """Products in this tier."""
    min_quote_volume_usd: NonNegative = Decimal("0")
    """24h volume floor in the QUOTE currency (USD), never in base units."""
    max_spread_bps: Annotated[Number, Field(ge=0, le=10000)] = Decimal("100")
    """Widest acceptable bid/ask spread, in basis points of the mid price."""
    min_depth_usd: NonNegative = Decimal("0")
    """Least acceptable book depth (USD on the bid side near the touch)."""
    force_eligible: list[ProductId] = Field(default_factory=list, max_length=1000)
    """Products that bypass the liquidity checks (core assets such as BTC-USD)."""


def _default_tiers() -> list[Tier]:
    """The production fixes' thresholds (T1 $10M, T2 $5M, T3 $2M) with BTC/ETH/SOL forced."""
    core = ["BTC-USD", "ETH-USD", "SOL-USD"]
    return [
        Tier(
            name="tier1-core",
            symbols=core,
            min_quote_volume_usd=Decimal("10000000"),
            max_spread_bps=Decimal("25"),
            min_depth_usd=Decimal("50000"),
            force_eligible=core,
        ),
        Tier(
            name="tier2-altcoins",
            symbols=["DOGE-USD", "XRP-USD", "ADA-USD", "AVAX-USD", "LINK-USD"],
            min_quote_volume_usd=Decimal("5000000"),
            max_spread_bps=Decimal("50"),
            min_depth_usd=Decimal("10000"),
        ),
        Tier(
            name="tier3-event",
            symbols=["SEI-USD", "WLFI-USD", "BONK-USD"],
            min_quote_volume_usd=Decimal("2000000"),
            max_spread_bps=Decimal("100"),
            min_depth_usd=Decimal("5000"),
        ),
    ]


class Universe(ApiModel):
    """Which products the strategy may hold; everything else is ineligible and purged."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "!has(self.tiers) || "
                    "self.tiers.all(t, self.tiers.exists_one(u, u.name == t.name))",
                    "message": "tier names must be unique",
                    "fieldPath": ".tiers",
                }
            ]
        }
    )

    tiers: list[Tier] = Field(default_factory=_default_tiers, max_length=20)
    """Liquidity tiers; a product in no tier is judged by the global floor. Setting
    ``tiers`` replaces the default list whole (nothing is merged): copy the default tiers
    you want to keep. Default: tier1-core
    (BTC, ETH, SOL-USD; $10M volume, 25 bps, $50k depth, all force-eligible), tier2-altcoins
    (DOGE, XRP, ADA, AVAX, LINK-USD; $5M, 50 bps, $10k), tier3-event (SEI, WLFI, BONK-USD;
    $2M, 100 bps, $5k)."""
    global_min_quote_volume_usd: NonNegative = Decimal("3000000")
    """Volume floor (quote currency) for products in no tier."""
    excluded_symbols: list[ProductId] = Field(default_factory=list, max_length=1000)
    """Products never eligible (the documents' excluded_symbols); held ones are purged."""

    @model_validator(mode="after")
    def _tier_names_unique(self) -> Self:
        names = [t.name for t in self.tiers]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"tier names must be unique, repeated: {', '.join(duplicates)}")
        return self


def _within_purge(field: str, default: str) -> JsonDict:
    """CEL for the API server: a maker TTL no longer than the whole purge (unset fields take
    their defaults, which the CRD does not apply)."""
    ttl = f"(has(self.{field}) ? self.{field} : {default})"
    limit = "(has(self.maxDurationSeconds) ? self.maxDurationSeconds : 240.0)"
    return {
        "rule": f"{ttl} <= {limit}",
        "message": f"{field} must not be longer than the whole purge's maxDurationSeconds",
        "fieldPath": f".{field}",
    }


class Pace(StrEnum):
    """How a TWAP slice weighs time (issue 28; docs/design.md, "Time is a cost")."""

    ADAPTIVE = "adaptive"
    """Each slice weighs what resting is expected to save (the maker fill share so far times
    the fee gap and spread) against what waiting is expected to cost (the fall observed since
    the decision beyond its noise); when waiting costs more it crosses, or sells the rest at
    once, within the slippage cap. In a calm market it rests as the schedule says."""
    FIXED = "fixed"
    """Every slice rests as the schedule says, whatever the market does (before issue 28)."""


class CrashAction(StrEnum):
    """What a purge does when the bid has fallen through ``takerMaxSlippageBps``."""

    HOLD = "hold"
    """Place no taker order below the cap: the purge ends with the residual, which the next
    cycle retries after the policy's backoff (the documents' behaviour)."""
    WIDEN = "widen"
    """Sell within ``crashMaxSlippageBps`` below the arrival bid instead."""


class Execution(ApiModel):
    """The maker-first TWAP liquidation (``purge_execution`` in the auto-purge guide)."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                _within_purge("makerTtlSec", "25.0"),
                _within_purge("makerFirstTtlSec", "25.0"),
                _within_purge("makerRetryTtlSec", "20.0"),
            ]
        }
    )

    slice_usd: Positive = Decimal("5")
    """TWAP slice size in USD ($5 for small accounts, matching the minimum notional)."""
    maker_ttl_sec: Annotated[Number, Field(gt=0, le=86400)] = Decimal("25")
    """Post-only time-to-live before the slice is retried."""
    maker_first_ttl_sec: Annotated[Number, Field(gt=0, le=86400)] = Decimal("25")
    """TTL of the first post-only order of a slice."""
    maker_retry_ttl_sec: Annotated[Number, Field(gt=0, le=86400)] = Decimal("20")
    """TTL of the re-priced post-only retry."""
    replace_seconds: Annotated[Number, Field(gt=0, le=86400)] = Decimal("45")
    """Total time budget of one slice (maker, retry and taker fallback)."""
    max_duration_seconds: Annotated[Number, Field(gt=0, le=86400)] = Decimal("240")
    """Most a single purge may take (4 minutes, 4-8 slices)."""
    poll_interval_seconds: Annotated[Number, Field(gt=0, le=86400)] = Decimal("2")
    """How often a resting order is polled."""
    max_slices: Annotated[int, Field(ge=1, le=1000)] = 24
    """Most slices a purge may use before it fails gracefully."""
    max_residual_usd: NonNegative = Decimal("8")
    """A purge fails if more than this (USD) is left after its slices."""
    max_consecutive_no_fill: Annotated[int, Field(ge=1, le=1000)] = 2
    """A purge fails after this many slices in a row with no fill."""
    allow_taker_fallback: bool = True
    """Cross the spread (IOC) when a maker order times out."""
    taker_fallback_threshold_usd: NonNegative = Decimal("25")
    """Positions worth more than this go to the taker path after the first maker timeout
    instead of after the re-priced retry."""
    taker_max_slippage_bps: Annotated[Number, Field(ge=0, le=10000)] = Decimal("100")
    """Worst price a taker slice accepts, in basis points below the arrival bid."""
    pace: Pace = Pace.ADAPTIVE
    """adaptive: a slice crosses, or the rest is sold at once, when waiting is expected to cost
    more than resting saves; fixed: every slice rests as scheduled."""
    queue_rest: bool = False
    """Under the adaptive pace, where a resting ask is rarely reached (a wide spread: the pace
    would sell at once), rest one post-only order for the holding while the queue the book
    shows ahead of it is expected to trade before maxDurationSeconds is up and no fall is
    seen. Off by default: an order resting at the decision meets up to one look (5 s) of a
    crash; see docs/design.md, "Resting on the queue"."""
    maker_fee_bps: Annotated[Number, Field(ge=0, le=1000)] = Decimal("60")
    """The account's maker fee when the venue does not report one (Coinbase's entry tier)."""
    taker_fee_bps: Annotated[Number, Field(ge=0, le=1000)] = Decimal("120")
    """The account's taker fee when the venue does not report one (Coinbase's entry tier)."""
    crash: CrashAction = CrashAction.HOLD
    """When the bid is below the slippage cap: hold (no sale below it; retried next cycle) or
    widen (sell within crashMaxSlippageBps)."""
    crash_max_slippage_bps: Annotated[Number, Field(ge=0, le=10000)] = Decimal("500")
    """Worst price a taker order accepts under crash: widen, in bps below the arrival bid."""
    max_concurrent_symbols: Annotated[int, Field(ge=1, le=16)] = 4
    """Most symbols of one account purged at the same time."""

    @model_validator(mode="after")
    def _times_fit_the_purge(self) -> Self:
        """A maker order that outlives the whole purge cannot be what was meant: refuse it,
        naming both fields, instead of silently capping it. (``replaceSeconds`` above the
        maximum duration stays valid: the TWAP plan caps a slice by what time is left.)"""
        limit = self.max_duration_seconds
        for name, value in (
            ("makerTtlSec", self.maker_ttl_sec),
            ("makerFirstTtlSec", self.maker_first_ttl_sec),
            ("makerRetryTtlSec", self.maker_retry_ttl_sec),
        ):
            if value > limit:
                raise ValueError(
                    f"execution.{name} ({value}s) is longer than the whole purge's "
                    f"execution.maxDurationSeconds ({limit}s)"
                )
        return self


class BackoffStep(ApiModel):
    """From ``failures`` consecutive failures on, wait ``delay`` after the last failure."""

    failures: Annotated[int, Field(ge=1, le=1000)]
    """Consecutive failure count at which this step starts."""
    delay: Duration
    """Time to skip the symbol after its last failure."""


def _default_backoff() -> list[BackoffStep]:
    """The documented table: 1-2 failures none, 3 -> 1h, 4 -> 2h, 5 or more -> 4h."""
    return [
        BackoffStep(failures=3, delay=timedelta(hours=1)),
        BackoffStep(failures=4, delay=timedelta(hours=2)),
        BackoffStep(failures=5, delay=timedelta(hours=4)),
    ]


class Backoff(ApiModel):
    """Purge-failure backoff as data. The last step applies to every higher count."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "!has(self.schedule) || "
                    "(self.schedule.map(s, s.failures).isSorted() && "
                    "self.schedule.all(s, self.schedule.exists_one(t, t.failures == s.failures)))",
                    "message": "schedule: failures must be strictly increasing",
                    "fieldPath": ".schedule",
                },
                {
                    "rule": "!has(self.schedule) || "
                    "self.schedule.map(s, duration(s.delay)).isSorted()",
                    "message": "schedule: delays must never decrease with more failures",
                    "fieldPath": ".schedule",
                },
            ]
        }
    )

    schedule: list[BackoffStep] = Field(default_factory=_default_backoff, max_length=50)
    """Steps in increasing order of failures, with delays that never decrease. Default (the
    documents' table): 1-2 failures none, 3 -> 1h, 4 -> 2h, 5 or more -> 4h."""

    @model_validator(mode="after")
    def _monotonic(self) -> Self:
        for before, after in zip(self.schedule, self.schedule[1:], strict=False):
            if after.failures <= before.failures:
                raise ValueError("schedule: failures must be strictly increasing")
            if after.delay < before.delay:
                raise ValueError("schedule: delays must never decrease with more failures")
        return self


class SymbolFreeze(ApiModel):
    """Freeze a product after repeated price-fetch failures (delisted coins such as AUT)."""

    failure_threshold: Annotated[int, Field(ge=1, le=1000)] = 3
    """Consecutive price-fetch failures that freeze the product."""
    cooldown: Duration = timedelta(hours=24)
    """How long a frozen product stays frozen unless unfrozen by hand."""


class BalanceFetch(ApiModel):
    """Balance fetch with retry and a last-known fallback."""

    attempts: Annotated[int, Field(ge=1, le=20)] = 3
    """Attempts per cycle."""
    base_delay_seconds: Annotated[Number, Field(ge=0, le=3600)] = Decimal("2")
    """Delay after the first failure; doubles after each further one."""
    max_delay_seconds: Annotated[Number, Field(ge=0, le=3600)] = Decimal("30")
    """Cap on the delay between attempts."""
    stale_after_minutes: Annotated[Number, Field(gt=0, le=525600)] = Decimal("30")
    """A last-known balance older than this is reported stale."""


class PurgePolicySpec(ApiModel):
    """The declared clean state of the accounts that reference this policy."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "!has(self.releasedQuoteCurrencies) || "
                    f"!self.releasedQuoteCurrencies.exists(c, c == '{SETTLEMENT_CURRENCY}')",
                    "message": f"releasedQuoteCurrencies: {SETTLEMENT_CURRENCY} is the currency "
                    "the account sells into and cannot be released",
                    "fieldPath": ".releasedQuoteCurrencies",
                }
            ]
        }
    )

    auto_liquidate_ineligible: bool = True
    """Purge ineligible and excluded holdings (auto_liquidate_ineligible)."""
    quote_currencies: list[Asset] = Field(
        default_factory=lambda: list(DEFAULT_QUOTE_CURRENCIES), max_length=100
    )
    """Assets that are never sold (the account's cash and reserve currencies). The defaults
    USD, USDC, USDT, BTC and ETH are always kept, whatever this list says: `[USD]` adds
    nothing and drops nothing. To sell a default one, name it in releasedQuoteCurrencies."""
    released_quote_currencies: list[Asset] = Field(default_factory=list, max_length=5)
    """Default quote currencies this policy means to sell like any holding (an explicit
    opt-in; the plan and an event say so each cycle one is held). Must be among USD, USDC,
    USDT, BTC, ETH and not also listed in quoteCurrencies; never USD, the currency every
    sale goes into. An account's settlementCurrencies stay cash even when listed here."""
    usd_par_currencies: list[Asset] = Field(
        default_factory=lambda: list(DEFAULT_USD_PAR_CURRENCIES), max_length=10
    )
    """Stablecoins counted at exactly one US dollar, besides USD itself (default [USDC]).
    Every other currency is priced from the venue's own markets (USDT by USDT-USD or
    USDC-USDT, EUR by EUR-USD or EUR-USDT). A stablecoin can lose its peg: list only those
    the account would accept a dollar for."""
    min_liquidation_value_usd: NonNegative = Decimal("5")
    """Holdings worth less than this are not purged (not worth the fees)."""
    max_liquidations_per_cycle: Annotated[int, Field(ge=0, le=100)] = 2
    """Most purges started in one cycle."""
    dust: Dust = Field(default_factory=Dust)
    min_position_usd: NonNegative = Decimal("7.50")
    """Normalization: positions under this size are flagged (and planned per policy)."""
    consolidation_threshold_usd: NonNegative = Decimal("10")
    """Normalization: kept positions worth at least ``minPositionUsd`` but under this are
    listed in the plan as consolidation candidates (reported, never sold for it)."""
    stale_order_minutes: Annotated[Number, Field(gt=0, le=525600)] = Decimal("30")
    """Open orders older than this are cancelled."""
    unwind: Unwind = Field(default_factory=Unwind)
    max_positions: Annotated[int, Field(ge=0, le=1000)] = 8
    """Most non-quote positions an account may hold. Protected symbols, left-alone holdings,
    dust and residuals do not count toward it (and are never closed for it): only the
    positions cleanslate may close are counted."""
    exposure: Exposure = Field(default_factory=Exposure)
    universe: Universe = Field(default_factory=Universe)
    execution: Execution = Field(default_factory=Execution)
    backoff: Backoff = Field(default_factory=Backoff)
    symbol_freeze: SymbolFreeze = Field(default_factory=SymbolFreeze)
    balance_fetch: BalanceFetch = Field(default_factory=BalanceFetch)
    cycle_budget_seconds: Annotated[Number, Field(gt=0, le=3600)] = Decimal("45")
    """Latency budget of one cycle; an overrun is reported and the next cycle backs off."""

    @model_validator(mode="after")
    def _keep_default_quotes(self) -> Self:
        """Dropping a default quote currency from the list (``[USD]``, meant as "only USD")
        must not make USDC or BTC sellable; only releasedQuoteCurrencies does."""
        released = set(self.released_quote_currencies)
        if SETTLEMENT_CURRENCY in released:
            raise ValueError(
                f"releasedQuoteCurrencies: {SETTLEMENT_CURRENCY} is the currency the account "
                "sells into and cannot be released"
            )
        if stray := sorted(released - set(DEFAULT_QUOTE_CURRENCIES)):
            raise ValueError(
                f"releasedQuoteCurrencies: {', '.join(stray)} is not a default quote currency"
            )
        listed = (
            set(self.quote_currencies) if "quote_currencies" in self.model_fields_set else set()
        )
        if both := sorted(released & listed):
            raise ValueError(
                f"releasedQuoteCurrencies: {', '.join(both)} is also in quoteCurrencies"
            )
        kept = [q for q in DEFAULT_QUOTE_CURRENCIES if q not in released]
        extra = [q for q in self.quote_currencies if q not in kept and q not in released]
        self.quote_currencies = [*kept, *extra]
        return self


class PurgePolicyStatus(ApiModel):
    """Whether the operator accepts the policy, as cert-manager's Issuer reports Ready:
    a policy the API server stored but the operator refuses says so here, where its
    author looks, not only on the accounts that reference it."""

    conditions: list[Condition] = Field(default_factory=list, max_length=8)
    """Ready: True (reason Valid) when the operator reads the policy, False (reason
    Invalid) naming the first field it refuses."""
    observed_generation: Annotated[int, Field(ge=0)] | None = None
    """The metadata.generation of the spec the conditions judged."""


class PurgePolicy(ApiModel):
    """The whole object as ``kubectl get -o yaml`` shows it, for files and the CLI."""

    api_version: str = "cleanslate.dev/v1alpha1"
    kind: str = "PurgePolicy"
    metadata: dict[str, object] = Field(default_factory=dict)
    spec: PurgePolicySpec = Field(default_factory=PurgePolicySpec)
