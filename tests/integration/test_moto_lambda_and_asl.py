"""Lambdas run in execution environments of their own under moto, and a real ASL executes them:
Retry and Catch by our error names, a Map state, and an sns:publish task read back from an SQS
queue."""

import io
import json
import os
import subprocess
import sys
import textwrap
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

import moto_studio

REGION = "us-east-1"

HANDLER = textwrap.dedent(
    """
    import os
    import time

    from studio_image.errors import ImageNotFound, RegistryUnavailable

    failures_left = {}


    def handler(event, context):
        op = event.get("op")
        print(f"op={op} in {context.function_name}")
        if op == "env":
            return {"greeting": os.environ["GREETING"], "function": context.function_name,
                    "remaining": context.get_remaining_time_in_millis() > 0}
        if op == "flaky":  # fails with a transient error the first `fail` times for this key
            left = failures_left.setdefault(event["key"], event["fail"])
            if left:
                failures_left[event["key"]] = left - 1
                raise RegistryUnavailable(f"registry busy, {left} to go")
            return {"checked": event["key"]}
        if op == "missing":
            raise ImageNotFound("no such image: team/absent:1")
        if op == "double":
            return event["value"] * 2
        if op == "sleep":  # reports where and when it ran
            started = time.time()
            time.sleep(event["seconds"])
            return {"pid": os.getpid(), "started": started, "ended": time.time()}
        return event
    """
)


def package(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


@pytest.fixture
def aws():
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        iam = boto3.client("iam", region_name=REGION)
        role = iam.create_role(RoleName="lambda", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        awslambda = boto3.client("lambda", region_name=REGION)
        function = awslambda.create_function(
            FunctionName="step",
            Runtime="python3.12",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": package(HANDLER)},
            Environment={"Variables": {"GREETING": "hello from step"}},
        )["FunctionArn"]
        yield {"lambda": awslambda, "function": function, "role": role}
        moto_studio.drain()  # its executions and workers end with it
    moto_studio.awslambda.reset()


def invoke(awslambda, event):
    response = awslambda.invoke(FunctionName="step", Payload=json.dumps(event))
    return response.get("FunctionError"), json.loads(response["Payload"].read())


def test_a_handler_runs_with_its_environment_and_context(aws):
    error, payload = invoke(aws["lambda"], {"op": "env"})
    assert error is None
    assert payload == {"greeting": "hello from step", "function": "step", "remaining": True}
    assert "GREETING" not in os.environ  # the function's environment does not leak into the process


def test_an_exception_is_lambdas_error_payload_named_by_its_class(aws):
    error, payload = invoke(aws["lambda"], {"op": "missing"})
    assert error is not None
    assert payload["errorType"] == "ImageNotFound"
    assert payload["errorMessage"] == "no such image: team/absent:1"
    assert payload["stackTrace"]


def test_output_goes_to_the_functions_log_group(aws):
    invoke(aws["lambda"], {"op": "double", "value": 2})
    logs = boto3.client("logs", region_name=REGION)
    streams = logs.describe_log_streams(logGroupName="/aws/lambda/step")["logStreams"]
    lines = [
        e["message"]
        for s in streams
        for e in logs.get_log_events(logGroupName="/aws/lambda/step", logStreamName=s["logStreamName"])[
            "events"
        ]
    ]
    assert "op=double in step" in lines
    assert any(line.startswith("REPORT RequestId:") for line in lines)


def definition(function_arn: str, topic_arn: str) -> str:
    retry = [
        {"ErrorEquals": ["RegistryUnavailable"], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 1}
    ]
    catch = [{"ErrorEquals": ["ImageNotFound"], "ResultPath": "$.error", "Next": "Notify"}]
    return json.dumps(
        {
            "StartAt": "Check",
            "States": {
                "Check": {
                    "Type": "Task",
                    "Resource": function_arn,
                    "ResultPath": "$.check",
                    "Retry": retry,
                    "Catch": catch,
                    "Next": "Fan",
                },
                "Fan": {
                    "Type": "Map",
                    "ItemsPath": "$.values",
                    "Parameters": {"op": "double", "value.$": "$$.Map.Item.Value"},
                    "Iterator": {
                        "StartAt": "Double",
                        "States": {"Double": {"Type": "Task", "Resource": function_arn, "End": True}},
                    },
                    "ResultPath": "$.doubled",
                    "Next": "Notify",
                },
                "Notify": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::sns:publish",
                    "Parameters": {"TopicArn": topic_arn, "Message.$": "States.JsonToString($)"},
                    "ResultPath": None,
                    "End": True,
                },
            },
        }
    )


@pytest.fixture
def machine(aws):
    sns, sqs = boto3.client("sns", region_name=REGION), boto3.client("sqs", region_name=REGION)
    topic = sns.create_topic(Name="verdicts")["TopicArn"]
    queue = sqs.create_queue(QueueName="verdicts")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
    )
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = sfn.create_state_machine(
        name="pipeline", definition=definition(aws["function"], topic), roleArn=aws["role"]
    )["stateMachineArn"]
    return {"sfn": sfn, "arn": arn, "sqs": sqs, "queue": queue}


def run(machine, event):
    sfn = machine["sfn"]
    execution = sfn.start_execution(stateMachineArn=machine["arn"], input=json.dumps(event))["executionArn"]
    deadline = time.monotonic() + 120
    while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        assert time.monotonic() < deadline, f"{execution} still running"
        time.sleep(0.05)
    history = sfn.get_execution_history(executionArn=execution)["events"]
    messages = machine["sqs"].receive_message(QueueUrl=machine["queue"], MaxNumberOfMessages=10)["Messages"]
    return described, [e["type"] for e in history], [json.loads(m["Body"]) for m in messages]


def test_retry_map_and_publish(machine):
    # Given a check that fails once with a transient error, and three values to fan out
    described, events, messages = run(machine, {"op": "flaky", "key": "a", "fail": 1, "values": [1, 2, 3]})
    # Then the execution retried, mapped, published, and succeeded
    assert described["status"] == "SUCCEEDED"
    assert (
        events.count("LambdaFunctionFailed") == 1 and events.count("LambdaFunctionSucceeded") == 4
    )  # the retried check, then 3 doubles
    assert "MapStateSucceeded" in events
    (message,) = messages
    assert message["check"] == {"checked": "a"} and message["doubled"] == [2, 4, 6]


def test_catch_by_our_error_name_routes_to_notify(machine):
    described, events, messages = run(machine, {"op": "missing", "values": []})
    assert described["status"] == "SUCCEEDED"
    assert "MapStateEntered" not in events
    (message,) = messages
    assert message["error"]["Error"] == "ImageNotFound"
    assert "no such image" in json.loads(message["error"]["Cause"])["errorMessage"]


def test_concurrent_invocations_each_see_only_their_own_environment(aws):
    # Given two functions with different values of the same variable, invoked from many threads
    aws["lambda"].create_function(
        FunctionName="other",
        Runtime="python3.12",
        Role=aws["role"],
        Handler="app.handler",
        Code={"ZipFile": package(HANDLER)},
        Environment={"Variables": {"GREETING": "hello from other"}},
    )

    def call(name):
        response = aws["lambda"].invoke(FunctionName=name, Payload=json.dumps({"op": "env"}))
        return name, json.loads(response["Payload"].read())["greeting"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(call, ["step", "other"] * 10))
    # Then every invocation read its own function's value
    assert all(greeting == f"hello from {name}" for name, greeting in results)


def log_lines(group: str) -> dict[str, list[str]]:
    logs = boto3.client("logs", region_name=REGION)
    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    return {
        s["logStreamName"]: [
            e["message"]
            for e in logs.get_log_events(logGroupName=group, logStreamName=s["logStreamName"])["events"]
        ]
        for s in streams
    }


def test_a_warm_environment_is_reused_and_only_its_first_invocation_reports_a_cold_start(aws):
    # When the function is invoked twice, one after the other
    first = invoke(aws["lambda"], {"op": "sleep", "seconds": 0})[1]
    second = invoke(aws["lambda"], {"op": "sleep", "seconds": 0})[1]
    # Then both ran in the same worker process, which wrote one log stream, whose first REPORT line
    # alone has the Init Duration of the cold start
    assert first["pid"] == second["pid"] != os.getpid()
    (lines,) = log_lines("/aws/lambda/step").values()
    reports = [line for line in lines if line.startswith("REPORT RequestId:")]
    assert len(reports) == 2
    assert "Init Duration:" in reports[0] and "Init Duration:" not in reports[1]


def test_past_its_timeout_the_worker_is_stopped_and_the_invocation_fails_as_lambda_says(aws):
    # Given a function with a 1 s timeout
    aws["lambda"].update_function_configuration(FunctionName="step", Timeout=1)
    # When an invocation runs past it
    error, payload = invoke(aws["lambda"], {"op": "sleep", "seconds": 30})
    # Then it fails with Lambda's Sandbox.Timedout, and the next invocation gets a new environment
    assert error is not None
    assert payload == {"errorType": "Sandbox.Timedout", "errorMessage": "Task timed out after 1.00 seconds"}
    after = invoke(aws["lambda"], {"op": "sleep", "seconds": 0})[1]
    assert after["pid"] != os.getpid()
    assert len(log_lines("/aws/lambda/step")) == 2


def test_invocations_overlap_up_to_the_functions_concurrency_and_no_further(aws):
    # Given a function with a reserved concurrency of 2
    aws["lambda"].put_function_concurrency(FunctionName="step", ReservedConcurrentExecutions=2)

    def call(_):
        return invoke(aws["lambda"], {"op": "sleep", "seconds": 0.5})[1]

    # When six invocations arrive at once
    with ThreadPoolExecutor(max_workers=6) as pool:
        runs = list(pool.map(call, range(6)))
    # Then they ran in two environments, two at a time: overlapping, never more than two at once
    assert len({run["pid"] for run in runs}) == 2
    moments = sorted([(run["started"], 1) for run in runs] + [(run["ended"], -1) for run in runs])
    under_way = [sum(step for _, step in moments[: i + 1]) for i in range(len(moments))]
    assert max(under_way) == 2


def test_unzipped_packages_are_removed_when_the_process_ends(tmp_path):
    """Each process that ran a function leaves no unzipped package behind (they piled up in /tmp)."""
    script = "from moto_studio import awslambda; print(awslambda._packages())"
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    packages = Path(done.stdout.strip())
    assert packages.parent == tmp_path
    assert not packages.exists()


def test_wait_states_retry_intervals_and_sagemakers_work_share_the_sandboxs_clock(aws):
    # Given the sandbox's clock at a hundredth of AWS's pace, a machine that waits 30 s and retries a
    # task after 30 s, and an image that takes 60 s to create
    moto_studio.settings.time_scale = 0.01
    moto_studio.settings.image_seconds = 60
    sfn = boto3.client("stepfunctions", region_name=REGION)
    retry = [{"ErrorEquals": ["RegistryUnavailable"], "IntervalSeconds": 30, "MaxAttempts": 1}]
    states = {
        "Pause": {"Type": "Wait", "Seconds": 30, "Next": "Check"},
        "Check": {"Type": "Task", "Resource": aws["function"], "Retry": retry, "End": True},
    }
    arn = sfn.create_state_machine(
        name="clock", definition=json.dumps({"StartAt": "Pause", "States": states}), roleArn=aws["role"]
    )["stateMachineArn"]
    # When a run waits, fails once and is retried
    execution = sfn.start_execution(
        stateMachineArn=arn, input=json.dumps({"op": "flaky", "key": "clock", "fail": 1})
    )["executionArn"]
    while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        time.sleep(0.05)
    # Then each interval lasted a hundredth of what the ASL asks (0.3 s, not 30 s), and the history
    # is the one AWS would write
    assert described["status"] == "SUCCEEDED"
    events = sfn.get_execution_history(executionArn=execution)["events"]
    at = {e["type"]: e["timestamp"] for e in events}  # (the last of each type)
    waited = (at["WaitStateExited"] - at["WaitStateEntered"]).total_seconds()
    failed = next(e["timestamp"] for e in events if e["type"] == "LambdaFunctionFailed")
    retried = (at["LambdaFunctionScheduled"] - failed).total_seconds()
    assert 0.3 <= waited < 15 and 0.3 <= retried < 15, (waited, retried)
    assert [e["type"] for e in events].count("LambdaFunctionScheduled") == 2
    # And SageMaker's image, 60 s in AWS, is created once 0.6 s have passed
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    sagemaker.create_image(ImageName="clock", RoleArn=aws["role"])
    assert sagemaker.describe_image(ImageName="clock")["ImageStatus"] == "CREATING"
    time.sleep(0.7)
    assert sagemaker.describe_image(ImageName="clock")["ImageStatus"] == "CREATED"


def test_the_clock_runs_at_aws_pace_or_faster(monkeypatch):
    monkeypatch.setenv("MOTO_STUDIO_TIME_SCALE", "0")
    with pytest.raises(ValueError, match="MOTO_STUDIO_TIME_SCALE must be above 0 and at most 1"):
        moto_studio.settings.reset()
    monkeypatch.delenv("MOTO_STUDIO_TIME_SCALE")
    moto_studio.settings.reset()
    assert moto_studio.settings.time_scale == 1
