"""The fault table: every AWS call a canary run makes, and the faults each is tried with
(tests/e2e/test_reliability.py runs them; scripts/reliability_table.py prints the README's table
from what they recorded)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from moto_studio import Fault
from moto_studio.faults import ANSWERS, CREATE_FAILED_REASON, botocore_attempts

# Each (service, action) a run with a canary makes, as the sandbox's CloudTrail records them.
CALLS = [
    ("dynamodb", "GetItem"),
    ("dynamodb", "PutItem"),
    ("dynamodb", "DeleteItem"),
    ("ecr", "BatchGetImage"),
    ("ecr", "GetDownloadUrlForLayer"),
    ("logs", "GetLogEvents"),
    ("s3", "GetObject"),
    ("s3", "PutObject"),
    ("sagemaker", "CreateApp"),
    ("sagemaker", "CreateAppImageConfig"),
    ("sagemaker", "CreateImage"),
    ("sagemaker", "CreateImageVersion"),
    ("sagemaker", "DeleteApp"),
    ("sagemaker", "DescribeApp"),
    ("sagemaker", "DescribeDomain"),
    ("sagemaker", "DescribeImage"),
    ("sagemaker", "DescribeImageVersion"),
    ("sagemaker", "DescribeSpace"),
    ("sagemaker", "DescribeUserProfile"),
    ("sagemaker", "UpdateDomain"),
    ("sagemaker", "UpdateSpace"),
    ("sagemaker", "UpdateUserProfile"),
    ("sns", "Publish"),
    ("ssm", "GetParameter"),
]


@dataclass(frozen=True)
class Case:
    name: str
    fault: Fault

    def cause(self) -> str:
        """What a notification of a run this fault failed must quote."""
        kind = self.fault.kind
        if kind in ANSWERS:
            return self.fault.answer().code
        if kind == "create_failed":
            return CREATE_FAILED_REASON
        return "Runtime exited with error: signal: killed" if kind == "killed" else "Task timed out"

    def describe(self) -> str:
        return f"{self.fault.kind} x{self.fault.times}"


def cases() -> list[Case]:
    found = []
    for service, action in CALLS:
        # A server error on every try botocore makes: the Lambda invocation fails, the state retries.
        attempts = botocore_attempts(service)
        found.append(Case(f"{action}-5xx", Fault(service, action, "internal_failure", times=attempts)))
        if service == "sagemaker":  # not retried by botocore (a 400): our code decides
            found.append(Case(f"{action}-in-use", Fault(service, action, "resource_in_use")))
    found += [
        Case("Publish-first-try", Fault("sns", "Publish", "throttling", times=1)),
        Case("PutObject-unavailable", Fault("s3", "PutObject", "unavailable", times=5)),
        Case("CreateImageVersion-failed", Fault("sagemaker", "CreateImageVersion", "create_failed")),
    ]
    for function in ("Resolve", "ScanLayer", "Evaluate", "Register", "Attach", "StartCanary", "Notify"):
        found.append(
            Case(f"{function}-killed", Fault("lambda", "Invoke", "killed", function=f"{function}Function"))
        )
    for function in ("ScanLayer", "Attach", "StopCanary"):
        found.append(
            Case(f"{function}-timeout", Fault("lambda", "Invoke", "timeout", function=f"{function}Function"))
        )
    return found


def record(path: str, case: Case, outcome: str) -> None:
    """Append the case's outcome to `path` (JSON lines) for scripts/reliability_table.py."""
    f = case.fault
    entry = {"service": f.service, "action": f"{f.action} {f.function}".strip(), "fault": case.describe()}
    with open(path, "a") as out:
        out.write(json.dumps({**entry, "outcome": outcome}) + "\n")
