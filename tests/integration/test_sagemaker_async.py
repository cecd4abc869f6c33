"""The pipeline's stages against SageMaker's asynchronous changes, on moto_studio (whose delays the
tests set): a new image is CREATING before it takes a version, a deleted app is Deleting before its
space is free, and an updated profile is Updating before it takes another update. What is still
under way is a transient error the state machine retries; what failed ends the run at once."""

from __future__ import annotations

import pytest

import moto_studio
from studio_image.aws.sagemaker import SageMaker
from studio_image.errors import (
    CanarySpaceBusy,
    ConfigurationInvalid,
    DomainBusy,
    ImageBusy,
    ImageUnusable,
    TargetUnusable,
)
from studio_image.pipeline import canaryspace
from studio_image.pipeline.config import Binding
from studio_image.pipeline.models import CanaryPlan, Job, Pushed, Registration
from studio_image.pipeline.stages.attach import AttachInput, attach
from studio_image.pipeline.stages.register import RegisterInput, register

REGION = "us-east-1"
EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:pipeline:run"
DIGEST = "sha256:" + "a" * 64
BINDING = Binding(
    match="studio/*",
    profile="kernel-gateway",
    attach={"default_user_settings": True, "user_profiles": ["alice"]},
)


def job(domain_id: str) -> Job:
    return Job(
        binding=BINDING,
        registers=True,
        image_name="studio-lab",
        domain_id=domain_id,
        display_name="studio/lab",
        poll_seconds=1,
    )


def register_input(domain_id: str) -> RegisterInput:
    pushed = Pushed(account="123456789012", region=REGION, repository="studio/lab", digest=DIGEST, tag="1")
    return RegisterInput(execution_arn=EXECUTION, pushed=pushed, job=job(domain_id), manifest_digest=DIGEST)


def test_register_waits_while_the_image_it_created_is_creating_then_makes_the_version(studio):
    # Given SageMaker creating images until the test says otherwise
    sm, domain_id, svc = studio
    moto_studio.settings.image_seconds = 3600
    # When Register runs for a new repository, then it creates the image and is busy while it is
    # CREATING, with no version made
    with pytest.raises(ImageBusy, match="image studio-lab is CREATING"):
        register(register_input(domain_id), svc)
    assert sm.describe_image(ImageName="studio-lab")["ImageStatus"] == "CREATING"
    assert sm.list_image_versions(ImageName="studio-lab")["ImageVersions"] == []
    # When the state's retry runs Register again once the image is CREATED, then it makes the version
    moto_studio.settings.image_seconds = 0
    registration = register(register_input(domain_id), svc)
    assert (registration.image_name, registration.version) == ("studio-lab", 1)


def test_register_of_an_image_whose_creation_failed_fails_at_once_with_sagemakers_reason(studio):
    # Given SageMaker failing to create the next image
    _, domain_id, svc = studio
    moto_studio.faults.inject(moto_studio.Fault("sagemaker", "CreateImage", "create_failed"))
    # When Register creates it, then the run fails (no retry), naming the status and the reason
    with pytest.raises(
        ImageUnusable,
        match="image studio-lab is CREATE_FAILED: Injected fault: the image could not be created",
    ):
        register(register_input(domain_id), svc)


def test_a_version_of_an_image_not_yet_created_is_busy_not_a_failure(studio):
    # Given an image SageMaker is still creating
    sm, _, _ = studio
    moto_studio.settings.image_seconds = 3600
    sm.create_image(ImageName="studio-lab", RoleArn="arn:aws:iam::123456789012:role/images")
    # When a version of it is asked for, then SageMaker's "is in an invalid state" is ImageBusy
    with pytest.raises(ImageBusy, match="is in an invalid state"):
        SageMaker(sm).create_image_version("studio-lab", f"x.dkr.ecr/r@{DIGEST}", "token")


def test_deleting_an_app_twice_is_done_and_its_space_is_busy_until_it_is_deleted(studio):
    # Given the canary space's app running, and SageMaker deleting apps until the test says otherwise
    sm, domain_id, _ = studio
    moto_studio.settings.app_delete_seconds = 3600
    sagemaker = SageMaker(sm)
    plan = CanaryPlan(
        owner_kind="Space",
        owner="canary-jupyterlab",
        app_type="JupyterLab",
        instance_type="ml.t3.medium",
        budget_seconds=60,
        rollback=False,
    )
    app = (domain_id, "Space", "canary-jupyterlab", "JupyterLab", "default")
    sagemaker.create_app(*app, {})
    # When StopCanary deletes it, and deletes it again on a retry, then both calls are done
    assert sagemaker.delete_app(*app) is True
    assert sagemaker.delete_app(*app) is False
    # And while it is Deleting, a canary does not start in the space
    with pytest.raises(CanarySpaceBusy, match="is still deleting its JupyterLab app"):
        canaryspace.check_space_free(sagemaker, domain_id, plan, "default")
    # When SageMaker has deleted it, then the space is free, and a third delete is still done
    moto_studio.settings.app_delete_seconds = 0
    canaryspace.check_space_free(sagemaker, domain_id, plan, "default")
    assert sagemaker.delete_app(*app) is False


def attach_input(domain_id: str) -> AttachInput:
    return AttachInput(
        execution_arn=EXECUTION,
        job=job(domain_id),
        registration=Registration(
            image_name="studio-lab", image_version_arn="arn:v/1", version=1, status="CREATED"
        ),
        app_image_config_name="studio-lab-v1",
    )


def domain_images(sm, domain_id: str) -> list:
    settings = sm.describe_domain(DomainId=domain_id)["DefaultUserSettings"]
    return (settings.get("KernelGatewayAppSettings") or {}).get("CustomImages", [])


def test_an_attach_while_a_target_profile_is_updating_is_busy_before_writing_anything(studio):
    # Given user profile alice being updated until the test says otherwise
    sm, domain_id, svc = studio
    moto_studio.settings.domain_update_seconds = 3600
    sm.update_user_profile(DomainId=domain_id, UserProfileName="alice", UserSettings={})
    # When the image is attached to the domain and alice, then the attach is busy, naming alice,
    # and the domain (written first when it goes ahead) is untouched
    with pytest.raises(DomainBusy, match=r"user profile alice in .* is Updating"):
        attach(attach_input(domain_id), svc)
    assert domain_images(sm, domain_id) == []
    # When alice's update is applied, then the retried attach puts the image on both
    moto_studio.settings.domain_update_seconds = 0
    attached = attach(attach_input(domain_id), svc)
    assert [t.setting for t in attached.targets] == ["DefaultUserSettings", "UserProfile"]
    assert [i["ImageName"] for i in domain_images(sm, domain_id)] == ["studio-lab"]


@pytest.mark.parametrize(
    ("action", "target"),
    [("UpdateUserProfile", "user profile alice"), ("UpdateDomain", "domain")],
)
def test_an_attach_to_a_target_whose_update_failed_fails_at_once_naming_it(studio, action, target):
    # Given alice's (or the domain's) last update failed
    sm, domain_id, svc = studio
    moto_studio.settings.domain_update_seconds = 0
    moto_studio.faults.inject(moto_studio.Fault("sagemaker", action, "update_failed"))
    if action == "UpdateUserProfile":
        sm.update_user_profile(DomainId=domain_id, UserProfileName="alice", UserSettings={})
    else:
        sm.update_domain(
            DomainId=domain_id, DefaultUserSettings={"ExecutionRole": svc.settings.image_role_arn}
        )
    # When the image is attached, then the run fails without a retry, naming the target, its status
    # and SageMaker's reason, and nothing was written
    with pytest.raises(TargetUnusable, match=f"{target}.* is Update_Failed: Injected fault"):
        attach(attach_input(domain_id), svc)
    assert domain_images(sm, domain_id) == []
    alice = sm.describe_user_profile(DomainId=domain_id, UserProfileName="alice")["UserSettings"]
    assert "KernelGatewayAppSettings" not in alice


def test_register_refuses_a_derived_name_another_repository_already_holds(studio):
    # Given the image studio-lab, built from repository studio/lab
    sm, domain_id, svc = studio
    register(register_input(domain_id), svc)
    # When a repository whose name differs only in its separators derives the same name
    twin = register_input(domain_id)
    twin.pushed.repository = "studio-lab"
    # Then Register refuses it, naming both repositories and the fix, and makes nothing
    with pytest.raises(ConfigurationInvalid) as refused:
        register(twin, svc)
    assert str(refused.value) == (
        "repository studio-lab derives the image name studio-lab, already taken by the image built from "
        "repository studio/lab (derived names fold '/', '-' and other characters alike): give the binding "
        "'studio/*' an image_name of its own"
    )
    assert [v["Version"] for v in sm.list_image_versions(ImageName="studio-lab")["ImageVersions"]] == [1]
