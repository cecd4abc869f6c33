"""The fault table in milliseconds. The whole runs of tests/e2e/test_reliability.py (`make test-all`)
show, per AWS call a run makes, that a failing call is retried or notified and a rerun completes.
Two tables here say the same of every call, without moto or a run:

- each adapter turns each AWS error a call can answer into our error (botocore's Stubber answers
  the call as the service would, in its protocol);
- each Task state retries the transient errors that the calls its function's role allows can
  raise (the real ASL file and the roles SAM generates from template.yaml), and catches the rest.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore import xform_name
from botocore.stub import Stubber

from studio_image import errors
from studio_image.aws.ecr import Ecr
from studio_image.aws.logs import Logs
from studio_image.aws.sagemaker import SageMaker
from studio_image.aws.storage import Bucket, Table, Topic, read_parameter
from studio_image_sandbox.stack import ROOT
from tests.e2e.faultcases import CALLS
from tests.e2e.iam import _translated
from tests.unit.test_template_security import PARAMETERS, listed, roles

ASL = json.loads((ROOT / "statemachine" / "pipeline.asl.json").read_text())
DIGEST = "sha256:" + "a" * 64
SPEC = {"InstanceType": "system"}
MANIFEST = "application/vnd.oci.image.manifest.v1+json"

# (service, action) -> the adapter call that makes it. Every call the fault table fails.
ADAPTER_CALLS: dict[tuple[str, str], Callable[[Any], object]] = {
    ("dynamodb", "GetItem"): lambda c: Table("t", c).get("k"),
    ("dynamodb", "PutItem"): lambda c: Table("t", c).put({"pk": {"S": "k"}}),
    ("dynamodb", "DeleteItem"): lambda c: Table("t", c).delete("k"),
    ("ecr", "BatchGetImage"): lambda c: Ecr(c).get_manifest(
        "team/r", None, {"imageDigest": DIGEST}, [MANIFEST]
    ),
    ("ecr", "GetDownloadUrlForLayer"): lambda c: Ecr(c).layer_url("team/r", None, DIGEST),
    ("logs", "GetLogEvents"): lambda c: Logs(c).read_on("g", "s", None),
    ("s3", "GetObject"): lambda c: Bucket("b", c).get("k"),
    ("s3", "PutObject"): lambda c: Bucket("b", c).put("k", b"{}", "application/json"),
    ("sagemaker", "CreateApp"): lambda c: SageMaker(c).create_app(
        "d-1", "Space", "s", "JupyterLab", "a", SPEC
    ),
    ("sagemaker", "CreateAppImageConfig"): lambda c: SageMaker(c).put_app_image_config(
        {"AppImageConfigName": "x-v1"}
    ),
    ("sagemaker", "CreateImage"): lambda c: SageMaker(c).create_image("x", "arn:aws:iam::1:role/r", "x", "x"),
    ("sagemaker", "CreateImageVersion"): lambda c: SageMaker(c).create_image_version("x", "uri", "token"),
    ("sagemaker", "DeleteApp"): lambda c: SageMaker(c).delete_app("d-1", "Space", "s", "JupyterLab", "a"),
    ("sagemaker", "DescribeApp"): lambda c: SageMaker(c).describe_app("d-1", "Space", "s", "JupyterLab", "a"),
    ("sagemaker", "DescribeDomain"): lambda c: SageMaker(c).describe_domain("d-1"),
    ("sagemaker", "DescribeImage"): lambda c: SageMaker(c).describe_image("x"),
    ("sagemaker", "DescribeImageVersion"): lambda c: SageMaker(c).describe_image_version("x", 1),
    ("sagemaker", "DescribeSpace"): lambda c: SageMaker(c).describe_member("Space", "d-1", "s"),
    ("sagemaker", "DescribeUserProfile"): lambda c: SageMaker(c).describe_member("UserProfile", "d-1", "u"),
    ("sagemaker", "UpdateDomain"): lambda c: SageMaker(c).update_domain("d-1"),
    ("sagemaker", "UpdateSpace"): lambda c: SageMaker(c).update_member("Space", "d-1", "s", {}),
    ("sagemaker", "UpdateUserProfile"): lambda c: SageMaker(c).update_member("UserProfile", "d-1", "u", {}),
    ("sns", "Publish"): lambda c: Topic("arn:aws:sns:us-east-1:1:t", c).publish("s", "{}", {}),
    ("ssm", "GetParameter"): lambda c: read_parameter("p", c),
}

# What SageMaker's ResourceInUse (a 400 botocore does not retry) means for each call: the resource
# is changing (retried), or it exists already (a concurrent run made it: the call is done, or
# CreateAppImageConfig goes on to update it), or nothing we can wait for.
RESOURCE_IN_USE = {
    "CreateApp": "AlreadyExists",
    "CreateAppImageConfig": "done",
    "CreateImage": "done",
    "CreateImageVersion": "ImageBusy",
    "DeleteApp": "AppBusy",
    "UpdateDomain": "DomainBusy",
    "UpdateSpace": "DomainBusy",
    "UpdateUserProfile": "DomainBusy",
}

# The answers the sandbox's faults give (moto_studio.faults.ANSWERS), a service's own name for a
# server error, and a refusal no retry helps.
TRANSIENT_ANSWERS = {
    "": [("InternalFailure", 500), ("ServiceUnavailable", 503), ("ThrottlingException", 400)],
    "ecr": [("ServerException", 500)],
    "dynamodb": [("InternalServerError", 500), ("ProvisionedThroughputExceededException", 400)],
}
REFUSED = ("AccessDeniedException", 400)


def outcome(service: str, action: str, code: str, status: int) -> str:
    """What the adapter call does when the service answers `code`: the name of the error it raises,
    or "done" when it returns."""
    client = boto3.client(service, region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
    with Stubber(client) as stubber:
        stubber.add_client_error(xform_name(action), code, "answered by the test", status)
        if action == "CreateAppImageConfig":  # (it exists: then it is updated)
            stubber.add_response("update_app_image_config", {"AppImageConfigArn": "arn"})
        try:
            ADAPTER_CALLS[(service, action)](client)
        except errors.StudioImageError as error:
            return type(error).__name__
    return "done"


def test_the_table_covers_every_call_the_fault_table_fails():
    assert set(ADAPTER_CALLS) == set(CALLS)


def transient(name: str) -> bool:
    return issubclass(getattr(errors, name, Exception), errors.TransientError)


@functools.cache
def transient_outcomes(service: str, action: str) -> frozenset[str]:
    """The errors the call raises when the service fails it for a while (a server error, throttling)."""
    answers = TRANSIENT_ANSWERS[""] + TRANSIENT_ANSWERS.get(service, [])
    return frozenset(outcome(service, action, code, status) for code, status in answers)


@pytest.mark.parametrize(
    ("service", "action"), sorted(ADAPTER_CALLS), ids=[f"{s}-{a}" for s, a in sorted(ADAPTER_CALLS)]
)
def test_a_server_error_or_throttling_is_transient_and_a_refusal_is_not(service, action):
    assert all(map(transient, transient_outcomes(service, action))), transient_outcomes(service, action)
    refused = outcome(service, action, *REFUSED)
    assert refused != "done" and not transient(refused)


@pytest.mark.parametrize("action", sorted(RESOURCE_IN_USE))
def test_sagemakers_resource_in_use_means_busy_or_already_there(action):
    assert outcome("sagemaker", action, "ResourceInUse", 400) == RESOURCE_IN_USE[action]


def task_states(machine: dict[str, Any] = ASL):
    for name, state in machine["States"].items():
        if state["Type"] == "Task":
            yield name, state
        if "ItemProcessor" in state:
            yield from task_states(state["ItemProcessor"])


def allowed_actions() -> dict[str, set[tuple[str, str]]]:
    """Each function's logical ID, and the (service, Action) pairs of ADAPTER_CALLS its role allows."""
    translated = _translated(PARAMETERS, "us-east-1")
    statements = roles(translated)
    found: dict[str, set[tuple[str, str]]] = {}
    for logical, resource in translated["Resources"].items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        role = resource["Properties"]["Role"]["Fn::GetAtt"][0]
        actions = {a for s in statements[role] if s["Effect"] == "Allow" for a in listed(s["Action"])}
        found[logical] = {pair for pair in ADAPTER_CALLS if f"{pair[0]}:{pair[1]}" in actions}
    return found


def test_every_state_retries_the_transient_errors_its_functions_calls_raise_and_catches_the_rest():
    functions = allowed_actions()
    unretried = []
    for name, state in task_states():
        function = state["Resource"].removeprefix("${").removesuffix("Arn}")
        retried = {e for clause in state.get("Retry", []) for e in clause["ErrorEquals"]}
        for service, action in sorted(functions[function]):
            raised = set(transient_outcomes(service, action))
            if service == "sagemaker" and action in RESOURCE_IN_USE:
                raised.add(RESOURCE_IN_USE[action])
            unretried += [f"{name} ({action}): {e}" for e in sorted(filter(transient, raised - retried))]
    assert not unretried, "transient errors a state does not retry:\n" + "\n".join(unretried)
    # (every Task's Catch, or its Map's, takes the rest to Notify: test_statemachine_and_template.py)
