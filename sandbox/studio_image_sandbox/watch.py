"""Watch an execution the way a person wants to: each state as it is entered and left, progress
over the layers the Map scans, retries and caught errors, then the final status and duration.

The display is built from the execution's history (as the Step Functions console builds its
own), so it shows what the real workflow did, not what the sandbox expected it to do; whether an
invocation was a cold start comes from the function's log (`Init Duration` in its REPORT line).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TextIO

from studio_image.units import plural

FINAL = {"ExecutionSucceeded", "ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"}
MAP_ENDS = {"MapStateSucceeded", "MapStateFailed", "MapStateAborted"}
ITERATION_ENDS = {"MapIterationSucceeded", "MapIterationFailed", "MapIterationAborted"}
LAMBDA_ENDS = {"LambdaFunctionSucceeded", "LambdaFunctionFailed", "LambdaFunctionTimedOut"}
# Whether function ARN's invocation between two moments began a new execution environment.
ColdStart = Callable[[str, datetime, datetime], bool]


def _seconds(start: datetime, end: datetime) -> str:
    return f"{(end - start).total_seconds():.2f} s"


def _error(details: dict[str, Any]) -> str:
    """`Error: message` from a failure's details; a Lambda error's cause is its JSON payload."""
    cause = details.get("cause") or ""
    with contextlib.suppress(ValueError, AttributeError):
        cause = json.loads(cause).get("errorMessage", cause)
    text = f"{details.get('error', 'error')}: {cause}".rstrip(": ")
    return text if len(text) <= 200 else text[:197] + "..."


class Narrator:
    """Turns history events into lines. `live` lines describe what is under way; a terminal shows
    them in place, a log does not need them."""

    def __init__(self, cold_start: ColdStart | None = None) -> None:
        self.entered: dict[str, datetime] = {}
        self.current: str | None = None
        self.failure: str | None = None
        self.layers = self.layers_done = 0
        self.scanning = self.most_scanning = 0  # layers scanned side by side, now and at most
        self.started: datetime | None = None
        self.pending_choice: str | None = None
        self.in_map = False  # a Map's iterations are shown as progress, not state by state
        self.cold_start = cold_start
        self.cold_starts = 0  # in the state under way
        self.lambda_events: dict[int, dict[str, Any]] = {}

    def _progress(self) -> list[tuple[str, bool]]:
        text = (
            f"  → {self.current}: {self.layers_done}/{plural(self.layers, 'layer')}, {self.scanning} scanning"
        )
        return [(text, True)]

    def _invoked(self, event: dict[str, Any]) -> None:
        """Count the cold start, if the invocation this event ends began an environment."""
        started = self.lambda_events.get(event.get("previousEventId", -1), {})
        scheduled = self.lambda_events.get(started.get("previousEventId", -1), started)
        function = (scheduled.get("lambdaFunctionScheduledEventDetails") or {}).get("resource")
        if (
            self.cold_start
            and function
            and self.cold_start(function, scheduled["timestamp"], event["timestamp"])
        ):
            self.cold_starts += 1

    def _cold(self) -> str:
        count, self.cold_starts = self.cold_starts, 0
        return f"  ❄ {plural(count, 'cold start')}" if count else ""

    def lines(self, event: dict[str, Any]) -> list[tuple[str, bool]]:
        """(text, live) pairs for one event."""
        kind, at = event["type"], event["timestamp"]
        entered = event.get("stateEnteredEventDetails")
        exited = event.get("stateExitedEventDetails")
        if kind == "ExecutionStarted":
            self.started = at
            return []
        if kind.startswith("LambdaFunction"):
            self.lambda_events[event["id"]] = event
        if kind in LAMBDA_ENDS:
            self._invoked(event)
        if kind == "MapStateStarted":
            self.in_map = True
            self.layers, self.layers_done = event["mapStateStartedEventDetails"].get("length", 0), 0
            self.scanning = self.most_scanning = 0
            return self._progress()
        if kind in MAP_ENDS:
            self.in_map = False
        if entered and not self.in_map:
            return self._entered(kind, entered["name"], at)
        if exited and not self.in_map:
            return self._exited(kind, exited["name"], at)
        if kind == "MapIterationStarted":
            self.scanning += 1
            self.most_scanning = max(self.most_scanning, self.scanning)
            return self._progress()
        if kind in ITERATION_ENDS:
            self.layers_done += 1
            self.scanning -= 1
            return self._progress()
        if kind == "LambdaFunctionScheduled" and self.failure:  # the Retry of a failed attempt
            retried, self.failure = self.failure, None
            return [(f"    ↻ {self.current} retried after {retried}", False)]
        if kind in {"LambdaFunctionFailed", "LambdaFunctionTimedOut"}:
            details = event.get("lambdaFunctionFailedEventDetails") or event.get(
                "lambdaFunctionTimedOutEventDetails", {}
            )
            self.failure = _error(details)
            return []
        if kind in FINAL:
            return [self._final(kind, event, at)]
        return []

    def _entered(self, kind: str, name: str, at: datetime) -> list[tuple[str, bool]]:
        self.entered[name], self.current, self.failure = at, name, None
        found: list[tuple[str, bool]] = []
        if self.pending_choice:
            found.append((f"  ◇ {self.pending_choice} → {name}", False))
            self.pending_choice = None
        if kind.startswith("Choice"):
            return found
        if kind.startswith("Wait"):
            return [*found, (f"  ⏱ {name}", True)]
        return [*found, (f"  → {name}", True)]

    def _exited(self, kind: str, name: str, at: datetime) -> list[tuple[str, bool]]:
        if kind.startswith("Choice"):
            self.pending_choice = name
            return []
        took = _seconds(self.entered.get(name, at), at)
        cold = self._cold()
        if kind.startswith("Map"):
            done = f"{self.layers_done}/{plural(self.layers, 'layer')}"
            scanned = f"{done} scanned, up to {self.most_scanning} at once"
            return [(f"  ✓ {name:<16} {took:>9}  {scanned}{cold}", False)]
        if self.failure and kind.startswith("Task"):  # failed, and the Catch went on elsewhere
            return [(f"  ✗ {name:<16} {took:>9}  {self.failure} (caught){cold}", False)]
        if kind.startswith(("Pass", "Succeed", "Fail")):
            return []
        return [(f"  ✓ {name:<16} {took:>9}{cold}", False)]

    def _final(self, kind: str, event: dict[str, Any], at: datetime) -> tuple[str, bool]:
        status = kind.removeprefix("Execution").upper()
        took = f" in {_seconds(self.started, at)}" if self.started else ""
        if kind == "ExecutionSucceeded":
            return f"✔ {status}{took}", False
        details = event.get("executionFailedEventDetails") or {}
        reason = f" ({details['error']})" if details.get("error") else ""
        return f"✘ {status}{reason}{took}", False


def follow(
    history: Callable[[], list[dict[str, Any]]],
    out: TextIO,
    *,
    live: bool,
    poll: float = 0.2,
    cold_start: ColdStart | None = None,
) -> None:
    """Print an execution's progress to `out` until it ends, reading its `history` as it grows.
    `live` (a terminal): what is under way shows on one line that is rewritten; otherwise only what
    has happened is printed."""
    narrator = Narrator(cold_start)
    seen = 0
    showing = False
    while True:
        events = history()
        for event in events[seen:]:
            for text, transient in narrator.lines(event):
                if transient and not live:
                    continue
                if showing:
                    out.write("\r\033[K")
                out.write(text if transient else text + "\n")
                showing = transient
            if event["type"] in FINAL:
                out.flush()
                return
        seen = len(events)
        out.flush()
        time.sleep(poll)


def state_path(history: list[dict[str, Any]]) -> list[str]:
    """The states an execution went through, in order (the Map once, with its layer count)."""
    path: list[str] = []
    in_map = False
    for event in history:
        if event["type"] == "MapStateStarted" and path:
            path[-1] += f"({event['mapStateStartedEventDetails'].get('length', 0)})"
            in_map = True
        in_map = in_map and event["type"] not in MAP_ENDS
        entered = event.get("stateEnteredEventDetails")
        if entered and not in_map and not event["type"].startswith("Choice"):
            path.append(entered["name"])
    return path


def write_table(rows: Sequence[tuple[str, ...]], out: TextIO) -> None:
    """Rows in columns; the first row is the header."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        out.write(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() + "\n"
        )
