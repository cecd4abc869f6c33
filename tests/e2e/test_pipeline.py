"""The whole workflow, from the real `statemachine/` file with the template's substitutions, on moto
with in-process handlers: what a push ends in, and what the one notification says."""

from __future__ import annotations

import json
import time

import boto3
import pytest

from studio_image_sandbox.ocibuild import Layer
from studio_image_sandbox.samples import compliant

from .conftest import CONFIGURATION, REGION


def only_notification(pipeline) -> dict:
    notes = pipeline.notifications()
    assert len(notes) == 1, [n.get("Subject") for n in notes]
    note = notes[0]
    note["doc"] = json.loads(note["Message"])  # the "default" (JSON) form SQS subscribers get
    return note


def attribute(note: dict, name: str) -> str:
    return note["MessageAttributes"][name]["Value"]


@pytest.mark.core
def test_a_compliant_image_ends_attached_with_its_app_image_config_and_one_passed_message(pipeline):
    # Given a domain that already has another team's image attached
    sm = pipeline.sagemaker
    sm.create_image(ImageName="other-team", RoleArn="arn:aws:iam::123456789012:role/r")
    other = {"ImageName": "other-team", "ImageVersionNumber": 4, "AppImageConfigName": "other-team"}
    sm.update_domain(
        DomainId=pipeline.domain_id,
        DefaultUserSettings={"KernelGatewayAppSettings": {"CustomImages": [other]}},
    )
    deadline = time.monotonic() + 60
    while sm.describe_domain(DomainId=pipeline.domain_id)["Status"] != "InService":  # it was Updating
        assert time.monotonic() < deadline
        time.sleep(0.05)
    # When a compliant KernelGateway image is pushed
    execution = pipeline.run(compliant("kernel-gateway"), "studio/datascience")
    # Then the run succeeds, and the version is registered and attached beside the other image
    assert execution["status"] == "SUCCEEDED"
    output = json.loads(execution["output"])
    assert output["outcome"] == "passed" and output["attached"] is True
    version = sm.describe_image_version(ImageName="studio-datascience", Version=1)
    assert version["ImageVersionStatus"] == "CREATED"
    assert version["BaseImage"].endswith(
        "/studio/datascience@" + json.loads(execution["input"])["detail"]["image-digest"]
    )
    config = sm.describe_app_image_config(AppImageConfigName="studio-datascience-v1")
    kg = config["KernelGatewayImageConfig"]
    assert [k["Name"] for k in kg["KernelSpecs"]] == ["python3"]
    assert kg["FileSystemConfig"] == {
        "MountPath": "/home/sagemaker-user",
        "DefaultUid": 1000,
        "DefaultGid": 100,
    }
    ours = {
        "ImageName": "studio-datascience",
        "ImageVersionNumber": 1,
        "AppImageConfigName": "studio-datascience-v1",
    }
    domain = sm.describe_domain(DomainId=pipeline.domain_id)
    assert pipeline.custom_images(domain["DefaultUserSettings"]) == [other, ours]
    space = sm.describe_space(DomainId=pipeline.domain_id, SpaceName="shared")
    assert pipeline.custom_images(space["SpaceSettings"]) == [ours]
    alice = sm.describe_user_profile(DomainId=pipeline.domain_id, UserProfileName="alice")
    assert pipeline.custom_images(alice["UserSettings"]) == [ours]
    # And exactly one "passed" notification, filterable by its attributes
    note = only_notification(pipeline)
    assert note["Subject"] == "[PASSED] studio/datascience:1.0 -> studio-datascience v1"
    assert attribute(note, "status") == "passed"
    assert attribute(note, "repository") == "studio/datascience"
    assert attribute(note, "profile") == "kernel-gateway"
    assert note["doc"]["registration"]["version"] == 1
    assert note["doc"]["execution_arn"] == execution["executionArn"]


@pytest.mark.core
def test_a_refused_image_registers_nothing_and_the_failed_message_lists_its_findings(pipeline):
    # Given an image built on arm64 with a file owned by UID 70000
    image = compliant("kernel-gateway")
    image.layers.append(Layer().file("opt/app/data.bin", b"x" * 100, uid=70000))
    image.architecture = "arm64"
    # When it is pushed
    execution = pipeline.run(image, "studio/laptop-build")
    # Then the run ends refused, with nothing registered
    assert execution["status"] == "FAILED" and execution["error"] == "ImageRefused"
    assert pipeline.sagemaker.list_images()["Images"] == []
    # And the one notification lists each finding with its fix, and links the report
    note = only_notification(pipeline)
    assert note["Subject"].startswith("[REFUSED] studio/laptop-build:1.0: ")
    assert "owner-id-range" in note["Subject"] and "platform" in note["Subject"]
    assert attribute(note, "status") == "refused"
    rules = {f["rule"] for f in note["doc"]["evaluation"]["findings"]}
    assert {"platform", "owner-id-range"} <= rules
    report = note["doc"]["evaluation"]["report_markdown_uri"]
    bucket, _, key = report.removeprefix("s3://").partition("/")
    text = boto3.client("s3", region_name=REGION).get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    assert text.startswith("# FAIL:") and "`owner-id-range`" in text
    # And the HTML page beside it is linked from the notification
    page = note["doc"]["evaluation"]["report_html_uri"]
    assert page == report.removesuffix(".md") + ".html" and f"Report (HTML): {page}" in note["doc"]["text"]
    html = boto3.client("s3", region_name=REGION).get_object(Bucket=bucket, Key=key.replace(".md", ".html"))
    assert html["ContentType"] == "text/html" and b"<h1>FAIL</h1>" in html["Body"].read()


def test_an_image_version_that_fails_to_create_ends_with_sagemakers_reason(pipeline, monkeypatch):
    # Given SageMaker is still creating versions (until told otherwise)
    import moto_studio

    moto_studio.settings.image_version_seconds = 3600
    repository = "studio/short-lived"
    digest = pipeline.push(compliant("kernel-gateway"), repository)
    arn = pipeline.start(repository, digest)
    # When the image is deleted from ECR while its version is being created
    sfn = boto3.client("stepfunctions", region_name=REGION)
    deadline = time.monotonic() + 60
    while not any(
        e.get("stateExitedEventDetails", {}).get("name") == "Register"
        for e in sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    ):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    pipeline.ecr.batch_delete_image(repositoryName=repository, imageIds=[{"imageDigest": digest}])
    moto_studio.settings.image_version_seconds = 0.2
    # Then the run fails with SageMaker's FailureReason in the message, and nothing is attached
    execution = pipeline.finish(arn)
    assert execution["status"] == "FAILED" and execution["error"] == "PipelineFailed"
    note = only_notification(pipeline)
    assert note["Subject"] == "[FAILED] studio/short-lived:1.0: ImageVersionFailed in CheckVersion"
    assert "the image does not exist in Amazon ECR" in note["doc"]["error"]["Cause"]
    domain = pipeline.sagemaker.describe_domain(DomainId=pipeline.domain_id)
    assert pipeline.custom_images(domain["DefaultUserSettings"]) == []


@pytest.mark.core
def test_two_concurrent_executions_attaching_to_one_domain_both_end_attached(pipeline):
    # Given two different images pushed at the same time
    first = pipeline.push(compliant("kernel-gateway"), "studio/team-a")
    second_image = compliant("kernel-gateway")
    second_image.layers.append(Layer().file("opt/team-b/README", "team b\n"))
    second = pipeline.push(second_image, "studio/team-b")
    # When both events arrive together
    arns = [pipeline.start("studio/team-a", first), pipeline.start("studio/team-b", second)]
    executions = [pipeline.finish(arn) for arn in arns]
    # Then both succeed and the domain lists both images
    assert [e["status"] for e in executions] == ["SUCCEEDED", "SUCCEEDED"]
    domain = pipeline.sagemaker.describe_domain(DomainId=pipeline.domain_id)
    names = sorted(i["ImageName"] for i in pipeline.custom_images(domain["DefaultUserSettings"]))
    assert names == ["studio-team-a", "studio-team-b"]
    assert len(pipeline.notifications()) == 2


def test_the_same_digest_pushed_again_makes_no_second_version_and_says_so(pipeline):
    # Given an image that went through the pipeline
    repository = "studio/twice"
    digest = pipeline.push(compliant("kernel-gateway"), repository, "1.0")
    assert pipeline.finish(pipeline.start(repository, digest, "1.0"))["status"] == "SUCCEEDED"
    pipeline.notifications()
    # When the same digest is pushed under another tag (and the event is redelivered)
    again = [pipeline.finish(pipeline.start(repository, digest, "latest")) for _ in range(2)]
    # Then no second version exists and each run says the digest was already handled
    assert [e["status"] for e in again] == ["SUCCEEDED", "SUCCEEDED"]
    versions = pipeline.sagemaker.list_image_versions(ImageName="studio-twice")["ImageVersions"]
    assert len(versions) == 1
    notes = pipeline.notifications()
    assert len(notes) == 2
    for note in notes:
        assert note["Subject"].startswith("[UNCHANGED] studio/twice:latest: this digest was already passed")
        assert attribute(note, "status") == "unchanged"
        assert json.loads(note["Message"])["skip"]["image_version_arn"] == versions[0]["ImageVersionArn"]


def test_a_push_by_digest_alone_is_checked_and_named_by_its_digest_and_labels_refine_the_image(pipeline):
    # Given a binding that checks untagged pushes (by default they are skipped: see test_multi_platform)
    bindings = json.loads(json.dumps(CONFIGURATION["repositories"]))
    bindings[-1]["check_untagged"] = True
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name=f"/{pipeline.stack.name}/configuration",
        Value=json.dumps({"repositories": bindings}),
        Type="String",
        Overwrite=True,
    )
    # And an image whose labels choose its display name, pushed with no tag
    image = compliant("kernel-gateway")
    image.labels = {"studio-image-pipeline.display-name": "Data Science 2026"}
    repository = "studio/by-digest"
    digest = pipeline.push(image, repository)
    # When the event carries only the digest
    execution = pipeline.finish(pipeline.start(repository, digest, tag=None))
    # Then the run passes, the subject names the digest, and the image has the label's display name
    assert execution["status"] == "SUCCEEDED"
    note = only_notification(pipeline)
    assert note["Subject"] == f"[PASSED] studio/by-digest@{digest[:19]} -> studio-by-digest v1"
    described = pipeline.sagemaker.describe_image(ImageName="studio-by-digest")
    assert described["DisplayName"] == "Data Science 2026"
