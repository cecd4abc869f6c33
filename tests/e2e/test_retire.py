"""Versions leaving use: an ECR delete retires the versions built from the deleted digest, and
`keep_versions` prunes older versions after a successful attach."""

from __future__ import annotations

import json

import boto3
import pytest

from studio_image_sandbox.ecrpush import push_image
from studio_image_sandbox.ocibuild import build_image
from studio_image_sandbox.samples import compliant

from .conftest import CONFIGURATION, REGION, load_event
from .test_canary import custom_images
from .test_pipeline import only_notification

IMAGE = "studio-gone"  # the SageMaker image name derived for studio/gone


def delete(pipeline, repository: str, digest: str, tag: str = "1.0") -> dict:
    """Delete the image from ECR and deliver ECR's DELETE event, as EventBridge would."""
    pipeline.ecr.batch_delete_image(repositoryName=repository, imageIds=[{"imageDigest": digest}])
    event = load_event("delete", **{"repository-name": repository, "image-digest": digest, "image-tag": tag})
    arn = pipeline.stack.deliver(event)
    assert arn is not None, "the rule's pattern does not take ECR deletes"
    return pipeline.finish(arn)


def versions(pipeline, image: str) -> list[int]:
    found = pipeline.sagemaker.list_image_versions(ImageName=image)["ImageVersions"]
    return sorted(v["Version"] for v in found)


def configs(pipeline) -> list[str]:
    return sorted(
        c["AppImageConfigName"] for c in pipeline.sagemaker.list_app_image_configs()["AppImageConfigs"]
    )


@pytest.mark.core
def test_deleting_an_image_from_ecr_detaches_and_deletes_its_version_and_a_re_push_checks_again(pipeline):
    # Given an image registered and attached to the domain, a space and a user profile
    reference = build_image(pipeline.workdir / "gone", compliant("kernel-gateway"), "1.0")
    digest = push_image(pipeline.ecr, reference, "studio/gone", "1.0").digest
    assert pipeline.finish(pipeline.start("studio/gone", digest))["status"] == "SUCCEEDED"
    pipeline.notifications()
    # When it is deleted from ECR
    execution = delete(pipeline, "studio/gone", digest)
    # Then its version is detached everywhere and deleted, and one notification says so
    assert execution["status"] == "SUCCEEDED"
    assert custom_images(pipeline) == {"domain": [], "alice": [], "shared": []}
    assert versions(pipeline, IMAGE) == []
    assert configs(pipeline) == []  # the version's own AppImageConfig went with it
    note = only_notification(pipeline)
    assert note["Subject"] == f"[RETIRED] studio/gone:1.0: deleted from ECR; {IMAGE} v1 detached and deleted"
    assert note["MessageAttributes"]["status"]["Value"] == "retired"
    assert "- detached from user profile alice in d-studio" in note["doc"]["text"]
    # And the same digest pushed again is checked and registered again, not "unchanged"
    assert push_image(pipeline.ecr, reference, "studio/gone", "1.0").digest == digest
    assert pipeline.finish(pipeline.start("studio/gone", digest))["status"] == "SUCCEEDED"
    assert only_notification(pipeline)["Subject"] == f"[PASSED] studio/gone:1.0 -> {IMAGE} v2"


def test_removing_one_tag_of_an_image_still_in_ecr_retires_nothing(pipeline):
    # Given an attached image with a second tag
    digest = pipeline.push(compliant("kernel-gateway"), "studio/gone")
    pipeline.finish(pipeline.start("studio/gone", digest))
    manifest = pipeline.ecr.batch_get_image(repositoryName="studio/gone", imageIds=[{"imageDigest": digest}])
    pipeline.ecr.put_image(
        repositoryName="studio/gone", imageManifest=manifest["images"][0]["imageManifest"], imageTag="latest"
    )
    pipeline.notifications()
    # When only that tag is deleted
    pipeline.ecr.batch_delete_image(repositoryName="studio/gone", imageIds=[{"imageTag": "latest"}])
    event = load_event(
        "delete", **{"repository-name": "studio/gone", "image-digest": digest, "image-tag": "latest"}
    )
    execution = pipeline.finish(pipeline.stack.deliver(event))
    # Then nothing is detached or deleted, and the notification says why
    assert execution["status"] == "SUCCEEDED"
    assert versions(pipeline, IMAGE) == [1]
    assert all(images for images in custom_images(pipeline).values())
    assert only_notification(pipeline)["Subject"].endswith("a tag was removed, but the image is still in ECR")


def test_keep_versions_prunes_the_oldest_after_a_successful_attach(pipeline):
    # Given a binding that keeps two versions
    bindings = json.loads(json.dumps(CONFIGURATION["repositories"]))
    bindings[-1]["keep_versions"] = 2
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name=f"/{pipeline.stack.name}/configuration",
        Value=json.dumps({"repositories": bindings}),
        Type="String",
        Overwrite=True,
    )
    # When three different images are pushed, one after another
    for number in (1, 2, 3):
        spec = compliant("kernel-gateway")
        spec.env = [*spec.env, f"BUILD={number}"]
        assert pipeline.run(spec, "studio/gone", tag=f"{number}.0")["status"] == "SUCCEEDED"
    # Then versions 2 and 3 remain, version 3 is the one attached, and the last run says what went
    assert versions(pipeline, IMAGE) == [2, 3]
    for images in custom_images(pipeline).values():
        assert [(i["ImageName"], i["ImageVersionNumber"], i["AppImageConfigName"]) for i in images] == [
            (IMAGE, 3, f"{IMAGE}-v3")
        ]
    # And each remaining version has its own AppImageConfig, the pruned one's deleted with it
    assert configs(pipeline) == [f"{IMAGE}-v2", f"{IMAGE}-v3"]
    texts = [json.loads(n["Message"])["text"] for n in pipeline.notifications()]
    assert f"- {IMAGE} versions deleted: 1" in texts[-1]
    assert "Older versions beyond the newest 2 (keep_versions)" in texts[-1]
    assert "versions deleted" not in texts[0]
