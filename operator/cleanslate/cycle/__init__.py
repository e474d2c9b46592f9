"""One cycle of the four phases for one account: the shell around the pure core.

The operator and the one-shot CLI both run cycles through ``run_cycle``; they differ only in
where status is kept (the resource, or a state file) and where events go.
"""

from cleanslate.cycle.context import CycleInputs, CycleOptions, CycleResult
from cleanslate.cycle.running import run_cycle

__all__ = ["CycleInputs", "CycleOptions", "CycleResult", "run_cycle"]
