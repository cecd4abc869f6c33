"""What SageMaker answers with ResourceInUse while something is changing is waited out, not failed:
CreateImageVersion while the image has a version being created, DeleteApp while the app cannot be
deleted yet, and an update while a profile is being updated, and the run still ends as it should."""

from __future__ import annotations

import time

import moto_studio
from studio_image_sandbox.samples import compliant

from .test_canary import IMAGE, apps, configure, custom_images, states_entered


def failed_tasks(pipeline, execution_arn: str) -> list[str]:
    """The error of every failed Lambda invocation in the execution's history."""
    found = []
    for event in pipeline.history(execution_arn):
        details = event.get("taskFailedEventDetails") or event.get("lambdaFunctionFailedEventDetails")
        if details:
            found.append(details["error"])
    return found


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
    versions = pipeline.sagemaker.list_image_versions(ImageName="studio-studio-busy")["ImageVersions"]
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
