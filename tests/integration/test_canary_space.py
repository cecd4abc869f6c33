"""A canary in a space waits while the space runs its app: a space runs one app at a time. And
SageMaker (the sandbox's) starts a custom image only where it is attached for the app's owner."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from studio_image.aws.sagemaker import SageMaker
from studio_image.errors import CanarySpaceBusy
from studio_image.pipeline import canaryspace
from studio_image.pipeline.models import CanaryPlan
from studio_image_sandbox.studio import create_domain

PLAN = CanaryPlan(
    owner_kind="Space",
    owner="canary-jupyterlab",
    app_type="JupyterLab",
    instance_type="ml.t3.medium",
    budget_seconds=60,
    rollback=False,
)


def test_a_canary_does_not_start_while_its_space_runs_its_app():
    with mock_aws():
        client = boto3.client("sagemaker", region_name="us-east-1")
        domain = create_domain(boto3.client("iam", region_name="us-east-1"), client)
        sagemaker = SageMaker(client)
        name = canaryspace.app_name(PLAN, 3, "run")
        key = {
            "DomainId": domain.domain_id,
            "SpaceName": PLAN.owner,
            "AppType": "JupyterLab",
            "AppName": name,
        }
        # Given the canary space's app was started by someone
        client.create_app(**key)
        # When a canary checks the space, then it is refused as busy, naming the space
        with pytest.raises(
            CanarySpaceBusy, match=r"space canary-jupyterlab in d-.* is running its JupyterLab app"
        ):
            canaryspace.check_space_free(sagemaker, domain.domain_id, PLAN, name)
        # And once the app is deleted, the canary may start
        client.delete_app(**key)
        canaryspace.check_space_free(sagemaker, domain.domain_id, PLAN, name)
        assert name == "default"


ROLE = "arn:aws:iam::123456789012:role/studio-execution"
ATTACHED = {"CustomImages": [{"ImageName": "img", "AppImageConfigName": "cfg"}]}


@pytest.mark.parametrize(
    ("space", "app_type", "settings", "starts"),
    [
        # A private space: its owner's user settings, or the domain's DefaultUserSettings.
        ("private", "JupyterLab", {"alice": "JupyterLabAppSettings"}, True),
        ("private", "CodeEditor", {"DefaultUserSettings": "CodeEditorAppSettings"}, True),
        ("private", "JupyterLab", {"bob": "JupyterLabAppSettings"}, False),
        ("private", "JupyterLab", {"DefaultSpaceSettings": "JupyterLabAppSettings"}, False),
        # A shared space: the domain's DefaultSpaceSettings only.
        ("shared", "JupyterLab", {"DefaultSpaceSettings": "JupyterLabAppSettings"}, True),
        ("shared", "JupyterLab", {"alice": "JupyterLabAppSettings"}, False),
        ("shared", "CodeEditor", {"DefaultUserSettings": "CodeEditorAppSettings"}, False),
        # A KernelGateway space: its own SpaceSettings too.
        ("shared", "KernelGateway", {"space": "KernelGatewayAppSettings"}, True),
    ],
)
def test_sagemaker_starts_a_custom_image_only_where_the_space_sees_it(space, app_type, settings, starts):
    with mock_aws():
        sm = boto3.client("sagemaker", region_name="us-east-1")
        # Given a domain, users alice and bob, and the image attached where `settings` says
        domain = sm.create_domain(
            DomainName="studio",
            AuthMode="IAM",
            DefaultUserSettings={"ExecutionRole": ROLE},
            SubnetIds=["s"],
            VpcId="v",
        )["DomainArn"].rsplit("/", 1)[-1]
        image = sm.create_image(ImageName="img", RoleArn=ROLE)["ImageArn"]
        defaults = {k: {v: ATTACHED} for k, v in settings.items() if k.startswith("Default")}
        if defaults:
            sm.update_domain(DomainId=domain, **defaults)
        for user in ("alice", "bob"):
            user_settings = {settings[user]: ATTACHED} if user in settings else {}
            sm.create_user_profile(DomainId=domain, UserProfileName=user, UserSettings=user_settings)
        # And a space of the app type, private to alice or shared
        sharing = {"SpaceSharingSettings": {"SharingType": space.capitalize()}}
        if space == "private":
            sharing["OwnershipSettings"] = {"OwnerUserProfileName": "alice"}
        own = {settings["space"]: ATTACHED} if "space" in settings else {}
        sm.create_space(
            DomainId=domain, SpaceName="lab", SpaceSettings={"AppType": app_type, **own}, **sharing
        )
        # When an app of the image starts in the space
        key = {"DomainId": domain, "SpaceName": "lab", "AppType": app_type, "AppName": "default"}
        if starts:
            # Then it starts where the space sees the image
            sm.create_app(**key, ResourceSpec={"SageMakerImageArn": image})
            assert sm.describe_app(**key)["Status"] == "Pending"
            return
        # Or it is refused, naming the image and the space, and no app is there
        with pytest.raises(ClientError) as refused:
            sm.create_app(**key, ResourceSpec={"SageMakerImageArn": image})
        error = refused.value.response["Error"]
        assert error["Code"] == "ValidationException"
        assert (
            error["Message"] == f"Image img is not attached to Space lab's {app_type} apps in domain {domain}"
        )
        assert sm.list_apps(DomainIdEquals=domain)["Apps"] == []
