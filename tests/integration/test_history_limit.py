"""moto_studio's Step Functions fails a Standard execution at 25,000 history events, as AWS does."""

from __future__ import annotations

import json
import time

import boto3
import pytest
from moto import mock_aws

from moto_studio.stepfunctions import HISTORY_LIMIT, HISTORY_LIMIT_CAUSE, executions

REGION = "us-east-1"


@pytest.fixture
def sfn():
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield boto3.client("stepfunctions", region_name=REGION)


def recorded_history(arn: str) -> list[dict]:
    """The execution's history as moto holds it (GetExecutionHistory would serialize all 25,000 events:
    moto's answers every call with the whole history, unpaged)."""
    (execution,) = [e for e in executions() if e.exec_arn == arn]
    return execution.exec_worker.env.event_manager.get_event_history()


def test_an_execution_that_loops_fails_at_the_history_limit_past_any_catch(sfn):
    # Given a Standard state machine whose Pass state loops for ever (2 events a round)
    role = boto3.client("iam", region_name=REGION).create_role(RoleName="sfn", AssumeRolePolicyDocument="{}")
    definition = {"StartAt": "Again", "States": {"Again": {"Type": "Pass", "Next": "Again"}}}
    machine = sfn.create_state_machine(
        name="loop", definition=json.dumps(definition), roleArn=role["Role"]["Arn"], type="STANDARD"
    )
    # When it runs
    arn = sfn.start_execution(stateMachineArn=machine["stateMachineArn"])["executionArn"]
    deadline = time.monotonic() + 60
    while (found := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the looping execution never ended"
        time.sleep(0.1)
    # Then it fails with States.Runtime, and its 25,000th and last event says so
    assert (found["status"], found["error"], found["cause"]) == (
        "FAILED",
        "States.Runtime",
        HISTORY_LIMIT_CAUSE,
    )
    events = recorded_history(arn)
    assert len(events) == HISTORY_LIMIT == 25_000
    assert events[-1]["id"] == HISTORY_LIMIT
    assert events[-1]["type"] == "ExecutionFailed"
    assert events[-1]["executionFailedEventDetails"] == {
        "error": "States.Runtime",
        "cause": HISTORY_LIMIT_CAUSE,
    }
    assert events[-2]["type"] == "PassStateExited"
