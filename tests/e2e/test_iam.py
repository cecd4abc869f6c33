"""The IAM call-level check itself: it reports what a role does not allow, and refuses to guess."""

from __future__ import annotations

import re

import botocore.session
import pytest

from studio_image_sandbox.stack import load_template

from .iam import Call, denied

REGION = "us-east-1"


def _call(pipeline, function: str, operation: str, **params) -> Call:
    return Call(pipeline.stack.functions[function], "sagemaker", operation, params, REGION)


def test_a_call_outside_the_functions_role_is_reported_and_one_inside_is_not(pipeline):
    # Given the deployed stack and a version delete, made once by Prune and once by Resolve
    delete = {"ImageName": "studio-team", "Version": 3}
    by_prune = _call(pipeline, "PruneFunction", "DeleteImageVersion", **delete)
    by_resolve = _call(pipeline, "ResolveFunction", "DeleteImageVersion", **delete)
    # When both are checked against the roles SAM generates
    found = denied([by_prune, by_resolve], pipeline.stack)
    # Then only Resolve's is reported, on the version's own resource
    assert found == [
        f"ResolveFunction: sagemaker:DeleteImageVersion on "
        f"arn:aws:sagemaker:{REGION}:123456789012:image-version/studio-team/3"
    ]


def test_an_image_outside_the_name_prefix_is_not_allowed(pipeline):
    # Given a create for an image whose name does not start with ImageNamePrefix
    call = _call(pipeline, "RegisterFunction", "CreateImage", ImageName="other-team", RoleArn="arn:x")
    # When it is checked
    found = denied([call], pipeline.stack)
    # Then the create, its tagging and the role it passes are all refused
    assert [line.split(" on ")[0] for line in found] == [
        "RegisterFunction: sagemaker:CreateImage",
        "RegisterFunction: sagemaker:AddTags",
        "RegisterFunction: iam:PassRole",
    ]


def test_a_call_without_a_known_resource_type_is_an_error(pipeline):
    # Given a call the checker has no resource format for
    call = _call(pipeline, "RegisterFunction", "DeleteDomain", DomainId="d-1")
    # When it is checked, then it is refused rather than guessed
    with pytest.raises(KeyError, match="DeleteDomain"):
        denied([call], pipeline.stack)


def test_image_name_prefixes_the_template_accepts_make_valid_app_image_config_names():
    # Given the template's ImageNamePrefix pattern and botocore's AppImageConfigName pattern
    allowed = re.compile(load_template()["Parameters"]["ImageNamePrefix"]["AllowedPattern"])
    shape = botocore.session.get_session().get_service_model("sagemaker").shape_for("AppImageConfigName")
    config_name = re.compile(shape.metadata["pattern"])
    # When prefixes are tried, then a dotted one is refused and the accepted ones stay valid names
    assert not allowed.fullmatch("team.a-")
    for prefix in ("studio-", "team-a-", "x"):
        assert allowed.fullmatch(prefix)
        assert config_name.fullmatch(f"{prefix}image-1")
