"""One deployed pipeline's runs end with it: what a test left running reaches no later test."""

from __future__ import annotations

import json
import os
import time

import boto3

import moto_studio
from moto_studio import awslambda
from moto_studio.stepfunctions import executions, running
from studio_image_sandbox.samples import compliant

from .conftest import CONFIGURATION, REGION, deployed


def entered(pipeline, execution_arn: str, state: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not any(
        (event.get("stateEnteredEventDetails") or {}).get("name") == state
        for event in pipeline.history(execution_arn)
    ):
        assert time.monotonic() < deadline, f"{execution_arn} did not reach {state} in {timeout} s"
        time.sleep(0.1)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_run_still_going_when_its_pipeline_is_torn_down_is_stopped_and_reaches_no_later_pipeline(tmp_path):
    # Given a run that is waiting for its SageMaker image version (which takes an hour) when the test
    # ends, at AWS's pace (on the tests' clock its 120 polls would be over before the teardown)
    with deployed(tmp_path / "first", CONFIGURATION) as first:
        moto_studio.settings.time_scale = 1
        moto_studio.settings.image_version_seconds = 3600
        left = first.start("studio/left", first.push(compliant("kernel-gateway"), "studio/left"))
        entered(first, left, "WaitForVersion")
        workers = awslambda.workers()
        assert workers and running()
    # Then, once torn down, the run has ended (stopped), and no Lambda worker of it is left
    (execution,) = [e for e in executions() if e.exec_arn == left]
    assert execution.status == "ABORTED"
    assert running() == []
    assert [pid for pid in workers if alive(pid)] == []
    # When the next pipeline runs an image to its end
    moto_studio.settings.reset()
    with deployed(tmp_path / "second", CONFIGURATION) as second:
        done = second.run(compliant("kernel-gateway"), "studio/right")
        # Then its queue holds its own run's notification and nothing of the first pipeline's run
        sqs = boto3.client("sqs", region_name=REGION)
        bodies = [
            json.loads(json.loads(m["Body"])["Message"])
            for m in sqs.receive_message(QueueUrl=second.stack.queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
        ]
        assert [body["execution_arn"] for body in bodies] == [done["executionArn"]]
        assert second.executions() == [done["executionArn"]]
