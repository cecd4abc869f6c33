"""Resolve: parse the event, find the repository's binding, claim the digest, read the manifest; or
decide there is nothing to do, or (an ECR delete) which versions to retire."""

from __future__ import annotations

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ...aws.ecr import Ecr
from ...aws.sagemaker import split_version_arn
from ...aws.storage import read_parameter
from ...errors import EventInvalid, validation_problems
from ...oci import IMAGE_CONFIG_TYPES, Platform
from .. import canaryspace, limits, platforms
from ..config import (
    CANARY_APP_TYPES,
    LABEL_DISPLAY_NAME,
    LABEL_KERNELS,
    Binding,
    derive_image_name,
    display_name,
    load_config,
)
from ..images import ecr_source, ecr_uri, store_resolved
from ..models import CanaryPlan, ImageRead, Job, LayerRef, Outcome, Pushed, Retired, Skip
from ..records import Claims
from ..services import Services
from ..state import Resolved, RunStart


class EcrImageAction(BaseModel):
    """The `detail` of an EventBridge "ECR Image Action" event."""

    model_config = ConfigDict(populate_by_name=True)

    action_type: str = Field(alias="action-type")
    result: str
    repository_name: str = Field(alias="repository-name", min_length=2, max_length=256)
    image_digest: str | None = Field(default=None, alias="image-digest", pattern=r"^sha256:[0-9a-f]{64}$")
    image_tag: str | None = Field(default=None, alias="image-tag")
    manifest_media_type: str | None = Field(default=None, alias="manifest-media-type")
    artifact_media_type: str | None = Field(default=None, alias="artifact-media-type")


class EcrImageActionEvent(EventBridgeModel):
    detail: EcrImageAction


def resolve(start: RunStart, svc: Services) -> Resolved:
    """Parse the event, find the repository's binding, claim the digest, read the manifest."""
    try:
        event = parse(event=start.event, model=EcrImageActionEvent)
    except ValidationError as err:
        raise EventInvalid(f"not an ECR image action event: {validation_problems(err)}") from err
    detail = event.detail
    pushed = Pushed(
        account=event.account,
        region=event.region,
        repository=detail.repository_name,
        digest=detail.image_digest,
        tag=detail.image_tag or None,  # an untagged push has "image-tag": ""
    )
    if event.source != "aws.ecr" or event.detail_type != "ECR Image Action":
        raise EventInvalid(f"{event.source} {event.detail_type!r} is not an ECR image action")
    if detail.action_type not in ("PUSH", "DELETE") or detail.result != "SUCCESS":
        return _skip(pushed, f"a {detail.result} {detail.action_type} is neither a push nor a delete")
    deleted = detail.action_type == "DELETE"
    if not deleted and detail.artifact_media_type and detail.artifact_media_type not in IMAGE_CONFIG_TYPES:
        return _skip(pushed, f"not a container image (artifact {detail.artifact_media_type})")
    if not pushed.digest:
        raise EventInvalid(f"the {detail.action_type.lower()} event names no image digest")
    settings = svc.settings
    config = load_config(
        read_parameter(settings.config_parameter, svc.ssm), settings.config_parameter, settings
    )
    binding = config.binding_for(pushed.repository)
    if binding is None:
        return _skip(pushed, "no binding in the configuration matches this repository")
    if deleted:
        return _retire_deleted(svc, pushed, pushed.digest, binding)
    quiet = platforms.quiet_skip(pushed, binding)
    if quiet is not None:
        return Resolved(pushed=pushed, skip=quiet)
    claims = Claims(svc.state)
    failed = claims.record(pushed.repository, pushed.digest)
    earlier = claims.claim(pushed.repository, pushed.digest, start.execution_arn)
    if earlier is not None:
        result = earlier.run_outcome
        skip = Skip(
            outcome=Outcome.UNCHANGED,
            reason=f"this digest was already {result} by {earlier.execution_arn}",
            image_version_arn=earlier.image_version_arn,
            earlier_outcome=Outcome(result) if result in set(Outcome) else None,  # not while "running"
        )
        return Resolved(pushed=pushed, skip=skip)
    reuse = failed.image_version_arn if failed and failed.run_outcome == Outcome.FAILED else None
    try:
        return _read_image(svc, pushed, binding, reuse)
    except BaseException:
        claims.finish(pushed.repository, pushed.digest, start.execution_arn, Outcome.FAILED, None)
        raise


def _retire_deleted(svc: Services, pushed: Pushed, digest: str, binding: Binding) -> Resolved:
    """An ECR delete: plan to retire the version built from the digest, if there is one and the
    image is really gone (deleting one of several tags leaves it in ECR)."""
    record = Claims(svc.state).record(pushed.repository, digest)
    version_arn = record.image_version_arn if record else None
    if not version_arn:
        return _skip(pushed, "no image version was built from this digest")
    if Ecr(svc.ecr).has_image(pushed.repository, pushed.account, digest):
        return _skip(pushed, "a tag was removed, but the image is still in ECR")
    _, image_name, version = split_version_arn(version_arn)
    return Resolved(
        pushed=pushed,
        job=_job(binding, svc, image_name=image_name, display_name=pushed.repository),
        retire=Retired(reason="deleted", image_name=image_name, versions=[version]),
    )


def _job(
    binding: Binding,
    svc: Services,
    *,
    image_name: str,
    display_name: str,
    kernels: list[str] | None = None,
    canary: CanaryPlan | None = None,
) -> Job:
    """The run's job: the binding, with the deployment's domain and poll interval as defaults."""
    return Job(
        binding=binding,
        registers=binding.registers,
        image_name=image_name,
        domain_id=binding.domain_id or svc.settings.domain_id,
        display_name=display_name,
        kernels=kernels,
        poll_seconds=svc.settings.version_poll_seconds,
        canary=canary,
    )


def _skip(pushed: Pushed, reason: str) -> Resolved:
    return Resolved(pushed=pushed, skip=Skip(outcome=Outcome.SKIPPED, reason=reason))


def _read_image(svc: Services, pushed: Pushed, binding: Binding, earlier_version_arn: str | None) -> Resolved:
    if binding.registers:
        limits.check_base_image(ecr_uri(pushed))
        if binding.image_name:
            limits.check_image_name(binding.image_name, svc.settings.image_name_prefix, binding.match)
    source = ecr_source(pushed, svc)
    with source:
        resolved = source.resolve(Platform())
    limits.check_layer_count(len(resolved.manifest.layers))
    key = store_resolved(svc.bucket, pushed, resolved)
    labels = resolved.config.config.labels or {}
    kernels = [k.strip() for k in labels.get(LABEL_KERNELS, "").split(",") if k.strip()] or None
    job = _job(
        binding,
        svc,
        image_name=binding.image_name
        or derive_image_name(
            svc.settings.image_name_prefix, pushed.repository, svc.settings.repository_prefix
        ),
        display_name=display_name(labels.get(LABEL_DISPLAY_NAME), binding.display_name, pushed.repository),
        kernels=kernels,
        canary=canary_plan(binding),
    )
    job.earlier_version_arn = earlier_version_arn
    canaryspace.check_space(svc.sagemaker, job.domain_id, job.canary, binding)
    image = ImageRead(
        manifest_digest=resolved.manifest_digest or pushed.digest or "",
        platform=str(resolved.config.platform),
        resolved_key=key,
        layers=[LayerRef(index=i, descriptor=d) for i, d in enumerate(resolved.manifest.layers)],
    )
    return Resolved(pushed=pushed, job=job, image=image)


def canary_plan(binding: Binding) -> CanaryPlan | None:
    """Where and how the canary app starts; None when the binding wants none. (The binding's own
    validation guarantees exactly one of user_profile and space when the canary is active.)"""
    canary = binding.canary
    if not canary.active(binding.profile) or binding.profile not in CANARY_APP_TYPES:
        return None
    return CanaryPlan(
        owner_kind="UserProfile" if canary.user_profile else "Space",
        owner=canary.user_profile or canary.space or "",
        app_type=CANARY_APP_TYPES[binding.profile],
        instance_type=canary.instance_type,
        budget_seconds=canary.budget_seconds,
        rollback=canary.on_failure == "rollback",
    )
