"""The deployed artefacts themselves: the ASL file the template deploys, and the template's IAM."""

from __future__ import annotations

import inspect
import json
import re

import pytest

from studio_image import errors
from studio_image_sandbox.stack import ROOT, load_template

ASL = json.loads((ROOT / "statemachine" / "pipeline.asl.json").read_text())
TEMPLATE = load_template()
OUR_ERRORS = {name for name, cls in inspect.getmembers(errors, inspect.isclass) if issubclass(cls, Exception)}
LAMBDA_ERRORS = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
}


def states(machine=ASL):
    """Every state, nested Map processors included, with the states it may go to."""
    for name, state in machine["States"].items():
        yield name, state, machine["States"]
        if "ItemProcessor" in state:
            yield from states(state["ItemProcessor"])


def test_every_transition_names_a_state_that_exists():
    for name, state, siblings in states():
        targets = [state.get("Next"), state.get("Default")]
        targets += [c["Next"] for c in state.get("Choices", [])]
        targets += [c["Next"] for c in state.get("Catch", [])]
        for target in filter(None, targets):
            assert target in siblings, f"{name} goes to {target}, which does not exist"


def test_every_error_name_is_a_states_or_lambda_error_or_one_of_our_exceptions():
    for name, state, _ in states():
        for clause in state.get("Retry", []) + state.get("Catch", []):
            for error in clause["ErrorEquals"]:
                known = error in OUR_ERRORS or error in LAMBDA_ERRORS or error == "States.ALL"
                assert known, f"{name} names {error}, which nothing raises"


def test_every_task_retries_lambda_service_errors_and_every_path_reaches_notify():
    for name, state, _ in states():
        if state["Type"] != "Task":
            continue
        retried = {e for clause in state.get("Retry", []) for e in clause["ErrorEquals"]}
        assert retried >= LAMBDA_ERRORS, name
        assert {"AwsUnavailable", "RegistryUnavailable"} <= retried, name
        in_map = name == "ScanLayer"  # the Map state catches for its iterations
        # A failed look at the canary still stops (deletes) the app, and StopCanary goes to Notify.
        caught_to = "StopCanary" if name == "WatchCanary" else "Notify"
        if name != "Notify" and not in_map:
            assert state["Catch"] == [
                {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": caught_to}
            ], name
    assert ASL["States"]["ScanLayers"]["Catch"][0]["Next"] == "Notify"


@pytest.mark.parametrize("name", ["Attach", "StopCanary"])  # StopCanary may roll the attach back
def test_the_states_that_change_custom_images_retry_a_busy_domain_and_a_held_lock(name):
    retried = {e for clause in ASL["States"][name]["Retry"] for e in clause["ErrorEquals"]}
    assert {"DomainBusy", "AttachLockHeld"} <= retried


def test_every_substitution_in_the_asl_is_defined_by_the_template():
    text = (ROOT / "statemachine" / "pipeline.asl.json").read_text()
    machine = TEMPLATE["Resources"]["PipelineStateMachine"]["Properties"]
    assert set(re.findall(r"\$\{(\w+)\}", text)) == set(machine["DefinitionSubstitutions"])


def statements():
    for logical, resource in TEMPLATE["Resources"].items():
        for policy in resource.get("Properties", {}).get("Policies", []):
            for statement in policy.get("Statement", []):
                yield logical, statement


def test_no_function_policy_grants_a_wildcard_action_or_resource():
    found = list(statements())
    assert len(found) >= 15
    for logical, statement in found:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all("*" not in a for a in actions), (logical, actions)
        # Amazon Inspector's ListFindings supports no resource-level permissions (the Service
        # Authorization Reference lists none); ECR's enhanced scan findings need it.
        assert statement["Resource"] != "*" or actions == ["inspector2:ListFindings"], logical


@pytest.mark.parametrize(
    ("function", "action", "scope"),
    [
        ("RegisterFunction", "sagemaker:CreateImage", ":image/${ImageNamePrefix}*"),
        ("AttachFunction", "sagemaker:UpdateDomain", ":domain/${DomainId}"),
        ("ResolveFunction", "ecr:BatchGetImage", ":repository/${RepositoryPrefix}*"),
        ("WatchVulnerabilityScanFunction", "ecr:StartImageScan", ":repository/${RepositoryPrefix}*"),
        ("EvaluateFunction", "ecr:DescribeImageScanFindings", ":repository/${RepositoryPrefix}*"),
    ],
)
def test_mutations_are_scoped_to_the_managed_names(function, action, scope):
    for logical, statement in statements():
        if logical == function and action in statement["Action"]:
            assert statement["Resource"]["Fn::Sub"].endswith(scope)
            return
    raise AssertionError(f"{function} has no statement for {action}")


def test_pass_role_is_only_the_image_role_and_only_to_sagemaker():
    passes = [(logical, s) for logical, s in statements() if s["Action"] == "iam:PassRole"]
    assert [logical for logical, _ in passes] == ["RegisterFunction"]
    statement = passes[0][1]
    assert statement["Resource"] == {"Ref": "ImageRoleArn"}
    assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
