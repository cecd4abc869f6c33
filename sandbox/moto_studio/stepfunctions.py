"""Step Functions executions as StopExecution ends them in AWS: at once, even while a state waits to
retry (moto's interpreter sleeps through the retry interval), so that a sandbox that stops can end
every execution it started before the next one begins. Wait states and Retry intervals wait on the
sandbox's clock (`settings.time_scale`); the history records the seconds the ASL asked for. A
Standard execution fails when its history reaches 25,000 events, as in AWS (moto records events
without end).

moto runs each execution on threads of its own and marks it RUNNING until they end (then ABORTED,
SUCCEEDED, ...): an execution is over when its status says so.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

from moto.stepfunctions.parser.api import ExecutionFailedEventDetails, HistoryEventType, StateMachineType
from moto.stepfunctions.parser.asl.component.common.retry.max_attempts_decl import MaxAttemptsOutcome
from moto.stepfunctions.parser.asl.component.common.retry.retrier_outcome import RetrierOutcome
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.models import stepfunctions_parser_backends

from .settings import settings


def _wait(env: Environment, aws_seconds: float) -> None:
    """Wait `aws_seconds` on the sandbox's clock, or until the execution stops (stopping sets, and
    clears, the event: the one-second bound covers a stop just before waiting)."""
    deadline = time.monotonic() + settings.real_seconds(aws_seconds)
    while env.is_running() and (left := deadline - time.monotonic()) > 0:
        env.program_state_event.wait(min(left, 1.0))


class StudioRetrier:
    """Grafted onto moto's RetrierDecl: its `_eval_body`, with the retry interval waited on the
    sandbox's clock and the execution's state, so a stopped execution stops retrying."""

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
        _wait(env, float(env.stack.pop()))
        env.stack.append(RetrierOutcome.Executed)


class StudioWaitFunction:
    """Grafted onto moto's WaitFunction (Seconds, SecondsPath, Timestamp...): the wait on the
    sandbox's clock."""

    def _wait_interval(self, env: Environment, wait_seconds: int) -> None:
        _wait(env, wait_seconds)


# AWS Step Functions quotas (docs.aws.amazon.com/step-functions/latest/dg/limits.html), "Maximum
# execution history size: 25,000 events. If the execution history reaches this quota, the execution
# will fail." "Avoid reaching the history quota" (dg/bp-history-limit.html): when event 25,000 is not
# ExecutionSucceeded, ExecutionFailed is logged as that event. The failure is States.Runtime with the
# cause below (as AWS reports it, e.g. github.com/loads/ardere/issues/86); no Catch sees it.
HISTORY_LIMIT = 25_000
HISTORY_LIMIT_CAUSE = f"The execution reached the maximum number of history events ({HISTORY_LIMIT})."
_history_lock = threading.Lock()  # one event at a time reaches the limit (a Map's iterations add at once)


class StudioEventManager:
    """Grafted onto moto's EventManager: `add_event` stops recording at the history limit and fails
    the execution (`fail_execution`, set on a Standard execution's manager by StudioExecutionWorker)."""

    _history_event_list: list[Any]
    _moto_add_event: Any
    fail_execution: Any

    def add_event(self, context: Any, event_type: HistoryEventType, *args: Any, **kwargs: Any) -> int:
        fail = getattr(self, "fail_execution", None)
        if fail is None:
            return int(self._moto_add_event(context, event_type, *args, **kwargs))
        with _history_lock:
            count = len(self._history_event_list)
            if count >= HISTORY_LIMIT:  # the execution has failed: nothing more is recorded
                return count
            if count < HISTORY_LIMIT - 1 or event_type == HistoryEventType.ExecutionSucceeded:
                return int(self._moto_add_event(context, event_type, *args, **kwargs))
            details = ExecutionFailedEventDetails(error="States.Runtime", cause=HISTORY_LIMIT_CAUSE)
            event_id = self._moto_add_event(
                context, HistoryEventType.ExecutionFailed, {"executionFailedEventDetails": details}
            )
        fail(details)
        return int(event_id)


class StudioExecutionWorker:
    """Grafted onto moto's ExecutionWorker: a Standard execution's history is limited (Express
    workflows' is not: "Maximum execution history size: Unlimited", dg/express-limits.html)."""

    _moto_get_evaluation_environment: Any

    def _get_evaluation_environment(self) -> Environment:
        env: Environment = self._moto_get_evaluation_environment()
        if env.execution_type == StateMachineType.STANDARD:
            env.event_manager.fail_execution = env.set_error  # type: ignore[attr-defined]
        return env


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
