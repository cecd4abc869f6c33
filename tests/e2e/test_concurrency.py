"""Runs side by side on one domain: ten executions attaching ten images at once, and a version
pushed while the previous version's canary is still running."""

from __future__ import annotations

import json
import time

import boto3
from moto.sagemaker.models import sagemaker_backends

import moto_studio
from moto_studio.sagemaker.script import AppScript
from studio_image.pipeline.records import LOCK_LEASE
from studio_image_sandbox.ocibuild import Layer
from studio_image_sandbox.samples import compliant

from .conftest import REGION
from .test_canary import IMAGE, configure, custom_images, states_entered
from .test_retries import failed_tasks

OTHER = {"ImageName": "other-team", "ImageVersionNumber": 4, "AppImageConfigName": "other-team"}


def bind(pipeline, bindings: list[dict]) -> None:
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name=f"/{pipeline.stack.name}/configuration",
        Value=json.dumps({"repositories": bindings}),
        Type="String",
        Overwrite=True,
    )


def attach_seconds(pipeline, execution_arn: str) -> list[float]:
    """How long each Attach invocation ran, from the execution's history: Attach holds the domain
    lock only within one invocation."""
    spans, state, started = [], None, None
    for event in pipeline.history(execution_arn):
        state = event.get("stateEnteredEventDetails", {}).get("name", state)
        kind = event["type"]
        if state != "Attach" or not kind.startswith(("LambdaFunction", "Task")):
            continue
        if kind.endswith("Started"):
            started = event["timestamp"]
        elif kind.endswith(("Succeeded", "Failed", "TimedOut")) and started is not None:
            spans.append((event["timestamp"] - started).total_seconds())
            started = None
    return spans


def test_ten_images_attached_at_once_to_one_domain_profile_and_space_all_end_attached(pipeline):
    # Given a domain with another team's image, and bindings that attach five of ten repositories to
    # the domain, and the other five to the domain, alice and the shared space (five images each:
    # SageMaker's most for a user profile or a space)
    sm = pipeline.sagemaker
    sm.create_image(ImageName="other-team", RoleArn="arn:aws:iam::123456789012:role/r")
    sm.update_domain(
        DomainId=pipeline.domain_id,
        DefaultUserSettings={"KernelGatewayAppSettings": {"CustomImages": [OTHER]}},
    )
    deadline = time.monotonic() + 60
    while sm.describe_domain(DomainId=pipeline.domain_id)["Status"] != "InService":  # it was Updating
        assert time.monotonic() < deadline
        time.sleep(0.05)
    everywhere = {"default_user_settings": True, "spaces": ["shared"], "user_profiles": ["alice"]}
    bind(
        pipeline,
        [
            {"match": "studio/member-*", "profile": "kernel-gateway", "attach": everywhere},
            {"match": "studio/*", "profile": "kernel-gateway", "attach": {"default_user_settings": True}},
        ],
    )
    repositories = [f"studio/member-{i}" for i in range(5)] + [f"studio/domain-{i}" for i in range(5)]
    digests = []
    for repository in repositories:
        image = compliant("kernel-gateway")
        image.layers.append(Layer().file(f"opt/{repository}/README", f"{repository}\n"))
        digests.append(pipeline.push(image, repository))
    # When all ten push events arrive at once
    arns = [pipeline.start(r, d) for r, d in zip(repositories, digests, strict=True)]
    runs = [pipeline.finish(arn, timeout=600) for arn in arns]
    # Then all ten succeeded, none for lack of trying: no Attach ended failed
    assert [r["status"] for r in runs] == ["SUCCEEDED"] * 10, [r.get("error") for r in runs]
    for arn in arns:
        assert {"ImageBusy", "AwsRequestFailed", "CustomImageLimitReached"}.isdisjoint(
            failed_tasks(pipeline, arn)
        )
    # And every image is attached where its binding says, the other team's untouched
    ours = {f"studio-{r.removeprefix('studio/')}" for r in repositories}  # the prefix said once
    members = {f"studio-member-{i}" for i in range(5)}
    found = custom_images(pipeline)
    assert found["domain"][0] == OTHER
    assert {i["ImageName"] for i in found["domain"]} == ours | {"other-team"}
    assert len(found["domain"]) == 11
    assert {i["ImageName"] for i in found["alice"]} == members and len(found["alice"]) == 5
    assert {i["ImageName"] for i in found["shared"]} == members and len(found["shared"]) == 5
    for images in found.values():
        assert all(i["ImageVersionNumber"] == 1 for i in images if i["ImageName"] != "other-team")
    # And no Attach held the lock past its lease, and no lock is left behind
    spans = [s for arn in arns for s in attach_seconds(pipeline, arn)]
    assert spans and max(spans) < LOCK_LEASE, spans
    retried = sum(failed_tasks(pipeline, arn).count("AttachLockHeld") for arn in arns)
    print(
        f"\nten runs at once: {len(spans)} Attach invocations, {retried} waited for the lock, longest "
        f"{max(spans):.1f} s (lease {LOCK_LEASE} s)"
    )
    table = pipeline.stack.physical["StateTable"]
    items = boto3.client("dynamodb", region_name=REGION).scan(TableName=table)["Items"]
    assert [i["pk"]["S"] for i in items if i["pk"]["S"].startswith("lock#")] == []
    assert len(pipeline.notifications()) == 10


def app_of_version(version: int):
    backend = sagemaker_backends["123456789012"][REGION]
    return next(a for a in backend.studio.apps.values() if f"v{version}-" in a.name)


def test_a_version_pushed_during_the_previous_ones_canary_stays_attached_after_its_late_rollback(pipeline):
    # Given a canary that rolls back on failure, and version 1's canary app that is still starting
    configure(pipeline, on_failure="rollback", budget_seconds=600)
    moto_studio.settings.script_app(IMAGE, never_starts=True)
    first = pipeline.start("studio/canary", pipeline.push(compliant("kernel-gateway"), "studio/canary"))
    deadline = time.monotonic() + 120
    while "WaitForCanary" not in states_entered(pipeline, first):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    # When version 2 is pushed, attached, and passes its own canary meanwhile
    moto_studio.settings.app_scripts.clear()
    changed = compliant("kernel-gateway")
    changed.env = [*changed.env, "TEAM=data"]
    second = pipeline.finish(
        pipeline.start("studio/canary", pipeline.push(changed, "studio/canary", "2.0"), "2.0")
    )
    assert second["status"] == "SUCCEEDED", second.get("error")
    # And only then version 1's canary fails, and its run rolls back
    app_of_version(1).script = AppScript(fails=True, reason="exec format error")
    late = pipeline.finish(first, timeout=180)
    assert late.get("error") == "CanaryFailed"
    # Then version 2 is still attached everywhere: the late rollback neither removed it nor put 1 back
    for target, images in custom_images(pipeline).items():
        found = [(i["ImageName"], i["ImageVersionNumber"], i["AppImageConfigName"]) for i in images]
        assert found == [(IMAGE, 2, f"{IMAGE}-v2")], target
    # And no canary app is left running
    apps = pipeline.sagemaker.list_apps(DomainIdEquals=pipeline.domain_id)["Apps"]
    assert [a["AppName"] for a in apps if a["Status"] not in ("Deleted", "Failed")] == []
