"""A run's Step Functions history stays within AWS's limit: a Standard execution fails (States.Runtime,
no Catch sees it) when its history reaches 25,000 events (AWS Step Functions quotas,
docs.aws.amazon.com/step-functions/latest/dg/limits.html, "Maximum execution history size"). A run
failing so sends no notification and leaves a canary app running, so a configuration whose loops
could take it there is refused when it is read, naming the largest value that fits.

The three loops (the vulnerability scan's, the image version's and the canary's) each wait, look and
decide: one round is a Wait, a Task and a Choice state, 9 events (WaitStateEntered/Exited,
TaskStateEntered, LambdaFunctionScheduled/Started/Succeeded, TaskStateExited, ChoiceStateEntered/
Exited). They all wait the deployment's VersionPollSeconds. Refusing (rather than lengthening the
wait as a loop goes on) keeps a loop's pace what the operator set, and needs no change to the state
machine or the stages: the fix is a figure in the message.

RUN_EVENTS bounds everything else in the worst run: every state on the longest path through the state
machine, each Task retried to the full of its Retry, and the Map of layer scans at MAX_LAYERS layers,
each scan retried to the full. tests/unit/test_aws_bounds.py computes it, and the 9 events of a
round, from statemachine/pipeline.asl.json; tests/e2e/test_history_events.py counts a real run's.
A loop round's own retries are not charged per round: the margin (HISTORY_LIMIT - HISTORY_BUDGET)
holds about 150 rounds retried to the full.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import ConfigurationInvalid

if TYPE_CHECKING:
    from .config import Binding, PipelineConfig
    from .settings import Settings

HISTORY_LIMIT = 25_000
HISTORY_BUDGET = 20_000  # the worst run stays under this: 5,000 events of margin
EVENTS_PER_ROUND = 9
RUN_EVENTS = 8_700  # at least the worst run's events outside the loops' rounds (see above)
ROUNDS = (HISTORY_BUDGET - RUN_EVENTS) // EVENTS_PER_ROUND  # 1,255 rounds a run, all loops together


def looks(seconds: int, poll_seconds: int) -> int:
    """Looks a loop takes to wait up to `seconds`: one at once (or after the first wait), then one
    every poll, the last once another poll would pass `seconds`."""
    return seconds // poll_seconds + 1


def largest_fitting(room: int, poll_seconds: int) -> int | None:
    """The largest number of seconds whose looks fit in `room` rounds; None when not even one does."""
    return room * poll_seconds - 1 if room >= 1 else None


def check_loops(config: PipelineConfig, settings: Settings, source: str) -> None:
    for binding in config.repositories:
        problem = _loop_problem(binding, settings.version_poll_seconds, settings.version_max_polls)
        if problem:
            raise ConfigurationInvalid(f"{source}: binding {binding.match!r}: {problem}")


def _loop_problem(binding: Binding, poll: int, version_polls: int) -> str | None:
    vulnerabilities = binding.policy.vulnerabilities
    scan = looks(vulnerabilities.wait_seconds, poll) if vulnerabilities else 0
    versions = version_polls if binding.registers else 0
    canary = (
        looks(binding.canary.budget_seconds, poll)
        if binding.registers and binding.canary.active(binding.profile)
        else 0
    )
    rounds = scan + versions + canary
    if rounds <= ROUNDS:
        return None
    fixes = []
    if vulnerabilities and (wait := largest_fitting(ROUNDS - versions - canary, poll)) is not None:
        fixes.append(f"policy.vulnerabilities.wait_seconds at most {wait}")
    if canary and (budget := largest_fitting(ROUNDS - versions - scan, poll)):
        fixes.append(f"canary.budget_seconds at most {budget}")
    fixes.append("a longer VersionPollSeconds")
    return (
        f"its waits could take {rounds} rounds at a {poll} s poll ({scan} looks at the vulnerability "
        f"scan, {versions} at the image version, {canary} at the canary), and a run has room for "
        f"{ROUNDS} in Step Functions' history of {HISTORY_LIMIT:,} events (past it the run fails "
        f"with no notification). Set {', or '.join(fixes)}."
    )
