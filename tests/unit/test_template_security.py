"""The IAM the template deploys, as `sam deploy` generates it (samtranslator, with SAM's policy
templates and managed policies expanded; tests/e2e/iam.py translates it the same way): no
statement allows every action, none allows a mutating SageMaker, ECR, IAM or SNS action on every
resource, and iam:PassRole is only granted on condition of the service it is passed to."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from studio_image_sandbox.stack import ROOT
from tests.e2e.iam import MANAGED_ARNS, MANAGED_POLICIES, _translated

PARAMETERS = (
    ("DomainId", "d-abc123"),
    ("ImageRoleArn", "arn:aws:iam::123456789012:role/studio-images"),
)
GUARDED = ("sagemaker", "ecr", "iam", "sns")
# Actions that only read, by the Service Authorization Reference's access levels (List, Read):
# the names of those actions start with these words in the four services.
READ_ONLY = re.compile(r"^(Describe|List|Get|BatchGet|BatchCheck|Search|Query)")


def listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def roles(translated: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Every IAM role of the stack with its statements (inline policies and managed policies)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for logical, resource in translated["Resources"].items():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        properties = resource["Properties"]
        statements = [
            s for p in properties.get("Policies", []) for s in listed(p["PolicyDocument"]["Statement"])
        ]
        for arn in properties.get("ManagedPolicyArns", []):
            name = next(k for k, v in MANAGED_ARNS.items() if v == arn)
            statements += MANAGED_POLICIES[name]
        found[logical] = statements
    return found


def problems(statements: list[dict[str, Any]]) -> list[str]:
    found = []
    for statement in statements:
        if statement.get("Effect") != "Allow":
            continue
        actions = [str(a) for a in listed(statement.get("Action", []))]
        resources = listed(statement.get("Resource", []))
        if any(a == "*" or a.endswith(":*") for a in actions):
            found.append(f"every action allowed: {actions}")
        if "*" in resources:
            mutating = [
                a
                for a in actions
                if a.partition(":")[0] in GUARDED and not READ_ONLY.match(a.partition(":")[2])
            ]
            if mutating:
                found.append(f"{mutating} allowed on every resource")
        if any(a.lower().startswith("iam:pass") or a.lower() == "iam:*" for a in actions):
            conditions = statement.get("Condition", {})
            keys = {key.lower() for operator in conditions.values() for key in operator}
            if "iam:passedtoservice" not in keys:
                found.append(f"iam:PassRole without a condition on iam:PassedToService: {statement}")
    return found


@pytest.fixture(scope="module")
def translated() -> dict[str, Any]:
    return _translated(PARAMETERS, "us-east-1")


def test_every_function_and_the_state_machine_has_a_role_generated_from_the_template(translated):
    resources = translated["Resources"]
    functions = [k for k, v in resources.items() if v["Type"] == "AWS::Lambda::Function"]
    assert len(functions) >= 15
    for logical in [
        *functions,
        *(k for k, v in resources.items() if v["Type"] == "AWS::StepFunctions::StateMachine"),
    ]:
        role = resources[logical]["Properties"]["RoleArn" if "StateMachine" in logical else "Role"]
        assert role["Fn::GetAtt"][0] in roles(translated), logical


def test_no_role_allows_every_action_or_a_mutation_of_every_resource_or_an_unconditioned_pass_role(
    translated,
):
    found = {logical: problems(statements) for logical, statements in roles(translated).items()}
    assert {logical: p for logical, p in found.items() if p} == {}


def test_the_image_role_is_passed_only_to_sagemaker(translated):
    passes = [
        (logical, s)
        for logical, statements in roles(translated).items()
        for s in statements
        if "iam:PassRole" in listed(s.get("Action", []))
    ]
    assert passes, "no role passes the image role: the template changed, review this test"
    for logical, statement in passes:
        assert statement["Condition"] == {
            "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
        }, logical


@pytest.mark.parametrize(
    ("statement", "problem"),
    [
        ({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b"}, "every action"),
        ({"Effect": "Allow", "Action": ["sagemaker:*"], "Resource": "arn:aws:sagemaker:::x"}, "every action"),
        ({"Effect": "Allow", "Action": ["sagemaker:UpdateDomain"], "Resource": "*"}, "every resource"),
        ({"Effect": "Allow", "Action": "sns:Publish", "Resource": ["*"]}, "every resource"),
        ({"Effect": "Allow", "Action": "ecr:PutImage", "Resource": "*"}, "every resource"),
        (
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::1:role/r"},
            "PassedToService",
        ),
    ],
)
def test_the_review_names_each_kind_of_overreach(statement, problem):
    (found,) = problems([statement])
    assert problem in found
    assert problems([{**statement, "Effect": "Deny"}]) == []


def test_the_review_lets_reads_on_every_resource_through():
    assert (
        problems(
            [{"Effect": "Allow", "Action": ["ecr:DescribeImages", "logs:PutLogEvents"], "Resource": "*"}]
        )
        == []
    )


def test_the_app_start_subscription_is_one_a_deployment_can_leave_out(translated):
    # Given the template as SAM generates it: /aws/sagemaker/studio takes at most two subscription
    # filters in the account (PutSubscriptionFilter)
    resources = translated["Resources"]
    filters = [k for k, v in resources.items() if v["Type"] == "AWS::Logs::SubscriptionFilter"]
    # Then its one filter, and the function, role and permission behind it, are under WatchAppStarts
    assert len(filters) == 1
    behind = [k for k in resources if k.startswith("AppStartWatchFunction")]
    assert set(filters) < set(behind) and len(behind) >= 4
    assert {resources[k].get("Condition") for k in behind} == {"WatchesAppStarts"}
    assert translated["Parameters"]["WatchAppStarts"]["Default"] == "true"


def test_functions_a_burst_of_pushes_fans_out_have_reserved_concurrency(translated):
    # Given the functions as SAM generates them, and the ASL's Map of layer scans
    resources = translated["Resources"]
    reserved = {
        logical: resource["Properties"].get("ReservedConcurrentExecutions")
        for logical, resource in resources.items()
        if resource["Type"] == "AWS::Lambda::Function"
    }
    asl = json.loads((ROOT / "statemachine" / "pipeline.asl.json").read_text())
    width = asl["States"]["ScanLayers"]["MaxConcurrency"]
    # Then the scans, Evaluate and the log deliveries are capped, one run's Map fits the scans' cap,
    # and the default account quota (1,000) keeps the 100 unreserved Lambda requires
    assert reserved["ScanLayerFunction"] >= width
    assert reserved["EvaluateFunction"] and reserved["AppStartWatchFunction"]
    assert sum(v for v in reserved.values() if v) <= 1000 - 100
