"""What a read-only check of an account found, one line a person can act on per finding.

Shared by every venue's check (Coinbase's preflight, the ccxt check, the registry's
``cleanslate check``): errors mean "do not trade", warnings mean "this works, but look".
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Level(StrEnum):
    OK = "ok"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Finding:
    level: Level
    check: str
    message: str

    def line(self) -> str:
        return f"{self.level.value:<7} {self.check:<11} {self.message}"


@dataclass(frozen=True, slots=True)
class Preflight:
    findings: tuple[Finding, ...]

    @property
    def passed(self) -> bool:
        return not self.errors

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.level is Level.ERROR)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.level is Level.WARNING)
