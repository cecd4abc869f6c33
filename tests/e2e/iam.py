"""IAM at the call level: every AWS call a Lambda function makes in an e2e run, checked against the
role SAM generates for that function from `template.yaml`.

`template.yaml` goes through the SAM translator (as `sam deploy` would, with the code locations
packaged to S3), each function's generated role is resolved with the deployed stack's values, and
each recorded call becomes the actions and resource ARNs IAM authorizes it on. Resource ARNs use
the formats of the Service Authorization Reference (docs.aws.amazon.com/service-authorization/
latest/reference/): list_amazonsagemaker.html, list_amazonelasticcontainerregistry.html,
list_amazondynamodb.html, list_amazons3.html, list_awssystemsmanager.html, list_amazonsns.html,
list_amazoncloudwatchlogs.html. A call this module does not know is an error: look its resource
type up before adding it.
"""

from __future__ import annotations

import copy
import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import boto3
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

from moto_studio.settings import CLOUDTRAIL
from studio_image_sandbox.stack import ACCOUNT, PARTITION, Stack, _Resolver, load_template

# The AWS managed policies SAM attaches to function roles, as AWS publishes them.
MANAGED_POLICIES: dict[str, list[dict[str, Any]]] = {
    "AWSLambdaBasicExecutionRole": [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "*",
        }
    ],
    "AWSXrayWriteOnlyAccess": [
        {
            "Effect": "Allow",
            "Action": [
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
                "xray:GetSamplingRules",
                "xray:GetSamplingTargets",
                "xray:GetSamplingStatisticSummaries",
            ],
            "Resource": "*",
        }
    ],
}
MANAGED_ARNS = {
    "AWSLambdaBasicExecutionRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "AWSXrayWriteOnlyAccess": "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
}


@dataclass(frozen=True)
class Call:
    function: str  # the Lambda function's name
    service: str
    operation: str
    params: dict[str, Any]
    region: str


@dataclass(frozen=True)
class Need:
    """One authorization a call needs: an action on a resource, with the request's context keys."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()


@contextmanager
def recording() -> Iterator[list[Call]]:
    """Record every botocore call a Lambda handler makes in the block, by function: the execution
    environments started meanwhile write them to the sandbox's CloudTrail file, read at the end."""
    calls: list[Call] = []
    with tempfile.TemporaryDirectory(prefix="cloudtrail-") as directory:
        trail = Path(directory) / "calls.jsonl"
        trail.touch()
        saved = os.environ.get(CLOUDTRAIL)
        os.environ[CLOUDTRAIL] = str(trail)
        try:
            yield calls
        finally:
            if saved is None:
                del os.environ[CLOUDTRAIL]
            else:
                os.environ[CLOUDTRAIL] = saved
            calls.extend(Call(**json.loads(line)) for line in trail.read_text().splitlines())


# What each call is authorized on -------------------------------------------------------------------

SAGEMAKER_IMAGE = {"DescribeImage", "CreateImage", "ListImageVersions", "CreateImageVersion"}
SAGEMAKER_IMAGE_VERSION = {"DescribeImageVersion", "DeleteImageVersion"}
SAGEMAKER_APP_IMAGE_CONFIG = {
    "CreateAppImageConfig",
    "UpdateAppImageConfig",
    "DescribeAppImageConfig",
    "DeleteAppImageConfig",
}
SAGEMAKER_APP = {"CreateApp", "DescribeApp", "DeleteApp"}
# Creating what Studio uses needs sagemaker:AddTags on it: SageMaker tags the resources created for
# Studio (SageMaker Developer Guide, "Custom tag propagation" and "Provide permissions for tagging
# SageMaker AI resources"), so images, AppImageConfigs and apps are checked for it.
SAGEMAKER_TAGGED_ON_CREATE = {"CreateImage", "CreateAppImageConfig", "CreateApp"}
S3_ACTIONS = {"GetObject": "s3:GetObject", "HeadObject": "s3:GetObject", "PutObject": "s3:PutObject"}


def needs(call: Call) -> list[Need]:
    """The actions and resources IAM authorizes `call` on."""
    p, region = call.params, call.region
    action = f"{call.service}:{call.operation}"
    if call.service == "sagemaker":
        arn = f"arn:{PARTITION}:sagemaker:{region}:{ACCOUNT}:"
        if call.operation in SAGEMAKER_IMAGE:
            resource = f"{arn}image/{p['ImageName']}"
        elif call.operation in SAGEMAKER_IMAGE_VERSION:
            resource = f"{arn}image-version/{p['ImageName']}/{p['Version']}"
        elif call.operation in SAGEMAKER_APP_IMAGE_CONFIG:
            resource = f"{arn}app-image-config/{p['AppImageConfigName']}"
        elif call.operation in {"DescribeDomain", "UpdateDomain"}:
            resource = f"{arn}domain/{p['DomainId']}"
        elif call.operation in {"DescribeUserProfile", "UpdateUserProfile"}:
            resource = f"{arn}user-profile/{p['DomainId']}/{p['UserProfileName']}"
        elif call.operation in {"DescribeSpace", "UpdateSpace"}:
            resource = f"{arn}space/{p['DomainId']}/{p['SpaceName']}"
        elif call.operation in SAGEMAKER_APP:
            owner = p.get("UserProfileName") or p["SpaceName"]
            resource = f"{arn}app/{p['DomainId']}/{owner}/{p['AppType'].lower()}/{p['AppName']}"
        else:
            raise KeyError(f"no resource type known for {action}")
        found = [Need(action, resource)]
        if call.operation in SAGEMAKER_TAGGED_ON_CREATE:
            found.append(Need("sagemaker:AddTags", resource))
        if call.operation == "CreateImage":
            passed_to = (("iam:PassedToService", "sagemaker.amazonaws.com"),)
            found.append(Need("iam:PassRole", p["RoleArn"], passed_to))
        return found
    if call.service == "ecr":
        # The authorization reference gives these no resource type: they are granted on "*".
        if call.operation in {"GetAuthorizationToken", "GetRegistryScanningConfiguration"}:
            return [Need(action, "*")]
        # The authorization reference gives each of these the `repository` resource type.
        if call.operation in {
            "BatchGetImage",
            "GetDownloadUrlForLayer",
            "DescribeImages",
            "DescribeImageScanFindings",
            "StartImageScan",
        }:
            registry = p.get("registryId") or ACCOUNT
            return [Need(action, f"arn:{PARTITION}:ecr:{region}:{registry}:repository/{p['repositoryName']}")]
    if call.service == "dynamodb" and call.operation in {"GetItem", "PutItem", "DeleteItem", "UpdateItem"}:
        return [Need(action, f"arn:{PARTITION}:dynamodb:{region}:{ACCOUNT}:table/{p['TableName']}")]
    if call.service == "s3" and call.operation in S3_ACTIONS:
        return [Need(S3_ACTIONS[call.operation], f"arn:{PARTITION}:s3:::{p['Bucket']}/{p['Key']}")]
    if call.service == "ssm" and call.operation == "GetParameter":
        name = p["Name"] if p["Name"].startswith("/") else f"/{p['Name']}"
        return [Need(action, f"arn:{PARTITION}:ssm:{region}:{ACCOUNT}:parameter{name}")]
    if call.service == "sns" and call.operation == "Publish":
        return [Need(action, p["TopicArn"])]
    if call.service == "logs" and call.operation == "GetLogEvents":
        group = f"arn:{PARTITION}:logs:{region}:{ACCOUNT}:log-group:{p['logGroupName']}"
        return [Need(action, f"{group}:log-stream:{p['logStreamName']}")]
    raise KeyError(f"no resource type known for {action}")


# The roles SAM generates ------------------------------------------------------------------------------


@cache
def _translated(parameters: tuple[tuple[str, str], ...], region: str) -> dict[str, Any]:
    template = load_template()
    for logical, resource in template["Resources"].items():
        for key in ("CodeUri", "DefinitionUri", "ContentUri"):  # what `sam package` rewrites
            if key in resource.get("Properties", {}):
                resource["Properties"][key] = f"s3://packaged/{logical}"
    # What samtranslator's transform() does, with the stack's region and the managed policies above
    # (instead of IAM's ListPolicies).
    translator = Translator(None, Parser(), boto_session=boto3.Session(region_name=region))
    values = {**dict(parameters), "AWS::AccountId": ACCOUNT}
    return translator.translate(
        template, parameter_values=values, get_managed_policy_map=lambda: MANAGED_ARNS
    )


def function_roles(stack: Stack) -> dict[str, list[dict[str, Any]]]:
    """Each function's name (as deployed) and the Allow/Deny statements of its generated role."""
    translated = copy.deepcopy(_translated(tuple(sorted(stack.parameters.items())), stack.region))
    resources = translated["Resources"]
    resolve = _Resolver(translated, stack)
    roles: dict[str, list[dict[str, Any]]] = {}
    for logical, name in stack.functions.items():
        role_logical = resources[logical]["Properties"]["Role"]["Fn::GetAtt"][0]
        role = resources[role_logical]["Properties"]
        statements = [
            s for policy in role.get("Policies", []) for s in resolve(policy["PolicyDocument"])["Statement"]
        ]
        for arn in resolve(role.get("ManagedPolicyArns", [])):
            policy = next(k for k, v in MANAGED_ARNS.items() if v == arn)
            statements += MANAGED_POLICIES[policy]
        roles[name] = statements
    return roles


def _matches(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM's wildcards: `*` any run of characters, `?` any one character."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE if ignore_case else 0) is not None


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _applies(statement: dict[str, Any], need: Need) -> bool:
    unsupported = {"NotAction", "NotResource", "NotPrincipal"} & set(statement)
    if unsupported:
        raise ValueError(f"the checker does not evaluate {sorted(unsupported)}: {statement}")
    if not any(_matches(a, need.action, ignore_case=True) for a in _listed(statement["Action"])):
        return False
    if not any(_matches(r, need.resource) for r in _listed(statement["Resource"])):
        return False
    context = dict(need.context)
    for operator, tests in statement.get("Condition", {}).items():
        if operator != "StringEquals":
            raise ValueError(f"the checker does not evaluate condition {operator}: {statement}")
        for key, allowed in tests.items():
            if context.get(key) not in _listed(allowed):
                return False
    return True


def allowed(statements: list[dict[str, Any]], need: Need) -> bool:
    """An explicit Allow and no explicit Deny."""
    applying = [s for s in statements if _applies(s, need)]
    return any(s["Effect"] == "Allow" for s in applying) and not any(s["Effect"] == "Deny" for s in applying)


def denied(calls: list[Call], stack: Stack) -> list[str]:
    """Each distinct authorization a recorded call needed that its function's role lacks."""
    roles = function_roles(stack)
    logical = {name: logical for logical, name in stack.functions.items()}
    found: dict[str, None] = {}
    for call in calls:
        for need in needs(call):
            if not allowed(roles[call.function], need):
                found[f"{logical[call.function]}: {need.action} on {need.resource}"] = None
    return list(found)
