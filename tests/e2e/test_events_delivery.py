"""EventBridge delivers at least once: the same ECR event more than once, and the events of two tags
of one digest together. Each ends with one image version and a notification per delivery saying
what it did. Malformed and foreign events end in a clean skip or a notification naming the cause,
never in a stuck execution or one that failed without a word."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
import pytest

from moto_studio.ecr import on_image_action
from studio_image_sandbox.ocibuild import Layout
from studio_image_sandbox.samples import compliant

from .conftest import REGION, Pipeline

HELM_CONFIG = (
    "application/vnd.cncf.helm.config.v1+json"  # Helm's OCI artifact (helm.sh/docs/topics/registries)
)
HELM_CHART = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"


@contextmanager
def ecr_events() -> Iterator[list[dict]]:
    """The image action events ECR emits in the block."""
    seen: list[dict] = []
    undo = on_image_action(seen.append)
    try:
        yield seen
    finally:
        undo()


def pushed_event(pipeline: Pipeline, repository: str, tag: str = "1.0") -> tuple[str, dict]:
    """Push a compliant image; its digest and the PUSH event ECR sent for it."""
    with ecr_events() as seen:
        digest = pipeline.push(compliant("kernel-gateway"), repository, tag)
    (event,) = [e for e in seen if e["detail"]["action-type"] == "PUSH"]
    return digest, event


def outcomes(notes: list[dict]) -> list[str]:
    return sorted(json.loads(n["Message"])["outcome"] for n in notes)


@pytest.mark.core
def test_one_event_delivered_three_times_at_once_makes_one_version_and_each_delivery_says_what_it_did(
    pipeline,
):
    # Given ECR's event for a pushed image
    _, event = pushed_event(pipeline, "studio/thrice")
    # When EventBridge delivers it three times at once
    arns = [pipeline.stack.deliver(copy.deepcopy(event)) for _ in range(3)]
    runs = [pipeline.finish(arn) for arn in arns]
    # Then every run succeeded and SageMaker has one version of the image
    assert [r["status"] for r in runs] == ["SUCCEEDED"] * 3
    versions = pipeline.sagemaker.list_image_versions(ImageName="studio-thrice")["ImageVersions"]
    assert len(versions) == 1
    # And one delivery passed the image while the other two said it was the first one's to handle
    notes = pipeline.notifications()
    assert outcomes(notes) == ["passed", "unchanged", "unchanged"]
    passed = next(json.loads(n["Message"]) for n in notes if json.loads(n["Message"])["outcome"] == "passed")
    for note in notes:
        doc = json.loads(note["Message"])
        if doc["outcome"] == "unchanged":
            assert note["Subject"].startswith("[UNCHANGED] studio/thrice:1.0: this digest was already ")
            assert passed["execution_arn"] in doc["skip"]["reason"]
            assert doc["execution_arn"] != passed["execution_arn"]


def test_two_tags_of_one_digest_pushed_at_once_make_one_version(pipeline):
    # Given an image pushed as 1.0, and the same manifest put again as "latest"
    digest, first = pushed_event(pipeline, "studio/twotags", "1.0")
    manifest = pipeline.ecr.batch_get_image(
        repositoryName="studio/twotags", imageIds=[{"imageDigest": digest}]
    )
    with ecr_events() as seen:
        pipeline.ecr.put_image(
            repositoryName="studio/twotags",
            imageManifest=manifest["images"][0]["imageManifest"],
            imageTag="latest",
        )
    (second,) = seen
    assert second["detail"]["image-digest"] == digest
    # When both events are delivered together
    runs = [pipeline.finish(arn) for arn in [pipeline.stack.deliver(first), pipeline.stack.deliver(second)]]
    # Then there is one version, and one tag's run passed it while the other's says it was unchanged
    assert [r["status"] for r in runs] == ["SUCCEEDED", "SUCCEEDED"]
    versions = pipeline.sagemaker.list_image_versions(ImageName="studio-twotags")["ImageVersions"]
    assert len(versions) == 1
    notes = pipeline.notifications()
    assert outcomes(notes) == ["passed", "unchanged"]
    assert sorted(n["Subject"].split(" ")[1].rstrip(":") for n in notes) == [
        "studio/twotags:1.0",
        "studio/twotags:latest",
    ]


def only_run(pipeline: Pipeline, event: dict) -> tuple[dict, dict]:
    """Start the workflow with `event` as an execution input (as a replay or a hand-made rule
    would), wait for it, and return the execution and its one notification."""
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = sfn.start_execution(stateMachineArn=pipeline.stack.state_machine_arn, input=json.dumps(event))
    execution = pipeline.finish(arn["executionArn"])
    notes = pipeline.notifications()
    assert len(notes) == 1, [n["Subject"] for n in notes]
    return execution, notes[0]


# Each mangled field is refused in tests/unit/test_pipeline_logic.py; a whole run shows one notified.
@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [("image-digest", "sha256:not-a-digest", "detail.image-digest: String should match pattern")],
)
def test_an_event_missing_or_mangling_a_detail_field_ends_in_a_notification_naming_it(
    pipeline, field, value, problem
):
    # Given ECR's event with one detail field taken out or mangled
    _, event = pushed_event(pipeline, "studio/mangled")
    if value is None:
        del event["detail"][field]
    else:
        event["detail"][field] = value
    # When it starts a run
    execution, note = only_run(pipeline, event)
    # Then the run ends failed, and its one notification names the field
    assert execution["status"] == "FAILED" and execution["error"] == "PipelineFailed"
    assert note["Subject"].endswith(": EventInvalid in Resolve"), note["Subject"]
    assert problem in json.loads(note["Message"])["error"]["Cause"]
    assert pipeline.sagemaker.list_images()["Images"] == []


def test_the_template_rule_lets_through_no_event_it_cannot_handle(pipeline):
    # Given ECR's event, and others that are not pushes the pipeline handles
    _, event = pushed_event(pipeline, "studio/ruled")
    foreign = copy.deepcopy(event)
    foreign["detail"]["repository-name"] = "elsewhere/app"  # outside RepositoryPrefix
    failed = copy.deepcopy(event)
    failed["detail"]["result"] = "FAILURE"
    nameless = copy.deepcopy(event)
    del nameless["detail"]["repository-name"]
    other_source = copy.deepcopy(event)
    other_source["source"] = "custom.ecr"
    # Then EventBridge starts no execution for any of them
    for name, dropped in [
        ("foreign", foreign),
        ("failed", failed),
        ("nameless", nameless),
        ("source", other_source),
    ]:
        assert pipeline.stack.deliver(dropped) is None, name
    assert pipeline.executions() == [] and pipeline.notifications() == []


def test_a_repository_no_binding_covers_is_skipped_with_a_notification(pipeline):
    # Given a configuration that binds only studio/team-* repositories
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name=f"/{pipeline.stack.name}/configuration",
        Value=json.dumps({"repositories": [{"match": "studio/team-*", "profile": "kernel-gateway"}]}),
        Type="String",
        Overwrite=True,
    )
    # When an image is pushed to studio/unbound
    _, event = pushed_event(pipeline, "studio/unbound")
    execution = pipeline.finish(pipeline.stack.deliver(event))
    # Then the run succeeds as a skip that says why, and nothing is registered
    assert execution["status"] == "SUCCEEDED"
    (note,) = pipeline.notifications()
    assert (
        note["Subject"]
        == "[SKIPPED] studio/unbound:1.0: no binding in the configuration matches this repository"
    )
    assert pipeline.sagemaker.list_images()["Images"] == []


def test_a_digest_deleted_before_the_run_reads_it_ends_in_a_notification_naming_it(pipeline):
    # Given an image pushed, and deleted from ECR before its event is handled
    repository = "studio/vanished"
    digest, event = pushed_event(pipeline, repository)
    kept = pipeline.ecr.batch_get_image(repositoryName=repository, imageIds=[{"imageDigest": digest}])
    pipeline.ecr.batch_delete_image(repositoryName=repository, imageIds=[{"imageDigest": digest}])
    # When the push event arrives
    execution = pipeline.finish(pipeline.stack.deliver(event))
    # Then the run failed, and its one notification says the image is not there
    assert execution["status"] == "FAILED" and execution["error"] == "PipelineFailed"
    notes = pipeline.notifications()
    assert len(notes) == 1, [n["Subject"] for n in notes]
    error = json.loads(notes[0]["Message"])["error"]
    assert error["Error"] == "ImageNotFound" and digest in error["Cause"], error
    # And the digest is free: put back, its event is checked again
    with ecr_events() as seen:
        pipeline.ecr.put_image(
            repositoryName=repository, imageManifest=kept["images"][0]["imageManifest"], imageTag="1.0"
        )
    assert pipeline.finish(pipeline.stack.deliver(seen[0]))["status"] == "SUCCEEDED"


def push_helm_chart(pipeline: Pipeline, workdir: Path, repository: str) -> tuple[str, dict]:
    """Push a Helm chart (an OCI artifact, not an image) to ECR; its digest and ECR's event."""
    layout = Layout(workdir / "chart")
    config = layout.blob(b'{"name": "chart", "version": "1.2.0"}', HELM_CONFIG)
    chart = layout.blob(b"\x1f\x8b" + b"\x00" * 30, HELM_CHART)
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config.descriptor(),
        "layers": [chart.descriptor()],
    }
    written = layout.blob(json.dumps(manifest).encode(), "application/vnd.oci.image.manifest.v1+json")
    layout.tag(written, "chart-1.2.0")
    from studio_image_sandbox.ecrpush import push_image

    with ecr_events() as seen:
        push_image(pipeline.ecr, f"oci:{workdir / 'chart'}:chart-1.2.0", repository, "chart-1.2.0")
    (event,) = [e for e in seen if e["detail"]["action-type"] == "PUSH"]
    return written.digest, event


def test_a_pushed_artifact_that_is_not_an_image_is_skipped_or_named(pipeline, tmp_path):
    # Given a Helm chart pushed to a bound repository
    _, event = push_helm_chart(pipeline, tmp_path, "studio/charts")
    assert event["detail"]["artifact-media-type"] == HELM_CONFIG
    # When ECR's event arrives, the run skips it as not an image
    assert pipeline.finish(pipeline.stack.deliver(event))["status"] == "SUCCEEDED"
    (note,) = pipeline.notifications()
    assert note["Subject"].startswith("[SKIPPED] studio/charts:chart-1.2.0: not a container image")
    reason = json.loads(note["Message"])["skip"]["reason"]
    assert reason == f"not a container image (artifact {HELM_CONFIG})", reason
    # And an event that does not say what the artifact is ends in a notification naming the cause
    del event["detail"]["artifact-media-type"]
    execution, note = only_run(pipeline, event)
    assert execution["status"] == "FAILED", execution
    error = json.loads(note["Message"])["error"]
    assert HELM_CONFIG in error["Cause"], error
    assert pipeline.sagemaker.list_images()["Images"] == []
