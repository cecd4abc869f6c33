"""Users' own app starts, watched through the template's CloudWatch Logs subscription on
`/aws/sagemaker/studio`: a managed image failing to start is notified once per app start; an
image the pipeline does not manage is not."""

from __future__ import annotations

import json
import time

import moto_studio
from studio_image_sandbox.samples import compliant

IMAGE = "studio-watched"  # the SageMaker image name derived for studio/watched


def delivered(pipeline) -> list[dict]:
    """The notifications sent once the subscription deliveries under way have ended (they run on
    threads of their own after PutLogEvents returns, as in AWS)."""
    assert moto_studio.logs.join_deliveries(120) == []
    return pipeline.notifications()


def start_app(pipeline, name: str, image_arn: str, version_arn: str | None = None) -> None:
    spec = {"SageMakerImageArn": image_arn, "InstanceType": "ml.t3.medium"}
    if version_arn:
        spec["SageMakerImageVersionArn"] = version_arn
    pipeline.sagemaker.create_app(
        DomainId=pipeline.domain_id,
        UserProfileName="alice",
        AppType="KernelGateway",
        AppName=name,
        ResourceSpec=spec,
    )


def test_a_managed_image_failing_to_start_is_notified_once_per_app_start(pipeline):
    # Given an image the pipeline registered and attached
    execution = pipeline.run(compliant("kernel-gateway"), "studio/watched")
    assert execution["status"] == "SUCCEEDED"
    pipeline.notifications()
    version_arn = json.loads(execution["output"])["image_version_arn"]
    image_arn = version_arn.rsplit("/", 1)[0].replace(":image-version/", ":image/")
    # When alice starts an app with it, and the app's start-up log shows an architecture problem
    moto_studio.settings.script_app(
        "alices-app", fails=True, log_lines=["[I] starting", "exec /opt/conda/bin/python3: exec format error"]
    )
    start_app(pipeline, "alices-app", image_arn, version_arn)
    # Then one notification names the image, version, user and signature, quoting the line
    (note,) = delivered(pipeline)
    assert note["Subject"] == f"[APP-START-FAILED] {IMAGE} v1: exec-format-error for user profile alice"
    assert note["MessageAttributes"]["status"]["Value"] == "app-start-failed"
    document = json.loads(note["Message"])
    assert pipeline.notifications() == []
    assert (document["image_version_arn"], document["user_profile"]) == (version_arn, "alice")
    assert "  > exec /opt/conda/bin/python3: exec format error" in document["text"]
    # And more lines from the same app start within the window send nothing more
    pipeline.logs.put_log_events(
        logGroupName="/aws/sagemaker/studio",
        logStreamName=f"{pipeline.domain_id}/alice/KernelGateway/alices-app",
        logEvents=[{"timestamp": int(time.time() * 1000), "message": "exec format error"}],
    )
    assert delivered(pipeline) == []


def test_an_image_the_pipeline_does_not_manage_is_not_notified(pipeline):
    # Given another team's image, registered by hand
    sm = pipeline.sagemaker
    image_arn = sm.create_image(ImageName="other-team", RoleArn="arn:aws:iam::123456789012:role/r")[
        "ImageArn"
    ]
    theirs = {"CustomImages": [{"ImageName": "other-team", "AppImageConfigName": "other-team"}]}
    sm.update_user_profile(  # SageMaker starts an app only with an image its user can see
        DomainId=pipeline.domain_id,
        UserProfileName="alice",
        UserSettings={"KernelGatewayAppSettings": theirs},
    )
    # When an app with it fails to start with a known signature
    moto_studio.settings.script_app("theirs", fails=True, log_lines=["exec format error"])
    start_app(pipeline, "theirs", image_arn)
    # Then nothing is published
    assert delivered(pipeline) == []
