"""SageMaker's limits, checked before the pipeline writes: a run that would break one ends with a
notification saying what to change, and nothing half-written."""

from __future__ import annotations

from studio_image_sandbox.samples import compliant

from .test_pipeline import only_notification

ROLE = "arn:aws:iam::123456789012:role/other-team"


def test_a_user_profile_with_five_custom_images_is_refused_a_sixth_before_anything_is_written(pipeline):
    # Given alice already has five custom KernelGateway images, attached by hand
    sm = pipeline.sagemaker
    for i in range(5):
        sm.create_image(ImageName=f"team-{i}", RoleArn=ROLE)
    held = [{"ImageName": f"team-{i}", "AppImageConfigName": "team"} for i in range(5)]
    sm.update_user_profile(
        DomainId=pipeline.domain_id,
        UserProfileName="alice",
        UserSettings={"KernelGatewayAppSettings": {"CustomImages": held}},
    )
    # When an image bound to attach to alice (and the domain's defaults) is pushed
    execution = pipeline.run(compliant("kernel-gateway"), "studio/sixth")
    # Then the run fails naming alice and the images she could detach
    assert execution["status"] == "FAILED"
    note = only_notification(pipeline)
    assert note["Subject"] == "[FAILED] studio/sixth:1.0: CustomImageLimitReached in Attach"
    cause = note["doc"]["error"]["Cause"]
    assert "user profile alice in" in cause and "the most SageMaker allows there is 5" in cause
    assert "detach one of team-0, team-1, team-2, team-3, team-4 before attaching studio-sixth" in cause
    # And nothing was attached anywhere, the domain's defaults included
    domain = sm.describe_domain(DomainId=pipeline.domain_id)
    assert pipeline.custom_images(domain["DefaultUserSettings"]) == []
    profile = sm.describe_user_profile(DomainId=pipeline.domain_id, UserProfileName="alice")
    assert pipeline.custom_images(profile["UserSettings"]) == held


def test_a_repository_whose_uri_is_too_long_for_base_image_is_refused_at_resolve(pipeline):
    # Given a repository whose image URI by digest is longer than BaseImage's 255 characters
    repository = "studio/" + "x" * 160
    # When an image is pushed there
    execution = pipeline.run(compliant("kernel-gateway"), repository)
    # Then Resolve refuses it with the reason, and no SageMaker image is created
    assert execution["status"] == "FAILED"
    note = only_notification(pipeline)
    assert note["doc"]["error"]["Error"] == "ImageUriTooLong"
    assert "SageMaker takes at most 255" in note["doc"]["error"]["Cause"]
    assert pipeline.sagemaker.list_images()["Images"] == []


def test_a_binding_image_name_outside_the_name_prefix_is_refused_at_resolve(pipeline):
    # Given a binding naming an image the template's IAM does not cover (not under ImageNamePrefix)
    import json

    import boto3

    from .conftest import CONFIGURATION, REGION

    bindings = json.loads(json.dumps(CONFIGURATION["repositories"]))
    bindings[-1]["image_name"] = "team-datascience"
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name=f"/{pipeline.stack.name}/configuration",
        Value=json.dumps({"repositories": bindings}),
        Type="String",
        Overwrite=True,
    )
    # When an image is pushed, then Resolve refuses the configuration and nothing is created
    execution = pipeline.run(compliant("kernel-gateway"), "studio/named")
    assert execution["status"] == "FAILED"
    error = only_notification(pipeline)["doc"]["error"]
    assert error["Error"] == "ConfigurationInvalid"
    assert "does not start with the deployment's ImageNamePrefix 'studio-'" in error["Cause"]
    assert pipeline.sagemaker.list_images()["Images"] == []
