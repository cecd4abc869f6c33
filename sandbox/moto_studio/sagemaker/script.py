"""How a simulated app start goes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AppScript:
    fails: bool = False
    reason: str = ""
    log_lines: list[str] | None = None  # None: the app type's usual start-up lines
    never_starts: bool = False  # stays Pending
