"""moto_studio: the SageMaker Studio APIs moto lacks, called through boto3 as the pipeline calls
them, with AWS's errors, limits and asynchronous statuses."""

import hashlib
import json
import time

import boto3
import pytest
import urllib3
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.server import ThreadedMotoServer

import moto_studio
from studio_image_sandbox.ecrpush import push_image

ROLE = "arn:aws:iam::123456789012:role/studio-images"
REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
WAIT = 0.3  # longer than the test delays (0.2 s, see tests/conftest.py)


@pytest.fixture
def aws():
    with mock_aws():
        yield boto3.client("sagemaker", region_name="us-east-1"), boto3.client("ecr", region_name="us-east-1")


@pytest.fixture
def sm(aws):
    return aws[0]


@pytest.fixture
def domain(sm):
    created = sm.create_domain(
        DomainName="studio",
        AuthMode="IAM",
        DefaultUserSettings={"ExecutionRole": ROLE},
        SubnetIds=["subnet-1"],
        VpcId="vpc-1",
    )
    return created["DomainArn"].rsplit("/", 1)[-1]


def error_of(call, *args, **kwargs):
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def test_images_are_created_described_updated_listed_and_deleted(sm):
    arn = sm.create_image(ImageName="data.science", RoleArn=ROLE, DisplayName="Data Science")["ImageArn"]
    assert arn == "arn:aws:sagemaker:us-east-1:123456789012:image/data.science"
    described = sm.describe_image(ImageName="data.science")
    assert (described["ImageStatus"], described["DisplayName"], described["RoleArn"]) == (
        "CREATED",
        "Data Science",
        ROLE,
    )
    sm.update_image(ImageName="data.science", Description="for the DS team", DeleteProperties=["DisplayName"])
    described = sm.describe_image(ImageName="data.science")
    assert described["Description"] == "for the DS team" and "DisplayName" not in described
    sm.create_image(ImageName="other", RoleArn=ROLE)
    assert [i["ImageName"] for i in sm.list_images(NameContains="data")["Images"]] == ["data.science"]
    page = sm.list_images(MaxResults=1)
    assert (
        len(page["Images"]) == 1
        and sm.list_images(NextToken=page["NextToken"])["Images"][0]["ImageName"] == "other"
    )
    sm.delete_image(ImageName="data.science")
    assert error_of(sm.describe_image, ImageName="data.science")[0] == "ResourceNotFound"


def test_names_follow_the_service_model(sm):
    # ImageName allows dots; AppImageConfigName does not
    code, message = error_of(sm.create_image, ImageName="data_science", RoleArn=ROLE)
    assert code == "ValidationException"
    assert message == (
        "1 validation error detected: Value 'data_science' at 'imageName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [a-zA-Z0-9]([-.]?[a-zA-Z0-9]){0,62}"
    )
    code, message = error_of(sm.create_app_image_config, AppImageConfigName="data.science")
    assert code == "ValidationException" and "'appImageConfigName'" in message
    assert error_of(sm.create_image, ImageName="x" * 64, RoleArn=ROLE)[0] == "ValidationException"


def test_duplicates_are_resource_in_use_and_missing_is_resource_not_found(sm):
    sm.create_image(ImageName="img", RoleArn=ROLE)
    assert error_of(sm.create_image, ImageName="img", RoleArn=ROLE)[0] == "ResourceInUse"
    assert error_of(sm.describe_image, ImageName="nope")[0] == "ResourceNotFound"
    assert (
        error_of(sm.create_image_version, ImageName="nope", BaseImage=f"{REGISTRY}/x:1")[0]
        == "ResourceNotFound"
    )
    assert error_of(sm.describe_app_image_config, AppImageConfigName="nope")[0] == "ResourceNotFound"
    assert error_of(sm.describe_domain, DomainId="d-nope")[0] == "ResourceNotFound"


@pytest.mark.tools
def test_an_image_version_is_creating_then_created_when_its_base_image_is_in_ecr(aws, umoci_image):
    sm, ecr = aws
    ecr.create_repository(repositoryName="team/studio")
    digest = push_image(ecr, f"oci:{umoci_image.layout}:{umoci_image.tag}", "team/studio", "1.0").digest
    sm.create_image(ImageName="img", RoleArn=ROLE)
    arn = sm.create_image_version(
        ImageName="img", BaseImage=f"{REGISTRY}/team/studio:1.0", Aliases=["1.0.0"]
    )["ImageVersionArn"]
    assert arn == "arn:aws:sagemaker:us-east-1:123456789012:image-version/img/1"
    assert sm.describe_image_version(ImageName="img")["ImageVersionStatus"] == "CREATING"
    time.sleep(WAIT)
    version = sm.describe_image_version(ImageName="img", Alias="1.0.0")
    assert version["ImageVersionStatus"] == "CREATED"
    assert version["ContainerImage"] == f"{REGISTRY}/team/studio@{digest}"


def test_an_image_version_whose_base_image_is_not_in_ecr_fails_with_a_reason(sm):
    sm.create_image(ImageName="img", RoleArn=ROLE)
    sm.create_image_version(ImageName="img", BaseImage=f"{REGISTRY}/team/absent:1")
    time.sleep(WAIT)
    version = sm.describe_image_version(ImageName="img", Version=1)
    assert version["ImageVersionStatus"] == "CREATE_FAILED"
    assert "does not exist in Amazon ECR" in version["FailureReason"]


def test_a_client_token_makes_create_image_version_idempotent(sm):
    sm.create_image(ImageName="img", RoleArn=ROLE)
    first = sm.create_image_version(ImageName="img", BaseImage=f"{REGISTRY}/a:1", ClientToken="push-42")
    again = sm.create_image_version(ImageName="img", BaseImage=f"{REGISTRY}/a:1", ClientToken="push-42")
    # another version while the first is CREATING is refused, as in AWS (CreateImageVersion's ResourceInUse)
    busy = error_of(
        sm.create_image_version, ImageName="img", BaseImage=f"{REGISTRY}/a:2", ClientToken="push-43"
    )
    assert busy[0] == "ResourceInUse"
    time.sleep(WAIT)
    other = sm.create_image_version(ImageName="img", BaseImage=f"{REGISTRY}/a:2", ClientToken="push-43")
    assert first["ImageVersionArn"] == again["ImageVersionArn"] != other["ImageVersionArn"]
    assert [v["Version"] for v in sm.list_image_versions(ImageName="img")["ImageVersions"]] == [1, 2]


def test_a_deleted_version_number_is_never_given_out_again(sm):
    sm.create_image(ImageName="img", RoleArn=ROLE)
    sm.create_image_version(ImageName="img", BaseImage=f"{REGISTRY}/a:1")
    sm.delete_image_version(ImageName="img", Version=1)
    again = sm.create_image_version(ImageName="img", BaseImage=f"{REGISTRY}/a:1")
    assert again["ImageVersionArn"].endswith("/img/2")


def test_version_aliases_are_added_moved_and_deleted(sm):
    sm.create_image(ImageName="img", RoleArn=ROLE)
    sm.create_image_version(ImageName="img", BaseImage=f"{REGISTRY}/a:1", Aliases=["1.0"])
    time.sleep(WAIT)
    sm.create_image_version(ImageName="img", BaseImage=f"{REGISTRY}/a:2")
    assert (
        error_of(sm.update_image_version, ImageName="img", Version=2, AliasesToAdd=["1.0"])[0]
        == "ValidationException"
    )
    sm.update_image_version(ImageName="img", Version=1, AliasesToDelete=["1.0"])
    sm.update_image_version(ImageName="img", Version=2, AliasesToAdd=["1.0"])
    assert sm.describe_image_version(ImageName="img", Alias="1.0")["Version"] == 2
    sm.delete_image_version(ImageName="img", Alias="1.0")
    assert error_of(sm.describe_image_version, ImageName="img", Version=2)[0] == "ResourceNotFound"


KERNEL_GATEWAY = {
    "KernelSpecs": [{"Name": "python3", "DisplayName": "Python 3"}],
    "FileSystemConfig": {"MountPath": "/home/sagemaker-user", "DefaultUid": 1000, "DefaultGid": 100},
}


def test_app_image_configs_and_their_kernel_spec_limit(sm):
    arn = sm.create_app_image_config(AppImageConfigName="ds-config", KernelGatewayImageConfig=KERNEL_GATEWAY)[
        "AppImageConfigArn"
    ]
    assert arn.endswith(":app-image-config/ds-config")
    assert (
        sm.describe_app_image_config(AppImageConfigName="ds-config")["KernelGatewayImageConfig"]
        == KERNEL_GATEWAY
    )
    six = {"KernelSpecs": [{"Name": f"k{i}"} for i in range(6)]}
    code, message = error_of(
        sm.update_app_image_config, AppImageConfigName="ds-config", KernelGatewayImageConfig=six
    )
    assert code == "ValidationException"
    assert (
        "at 'kernelGatewayImageConfig.kernelSpecs' failed to satisfy constraint: "
        "Member must have length less than or equal to 5" in message
    )
    sm.update_app_image_config(AppImageConfigName="ds-config", JupyterLabAppImageConfig={})
    assert "KernelGatewayImageConfig" not in sm.describe_app_image_config(AppImageConfigName="ds-config")
    assert [c["AppImageConfigName"] for c in sm.list_app_image_configs()["AppImageConfigs"]] == ["ds-config"]
    assert error_of(sm.create_app_image_config, AppImageConfigName="ds-config")[0] == "ResourceInUse"
    sm.delete_app_image_config(AppImageConfigName="ds-config")
    assert sm.list_app_image_configs()["AppImageConfigs"] == []


def custom_images(count):
    return [{"ImageName": f"img{i}", "AppImageConfigName": "cfg"} for i in range(count)]


def test_update_domain_keeps_settings_and_is_updating_for_a_while(sm, domain):
    # (AWS seconds, on the sandbox's clock: one real second, room for the checks on a loaded machine)
    moto_studio.settings.domain_update_seconds = 1.0 / moto_studio.settings.time_scale
    user_settings = {"ExecutionRole": ROLE, "KernelGatewayAppSettings": {"CustomImages": custom_images(2)}}
    sm.update_domain(
        DomainId=domain, DefaultUserSettings=user_settings, DefaultSpaceSettings={"ExecutionRole": ROLE}
    )
    described = sm.describe_domain(DomainId=domain)
    assert described["Status"] == "Updating"
    assert described["DefaultUserSettings"]["KernelGatewayAppSettings"]["CustomImages"] == custom_images(2)
    assert described["DefaultSpaceSettings"] == {"ExecutionRole": ROLE}
    # a second update while the first is in progress is refused, as in AWS
    code, _ = error_of(sm.update_domain, DomainId=domain, DefaultUserSettings=user_settings)
    assert code == "ResourceInUse"
    time.sleep(1.1)
    assert sm.describe_domain(DomainId=domain)["Status"] == "InService"
    sm.update_domain(DomainId=domain, DefaultUserSettings={"JupyterLabAppSettings": {"CustomImages": []}})
    kept = sm.describe_domain(DomainId=domain)["DefaultUserSettings"]
    assert (
        kept["KernelGatewayAppSettings"]["CustomImages"] == custom_images(2) and kept["ExecutionRole"] == ROLE
    )


def test_custom_images_are_limited_to_200(sm, domain):
    settings = {"KernelGatewayAppSettings": {"CustomImages": custom_images(201)}}
    code, message = error_of(sm.update_domain, DomainId=domain, DefaultUserSettings=settings)
    assert code == "ValidationException" and "less than or equal to 200" in message


def test_user_profiles_and_spaces(sm, domain):
    sm.create_user_profile(DomainId=domain, UserProfileName="alice", UserSettings={"ExecutionRole": ROLE})
    sm.create_space(DomainId=domain, SpaceName="team-space", SpaceSettings={"AppType": "JupyterLab"})
    assert sm.describe_user_profile(DomainId=domain, UserProfileName="alice")["Status"] == "InService"
    sm.update_user_profile(
        DomainId=domain, UserProfileName="alice", UserSettings={"ExecutionRole": ROLE + "2"}
    )
    assert (
        sm.describe_user_profile(DomainId=domain, UserProfileName="alice")["UserSettings"]["ExecutionRole"]
        == ROLE + "2"
    )
    sm.update_space(
        DomainId=domain,
        SpaceName="team-space",
        SpaceSettings={"AppType": "JupyterLab", "JupyterLabAppSettings": {"DefaultResourceSpec": {}}},
    )
    assert (
        sm.describe_space(DomainId=domain, SpaceName="team-space")["SpaceSettings"]["AppType"] == "JupyterLab"
    )
    assert [p["UserProfileName"] for p in sm.list_user_profiles(DomainIdEquals=domain)["UserProfiles"]] == [
        "alice"
    ]
    assert [s["SpaceName"] for s in sm.list_spaces(DomainIdEquals=domain)["Spaces"]] == ["team-space"]
    assert error_of(sm.create_user_profile, DomainId=domain, UserProfileName="alice")[0] == "ResourceInUse"
    assert (
        error_of(sm.create_user_profile, DomainId="d-absent", UserProfileName="bob")[0] == "ResourceNotFound"
    )
    sm.delete_space(DomainId=domain, SpaceName="team-space")
    assert error_of(sm.describe_space, DomainId=domain, SpaceName="team-space")[0] == "ResourceNotFound"


def log_lines(domain, stream):
    logs = boto3.client("logs", region_name="us-east-1")
    events = logs.get_log_events(logGroupName="/aws/sagemaker/studio", logStreamName=stream)["events"]
    return [e["message"] for e in events]


def test_an_app_is_pending_then_in_service_and_logs_its_start(sm, domain):
    image = sm.create_image(ImageName="img", RoleArn=ROLE)["ImageArn"]
    attached = {"CustomImages": [{"ImageName": "img", "AppImageConfigName": "cfg"}]}
    sm.create_user_profile(
        DomainId=domain, UserProfileName="alice", UserSettings={"KernelGatewayAppSettings": attached}
    )
    key = {"DomainId": domain, "UserProfileName": "alice", "AppType": "KernelGateway", "AppName": "canary"}
    sm.create_app(**key, ResourceSpec={"SageMakerImageArn": image, "InstanceType": "ml.t3.medium"})
    assert sm.describe_app(**key)["Status"] == "Pending"
    time.sleep(WAIT)
    assert sm.describe_app(**key)["Status"] == "InService"
    assert any("Kernel Gateway" in line for line in log_lines(domain, f"{domain}/alice/KernelGateway/canary"))
    assert [a["AppName"] for a in sm.list_apps(DomainIdEquals=domain)["Apps"]] == ["canary"]
    assert error_of(sm.create_app, **key)[0] == "ResourceInUse"
    sm.delete_app(**key)
    assert sm.describe_app(**key)["Status"] == "Deleted"


def test_a_scripted_app_start_fails_with_its_reason_and_log_lines(sm, domain):
    moto_studio.settings.script_app(
        "img", fails=True, reason="InternalFailure", log_lines=["exec format error"]
    )
    sm.create_space(DomainId=domain, SpaceName="lab", SpaceSettings={"AppType": "JupyterLab"})
    image = sm.create_image(ImageName="img", RoleArn=ROLE)["ImageArn"]
    attached = {"CustomImages": [{"ImageName": "img", "AppImageConfigName": "cfg"}]}
    sm.update_domain(DomainId=domain, DefaultSpaceSettings={"JupyterLabAppSettings": attached})
    key = {"DomainId": domain, "SpaceName": "lab", "AppType": "JupyterLab", "AppName": "default"}
    sm.create_app(**key, ResourceSpec={"SageMakerImageArn": image})
    time.sleep(WAIT)
    app = sm.describe_app(**key)
    assert (app["Status"], app["FailureReason"]) == ("Failed", "InternalFailure")
    assert log_lines(domain, f"{domain}/lab/JupyterLab/default") == ["exec format error"]


def test_an_app_needs_its_owner_and_its_image(sm, domain):
    key = {"DomainId": domain, "UserProfileName": "ghost", "AppType": "KernelGateway", "AppName": "a"}
    assert error_of(sm.create_app, **key)[0] == "ResourceNotFound"
    sm.create_user_profile(DomainId=domain, UserProfileName="ghost")
    missing = {"SageMakerImageArn": "arn:aws:sagemaker:us-east-1:123456789012:image/absent"}
    assert error_of(sm.create_app, **key, ResourceSpec=missing)[0] == "ResourceNotFound"


def test_moto_server_mode_serves_the_extension():
    server = ThreadedMotoServer(port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        sm = boto3.client(
            "sagemaker",
            region_name="us-east-1",
            endpoint_url=f"http://{host}:{port}",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        sm.create_image(ImageName="served", RoleArn=ROLE)
        assert sm.describe_image(ImageName="served")["ImageName"] == "served"
        assert error_of(sm.create_image, ImageName="served", RoleArn=ROLE)[0] == "ResourceInUse"
    finally:
        server.stop()


# ECR layers -------------------------------------------------------------------------------------


def upload(ecr, data, digest=None):
    upload_id = ecr.initiate_layer_upload(repositoryName="repo")["uploadId"]
    ecr.upload_layer_part(
        repositoryName="repo",
        uploadId=upload_id,
        partFirstByte=0,
        partLastByte=len(data) - 1,
        layerPartBlob=data,
    )
    digest = digest or "sha256:" + hashlib.sha256(data).hexdigest()
    return ecr.complete_layer_upload(repositoryName="repo", uploadId=upload_id, layerDigests=[digest])


def test_a_layer_download_url_streams_the_blob_and_honours_ranges(aws):
    _, ecr = aws
    ecr.create_repository(repositoryName="repo")
    data = bytes(range(256)) * 40
    digest = upload(ecr, data)["layerDigest"]
    assert (
        ecr.batch_check_layer_availability(repositoryName="repo", layerDigests=[digest])["layers"][0][
            "layerAvailability"
        ]
        == "AVAILABLE"
    )
    url = ecr.get_download_url_for_layer(repositoryName="repo", layerDigest=digest)["downloadUrl"]
    http = urllib3.PoolManager()
    assert http.request("GET", url).data == data
    partial = http.request("GET", url, headers={"Range": "bytes=100-199"})
    assert (partial.status, partial.data, partial.headers["Content-Range"]) == (
        206,
        data[100:200],
        f"bytes 100-199/{len(data)}",
    )
    assert http.request("GET", url, headers={"Range": "bytes=-10"}).data == data[-10:]
    assert http.request("GET", url.replace("Signature=", "Signature=x")).status == 403


def test_layer_errors_are_ecrs(aws):
    _, ecr = aws
    ecr.create_repository(repositoryName="repo")
    code, message = error_of(upload, ecr=ecr, data=b"layer", digest="sha256:" + "0" * 64)
    assert code == "InvalidLayerException" and "does not match the digest specified" in message
    absent = "sha256:" + "1" * 64
    assert (
        error_of(ecr.get_download_url_for_layer, repositoryName="repo", layerDigest=absent)[0]
        == "LayersNotFoundException"
    )
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": absent, "size": 2},
            "layers": [],
        }
    )
    code, _ = error_of(ecr.put_image, repositoryName="repo", imageManifest=manifest, imageTag="1")
    assert code == "LayersNotFoundException"
    upload(ecr, b"{}")
    config = "sha256:" + hashlib.sha256(b"{}").hexdigest()
    manifest = manifest.replace(absent, config)
    code, _ = error_of(
        ecr.put_image, repositoryName="repo", imageManifest=manifest, imageTag="1", imageDigest=absent
    )
    assert code == "ImageDigestDoesNotMatchException"
    pushed = ecr.put_image(repositoryName="repo", imageManifest=manifest, imageTag="1")["image"]["imageId"]
    assert pushed["imageDigest"] == "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()


def test_file_system_config_is_refused_for_jupyterlab_and_code_editor_configs(sm):
    # Given app image configs for the new Studio's apps carrying a FileSystemConfig
    file_system = {"FileSystemConfig": {"MountPath": "/home/sagemaker-user"}}
    for key in ("JupyterLabAppImageConfig", "CodeEditorAppImageConfig"):
        # When one is created, or a config is updated to one, then SageMaker refuses it
        code, message = error_of(sm.create_app_image_config, AppImageConfigName="cfg", **{key: file_system})
        assert (code, message) == ("ValidationException", f"FileSystemConfig is not supported for {key}")
        sm.create_app_image_config(AppImageConfigName="cfg", **{key: {}})
        assert error_of(sm.update_app_image_config, AppImageConfigName="cfg", **{key: file_system})[0] == (
            "ValidationException"
        )
        sm.delete_app_image_config(AppImageConfigName="cfg")
    # And a KernelGateway config keeps its FileSystemConfig
    sm.create_app_image_config(AppImageConfigName="kg", KernelGatewayImageConfig=KERNEL_GATEWAY)


def test_a_user_profile_or_space_holds_at_most_five_kernel_gateway_custom_images(sm, domain):
    # Given a user profile and a space (their updates applied at once, so one follows another)
    moto_studio.settings.domain_update_seconds = 0
    sm.create_user_profile(DomainId=domain, UserProfileName="alice")
    sm.create_space(DomainId=domain, SpaceName="kg", SpaceSettings={"AppType": "KernelGateway"})
    five = {"KernelGatewayAppSettings": {"CustomImages": custom_images(5)}}
    six = {"KernelGatewayAppSettings": {"CustomImages": custom_images(6)}}
    # When each is given five, then six custom images
    sm.update_user_profile(DomainId=domain, UserProfileName="alice", UserSettings=five)
    sm.update_space(DomainId=domain, SpaceName="kg", SpaceSettings={"AppType": "KernelGateway", **five})
    refused = [
        error_of(sm.update_user_profile, DomainId=domain, UserProfileName="alice", UserSettings=six),
        error_of(sm.update_space, DomainId=domain, SpaceName="kg", SpaceSettings=six),
        error_of(sm.create_user_profile, DomainId=domain, UserProfileName="bob", UserSettings=six),
    ]
    # Then five are kept and six are refused, naming the limit
    assert [code for code, _ in refused] == ["ValidationException"] * 3
    assert "has 6 custom images; at most 5 are allowed" in refused[0][1]
    # And a JupyterLab list, for which botocore documents no such limit, takes six
    jupyterlab = {"JupyterLabAppSettings": {"CustomImages": custom_images(6)}}
    sm.update_user_profile(DomainId=domain, UserProfileName="alice", UserSettings=jupyterlab)
    assert (
        len(
            sm.describe_space(DomainId=domain, SpaceName="kg")["SpaceSettings"]["KernelGatewayAppSettings"][
                "CustomImages"
            ]
        )
        == 5
    )
    # And the domain's default settings take up to 200
    sm.update_domain(
        DomainId=domain,
        DefaultUserSettings={"KernelGatewayAppSettings": {"CustomImages": custom_images(200)}},
    )


def test_a_space_runs_one_app_of_its_type_named_default(sm, domain):
    # Given a JupyterLab space
    sm.create_space(DomainId=domain, SpaceName="lab", SpaceSettings={"AppType": "JupyterLab"})
    key = {"DomainId": domain, "SpaceName": "lab"}
    # When apps of another type, or under another name, are created in it, then they are refused
    code, message = error_of(sm.create_app, **key, AppType="CodeEditor", AppName="default")
    assert (code, message) == (
        "ValidationException",
        "Space lab is of app type JupyterLab; it cannot run a CodeEditor app",
    )
    code, message = error_of(sm.create_app, **key, AppType="JupyterLab", AppName="canary-v1")
    assert (code, message) == (
        "ValidationException",
        "A JupyterLab app in a space must be named default, not canary-v1",
    )
    # When the default app runs, then a second start is refused until it is deleted
    sm.create_app(**key, AppType="JupyterLab", AppName="default")
    assert error_of(sm.create_app, **key, AppType="JupyterLab", AppName="default")[0] == "ResourceInUse"
    sm.delete_app(**key, AppType="JupyterLab", AppName="default")
    sm.create_app(**key, AppType="JupyterLab", AppName="default")
    # And the space's app type cannot be changed
    code, _ = error_of(sm.update_space, **key, SpaceSettings={"AppType": "CodeEditor"})
    assert code == "ValidationException"


# Asynchronous changes: CreateImage, DeleteApp, UpdateUserProfile/UpdateSpace/UpdateDomain --------


def test_a_new_image_is_creating_and_takes_no_version_until_it_is_created(sm):
    # Given SageMaker creating images for as long as the test says
    moto_studio.settings.image_seconds = 3600
    sm.create_image(ImageName="img", RoleArn=ROLE)
    # When the image is described, then it is CREATING, with no FailureReason (no null either)
    described = sm.describe_image(ImageName="img")
    assert described["ImageStatus"] == "CREATING" and "FailureReason" not in described
    assert [i["ImageStatus"] for i in sm.list_images()["Images"]] == ["CREATING"]
    # And a version of it is refused as SageMaker refuses it
    code, message = error_of(sm.create_image_version, ImageName="img", BaseImage=f"{REGISTRY}/a:1")
    assert (code, message) == ("ValidationException", "Image img is in an invalid state.")
    # When SageMaker has created it, then it is CREATED for good and takes a version
    moto_studio.settings.image_seconds = 0
    assert sm.describe_image(ImageName="img")["ImageStatus"] == "CREATED"
    moto_studio.settings.image_seconds = 3600
    assert sm.describe_image(ImageName="img")["ImageStatus"] == "CREATED"
    sm.create_image_version(ImageName="img", BaseImage=f"{REGISTRY}/a:1")


def test_an_image_whose_creation_fails_is_create_failed_with_a_reason(sm):
    # Given SageMaker failing to create the next image (moto_studio.faults' create_failed)
    moto_studio.faults.inject(moto_studio.Fault("sagemaker", "CreateImage", "create_failed"))
    # When an image is created, then the call succeeds and the image ends CREATE_FAILED with a reason
    sm.create_image(ImageName="img", RoleArn=ROLE)
    described = sm.describe_image(ImageName="img")
    assert (described["ImageStatus"], described["FailureReason"]) == (
        "CREATE_FAILED",
        "Injected fault: the image could not be created",
    )
    # And it takes no version
    code, _ = error_of(sm.create_image_version, ImageName="img", BaseImage=f"{REGISTRY}/a:1")
    assert code == "ValidationException"
    # And the next image is created as usual
    sm.create_image(ImageName="next", RoleArn=ROLE)
    assert sm.describe_image(ImageName="next")["ImageStatus"] == "CREATED"


def test_a_deleted_app_is_deleting_and_holds_its_space_until_it_is_deleted(sm, domain):
    # Given a JupyterLab space running its app, and SageMaker deleting apps for as long as told
    moto_studio.settings.app_delete_seconds = 3600
    sm.create_space(DomainId=domain, SpaceName="lab", SpaceSettings={"AppType": "JupyterLab"})
    key = {"DomainId": domain, "SpaceName": "lab", "AppType": "JupyterLab", "AppName": "default"}
    sm.create_app(**key)
    # When the app is deleted, then it is Deleting, with no FailureReason
    sm.delete_app(**key)
    described = sm.describe_app(**key)
    assert described["Status"] == "Deleting" and "FailureReason" not in described
    assert [a["Status"] for a in sm.list_apps(DomainIdEquals=domain)["Apps"]] == ["Deleting"]
    # And a new app in the space is refused as in use, and a second delete as already deleted
    assert error_of(sm.create_app, **key)[0] == "ResourceInUse"
    code, message = error_of(sm.delete_app, **key)
    assert code == "ValidationException" and message.endswith("has already been deleted")
    # When SageMaker has deleted it, then it is Deleted, the space takes a new app, and deleting the
    # old one again is still answered the same
    moto_studio.settings.app_delete_seconds = 0
    assert sm.describe_app(**key)["Status"] == "Deleted"
    assert error_of(sm.delete_app, **key)[0] == "ValidationException"
    sm.create_app(**key)
    assert sm.describe_app(**key)["Status"] == "Pending"


def test_an_updated_profile_or_space_is_updating_and_refuses_another_update_meanwhile(sm, domain):
    # Given a user profile and a space, and SageMaker applying updates for as long as told
    moto_studio.settings.domain_update_seconds = 3600
    sm.create_user_profile(DomainId=domain, UserProfileName="alice")
    sm.create_space(DomainId=domain, SpaceName="lab", SpaceSettings={"AppType": "JupyterLab"})
    images = {"KernelGatewayAppSettings": {"CustomImages": custom_images(1)}}
    kinds = [
        (sm.update_user_profile, sm.describe_user_profile, {"UserProfileName": "alice"}, "UserSettings"),
        (sm.update_space, sm.describe_space, {"SpaceName": "lab"}, "SpaceSettings"),
    ]
    for update, describe, name, settings_key in kinds:
        # When it is updated, then it is Updating, with the new settings and no FailureReason
        update(DomainId=domain, **name, **{settings_key: images})
        described = describe(DomainId=domain, **name)
        assert described["Status"] == "Updating" and "FailureReason" not in described
        assert described[settings_key]["KernelGatewayAppSettings"] == images["KernelGatewayAppSettings"]
        # And another update meanwhile is refused as in use
        assert error_of(update, DomainId=domain, **name, **{settings_key: images})[0] == "ResourceInUse"
    assert sm.list_user_profiles(DomainIdEquals=domain)["UserProfiles"][0]["Status"] == "Updating"
    assert sm.list_spaces(DomainIdEquals=domain)["Spaces"][0]["Status"] == "Updating"
    # When the updates are applied, then both are InService and take updates again
    moto_studio.settings.domain_update_seconds = 0
    for update, describe, name, settings_key in kinds:
        assert describe(DomainId=domain, **name)["Status"] == "InService"
        update(DomainId=domain, **name, **{settings_key: images})


@pytest.mark.parametrize("action", ["UpdateUserProfile", "UpdateSpace", "UpdateDomain"])
def test_an_update_that_fails_leaves_update_failed_with_a_reason_until_the_next(sm, domain, action):
    # Given a user profile and a space, and SageMaker failing the next update of one kind
    moto_studio.settings.domain_update_seconds = 0
    sm.create_user_profile(DomainId=domain, UserProfileName="alice")
    sm.create_space(DomainId=domain, SpaceName="lab", SpaceSettings={"AppType": "JupyterLab"})
    update, describe, name = {
        "UpdateUserProfile": (
            sm.update_user_profile,
            sm.describe_user_profile,
            {"UserProfileName": "alice", "UserSettings": {"ExecutionRole": ROLE}},
        ),
        "UpdateSpace": (sm.update_space, sm.describe_space, {"SpaceName": "lab"}),
        "UpdateDomain": (
            sm.update_domain,
            sm.describe_domain,
            {"DefaultUserSettings": {"ExecutionRole": ROLE}},
        ),
    }[action]
    moto_studio.faults.inject(moto_studio.Fault("sagemaker", action, "update_failed"))
    # When it is updated, then the call succeeds and it ends Update_Failed, with SageMaker's reason
    update(DomainId=domain, **name)
    described = describe(DomainId=domain, **{k: v for k, v in name.items() if k.endswith("Name")})
    assert (described["Status"], described["FailureReason"]) == (
        "Update_Failed",
        "Injected fault: the update could not be applied",
    )
    # And a later update that succeeds leaves it InService, with no FailureReason
    update(DomainId=domain, **name)
    described = describe(DomainId=domain, **{k: v for k, v in name.items() if k.endswith("Name")})
    assert described["Status"] == "InService" and "FailureReason" not in described


def assert_botocore_shape(sm, operation: str, response: dict) -> None:
    """Every member of `response` is one of the operation's output members, none is null, the
    required ones are there, and each enum member holds one of its values (botocore's model)."""
    shape = sm.meta.service_model.operation_model(operation).output_shape
    found = {k: v for k, v in response.items() if k != "ResponseMetadata"}
    assert set(found) <= set(shape.members), set(found) - set(shape.members)
    assert set(shape.required_members) <= set(found), operation
    for name, value in found.items():
        assert value is not None, name
        enum = getattr(shape.members[name], "enum", None)
        assert not enum or value in enum, (name, value)


def test_the_new_statuses_are_answered_in_botocores_output_shapes(sm, domain):
    # Given an image being created and one whose creation failed, a profile and a space being
    # updated and one whose update failed, and an app being deleted
    moto_studio.settings.image_seconds = 3600
    moto_studio.settings.domain_update_seconds = 3600
    moto_studio.settings.app_delete_seconds = 3600
    sm.create_image(ImageName="img", RoleArn=ROLE)
    moto_studio.faults.inject(
        moto_studio.Fault("sagemaker", "CreateImage", "create_failed"),
        moto_studio.Fault("sagemaker", "UpdateUserProfile", "update_failed"),
    )
    sm.create_image(ImageName="failed", RoleArn=ROLE)
    sm.create_user_profile(DomainId=domain, UserProfileName="alice")
    sm.create_space(DomainId=domain, SpaceName="lab", SpaceSettings={"AppType": "JupyterLab"})
    sm.update_user_profile(DomainId=domain, UserProfileName="alice", UserSettings={"ExecutionRole": ROLE})
    sm.update_space(DomainId=domain, SpaceName="lab", SpaceSettings={"AppType": "JupyterLab"})
    app = {"DomainId": domain, "SpaceName": "lab", "AppType": "JupyterLab", "AppName": "default"}
    sm.create_app(**app)
    sm.delete_app(**app)
    # When each is described and listed, while under way and once SageMaker is done
    for done in (False, True):
        if done:
            moto_studio.settings.image_seconds = 0
            moto_studio.settings.domain_update_seconds = 0
            moto_studio.settings.app_delete_seconds = 0
        answers = [
            ("DescribeImage", sm.describe_image(ImageName="img")),
            ("DescribeImage", sm.describe_image(ImageName="failed")),
            ("ListImages", sm.list_images()),
            ("DescribeUserProfile", sm.describe_user_profile(DomainId=domain, UserProfileName="alice")),
            ("DescribeSpace", sm.describe_space(DomainId=domain, SpaceName="lab")),
            ("ListUserProfiles", sm.list_user_profiles()),
            ("ListSpaces", sm.list_spaces()),
            ("DescribeApp", sm.describe_app(**app)),
            ("ListApps", sm.list_apps()),
        ]
        # Then every answer is in botocore's output shape, and so is every item of a list
        for operation, answer in answers:
            assert_botocore_shape(sm, operation, answer)
        items = {
            "ListImages": "Image",
            "ListUserProfiles": "UserProfileDetails",
            "ListSpaces": "SpaceDetails",
        }
        for operation, answer in answers:
            if operation in items or operation == "ListApps":
                shape = sm.meta.service_model.shape_for(items.get(operation, "AppDetails"))
                for item in next(v for k, v in answer.items() if isinstance(v, list)):
                    assert set(item) <= set(shape.members), set(item) - set(shape.members)
                    assert all(v is not None for v in item.values())
                    status = item.get("ImageStatus") or item.get("Status")
                    assert status in (shape.members.get("ImageStatus") or shape.members["Status"]).enum
    # And the statuses moved on as SageMaker's do
    assert [i["ImageStatus"] for i in sm.list_images()["Images"]] == ["CREATED", "CREATE_FAILED"]
    alice = sm.describe_user_profile(DomainId=domain, UserProfileName="alice")
    assert (alice["Status"], sm.describe_app(**app)["Status"]) == ("Update_Failed", "Deleted")
