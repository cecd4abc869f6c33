"""moto_studio.validation's walk of botocore's output shapes: each kind of problem it must find, with
its path, and none in a response AWS could send."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from moto_studio.validation import MapKey, response_problems

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
IMAGE = "arn:aws:sagemaker:us-east-1:123456789012:image/studio"


def version(**changes: Any) -> dict[str, Any]:
    """An ImageVersion, as ListImageVersions pages them, that AWS could send, with `changes`
    (None: the member removed)."""
    valid = {
        "CreationTime": NOW,
        "ImageArn": IMAGE,
        "ImageVersionArn": "arn:aws:sagemaker:us-east-1:123456789012:image-version/studio/1",
        "ImageVersionStatus": "CREATED",
        "LastModifiedTime": NOW,
        "Version": 1,
    }
    valid.update(changes)
    return {key: value for key, value in valid.items() if value is not None}


def found(operation: str, result: Any, **kwargs: Any) -> list[tuple[tuple[str | int, ...], str]]:
    return [(p.path, p.kind) for p in response_problems("sagemaker", operation, result, **kwargs)]


def page(*versions: Any) -> dict[str, Any]:
    return {"ImageVersions": list(versions)}


def test_a_response_aws_could_send_has_no_problem():
    # Given a DescribeImageVersion response with every required member, right types and values
    # When it is checked, then nothing is found
    assert found("ListImageVersions", page(version(FailureReason="reason"), version())) == []
    assert found("DescribeImageVersion", {**version(), "JobType": "TRAINING", "Horovod": False}) == []
    # And an operation whose output has no members answers with nothing
    assert found("DeleteImage", None) == []


@pytest.mark.parametrize(
    ("item", "problem"),
    [
        (version(ImageArn=None), ("ImageArn", "missing")),
        ({**version(), "ImageArn": None}, ("ImageArn", "missing")),
        ({**version(), "FailureReason": None}, ("FailureReason", "null")),
        (version(Status="CREATED"), ("Status", "unknown")),
        (version(ImageVersionStatus="READY"), ("ImageVersionStatus", "enum")),
        (version(Version="1"), ("Version", "type")),
        (version(Version=True), ("Version", "type")),
        (version(Version=-1), ("Version", "range")),
        (version(CreationTime="2026-01-02T03:04:05Z"), ("CreationTime", "type")),
        (version(ImageArn="arn:aws:sagemaker:us-east-1:123456789012:model/x"), ("ImageArn", "pattern")),
        (version(FailureReason="x" * 1025), ("FailureReason", "length")),
    ],
    ids=[
        "missing required",
        "null required",
        "null optional",
        "unknown member",
        "bad enum",
        "string for integer",
        "boolean for integer",
        "integer below its min",
        "text for timestamp",
        "bad pattern",
        "string too long",
    ],
)
def test_each_kind_of_problem_is_found_with_its_path(item, problem):
    # Given a page of image versions whose second has one thing AWS would not send
    # When it is checked
    # Then that one problem is found, at its member of the second version
    member, kind = problem
    assert found("ListImageVersions", page(version(), item)) == [(("ImageVersions", 1, member), kind)]


def test_wrong_shapes_of_value_are_found():
    # Given a boolean given as text, a structure as a list, and a list as a set
    versions = {version()["ImageVersionArn"]}
    # When they are checked, then each is the wrong type
    assert found("DescribeImageVersion", {"Horovod": "yes"}) == [(("Horovod",), "type")]
    assert found("ListImageVersions", page([version()])) == [(("ImageVersions", 0), "type")]
    assert found("ListImageVersions", {"ImageVersions": versions}) == [(("ImageVersions",), "type")]


def test_problems_are_found_inside_lists_and_maps():
    # Given a page of image versions whose second is wrong, and an app image config whose container
    # environment maps a variable to a number and whose entrypoint is a string, not a list
    versions = {**page(version(), version(ImageVersionStatus="READY")), "NextToken": "t"}
    config = {
        "AppImageConfigArn": "arn:aws:sagemaker:us-east-1:123456789012:app-image-config/lab",
        "JupyterLabAppImageConfig": {
            "ContainerConfig": {"ContainerEnvironmentVariables": {"MODE": 3}, "ContainerEntrypoint": "lab"},
        },
    }
    # When they are checked
    # Then each problem's path leads to it
    assert found("ListImageVersions", versions) == [(("ImageVersions", 1, "ImageVersionStatus"), "enum")]
    container = ("JupyterLabAppImageConfig", "ContainerConfig")
    assert found("DescribeAppImageConfig", config) == [
        ((*container, "ContainerEntrypoint"), "type"),
        ((*container, "ContainerEnvironmentVariables", MapKey("MODE")), "type"),
    ]


def test_an_object_is_read_member_by_member_through_pick():
    # Given moto's way of answering with an object (ECR's PutImage hands its Image to the serializer)
    image = SimpleNamespace(repositoryName="team/studio", imageId={"imageDigest": "sha256:" + "a" * 64})

    def pick(obj: Any, key: str, shape: Any) -> Any:
        return getattr(obj, key, None)

    # When it is checked with the serializer's way of reading it
    # Then its members are checked (a bad tag), and unset attributes are absent, not null
    image.imageId["imageTag"] = ""
    problems = response_problems("ecr", "PutImage", {"image": image}, pick)
    assert [(p.path, p.kind) for p in problems] == [(("image", "imageId", "imageTag"), "length")]
    # And inside an object, a dict's None is an unset member too (moto's Image.image_id of an
    # image pushed by digest holds imageTag None; its serializer omits it)
    image.imageId["imageTag"] = None
    assert response_problems("ecr", "PutImage", {"image": image}, pick) == []
    # And without a way to read it, an object is the wrong type
    assert [p.kind for p in response_problems("ecr", "PutImage", {"image": image})] == ["type"]


def test_a_problem_reads_with_its_path_and_value():
    # Given a page whose first version has a bad status
    problem = response_problems("sagemaker", "ListImageVersions", page(version(ImageVersionStatus="READY")))[
        0
    ]
    # When it is shown, then it names where, what AWS allows and what was there
    assert str(problem).startswith(
        "ImageVersions[0].ImageVersionStatus: Member must satisfy enum value set: ["
    )
    assert str(problem).endswith("(value 'READY')")
