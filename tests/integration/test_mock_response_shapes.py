"""Every operation moto_studio serves answers in botocore's output shape, in each state it models.

tests/conftest.py turns `settings.check_responses` on: the server checks each response before it is
sent (moto_studio.validation), answers a mismatch with a 500 and records it. These tests call every
operation in its states and read that record.
"""

from __future__ import annotations

import hashlib
import json

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

import moto_studio
from moto_studio import validation
from moto_studio.sagemaker.models import Image
from moto_studio.scanning import SCAN_RESULT_LABEL
from studio_image_sandbox.ecrpush import push_image
from studio_image_sandbox.ocibuild import Layer

ACCOUNT, REGION = "123456789012", "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/studio-images"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
LONG = 3600.0  # a delay no test outlives: the status stays where it is until the delay is set to 0


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    validation.checked.clear()
    with mock_aws():
        yield boto3.client("sagemaker", region_name=REGION), boto3.client("ecr", region_name=REGION)


@pytest.fixture
def push(aws, make_image):
    """Push an image to team/studio (scan on push) or team/manual; `scan_result` is the scan its
    label chooses."""
    _, ecr = aws
    ecr.create_repository(repositoryName="team/studio", imageScanningConfiguration={"scanOnPush": True})
    ecr.create_repository(repositoryName="team/manual")

    def push(tag: str, scan_result: dict | None = None, repository: str = "team/studio") -> str:
        labels = {SCAN_RESULT_LABEL: json.dumps(scan_result)} if scan_result is not None else {}
        reference = make_image(Layer().file("etc/hostname", tag), labels=labels)
        return push_image(ecr, reference, repository, tag).digest

    return push


def no_mismatch() -> None:
    assert moto_studio.settings.check_responses, "the response check is off"
    assert validation.checked, "no response was checked"
    assert [str(m) for m in validation.mismatches] == []


def images_and_versions(sm, push) -> None:
    push("1.0")
    sm.create_image(ImageName="plain", RoleArn=ROLE)  # no Description nor DisplayName
    sm.create_image(ImageName="full", RoleArn=ROLE, Description="Data science", DisplayName="DS")
    sm.describe_image(ImageName="plain")
    sm.update_image(ImageName="full", DeleteProperties=["Description"], DisplayName="Data Science")
    sm.describe_image(ImageName="full")
    first = sm.list_images(MaxResults=1)
    sm.list_images(MaxResults=1, NextToken=first["NextToken"])
    moto_studio.settings.image_version_seconds = LONG
    sm.create_image_version(ImageName="plain", BaseImage=f"{REGISTRY}/team/studio:1.0", Aliases=["1.0"])
    assert sm.describe_image_version(ImageName="plain")["ImageVersionStatus"] == "CREATING"
    sm.list_image_versions(ImageName="plain")
    moto_studio.settings.image_version_seconds = 0
    assert sm.describe_image_version(ImageName="plain", Alias="1.0")["ImageVersionStatus"] == "CREATED"
    sm.create_image_version(
        ImageName="plain", BaseImage=f"{REGISTRY}/team/absent:1", JobType="TRAINING", Processor="CPU"
    )
    assert sm.describe_image_version(ImageName="plain", Version=2)["ImageVersionStatus"] == "CREATE_FAILED"
    first = sm.list_image_versions(ImageName="plain", MaxResults=1)
    sm.list_image_versions(ImageName="plain", MaxResults=1, NextToken=first["NextToken"])
    sm.update_image_version(ImageName="plain", Version=1, AliasesToAdd=["latest"], ReleaseNotes="first")
    sm.delete_image_version(ImageName="plain", Version=2)
    sm.delete_image(ImageName="full")


def app_image_configs(sm) -> None:
    kernel_gateway = {
        "KernelSpecs": [{"Name": "python3", "DisplayName": "Python 3"}],
        "FileSystemConfig": {"MountPath": "/home/sagemaker-user", "DefaultUid": 1000, "DefaultGid": 100},
    }
    sm.create_app_image_config(AppImageConfigName="kg", KernelGatewayImageConfig=kernel_gateway)
    sm.create_app_image_config(AppImageConfigName="lab", JupyterLabAppImageConfig={})
    sm.describe_app_image_config(AppImageConfigName="kg")
    sm.update_app_image_config(
        AppImageConfigName="lab",
        JupyterLabAppImageConfig={"ContainerConfig": {"ContainerEnvironmentVariables": {"MODE": "lab"}}},
    )
    sm.describe_app_image_config(AppImageConfigName="lab")
    first = sm.list_app_image_configs(MaxResults=1)
    sm.list_app_image_configs(MaxResults=1, NextToken=first["NextToken"])
    sm.delete_app_image_config(AppImageConfigName="kg")


def domain_members_and_apps(sm) -> None:
    domain = sm.create_domain(
        DomainName="studio",
        AuthMode="IAM",
        DefaultUserSettings={"ExecutionRole": ROLE},
        SubnetIds=["subnet-1"],
        VpcId="vpc-1",
    )["DomainArn"].rsplit("/", 1)[-1]
    moto_studio.settings.domain_update_seconds = LONG
    sm.update_domain(DomainId=domain, DefaultUserSettings={"ExecutionRole": ROLE})
    assert sm.describe_domain(DomainId=domain)["Status"] == "Updating"
    moto_studio.settings.domain_update_seconds = 0
    assert sm.describe_domain(DomainId=domain)["Status"] == "InService"
    sso = sm.create_domain(
        DomainName="sso-studio",
        AuthMode="SSO",
        DefaultUserSettings={"ExecutionRole": ROLE},
        SubnetIds=["subnet-1"],
        VpcId="vpc-1",
    )["DomainArn"].rsplit("/", 1)[-1]
    assert "SingleSignOnApplicationArn" in sm.describe_domain(DomainId=sso)

    image = sm.create_image(ImageName="app-image", RoleArn=ROLE)["ImageArn"]
    attached = {"CustomImages": [{"ImageName": "app-image", "AppImageConfigName": "kg"}]}
    alice = {"ExecutionRole": ROLE, "KernelGatewayAppSettings": attached}
    sm.create_user_profile(DomainId=domain, UserProfileName="alice", UserSettings=alice)
    sm.create_user_profile(DomainId=domain, UserProfileName="bob")
    sm.update_user_profile(DomainId=domain, UserProfileName="bob", UserSettings={"ExecutionRole": ROLE})
    sm.describe_user_profile(DomainId=domain, UserProfileName="alice")
    first = sm.list_user_profiles(DomainIdEquals=domain, MaxResults=1)
    sm.list_user_profiles(DomainIdEquals=domain, MaxResults=1, NextToken=first["NextToken"])
    sm.create_space(DomainId=domain, SpaceName="lab", SpaceSettings={"AppType": "JupyterLab"})
    sm.create_space(DomainId=domain, SpaceName="editor", SpaceSettings={"AppType": "CodeEditor"})
    sm.update_space(DomainId=domain, SpaceName="lab", SpaceDisplayName="Lab")
    sm.describe_space(DomainId=domain, SpaceName="lab")
    first = sm.list_spaces(DomainIdEquals=domain, MaxResults=1)
    sm.list_spaces(DomainIdEquals=domain, MaxResults=1, NextToken=first["NextToken"])

    moto_studio.settings.script_app("broken", fails=True, reason="The app failed to start.")
    moto_studio.settings.app_start_seconds = LONG
    owner = {"DomainId": domain, "UserProfileName": "alice", "AppType": "KernelGateway"}
    sm.create_app(**owner, AppName="canary", ResourceSpec={"SageMakerImageArn": image})
    sm.create_app(**owner, AppName="broken")
    lab = {"DomainId": domain, "SpaceName": "lab", "AppType": "JupyterLab", "AppName": "default"}
    sm.create_app(**lab)
    assert sm.describe_app(**owner, AppName="canary")["Status"] == "Pending"
    sm.list_apps(DomainIdEquals=domain)
    moto_studio.settings.app_start_seconds = 0
    assert sm.describe_app(**owner, AppName="canary")["Status"] == "InService"
    assert sm.describe_app(**owner, AppName="broken")["Status"] == "Failed"
    sm.delete_app(**lab)
    assert sm.describe_app(**lab)["Status"] == "Deleted"
    first = sm.list_apps(DomainIdEquals=domain, MaxResults=2)
    sm.list_apps(DomainIdEquals=domain, MaxResults=2, NextToken=first["NextToken"])
    sm.delete_space(DomainId=domain, SpaceName="editor")
    sm.delete_user_profile(DomainId=domain, UserProfileName="bob")


BASIC = {  # botocore's ecr ImageScanFinding
    "name": "CVE-2024-0001",
    "uri": "https://security-tracker.debian.org/tracker/CVE-2024-0001",
    "severity": "LOW",
    "attributes": [{"key": "package_name", "value": "zlib1g"}, {"key": "package_version", "value": "1.2"}],
}
ENHANCED = {  # botocore's ecr EnhancedImageScanFinding
    "awsAccountId": ACCOUNT,
    "findingArn": f"arn:aws:inspector2:{REGION}:{ACCOUNT}:finding/0123",
    "severity": "HIGH",
    "status": "ACTIVE",
    "type": "PACKAGE_VULNERABILITY",
    "title": "CVE-2023-38545 - curl",
    "packageVulnerabilityDetails": {
        "vulnerabilityId": "CVE-2023-38545",
        "source": "DEBIAN_CVE",
        "vulnerablePackages": [{"name": "curl", "version": "7.88.1", "epoch": 0, "packageManager": "OS"}],
    },
}


def ecr_layers_images_and_scans(ecr, push) -> None:
    data = b"a layer"
    upload = ecr.initiate_layer_upload(repositoryName="team/studio")["uploadId"]
    ecr.upload_layer_part(
        repositoryName="team/studio",
        uploadId=upload,
        partFirstByte=0,
        partLastByte=len(data) - 1,
        layerPartBlob=data,
    )
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    ecr.complete_layer_upload(repositoryName="team/studio", uploadId=upload, layerDigests=[digest])
    ecr.get_download_url_for_layer(repositoryName="team/studio", layerDigest=digest)

    scanned = push("scanned", {"findings": [BASIC] * 3, "enhancedFindings": [ENHANCED] * 2})
    image = {"imageDigest": scanned}
    page = ecr.describe_image_scan_findings(repositoryName="team/studio", imageId=image, maxResults=2)
    while "nextToken" in page:
        page = ecr.describe_image_scan_findings(
            repositoryName="team/studio", imageId=image, maxResults=2, nextToken=page["nextToken"]
        )
    failed = push("failed", {"status": "FAILED", "description": "UnsupportedImageError"})
    ecr.describe_image_scan_findings(repositoryName="team/studio", imageId={"imageDigest": failed})
    push("unlabelled")  # moto's own result
    ecr.describe_image_scan_findings(repositoryName="team/studio", imageId={"imageTag": "unlabelled"})

    manual = push("manual", repository="team/manual")
    ecr.start_image_scan(repositoryName="team/manual", imageId={"imageDigest": manual})
    ecr.describe_image_scan_findings(repositoryName="team/manual", imageId={"imageDigest": manual})

    manifest = ecr.batch_get_image(repositoryName="team/studio", imageIds=[image])["images"][0]
    ecr.put_image(repositoryName="team/studio", imageManifest=manifest["imageManifest"], imageTag="again")
    ecr.put_image(repositoryName="team/studio", imageManifest=manifest["imageManifest"])  # by digest
    manual_manifest = ecr.batch_get_image(repositoryName="team/manual", imageIds=[{"imageDigest": manual}])
    untagged = {
        **json.loads(manual_manifest["images"][0]["imageManifest"]),
        "annotations": {"org.example.note": "untagged"},
    }
    pushed = ecr.put_image(repositoryName="team/manual", imageManifest=json.dumps(untagged))  # new, by digest
    never_tagged = {"imageDigest": pushed["image"]["imageId"]["imageDigest"]}
    ecr.start_image_scan(repositoryName="team/manual", imageId=never_tagged)
    ecr.describe_image_scan_findings(repositoryName="team/manual", imageId=never_tagged)
    ecr.batch_delete_image(
        repositoryName="team/studio", imageIds=[{"imageTag": "failed"}, {"imageTag": "never-pushed"}]
    )


def test_images_and_versions_answer_in_botocores_shape(aws, push):
    # Given images with and without their optional members, and versions CREATING, CREATED and
    # CREATE_FAILED, listed a page at a time
    sm, _ = aws
    # When every image and image version operation is called in those states
    images_and_versions(sm, push)
    # Then every response matched botocore's output shape
    no_mismatch()


def test_app_image_configs_answer_in_botocores_shape(aws):
    # Given app image configs of two app types, one changed
    sm, _ = aws
    # When every app image config operation is called
    app_image_configs(sm)
    # Then every response matched botocore's output shape
    no_mismatch()


def test_domains_members_and_apps_answer_in_botocores_shape(aws):
    # Given an IAM domain Updating then InService and an Identity Center (SSO) one, user profiles and
    # spaces, and apps Pending, InService, Failed and Deleted, listed a page at a time
    sm, _ = aws
    # When every domain, user profile, space and app operation is called in those states
    domain_members_and_apps(sm)
    # Then every response matched botocore's output shape
    no_mismatch()


def test_ecr_layers_images_and_scans_answer_in_botocores_shape(aws, push):
    # Given a layer uploaded, images pushed by tag and by digest (one never tagged) and deleted, and
    # scans COMPLETE with findings of both kinds a page at a time, FAILED, started by hand, and
    # moto's own result
    _, ecr = aws
    # When every ECR operation moto_studio serves is called in those states
    ecr_layers_images_and_scans(ecr, push)
    # Then every response matched botocore's output shape
    no_mismatch()


def test_every_operation_moto_studio_serves_is_checked(aws, push):
    # Given the operations moto_studio grafts onto moto (response methods, and backend methods whose
    # results moto's own response methods send), and no response checked yet
    sm, ecr = aws
    assert {("sagemaker", "DescribeApp"), ("ecr", "DescribeImageScanFindings"), ("ecr", "PutImage")} <= (
        validation.studio_operations
    )
    # When all of the above runs
    images_and_versions(sm, push)
    app_image_configs(sm)
    domain_members_and_apps(sm)
    ecr_layers_images_and_scans(ecr, push)
    # Then each operation's response was checked at least once, and none mismatched
    assert sorted(validation.studio_operations - validation.checked) == []
    no_mismatch()


def test_a_response_not_in_botocores_shape_is_a_500_naming_its_problems(aws, monkeypatch):
    # Given an image whose description AWS would not send (an ImageStatus outside the enum), and a
    # client that does not retry
    monkeypatch.setattr(Image, "summary", lambda image: {"ImageName": image.name, "ImageStatus": "READY"})
    sm = boto3.client("sagemaker", region_name=REGION, config=Config(retries={"total_max_attempts": 1}))
    sm.create_image(ImageName="studio", RoleArn=ROLE)
    # When it is described
    with pytest.raises(ClientError) as refused:
        sm.describe_image(ImageName="studio")
    # Then the answer is a 500 InternalFailure that names the problem, and the test's record holds it
    error = refused.value.response
    assert (error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"]) == (500, "InternalFailure")
    assert "ImageStatus: Member must satisfy enum value set" in error["Error"]["Message"]
    assert [(m.operation, [p.kind for p in m.problems]) for m in validation.mismatches] == [
        ("DescribeImage", ["enum"])
    ]
    validation.mismatches.clear()  # seen: the suite's teardown check must not fail this test
    # And with the check off the same response goes out
    moto_studio.settings.check_responses = False
    assert sm.describe_image(ImageName="studio")["ImageStatus"] == "READY"
