"""Step Functions executions as StopExecution ends them in AWS: at once, even while a state waits to
retry (moto's interpreter sleeps through the retry interval), so that a sandbox that stops can end
every execution it started before the next one begins.

moto runs each execution on threads of its own and marks it RUNNING until they end (then ABORTED,
SUCCEEDED, ...): an execution is over when its status says so.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from moto.stepfunctions.parser.asl.component.common.retry.max_attempts_decl import MaxAttemptsOutcome
from moto.stepfunctions.parser.asl.component.common.retry.retrier_outcome import RetrierOutcome
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.models import stepfunctions_parser_backends


class StudioRetrier:
    """Grafted onto moto's RetrierDecl: its `_eval_body`, with the retry interval waited on the
    execution's state (as moto's Wait state waits), so a stopped execution stops retrying."""

    error_equals: Any
    max_attempts: Any
    interval_seconds: Any
    backoff_rate: Any
    max_delay_seconds: Any
    jitter_strategy: Any

    def _eval_body(self, env: Environment) -> None:
        self.error_equals.eval(env)
        if not env.stack.pop():
            env.stack.append(RetrierOutcome.Skipped)
            return
        self.max_attempts.eval(env=env)
        if env.stack.pop() == MaxAttemptsOutcome.EXHAUSTED:
            env.stack.append(RetrierOutcome.Failed)
            return
        self.interval_seconds.eval(env=env)
        self.backoff_rate.eval(env=env)
        self.max_delay_seconds.eval(env=env)
        self.jitter_strategy.eval(env=env)
        deadline = time.monotonic() + float(env.stack.pop())
        # Stopping sets (and clears) the event; the one-second bound covers a stop just before waiting.
        while env.is_running() and (left := deadline - time.monotonic()) > 0:
            env.program_state_event.wait(min(left, 1.0))
        env.stack.append(RetrierOutcome.Executed)


def executions() -> list[Any]:
    """Every execution moto holds, in every account and region."""
    return [
        execution
        for regions in stepfunctions_parser_backends.values()
        for backend in regions.values()
        for machine in backend.state_machines
        for execution in machine.executions
    ]


def running() -> list[Any]:
    return [execution for execution in executions() if execution.status == "RUNNING"]


def stop_all() -> list[str]:
    """StopExecution for every running execution; their ARNs. Each ends (ABORTED) once the state
    under way returns."""
    stopping = running()
    for execution in stopping:
        execution.stop(stop_date=datetime.now(UTC), error="Sandbox.Stopped", cause="the sandbox stopped")
    return [execution.exec_arn for execution in stopping]


def wait_ended(arns: list[str], timeout: float) -> list[str]:
    """Wait up to `timeout` seconds for these executions to end; those still running."""
    deadline = time.monotonic() + timeout
    while True:
        left = sorted(set(arns) & {execution.exec_arn for execution in running()})
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)
