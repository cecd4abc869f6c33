"""A multi-platform push, as `docker buildx --push` or `skopeo copy --all` makes it: each platform's
manifest pushed by digest (ECR's event says `"image-tag": ""`), then the index by tag. The image is
judged once, at the tagged index resolved to linux/amd64; the untagged pushes end quietly."""

from __future__ import annotations

import json

from studio_image_sandbox.ecrpush import push_image
from studio_image_sandbox.ocibuild import build_image
from studio_image_sandbox.samples import compliant

from .conftest import load_event
from .test_pipeline import only_notification

INDEX = "application/vnd.oci.image.index.v1+json"


def push_index(pipeline, repository: str, tag: str) -> tuple[dict[str, str], str]:
    """Push an amd64 and an arm64 image by digest, then an index of both by `tag`."""
    children = {}
    entries = []
    for architecture in ("amd64", "arm64"):
        spec = compliant("kernel-gateway")
        spec.architecture = architecture
        reference = build_image(pipeline.workdir / architecture, spec, "1.0")
        digest = push_image(pipeline.ecr, reference, repository, None).digest
        (image,) = pipeline.ecr.batch_get_image(
            repositoryName=repository, imageIds=[{"imageDigest": digest}]
        )["images"]
        manifest = image["imageManifest"]
        entries.append(
            {
                "mediaType": json.loads(manifest)["mediaType"],
                "digest": digest,
                "size": len(manifest.encode()),
                "platform": {"architecture": architecture, "os": "linux"},
            }
        )
        children[architecture] = digest
    index = json.dumps({"schemaVersion": 2, "mediaType": INDEX, "manifests": entries})
    pushed = pipeline.ecr.put_image(
        repositoryName=repository, imageManifest=index, imageTag=tag, imageManifestMediaType=INDEX
    )
    return children, pushed["image"]["imageId"]["imageDigest"]


def test_a_multi_platform_push_is_judged_once_at_its_index_resolved_to_amd64(pipeline):
    # Given an index of an amd64 and an arm64 image pushed as buildx pushes it
    repository = "studio/multi"
    children, index = push_index(pipeline, repository, "1.0")
    # When ECR's three events arrive: each platform manifest untagged, then the index by tag
    runs = [
        pipeline.stack.deliver(
            load_event("push-platform-manifest", **{"repository-name": repository, "image-digest": digest})
        )
        for digest in children.values()
    ]
    runs.append(
        pipeline.stack.deliver(
            load_event(
                "push-index", **{"repository-name": repository, "image-digest": index, "image-tag": "1.0"}
            )
        )
    )
    executions = [pipeline.finish(arn) for arn in runs]
    # Then every run succeeds, and the one notification is the index's, registered from amd64
    assert [e["status"] for e in executions] == ["SUCCEEDED"] * 3
    note = only_notification(pipeline)
    assert note["Subject"] == "[PASSED] studio/multi:1.0 -> studio-multi v1"
    version = pipeline.sagemaker.describe_image_version(ImageName="studio-multi", Version=1)
    assert version["BaseImage"].endswith(f"/{repository}@{children['amd64']}")
    assert [
        v["Version"]
        for v in pipeline.sagemaker.list_image_versions(ImageName="studio-multi")["ImageVersions"]
    ] == [1]


def test_a_binding_may_check_untagged_pushes(pipeline):
    # Given a binding that opts in to untagged pushes, and an arm64 image pushed by digest alone
    import boto3

    from .conftest import CONFIGURATION, REGION

    bindings = json.loads(json.dumps(CONFIGURATION["repositories"]))
    bindings[-1]["check_untagged"] = True
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name=f"/{pipeline.stack.name}/configuration",
        Value=json.dumps({"repositories": bindings}),
        Type="String",
        Overwrite=True,
    )
    spec = compliant("kernel-gateway")
    spec.architecture = "arm64"
    digest = push_image(
        pipeline.ecr, build_image(pipeline.workdir / "arm", spec, "1.0"), "studio/arm", None
    ).digest
    # When its untagged event arrives, then it is judged (and refused for its platform)
    event = load_event("push-platform-manifest", **{"repository-name": "studio/arm", "image-digest": digest})
    execution = pipeline.finish(pipeline.stack.deliver(event))
    assert execution.get("error") == "ImageRefused"
    assert "platform" in only_notification(pipeline)["Subject"]
