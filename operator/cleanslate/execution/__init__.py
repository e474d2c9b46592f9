"""The imperative shell around the core's trading decisions: it performs them on the port.

``run_twap`` liquidates one holding (``core.twap`` decides, this package places, polls and
cancels); ``fetch_balances`` reads balances with the documented retry schedule.
"""

from cleanslate.execution.balances import fetch_balances
from cleanslate.execution.twap import BeforePlace, OnEvent, PlaceIntent, ResumeFrom, run_twap

__all__ = ["BeforePlace", "OnEvent", "PlaceIntent", "ResumeFrom", "fetch_balances", "run_twap"]
