"""``TradingAccount``: one exchange account, the policy it follows, and what cleanslate saw.

The status is the durable record of everything the source documents kept in state files
(purge failures, unwind progress, frozen symbols, last-known balance, counters), so a restarted
operator continues from the resource and the exchange, never from memory.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import ConfigDict, Field, model_validator

from cleanslate.api.fields import (
    ApiModel,
    Asset,
    Duration,
    NonNegative,
    Number,
    ObjectName,
    Positive,
    ProductId,
    ProductOrAsset,
)

DEFAULT_SETTLEMENT_CURRENCIES = ("USD",)
"""What an account sells into unless it says otherwise: Coinbase's and the paper market's
USD, so an account written before settlement currencies existed behaves as it did."""

SPEC_LIST_ITEMS = 500
"""The most items a spec list may hold (maxItems): tenant input is bounded, so one account
cannot make every cycle's classification or the API server's validation unbounded."""


class ExchangeName(StrEnum):
    PAPER = "paper"
    COINBASE = "coinbase"
    CCXT = "ccxt"


class Mode(StrEnum):
    """DryRun plans and places nothing; Live trades. Live is only ever an explicit choice."""

    DRY_RUN = "DryRun"
    LIVE = "Live"


class SecretRef(ApiModel):
    """A Secret in the account's own namespace (never another)."""

    name: ObjectName
    """Name of the Secret."""


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class SeedOrder(ApiModel):
    """An open order the paper exchange starts with, to exercise stale-order cleanup."""

    product_id: ProductId
    """Product the order is on, e.g. SEI-USD."""
    side: Side = Side.BUY
    """BUY or SELL."""
    size: Positive
    """Base-currency size."""
    limit_price: Positive
    """Limit price in the quote currency."""
    age_minutes: Annotated[Number, Field(ge=0, le=525600)] = Decimal("0")
    """How old the order already is when the paper account is created."""


class PaperFees(ApiModel):
    """Fee schedule of the paper exchange: Coinbase Advanced's tier for a 30-day volume, or
    explicit rates. The tier table and its sources are in docs/design.md (The paper market)."""

    thirty_day_volume_usd: NonNegative = Decimal("0")
    """Trailing 30-day USD volume that picks the Coinbase Advanced fee tier; 0 is the entry
    tier: maker 0.60 %, taker 1.20 % (a live Coinbase answer quoted in ccxt PR 23347, 2024)."""
    maker_bps: Annotated[Number, Field(ge=0, le=1000)] | None = None
    """Maker fee in basis points of notional; overrides the tier's when set."""
    taker_bps: Annotated[Number, Field(ge=0, le=1000)] | None = None
    """Taker fee in basis points of notional; overrides the tier's when set."""


class PaperMarketName(StrEnum):
    """The built-in paper markets (``exchange/paper/markets.py``): a closed set, so the API
    server refuses any other name, naming the field."""

    DOCUMENTS = "documents"
    CALM = "calm"
    USDT = "usdt"
    EUR = "eur"


class PaperMarketModel(StrEnum):
    """How honestly the paper market fills resting orders (``exchange/paper/models.py``)."""

    OPTIMISTIC = "optimistic"
    """The first paper market: a maker one tick inside is first in the queue and gets all of
    the flow, trades carry no information, the book refills at once."""
    CALIBRATED = "calibrated"
    """Queue position and price priority, one-tick spreads on liquid products, informed flow
    that moves the mid (square-root law), own impact, a book that refills over a minute."""
    SKEPTIC = "skeptic"
    """Last in the queue, a quarter of the flow, half of it informed, drift against the seller."""


class FaultOperation(StrEnum):
    ANY = "any"
    BALANCES = "balances"
    PRODUCTS = "products"
    QUOTE = "quote"
    PLACE = "place"
    GET_ORDER = "getOrder"
    CANCEL = "cancel"
    OPEN_ORDERS = "openOrders"
    FILLS = "fills"


class FaultKind(StrEnum):
    REJECT = "reject"
    RATE_LIMIT = "rateLimit"
    UNAVAILABLE = "unavailable"
    TIMEOUT = "timeout"
    LATENCY = "latency"


class PaperFault(ApiModel):
    """A fault the paper exchange injects, per product and operation, at a seeded rate."""

    operation: FaultOperation = FaultOperation.ANY
    """Which call fails (any, balances, products, quote, place, getOrder, cancel, ...)."""
    kind: FaultKind
    """reject, rateLimit (429), unavailable (5xx), timeout, or latency."""
    rate: Annotated[Number, Field(ge=0, le=1)] = Decimal("1")
    """Probability that a matching call fails (drawn from the seeded random source)."""
    product_id: ProductId | None = None
    """Only calls about this product; all products when unset."""
    code: str | None = Field(default=None, max_length=64, pattern=r"^[A-Z_]+$")
    """Reject code for kind=reject (default INVALID_ORDER_CONFIGURATION)."""
    latency: Duration | None = None
    """Added (simulated) latency for kind=latency or kind=timeout."""


class PaperExchange(ApiModel):
    """The embedded simulated exchange: seeded, with honest fills, fees and rejects."""

    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] = 0
    """Seed of every random draw; the same seed replays the same market."""
    market: PaperMarketName = PaperMarketName.DOCUMENTS
    """Built-in market data set: ``documents`` (the documents' products, with a delisted
    AUT, a suspended ZETA and a BONK whose orders are rejected), ``calm`` (the documents'
    tradeable products on a quiet day: half the spread, a quarter of the movement, no
    rejecting product), ``usdt`` (the calm products quoted in USDT only, no USD market:
    a Binance-shaped venue for ``settlementCurrencies: [USDT]``) or ``eur`` (the calm
    products quoted in EUR, and EUR-USD: a Kraken-shaped venue for ``settlementCurrencies:
    [EUR]``). Each injects what its products carry: see docs/design.md (The paper market)."""
    model: PaperMarketModel = PaperMarketModel.CALIBRATED
    """How resting orders fill: optimistic (the first paper market: first in the queue, all of
    the flow), calibrated (queue position, informed flow, impact) or skeptic; every parameter
    and its source is in docs/design.md (The paper market)."""
    holdings: dict[Asset, NonNegative] = Field(default_factory=dict)
    """Starting balances by asset, e.g. {SEI: 36.4, USD: 120}."""
    open_orders: list[SeedOrder] = Field(default_factory=list, max_length=SPEC_LIST_ITEMS)
    """Open orders the account starts with (stale ones are cancelled by cleanslate)."""
    fees: PaperFees = Field(default_factory=PaperFees)
    dust_target: Asset | None = None
    """The asset the paper venue's dust conversion pays in (as Binance's dust transfer pays
    BNB), at the mid price less a 2 % charge; it must be priced on the market (its own
    product, or the market's quote currency). Unset: the paper venue has no conversion."""
    faults: list[PaperFault] = Field(default_factory=list, max_length=SPEC_LIST_ITEMS)
    """Faults to inject, for rehearsing outages and rejects."""


class Coinbase(ApiModel):
    """Coinbase Advanced Trade settings."""

    base_url: Annotated[str, Field(pattern=r"^https?://[^\s]+$")] = "https://api.coinbase.com"
    """API base URL (production by default; the sandbox or a recorded server for tests)."""

    portfolio_id: Annotated[str, Field(pattern=r"^[0-9A-Za-z-]{1,64}$")] | None = None
    """The portfolio (UUID) the API key must be scoped to. When set, the preflight
    (``cleanslate check``, the CredentialsReady condition) fails on a key scoped elsewhere."""


class Ccxt(ApiModel):
    """An exchange reached through ccxt (``pip install cleanslate[ccxt]``; the image has it).

    Spot only, rate limiting on, credentials from the Secret's ``apiKey``, ``secret`` and
    ``password`` (the passphrase some venues need). Nothing else about the client can be set
    here: the operator's platform configuration decides which origins it may call and which
    venues may trade Live (docs/exchanges.md lists the venues tested and how)."""

    exchange_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9]+$")]
    """ccxt exchange id (binance, kraken, coinbase, ...), checked against the operator's ccxt.
    The tested venues are listed in docs/venues.md; any other trades Live only if the platform
    team opts it in (operator flag --ccxt-live-exchange)."""
    sandbox: bool = False
    """Use the venue's test URLs (ccxt's sandbox mode); refused for a venue without them."""
    sub_account: (
        Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")] | None
    ) = None
    """Not supported yet: accepted by the schema so the intent is explicit, but an account that
    sets it is refused (CredentialsReady=False, reason SubAccountUnsupported) before its Secret
    is read, rather than trading the key's main account. On
    the tested venues a sub-account is chosen by the API key itself (Binance and Kraken
    sub-account keys, a Coinbase portfolio-scoped key): use that key's Secret instead."""


class ExchangeSpec(ApiModel):
    """Which exchange the account lives on, and how to reach it."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "!has(self.name) || self.name == 'paper' "
                    "|| has(self.credentialsSecretRef)",
                    "message": "credentialsSecretRef is required for live exchanges",
                    "fieldPath": ".credentialsSecretRef",
                },
                {
                    "rule": "!has(self.name) || self.name != 'ccxt' || has(self.ccxt)",
                    "message": "exchange name ccxt needs the ccxt block (its exchangeId)",
                    "fieldPath": ".ccxt",
                },
            ]
        }
    )

    name: ExchangeName = ExchangeName.PAPER
    """paper (embedded simulator, the default), coinbase, or ccxt (any exchange ccxt reaches)."""
    credentials_secret_ref: SecretRef | None = None
    """Secret with the API key (live adapters only)."""
    paper: PaperExchange | None = None
    coinbase: Coinbase | None = None
    ccxt: Ccxt | None = None

    @model_validator(mode="after")
    def _credentials_for_live_adapters(self) -> Self:
        if self.name != ExchangeName.PAPER and self.credentials_secret_ref is None:
            raise ValueError(f"credentialsSecretRef is required for exchange {self.name.value}")
        if self.name is ExchangeName.CCXT and self.ccxt is None:
            raise ValueError("exchange name ccxt needs the ccxt block (its exchangeId)")
        return self


class PolicyRef(ApiModel):
    """A PurgePolicy in the same namespace."""

    name: ObjectName
    """Name of the PurgePolicy."""


class TrackedPosition(ApiModel):
    """A position the strategy opened and tracks (what makes a holding strategy-aligned)."""

    symbol: ProductId
    """Product of the position, e.g. ETH-USD."""
    entry_price: Positive | None = None
    """Entry price behind P&L; a tracked position without one is a zombie."""
    opened_at: datetime | None = None
    """When the strategy opened it (the over-cap ranking closes older ones first)."""


class Ban(ApiModel):
    """A product banned from the universe until ``expiresAt`` (the documents' red-flag bans)."""

    symbol: ProductId
    """Banned product."""
    reason: Annotated[str, Field(max_length=256)] = "manual"
    """Why, for people reading the resource."""
    expires_at: datetime | None = None
    """Never expires when unset."""


class LeaveAlone(ApiModel):
    """A holding a person has taken over: cleanslate neither sells nor retries it.

    The one way to say "leave this alone, I will deal with it" (the auto-purge guide's
    troubleshooting wants a way to stop retrying a persistently failing symbol). Unlike a ban
    or an exclusion, which make a holding *more* purgeable, this keeps it. While active the
    holding is shown in the plan as Ignore with the reason and expiry, does not count toward
    the position cap and does not block CLEAN, and open orders on it are not cancelled as
    stale (they may be the person's own sale); once ``until`` passes it is decided normally.
    """

    symbol: ProductOrAsset
    """Product (BONK-USD) or asset (BONK) to leave alone."""
    reason: Annotated[str, Field(min_length=1, max_length=256)]
    """Why, for people reading the plan and events (required: someone must own it)."""
    until: datetime | None = None
    """When cleanslate takes the holding back; never when unset."""


class TradingAccountSpec(ApiModel):
    """What the account should look like; cleanslate never writes the spec."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "!has(self.settlementCurrencies) || self.settlementCurrencies.all("
                    "c, self.settlementCurrencies.exists_one(d, d == c))",
                    "message": "settlementCurrencies must not repeat a currency",
                    "fieldPath": ".settlementCurrencies",
                }
            ]
        }
    )

    exchange: ExchangeSpec = Field(default_factory=ExchangeSpec)
    policy_ref: PolicyRef
    mode: Mode = Mode.DRY_RUN
    """DryRun (default) fills status.plan and places no order; Live trades."""
    suspend: bool = False
    """Stop all trading for this account and cancel the orders cleanslate placed."""
    protected_symbols: list[ProductOrAsset] = Field(
        default_factory=list, max_length=SPEC_LIST_ITEMS
    )
    """Products or assets never sold. They do not count toward the policy's maxPositions
    (nothing is closed to make room for them)."""
    tracked_positions: list[TrackedPosition] = Field(
        default_factory=list, max_length=SPEC_LIST_ITEMS
    )
    """The strategy's tracker: positions it manages (strategy-aligned, category A)."""
    bans: list[Ban] = Field(default_factory=list, max_length=SPEC_LIST_ITEMS)
    """Products banned from the universe (purged if held), optionally until a time."""
    leave_alone: list[LeaveAlone] = Field(default_factory=list, max_length=SPEC_LIST_ITEMS)
    """Holdings a person deals with. While active: sold only by a liquidate annotation, never
    retried (plan: Ignore, with the reason and expiry), not counted toward maxPositions, not
    blocking CLEAN, open orders on it not cancelled. A ban or an exclusion, by contrast,
    makes a holding purgeable."""
    tenant: Annotated[str, Field(max_length=63)] | None = None
    """Free-form tenant label, for reports; isolation comes from the namespace."""
    interval_seconds: Annotated[int, Field(ge=1, le=86400)] = 60
    """Seconds between cycles."""
    settlement_currencies: list[Asset] = Field(
        default_factory=lambda: list(DEFAULT_SETTLEMENT_CURRENCIES), min_length=1, max_length=5
    )
    """What holdings are sold into, in order of preference (e.g. [USDT, USDC] on Binance):
    each holding sells through the first tradeable BASE-QUOTE market of this list. These
    currencies are cash: never sold and never counted as exposure. Default [USD]."""

    @model_validator(mode="after")
    def _settlement_unique(self) -> Self:
        listed = self.settlement_currencies
        if repeated := sorted({c for c in listed if listed.count(c) > 1}):
            raise ValueError(f"settlementCurrencies repeats {', '.join(repeated)}")
        return self


# --- status -------------------------------------------------------------------------------


class AccountState(StrEnum):
    CLEAN = "Clean"
    DIRTY = "Dirty"
    CLEANING = "Cleaning"
    SUSPENDED = "Suspended"
    ERROR = "Error"


class Category(StrEnum):
    STRATEGY_ALIGNED = "StrategyAligned"
    LEGACY_NON_COMPLIANT = "LegacyNonCompliant"
    ZOMBIE = "Zombie"


class Condition(ApiModel):
    """A ``metav1.Condition``."""

    type: Annotated[str, Field(max_length=316)]
    """Ready, Reconciling, Stalled, Clean, PolicyResolved, CredentialsReady, WithinBudget,
    PolicyWarning or ExchangeCapable (docs/operations.md)."""
    status: Literal["True", "False", "Unknown"]
    """True, False or Unknown."""
    reason: Annotated[
        str, Field(max_length=1024, pattern=r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$")
    ]
    """Why, as one CamelCase word (e.g. Clean, WaitingOnBlockers, CycleFailed)."""
    message: Annotated[str, Field(max_length=32768)] = ""
    """One line for people, at most 200 characters; the detail is in other status fields."""
    last_transition_time: datetime
    """When the status last changed (not when the message did)."""
    observed_generation: Annotated[int, Field(ge=0)] | None = None
    """The metadata.generation of the spec this condition judged."""


class PositionStatus(ApiModel):
    symbol: ProductId
    """The product the holding is valued and sold through, e.g. SEI-USD."""
    quantity: Number
    """Base quantity held."""
    value_usd: Number | None = None
    """None when the price could not be fetched."""
    category: Category
    """StrategyAligned (tracked), LegacyNonCompliant (untracked) or Zombie (no market)."""
    eligible: bool
    """Whether the product passes the policy's universe and liquidity floors."""
    reasons: list[str] = Field(default_factory=list)
    """Why it was classified and judged so."""


class PlanAction(StrEnum):
    KEEP = "Keep"
    SKIP = "Skip"
    PURGE = "Purge"
    CLOSE = "Close"
    UNWIND = "Unwind"
    TRIM = "Trim"
    IGNORE = "Ignore"
    ESCALATE = "Escalate"
    CANCEL_ORDER = "CancelOrder"


class PlanItem(ApiModel):
    symbol: ProductId
    """The product the action is on."""
    action: PlanAction
    """Keep, Skip, Purge, Close, Unwind, Trim, Ignore, Escalate or CancelOrder."""
    quantity: Number = Decimal("0")
    """Base quantity the action sells or cancels (0 for Keep, Skip, Ignore, Escalate)."""
    value_usd: Number | None = None
    """Its value at the bid; None when the price is unknown."""
    reason: Annotated[str, Field(max_length=1024)] = ""
    """The rule that decided it."""
    preview: Annotated[str, Field(max_length=1024)] | None = None
    """DryRun only: the exchange's verdict on this sale's first slice, checked without placing
    it (Coinbase Preview Order): ``ok``, or the reason it would be refused."""


class PurgeFailure(ApiModel):
    """The documents' ``purge_failures`` entry; a success deletes it."""

    failure_count: Annotated[int, Field(ge=1)]
    """Failed purges in a row; picks the step of policy.backoff.schedule."""
    last_failed_at: datetime
    """When the last purge failed (the backoff counts from here)."""
    last_error: Annotated[str, Field(max_length=1024)] = ""
    """The last failure's error, redacted."""
    last_error_code: Annotated[str, Field(max_length=64)] = ""
    """The exchange's reject code of the last failure (PRODUCT_NOT_TRADEABLE waits 4 hours)."""
    balance: Number = Decimal("0")
    """Base quantity left after the last failure."""
    value_usd: Number | None = None
    """What the quantity left was worth at the bid; absent when its price was unknown (never
    a made-up $0, which would read as "nothing at stake")."""
    next_retry_at: datetime | None = None
    """When the backoff ends; None while retries happen every cycle."""
    decision_mid: Number | None = None
    """The mid when the first of these consecutive failed purges was decided: a retry is
    measured (``lastPurges``) and paced from it, so the wait between cycles is charged."""
    decided_at: datetime | None = None
    """When that first purge was decided (real time), for the same measure."""


class UnwindProgress(ApiModel):
    """A legacy position's gradual unwind, one step per cycle."""

    cycle: Annotated[int, Field(ge=0)]
    """Unwind steps done."""
    remaining_fraction: Annotated[Number, Field(ge=0, le=1)]
    """Share of the original position still held (0 to 1)."""
    started_at: datetime
    """When the first step was taken."""
    last_cycle_at: datetime
    """When the last step was taken."""


class FrozenSymbol(ApiModel):
    """A product whose price failed repeatedly (policy.symbolFreeze): held, never sold blind."""

    consecutive_failures: Annotated[int, Field(ge=0)]
    """Price failures in a row."""
    frozen_at: datetime | None = None
    """None while failures are counted but the threshold is not reached."""
    until: datetime | None = None
    """When the freeze ends (frozenAt plus policy.symbolFreeze.cooldown)."""
    last_error: Annotated[str, Field(max_length=1024)] = ""
    """The last price failure's error."""


class BalanceStatus(ApiModel):
    """The last balance fetch (policy.balanceFetch)."""

    last_known_usd: Number | None = None
    """Account value at the last successful fetch."""
    fetched_at: datetime | None = None
    """When balances were last fetched successfully."""
    consecutive_errors: Annotated[int, Field(ge=0)] = 0
    """Failed fetches in a row."""
    stale: bool = False
    """True when the last known balance is older than policy.balanceFetch allows."""


class CleanupMetrics(ApiModel):
    """The legacy protocol's counters, plus what the purges cost."""

    total_positions_cleaned: Annotated[int, Field(ge=0)] = 0
    """Positions sold whole (purged or closed); an unwound position counts once, at its last
    step, and a trim counts none."""
    zombie_positions_closed: Annotated[int, Field(ge=0)] = 0
    """Zombie positions sold by their one market exit."""
    legacy_positions_unwound: Annotated[int, Field(ge=0)] = 0
    """Legacy positions whose gradual unwind finished."""
    stale_orders_cancelled: Annotated[int, Field(ge=0)] = 0
    """Open orders cancelled for being older than policy.staleOrderMinutes."""
    capital_freed_usd: NonNegative = Decimal("0")
    """Sale proceeds net of fees, plus what the cancelled stale orders held."""
    fees_paid_usd: NonNegative = Decimal("0")
    """Fees paid on cleanslate's sales."""
    purges_succeeded: Annotated[int, Field(ge=0)] = 0
    """Purges that sold what they set out to."""
    purges_failed: Annotated[int, Field(ge=0)] = 0
    """Purges that failed (each starts or extends a backoff)."""


class PaceInputs(ApiModel):
    """What the adaptive TWAP weighs time with (``core.pace``), kept so a restarted operator
    decides each slice the same way as the one that stopped."""

    decided_at: datetime
    """When the purge was decided: the drift since is measured from here."""
    decision_mid: Number
    """The mid at the decision, the purge's benchmark price."""
    maker_fee_bps: Number
    """The maker fee the decision weighs resting with, in basis points."""
    taker_fee_bps: Number
    """The taker fee the decision weighs crossing with, in basis points."""
    maker_legs: Annotated[int, Field(ge=0)] = 0
    """Maker orders this purge rested so far."""
    maker_filled_legs: Annotated[int, Field(ge=0)] = 0
    """Of those, the ones that filled (the product's maker fill rate so far)."""
    var_sum: Number = Decimal("0")
    """Squared log returns seen between looks, bps^2."""
    var_minutes: Number = Decimal("0")
    """Minutes those returns span (volatility per minute is var_sum / var_minutes)."""
    ret_sum: Number = Decimal("0")
    """Log returns summed since the decision, bps (the observed drift)."""
    last_mid: Number | None = None
    """The mid at the last look."""
    last_at: datetime | None = None
    """When the last look was taken."""


class InFlightPurge(ApiModel):
    """A liquidation that has started. Written before the first order is placed, so a
    restarted operator derives the same client order ids and finds its orders instead of
    placing new ones."""

    attempt: Annotated[int, Field(ge=1)]
    """The purge's attempt number, part of its client order ids."""
    started_at: datetime
    """When the purge started, on the venue's clock (compared with its orders' times)."""
    target_quantity: Number
    """Base quantity the purge set out to sell (never more than was held)."""
    filled_quantity: Number = Decimal("0")
    """Base quantity sold so far."""
    slice: Annotated[int, Field(ge=0)] = 0
    """Last slice number whose order was (or may have been) placed."""
    reason: Annotated[str, Field(max_length=256)] = ""
    """What kind of exit it is (purge, close, unwind, trim)."""
    epoch: Annotated[str, Field(pattern=r"^[0-9a-f]{0,32}$")] = ""
    """Chosen when the purge started and part of its client order ids, so ids stay unique
    when the status is lost or restored from an old copy and attempts restart at 1."""
    decision_mid: Number | None = None
    """The mid when the sale was decided, kept so a resumed purge's cost is measured against
    the market it was decided in, not the one it resumed in."""
    pace: PaceInputs | None = None
    """The time-cost inputs of the adaptive TWAP as of the last placement (``core.pace``)."""


LAST_PURGES = 20
"""``status.lastPurges`` keeps this many symbols, the most recently finished."""


class LastPurge(ApiModel):
    """What a symbol's last purge cost against the market (``core.shortfall``)."""

    finished_at: datetime
    """When the purge finished (the real clock)."""
    result: Literal["Succeeded", "Failed"]
    """Succeeded or Failed."""
    shortfall_bps: Number | None = None
    """(decision value - realised) / decision value in bps: fees in, the unsold quantity
    charged at the last bid. None when no decision-time mid was known."""
    fee_bps: Number | None = None
    """The fee part of ``shortfallBps``."""
    decision_mid: Number | None = None
    """The mid when the sale was decided, the cost's reference."""
    target_quantity: Number
    """Base quantity the purge set out to sell."""
    filled_quantity: Number
    """Base quantity sold."""
    unsold_quantity: Number
    """Base quantity left unsold."""
    fill_rate: Annotated[Number, Field(ge=0, le=1)] | None = None
    """filledQuantity / targetQuantity, 0 to 1."""
    duration_seconds: NonNegative
    """How long the purge ran on the venue (a paper account's simulated seconds)."""


class CycleTiming(ApiModel):
    """The last cycle's timing, on the real clock."""

    started_at: datetime
    """When the last cycle started."""
    duration_seconds: Number
    """How long it took, in real seconds."""
    phase_seconds: dict[str, Number] = Field(default_factory=dict)
    """Seconds per phase (resume, classify, cancel_stale, controlled_exit, preview, verify)."""
    over_budget: bool = False
    """True when durationSeconds exceeded policy.cycleBudgetSeconds."""


class FeeTierStatus(ApiModel):
    """The fees the TWAP weighs resting with (``core.pace``): as the venue reported them
    for this account, or the policy's ``makerFeeBps``/``takerFeeBps`` when it did not."""

    maker_bps: Number
    """Maker fee, basis points of notional."""
    taker_bps: Number
    """Taker fee, basis points of notional."""
    source: Literal["venue", "policy"]
    """venue: read from the exchange for this account; policy: the policy's fallback."""
    read_at: datetime
    """When it was read (real time)."""


class DustSweepStatus(ApiModel):
    """The dust sweep (``policy.dust.sweep: VenueConversion``): the last conversion, kept so
    a restarted operator waits out the venue's cooldown instead of asking again."""

    last_swept_at: datetime | None = None
    """When the venue last converted crumbs for this account (real time); the venue's
    cooldown (Binance: 6 hours) counts from here."""
    target: Asset | None = None
    """The asset the venue converts into (BNB on Binance)."""
    assets: list[Asset] = Field(default_factory=list, max_length=SPEC_LIST_ITEMS)
    """The crumbs the last conversion took."""
    received: Number = Decimal("0")
    """What the last conversion paid, in ``target``, after the venue's fee."""
    fee: Number = Decimal("0")
    """The venue's fee on the last conversion, in ``target``."""
    message: Annotated[str, Field(max_length=1024)] = ""
    """The last cycle's word on the sweep: converted, waiting, nothing to sweep,
    unavailable on this venue, or the venue's refusal."""


class TradingAccountStatus(ApiModel):
    """What cleanslate observed and did; written by the operator only."""

    account_state: AccountState | None = None
    """Clean, Dirty, Cleaning, Suspended or Error."""
    mode: Mode | None = None
    """The mode the last cycle ran in (spec.mode, or its default)."""
    conditions: list[Condition] = Field(default_factory=list)
    """kstatus conditions, one per type: Ready summarises (docs/operations.md)."""
    observed_generation: Annotated[int, Field(ge=0)] | None = None
    """The metadata.generation of the spec the last cycle judged."""
    positions: list[PositionStatus] = Field(default_factory=list)
    """Every non-quote holding at the last cycle, classified."""
    plan: list[PlanItem] = Field(default_factory=list)
    """What the last cycle decided for each holding and stale order."""
    purge_failures: dict[str, PurgeFailure] = Field(default_factory=dict)
    """Products whose purge failed, by product id, with their backoff."""
    unwind_progress: dict[str, UnwindProgress] = Field(default_factory=dict)
    """Legacy positions being unwound, by product id."""
    frozen_symbols: dict[str, FrozenSymbol] = Field(default_factory=dict)
    """Products with price failures, by product id (frozenAt set once frozen)."""
    balance: BalanceStatus = Field(default_factory=BalanceStatus)
    """The last balance fetch."""
    cleanup_metrics: CleanupMetrics = Field(default_factory=CleanupMetrics)
    """Counters since the account was created."""
    in_flight: dict[str, InFlightPurge] = Field(default_factory=dict)
    """Purges under way, by product id; written before their first order."""
    fee_tier: FeeTierStatus | None = None
    """The account's fee tier as last read for a purge (venue, or the policy's fallback)."""
    dust_sweep: DustSweepStatus | None = None
    """The dust sweep's last conversion and word (only when the policy opts in)."""
    last_purges: Annotated[dict[str, LastPurge], Field(max_length=LAST_PURGES)] = Field(
        default_factory=dict
    )
    """Each symbol's last purge and its cost, the ``LAST_PURGES`` most recent symbols."""
    next_attempt: Annotated[int, Field(ge=1)] = 1
    """Attempt number the next purge will use (client order ids are never reused)."""
    cycles: Annotated[int, Field(ge=0)] = 0
    """Cycles run so far (drives exposure.trimIntervalCycles)."""
    last_cycle: CycleTiming | None = None
    """The last cycle's start and duration (real clock)."""
    total_value_usd: Number | None = None
    """Account value (NAV) at the last cycle, for `kubectl get`."""
    position_count: Annotated[int, Field(ge=0)] = 0
    """Non-quote positions held (a printer column cannot count a list)."""
    failure_count: Annotated[int, Field(ge=0)] = 0
    """Symbols with a tracked purge failure."""
    blockers: list[str] = Field(default_factory=list)
    """What keeps the account from CLEAN."""
    write_sequence: Annotated[int, Field(ge=0)] | None = None
    """Status writes so far. Each write tests the number its writer last read and stores it
    plus one, so a replica that was frozen while another took over cannot overwrite the newer
    record: its write fails and it places nothing."""
    released_sequence: Annotated[int, Field(ge=1)] | None = None
    """The ``writeSequence`` of the write by which a replica let go of the account (kopf's
    peering paused it, its cycle had ended). While it equals ``writeSequence`` nobody has
    written, so nobody has placed an order, since: a replica standing down acts at once."""


class TradingAccount(ApiModel):
    """The whole object as ``kubectl get -o yaml`` shows it, for files and the CLI."""

    api_version: str = "cleanslate.dev/v1alpha1"
    kind: str = "TradingAccount"
    metadata: dict[str, object] = Field(default_factory=dict)
    spec: TradingAccountSpec
    status: TradingAccountStatus | None = None
