"""What SageMaker answers with ResourceInUse while something is changing is waited out, not failed:
CreateImageVersion while the image has a version being created, DeleteApp while the app cannot be
deleted yet, and an update while a profile is being updated, and the run still ends as it should.
So are SageMaker's asynchronous changes: a new image CREATING, a deleted app Deleting, a profile
Updating."""

from __future__ import annotations

import json
import time

import moto_studio
from studio_image_sandbox.samples import compliant

from .test_canary import IMAGE, apps, bind_new_studio_app, configure, custom_images, states_entered


def failed_tasks(pipeline, execution_arn: str) -> list[str]:
    """The error of every failed Lambda invocation in the execution's history."""
    found = []
    for event in pipeline.history(execution_arn):
        details = event.get("taskFailedEventDetails") or event.get("lambdaFunctionFailedEventDetails")
        if details:
            found.append(details["error"])
    return found


def task_failures(pipeline, execution_arn: str) -> list[tuple[str, str]]:
    """(error, message) of every failed Lambda invocation in the execution's history."""
    found = []
    for event in pipeline.history(execution_arn):
        details = event.get("taskFailedEventDetails") or event.get("lambdaFunctionFailedEventDetails")
        if details:
            found.append((details["error"], json.loads(details["cause"]).get("errorMessage", "")))
    return found


def wait_for_failure(pipeline, execution_arn: str, error: str) -> str:
    """Wait until a Lambda invocation of the execution failed with `error`; its message."""
    deadline = time.monotonic() + 120
    while True:
        messages = [message for name, message in task_failures(pipeline, execution_arn) if name == error]
        if messages:
            return messages[0]
        assert time.monotonic() < deadline, f"no {error} in {execution_arn}"
        time.sleep(0.05)


def test_the_first_push_of_a_repository_waits_for_its_new_image_to_be_created(pipeline):
    # Given SageMaker creating new images until the test says otherwise
    moto_studio.settings.image_seconds = 3600
    # When the first image of a new repository is pushed
    execution = pipeline.start(
        "studio/newcomer", pipeline.push(compliant("kernel-gateway"), "studio/newcomer")
    )
    # Then Register created the image and, while it was CREATING, made no version and was retried
    message = wait_for_failure(pipeline, execution, "ImageBusy")
    assert "image studio-newcomer is CREATING" in message
    assert pipeline.sagemaker.list_image_versions(ImageName="studio-newcomer")["ImageVersions"] == []
    # And once SageMaker has created the image, the run ends registered and attached
    moto_studio.settings.image_seconds = 0.2
    finished = pipeline.finish(execution)
    assert finished["status"] == "SUCCEEDED", finished.get("error")
    assert json.loads(finished["output"])["attached"] is True
    version = pipeline.sagemaker.describe_image_version(ImageName="studio-newcomer", Version=1)
    assert version["ImageVersionStatus"] == "CREATED"


def test_two_canaries_back_to_back_in_one_space_both_pass(pipeline):
    # Given a JupyterLab binding whose canary runs in its space, and SageMaker deleting apps until
    # the test says otherwise
    bind_new_studio_app(pipeline, "jupyterlab", "canary-jupyterlab")
    moto_studio.settings.app_delete_seconds = 3600
    # When an image is pushed and its run ends, leaving its canary app Deleting
    first = pipeline.run(compliant("jupyterlab"), "studio/jupyterlab")
    assert first["status"] == "SUCCEEDED", first.get("error")
    assert [app["Status"] for app in apps(pipeline)] == ["Deleting"]
    # And a second image is pushed at once
    changed = compliant("jupyterlab")
    changed.env = [*changed.env, "TEAM=data"]
    second = pipeline.start("studio/jupyterlab", pipeline.push(changed, "studio/jupyterlab", "2.0"), "2.0")
    # Then its canary waits while the space's app is Deleting, and starts once it is Deleted
    assert "is still deleting its JupyterLab app" in wait_for_failure(pipeline, second, "CanarySpaceBusy")
    moto_studio.settings.app_delete_seconds = 0.2
    finished = pipeline.finish(second, timeout=180)
    assert finished["status"] == "SUCCEEDED", finished.get("error")
    assert json.loads(finished["output"])["outcome"] == "passed"
    versions = pipeline.sagemaker.list_image_versions(ImageName="studio-jupyterlab")["ImageVersions"]
    assert sorted(v["Version"] for v in versions) == [1, 2]


def test_an_attach_while_a_target_profile_is_updating_waits_for_it(pipeline):
    # Given user profile alice (an attach target) being updated until the test says otherwise
    moto_studio.settings.domain_update_seconds = 3600
    pipeline.sagemaker.update_user_profile(
        DomainId=pipeline.domain_id, UserProfileName="alice", UserSettings={}
    )
    # When an image is pushed
    execution = pipeline.start(
        "studio/busy-alice", pipeline.push(compliant("kernel-gateway"), "studio/busy-alice")
    )
    # Then Attach waits while alice is Updating, writing nothing meanwhile
    assert "user profile alice in" in wait_for_failure(pipeline, execution, "DomainBusy")
    assert custom_images(pipeline)["domain"] == []
    # And once alice's update is applied, the run ends with the version attached everywhere
    moto_studio.settings.domain_update_seconds = 0.2
    finished = pipeline.finish(execution, timeout=180)
    assert finished["status"] == "SUCCEEDED", finished.get("error")
    for target, images in custom_images(pipeline).items():
        assert [i["ImageName"] for i in images] == ["studio-busy-alice"], target


def test_a_version_created_while_another_is_creating_waits_for_it(pipeline):
    # Given SageMaker is still creating the version of one push of studio/busy (until told otherwise)
    moto_studio.settings.image_version_seconds = 3600
    first = pipeline.start("studio/busy", pipeline.push(compliant("kernel-gateway"), "studio/busy"))
    deadline = time.monotonic() + 60
    while "WaitForVersion" not in states_entered(pipeline, first):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    # When a second image is pushed to the same repository meanwhile
    changed = compliant("kernel-gateway")
    changed.env = [*changed.env, "TEAM=data"]
    second = pipeline.start("studio/busy", pipeline.push(changed, "studio/busy", "2.0"), "2.0")
    # Then its CreateImageVersion is refused as in use and retried; once SageMaker has created the
    # first version, both runs end attached
    deadline = time.monotonic() + 120
    while "ImageBusy" not in failed_tasks(pipeline, second):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    moto_studio.settings.image_version_seconds = 0.2
    assert pipeline.finish(first)["status"] == "SUCCEEDED"
    assert pipeline.finish(second, timeout=180)["status"] == "SUCCEEDED"
    versions = pipeline.sagemaker.list_image_versions(ImageName="studio-busy")["ImageVersions"]
    assert sorted(v["Version"] for v in versions) == [1, 2]


def test_a_canary_app_sagemaker_cannot_delete_at_once_is_deleted_on_retry(pipeline):
    # Given a canary, and SageMaker answering ResourceInUse to the first two DeleteApp calls
    configure(pipeline)
    moto_studio.settings.answer_busy("DeleteApp", times=2)
    # When an image is pushed
    execution = pipeline.run(compliant("kernel-gateway"), "studio/canary", tag="1.0")
    # Then StopCanary retried until the app was deleted, and the run passed
    assert execution["status"] == "SUCCEEDED", execution.get("error")
    assert failed_tasks(pipeline, execution["executionArn"]).count("AppBusy") == 2
    assert [app["Status"] for app in apps(pipeline)] == ["Deleted"]


def test_a_rollback_after_a_retried_attach_restores_what_was_there_before_the_run(pipeline):
    # Given version 1 attached everywhere after a clean canary, with rollback on failure
    configure(pipeline, on_failure="rollback")
    assert pipeline.run(compliant("kernel-gateway"), "studio/canary")["status"] == "SUCCEEDED"
    pipeline.notifications()
    # When version 2's Attach writes the domain and the space, is refused by the busy user profile
    # and retried, and then its canary fails
    moto_studio.settings.answer_busy("UpdateUserProfile", times=1)
    moto_studio.settings.script_app(IMAGE, fails=True, log_lines=["exec format error"])
    changed = compliant("kernel-gateway")
    changed.env = [*changed.env, "TEAM=data"]
    execution = pipeline.run(changed, "studio/canary", tag="2.0")
    assert execution.get("error") == "CanaryFailed"
    assert "DomainBusy" in failed_tasks(pipeline, execution["executionArn"])
    # Then every target, those the first attempt wrote included, has version 1 again
    for target, images in custom_images(pipeline).items():
        found = [(i["ImageName"], i["ImageVersionNumber"], i["AppImageConfigName"]) for i in images]
        assert found == [(IMAGE, 1, f"{IMAGE}-v1")], target
