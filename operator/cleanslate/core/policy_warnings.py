"""Policy settings that are valid but risky: reported, never refused.

The production fixes restored a 25 % exposure cap because the emergency 80 % "caused safety
warnings on every launch", and allow 50-60 % only temporarily while trims thrash. A cap above
50 % is therefore accepted (a person may need it) but always said out loud.
"""

from __future__ import annotations

from decimal import Decimal

from cleanslate.api.policy import PurgePolicySpec

RISKY_EXPOSURE_PCT = Decimal("50")


def policy_warnings(policy: PurgePolicySpec) -> tuple[str, ...]:
    """One sentence per risky setting, naming the field and why; empty when none."""
    warnings = []
    cap = policy.exposure.max_total_at_risk_pct
    if cap > RISKY_EXPOSURE_PCT:
        warnings.append(
            f"exposure.maxTotalAtRiskPct is {cap.normalize():f}%, above {RISKY_EXPOSURE_PCT}%: "
            "the LIVE profile keeps 25% of NAV at risk"
        )
    return tuple(warnings)
