"""The canary start after Attach, on moto with apps that write chosen start-up lines and can be
made to fail: the app is always deleted, a failure is named from its log, and rolled back if the
binding says so."""

from __future__ import annotations

import json

import boto3
import pytest

import moto_studio
from moto_studio import Fault, faults
from studio_image_sandbox.samples import compliant

from .conftest import CONFIGURATION, REGION
from .test_pipeline import only_notification

IMAGE = "studio-canary"  # the SageMaker image name derived for studio/canary


def configure(pipeline, **canary) -> None:
    """Bind studio/* with a canary under user profile alice (the configuration is read per run;
    a KernelGateway canary starts only when enabled)."""
    bindings = json.loads(json.dumps(CONFIGURATION["repositories"]))
    bindings[-1]["canary"] = {"enabled": True, "user_profile": "alice", "budget_seconds": 30, **canary}
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name=f"/{pipeline.stack.name}/configuration",
        Value=json.dumps({"repositories": bindings}),
        Type="String",
        Overwrite=True,
    )


def states_entered(pipeline, execution_arn: str) -> list[str]:
    return [
        e["stateEnteredEventDetails"]["name"]
        for e in pipeline.history(execution_arn)
        if "stateEnteredEventDetails" in e
    ]


def apps(pipeline) -> list[dict]:
    return pipeline.sagemaker.list_apps(DomainIdEquals=pipeline.domain_id)["Apps"]


def custom_images(pipeline) -> dict[str, list]:
    domain = pipeline.sagemaker.describe_domain(DomainId=pipeline.domain_id)
    profile = pipeline.sagemaker.describe_user_profile(DomainId=pipeline.domain_id, UserProfileName="alice")
    space = pipeline.sagemaker.describe_space(DomainId=pipeline.domain_id, SpaceName="shared")
    return {
        "domain": pipeline.custom_images(domain["DefaultUserSettings"]),
        "alice": pipeline.custom_images(profile["UserSettings"]),
        "shared": pipeline.custom_images(space["SpaceSettings"]),
    }


def test_a_canary_that_starts_cleanly_passes_and_its_app_is_deleted(pipeline):
    # Given a binding with a canary under alice
    configure(pipeline)
    # When a compliant image is pushed
    execution = pipeline.run(compliant("kernel-gateway"), "studio/canary")
    # Then the workflow starts the app, watches it into service, deletes it, and passes
    assert execution["status"] == "SUCCEEDED"
    entered = states_entered(pipeline, execution["executionArn"])
    assert entered[entered.index("Attach") :][:5] == [
        "Attach",
        "CanaryWanted",
        "StartCanary",
        "WaitForCanary",
        "WatchCanary",
    ]
    assert entered[-5:-2] == ["StopCanary", "PruneWanted", "Notify"]
    (app,) = apps(pipeline)
    assert (app["AppType"], app["UserProfileName"], app["Status"]) == ("KernelGateway", "alice", "Deleted")
    note = only_notification(pipeline)
    assert note["Subject"] == f"[PASSED] studio/canary:1.0 -> {IMAGE} v1"
    assert "Canary: KernelGateway app canary-v1-" in note["doc"]["text"]
    assert ": InService" in note["doc"]["text"] and "The canary app was deleted." in note["doc"]["text"]
    # And the reader is told what a KernelGateway canary cannot show
    assert "sees the container start, not a kernel start" in note["doc"]["text"]
    assert all(IMAGE in [i["ImageName"] for i in images] for images in custom_images(pipeline).values())


# Each known signature is matched in tests/unit/test_signatures.py (these lines among them); a whole
# run shows one of them named, quoted and rolled back.
@pytest.mark.core
@pytest.mark.parametrize(
    ("line", "signature"), [("the image's uid 1001 does not match the DefaultUid 1000", "uid-gid-mismatch")]
)
def test_a_canary_failing_with_a_known_signature_is_rolled_back_and_quoted(pipeline, line, signature):
    # Given a binding that rolls back, and an image whose app fails with `line` in its log
    configure(pipeline, on_failure="rollback")
    moto_studio.settings.script_app(
        IMAGE, fails=True, reason="The app failed to start.", log_lines=["[I] starting", line, "[I] exiting"]
    )
    # When it is pushed
    execution = pipeline.run(compliant("kernel-gateway"), "studio/canary")
    # Then the execution fails with CanaryFailed, the app is deleted, and the new image is taken
    # off everything Attach put it on
    assert (execution["status"], execution.get("error")) == ("FAILED", "CanaryFailed")
    assert [app["Status"] for app in apps(pipeline)] == ["Deleted"]
    assert custom_images(pipeline) == {"domain": [], "alice": [], "shared": []}
    # And the notification names the signature, quotes the line, and says what was rolled back
    note = only_notification(pipeline)
    assert note["Subject"] == f"[CANARY-FAILED] studio/canary:1.0 v1: {signature}; rolled back"
    text = note["doc"]["text"]
    assert f"- {signature}: " in text and f"  > {line}" in text and "  Fix: " in text
    assert "Failed: The app failed to start." in text
    assert "Rolled back" in text and "- user profile alice in d-studio" in text


def test_a_rollback_restores_the_version_the_image_had_before(pipeline):
    # Given version 1 of the image attached after a clean canary
    configure(pipeline, on_failure="rollback")
    assert pipeline.run(compliant("kernel-gateway"), "studio/canary")["status"] == "SUCCEEDED"
    pipeline.notifications()
    # When version 2 fails its canary
    moto_studio.settings.script_app(IMAGE, fails=True, log_lines=["exec format error"])
    changed = compliant("kernel-gateway")
    changed.env = [*changed.env, "TEAM=data"]
    execution = pipeline.run(changed, "studio/canary", tag="2.0")
    # Then every target has version 1 again
    assert execution.get("error") == "CanaryFailed"
    for target, images in custom_images(pipeline).items():
        assert [(i["ImageName"], i["ImageVersionNumber"]) for i in images] == [(IMAGE, 1)], target
    assert "rolled back" in only_notification(pipeline)["Subject"]


def test_a_canary_that_never_leaves_pending_hits_its_budget_and_is_still_deleted(pipeline):
    # Given a binding that only reports, a 4 s budget, and an app that stays Pending (WatchCanary's
    # environment already warm, so its first look, a second after the start, is within the budget
    # however busy the machine: no cold start in between)
    configure(pipeline, budget_seconds=4)
    moto_studio.settings.script_app(IMAGE, never_starts=True)
    warm = pipeline.awslambda.invoke(
        FunctionName=pipeline.stack.functions["WatchCanaryFunction"], Payload=b"{}"
    )
    assert "FunctionError" in warm  # not a watch's input; the environment stays warm
    # When the image is pushed
    execution = pipeline.run(compliant("kernel-gateway"), "studio/canary")
    # Then the loop ends on the budget, the app is deleted, and the version stays attached
    assert execution.get("error") == "CanaryFailed"
    assert states_entered(pipeline, execution["executionArn"]).count("WatchCanary") >= 2
    assert [app["Status"] for app in apps(pipeline)] == ["Deleted"]
    assert IMAGE in [i["ImageName"] for i in custom_images(pipeline)["alice"]]
    note = only_notification(pipeline)
    assert note["Subject"] == "[CANARY-FAILED] studio/canary:1.0 v1: TimedOut; still attached"
    assert "The version stays attached (on_failure: report)." in note["doc"]["text"]


def bind_new_studio_app(pipeline, profile: str, space: str) -> None:
    """Bind studio/<profile> to a profile of the new Studio, with a canary in `space`."""
    binding = {
        "match": f"studio/{profile}",
        "profile": profile,
        "attach": {"user_profiles": ["alice"]},
        "canary": {"space": space, "budget_seconds": 30},
    }
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name=f"/{pipeline.stack.name}/configuration",
        Value=json.dumps({"repositories": [binding, *CONFIGURATION["repositories"]]}),
        Type="String",
        Overwrite=True,
    )


@pytest.mark.parametrize(
    ("profile", "space", "app_type"),
    [("jupyterlab", "canary-jupyterlab", "JupyterLab"), ("code-editor", "canary-code-editor", "CodeEditor")],
)
def test_a_new_studio_canary_starts_as_app_default_in_its_own_space(pipeline, profile, space, app_type):
    # Given a binding whose canary runs in a space of the image's app type
    bind_new_studio_app(pipeline, profile, space)
    # When a compliant image is pushed
    execution = pipeline.run(compliant(profile), f"studio/{profile}")
    # Then the canary ran as the space's one app, named default, and was deleted
    assert execution["status"] == "SUCCEEDED", execution.get("error")
    (app,) = apps(pipeline)
    assert (app["AppType"], app["SpaceName"], app["AppName"], app["Status"]) == (
        app_type,
        space,
        "default",
        "Deleted",
    )
    assert f"Canary: {app_type} app default" in only_notification(pipeline)["doc"]["text"]


@pytest.mark.parametrize(
    ("space", "problem"),
    [
        (
            "canary-jupyterlab",
            "runs JupyterLab apps; a CodeEditor canary needs a space of app type CodeEditor",
        ),
        ("absent", "canary space absent does not exist in domain"),
    ],
)
def test_a_canary_space_missing_or_of_another_app_type_is_refused_at_resolve(pipeline, space, problem):
    # Given a Code Editor binding whose canary space is missing, or a JupyterLab space
    bind_new_studio_app(pipeline, "code-editor", space)
    # When an image is pushed
    execution = pipeline.run(compliant("code-editor"), "studio/code-editor")
    # Then Resolve refuses the configuration, before anything is registered
    assert execution["status"] == "FAILED"
    note = only_notification(pipeline)
    assert note["doc"]["error"]["Error"] == "ConfigurationInvalid"
    assert problem in note["doc"]["error"]["Cause"]
    assert pipeline.sagemaker.list_images()["Images"] == []


def test_a_failing_canary_in_its_space_is_reported_by_its_run_not_as_a_users_app_start(pipeline):
    # Given a JupyterLab binding with a canary space, and an image whose app fails at start
    bind_new_studio_app(pipeline, "jupyterlab", "canary-jupyterlab")
    moto_studio.settings.script_app(
        "default", fails=True, log_lines=["exec /opt/conda/bin/python3: exec format error"]
    )
    # When it is pushed
    execution = pipeline.run(compliant("jupyterlab"), "studio/jupyterlab")
    # Then the run reports the canary, and the app-start watch sends nothing of its own
    assert execution.get("error") == "CanaryFailed"
    assert moto_studio.logs.join_deliveries(120) == []  # subscriptions deliver on threads of their own
    notes = pipeline.notifications()
    assert [n["Subject"].split("]")[0] for n in notes] == ["[CANARY-FAILED"]


def test_a_canary_start_that_dies_after_its_create_app_still_deletes_the_app_and_fails_the_run(pipeline):
    # Given a JupyterLab binding with a canary space, and a StartCanary whose runtime dies once its
    # CreateApp has gone through (the answer is lost)
    bind_new_studio_app(pipeline, "jupyterlab", "canary-jupyterlab")
    function = pipeline.stack.functions["StartCanaryFunction"]
    faults.inject(Fault("lambda", "Invoke", "killed_after", function=function))
    # When an image is pushed
    execution = pipeline.run(compliant("jupyterlab"), "studio/jupyterlab")
    # Then the run goes through StopCanary before Notify, and the app it started is deleted
    assert (execution["status"], execution.get("error")) == ("FAILED", "PipelineFailed")
    entered = states_entered(pipeline, execution["executionArn"])
    assert entered[entered.index("StartCanary") :][:5] == [
        "StartCanary",
        "CanaryNotStarted",
        "StopCanary",
        "PruneWanted",
        "Notify",
    ]
    (app,) = apps(pipeline)
    assert (app["SpaceName"], app["AppName"], app["Status"]) == ("canary-jupyterlab", "default", "Deleted")
    # And the notification names the start's own error, not the stop
    note = only_notification(pipeline)
    assert note["Subject"] == "[FAILED] studio/jupyterlab:1.0: Runtime.ExitError in StartCanary"
    assert note["doc"]["error"]["Error"] == "Runtime.ExitError"
    assert "The canary app was deleted." in note["doc"]["text"]
