"""One function per workflow state. Each takes the state's input model and the AWS services, and
returns the state's output model; the Lambda handlers in `functions/` only wire them up."""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

import boto3
from aws_lambda_powertools.utilities.parser import parse
from pydantic import BaseModel, ConfigDict, ValidationError

from ..aws.ecr import Ecr
from ..aws.logs import Logs
from ..aws.sagemaker import SageMaker, split_version_arn
from ..aws.storage import Bucket, Table, Topic, read_parameter
from ..engine import assemble_inventory
from ..errors import (
    EventInvalid,
    ImageReadError,
    ImageVersionFailed,
    ImageVersionTimeout,
    PipelineError,
    validation_problems,
)
from ..oci import FOREIGN_LAYER_TYPES, IMAGE_CONFIG_TYPES, Descriptor, ImageConfig, Manifest, Platform
from ..policy import Policy
from ..report import build_report, render_json, render_markdown
from ..scan.layer import scan_layer as scan_blob
from ..scan.models import LayerScan
from ..scan.tar import ScanLimits
from ..sources.base import ResolvedImage
from ..sources.ecr import EcrSource
from . import canary as canaries
from . import limits, payload, platforms, previous
from . import notify as notices
from .attach import attach_image, binding_targets, detach_versions, restore_image
from .config import (
    APP_SETTINGS,
    CANARY_APP_TYPES,
    LABEL_DISPLAY_NAME,
    LABEL_KERNELS,
    Binding,
    derive_image_name,
    load_config,
)
from .models import (
    Canary,
    CanaryPlan,
    EcrImageActionEvent,
    Evaluation,
    ImageRead,
    Job,
    LayerOutcome,
    LayerRef,
    LayerTask,
    Notice,
    Outcome,
    Pushed,
    Registration,
    Retired,
    RunState,
    Skip,
)
from .records import Claims, DomainLock, TableLayerCache
from .settings import Settings, load_settings
from .signatures import CONTEXT, known_failures, match_lines
from .versionconfig import config_name

SCAN_MARGIN_SECONDS = 30  # left of a scan's time to record the outcome
MANAGED_BY = "studio-image-pipeline"


@dataclass(frozen=True)
class Services:
    settings: Settings
    ecr: Any
    sagemaker: SageMaker
    bucket: Bucket
    layers: TableLayerCache
    state: Table
    topic: Topic
    ssm: Any
    logs: Logs

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        bucket = Bucket(settings.report_bucket, boto3.client("s3"))
        dynamodb = boto3.client("dynamodb")
        return cls(
            settings=settings,
            ecr=boto3.client("ecr"),
            sagemaker=SageMaker(boto3.client("sagemaker")),
            bucket=bucket,
            layers=TableLayerCache(Table(settings.layer_cache_table, dynamodb), bucket),
            state=Table(settings.state_table, dynamodb),
            topic=Topic(settings.topic_arn, boto3.client("sns")),
            ssm=boto3.client("ssm"),
            logs=Logs(boto3.client("logs")),
        )


@cache
def services() -> Services:
    """Built once per process from the environment; `services.cache_clear()` resets it in tests."""
    return Services.from_settings(load_settings())


M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


def parse_input(model: type[M], event: object) -> M:
    try:
        return model.model_validate(event)
    except ValidationError as err:
        raise EventInvalid(f"{model.__name__}: {validation_problems(err)}") from err


def _need(value: T | None, what: str) -> T:
    if value is None:
        raise EventInvalid(f"the run state has no {what}: the state machine called this step out of order")
    return value


class StoredImage(BaseModel):
    """A resolved image as Resolve writes it to S3 for Evaluate."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    digest: str | None
    manifest_digest: str | None
    manifest: Manifest
    config: ImageConfig
    platforms_offered: list[Platform]

    def resolved(self) -> ResolvedImage:
        return ResolvedImage(**{name: getattr(self, name) for name in type(self).model_fields})


def _ecr_source(pushed: Pushed, svc: Services) -> EcrSource:
    """The pushed image, by digest, in the account and region the event came from."""
    return EcrSource(
        pushed.repository,
        digest=pushed.digest,
        registry_id=pushed.account,
        region=pushed.region,
        client=svc.ecr,
        connections=svc.settings.scan_connections,
    )


def image_prefix(pushed: Pushed) -> str:
    return f"images/{pushed.repository}/{pushed.digest}/"


def ecr_uri(pushed: Pushed) -> str:
    return f"{pushed.account}.dkr.ecr.{pushed.region}.amazonaws.com/{pushed.repository}@{pushed.digest}"


# Resolve -------------------------------------------------------------------------------------------


def resolve(state: RunState, svc: Services) -> RunState:
    """Parse the event, find the repository's binding, claim the digest, read the manifest."""
    try:
        event = parse(event=state.event, model=EcrImageActionEvent)
    except ValidationError as err:
        raise EventInvalid(f"not an ECR image action event: {validation_problems(err)}") from err
    detail = event.detail
    state.pushed = pushed = Pushed(
        account=event.account,
        region=event.region,
        repository=detail.repository_name,
        digest=detail.image_digest,
        tag=detail.image_tag or None,  # an untagged push has "image-tag": ""
    )
    if event.source != "aws.ecr" or event.detail_type != "ECR Image Action":
        raise EventInvalid(f"{event.source} {event.detail_type!r} is not an ECR image action")
    if detail.action_type not in ("PUSH", "DELETE") or detail.result != "SUCCESS":
        return _skip(state, f"a {detail.result} {detail.action_type} is neither a push nor a delete")
    deleted = detail.action_type == "DELETE"
    if not deleted and detail.artifact_media_type and detail.artifact_media_type not in IMAGE_CONFIG_TYPES:
        return _skip(state, f"not a container image (artifact {detail.artifact_media_type})")
    if not pushed.digest:
        raise EventInvalid(f"the {detail.action_type.lower()} event names no image digest")
    settings = svc.settings
    config = load_config(read_parameter(settings.config_parameter, svc.ssm), settings.config_parameter)
    binding = config.binding_for(pushed.repository)
    if binding is None:
        return _skip(state, "no binding in the configuration matches this repository")
    if deleted:
        return _retire_deleted(state, svc, pushed, binding)
    state.skip = platforms.quiet_skip(pushed, binding)
    if state.skip is not None:
        return state
    claims = Claims(svc.state)
    earlier = claims.claim(pushed.repository, pushed.digest, state.execution_arn)
    if earlier is not None:
        result, by = earlier.get("run_outcome", "handled"), earlier.get("execution_arn")
        state.skip = Skip(
            outcome=Outcome.UNCHANGED,
            reason=f"this digest was already {result} by {by}",
            image_version_arn=earlier.get("image_version_arn"),
            earlier_outcome=Outcome(result) if result in set(Outcome) else None,  # not while "running"
        )
        return state
    try:
        return _read_image(state, svc, pushed, binding)
    except BaseException:
        claims.finish(pushed.repository, pushed.digest, state.execution_arn, Outcome.FAILED, None)
        raise


def _retire_deleted(state: RunState, svc: Services, pushed: Pushed, binding: Binding) -> RunState:
    """An ECR delete: plan to retire the version built from the digest, if there is one and the
    image is really gone (deleting one of several tags leaves it in ECR)."""
    digest = _need(pushed.digest, "digest")
    record = Claims(svc.state).record(pushed.repository, digest) or {}
    version_arn = record.get("image_version_arn")
    if not version_arn:
        return _skip(state, "no image version was built from this digest")
    if Ecr(svc.ecr).has_image(pushed.repository, pushed.account, digest):
        return _skip(state, "a tag was removed, but the image is still in ECR")
    _, image_name, version = split_version_arn(version_arn)
    state.job = _job(binding, svc, image_name=image_name, display_name=pushed.repository)
    state.retired = Retired(reason="deleted", image_name=image_name, versions=[version])
    return state


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


def _skip(state: RunState, reason: str) -> RunState:
    state.skip = Skip(outcome=Outcome.SKIPPED, reason=reason)
    return state


def _read_image(state: RunState, svc: Services, pushed: Pushed, binding: Binding) -> RunState:
    if binding.registers:
        limits.check_base_image(ecr_uri(pushed))
        if binding.image_name:
            limits.check_image_name(binding.image_name, svc.settings.image_name_prefix, binding.match)
    source = _ecr_source(pushed, svc)
    with source:
        resolved = source.resolve(Platform())
    limits.check_layer_count(len(resolved.manifest.layers))
    stored = StoredImage(**vars(resolved))
    key = image_prefix(pushed) + "resolved.json"
    svc.bucket.put(key, stored.model_dump_json(by_alias=True).encode(), "application/json")
    labels = resolved.config.config.labels or {}
    kernels = [k.strip() for k in labels.get(LABEL_KERNELS, "").split(",") if k.strip()] or None
    state.job = _job(
        binding,
        svc,
        image_name=binding.image_name or derive_image_name(svc.settings.image_name_prefix, pushed.repository),
        display_name=labels.get(LABEL_DISPLAY_NAME) or binding.display_name or pushed.repository,
        kernels=kernels,
        canary=_canary_plan(binding),
    )
    canaries.check_space(svc.sagemaker, state.job.domain_id, state.job.canary, binding.match)
    state.image = ImageRead(
        manifest_digest=resolved.manifest_digest or pushed.digest or "",
        platform=str(resolved.config.platform),
        resolved_key=key,
        layers=[
            LayerRef(index=i, digest=d.digest, media_type=d.media_type, size=d.size)
            for i, d in enumerate(resolved.manifest.layers)
        ],
    )
    return state


# Scan (one Map iteration per layer) ---------------------------------------------------------------


def scan_layer(task: LayerTask, svc: Services, seconds_left: float) -> LayerOutcome:
    """Stream one layer from ECR into the scanner and cache the result by digest. A layer that
    cannot be read (corrupt, a tar bomb, too slow for the time left) is an outcome, not an error:
    Evaluate turns it into a finding."""
    layer, pushed = task.layer, task.pushed
    started = time.monotonic()
    if layer.media_type in FOREIGN_LAYER_TYPES or svc.layers.has(layer.digest):
        return LayerOutcome(digest=layer.digest, cached=layer.media_type not in FOREIGN_LAYER_TYPES)
    descriptor = Descriptor.model_validate(
        {"mediaType": layer.media_type, "digest": layer.digest, "size": layer.size}
    )
    source = _ecr_source(pushed, svc)
    try:
        with source:
            scan = scan_blob(
                source.open_blob(descriptor),
                descriptor,
                label=f"layer {layer.index + 1} ({layer.digest[:19]})",
                limits=ScanLimits(),
                deadline=started + seconds_left - SCAN_MARGIN_SECONDS,
            )
    except ImageReadError as err:
        return LayerOutcome(
            digest=layer.digest,
            seconds=time.monotonic() - started,
            problem=payload.clip(f"{type(err).__name__}: {err}"),
        )
    svc.layers.put(scan)
    return LayerOutcome(digest=layer.digest, seconds=round(time.monotonic() - started, 3))


# Evaluate -----------------------------------------------------------------------------------------


def evaluate(state: RunState, svc: Services) -> RunState:
    """Merge the layer scans in order, apply the profile and policy, and write the report."""
    job = _need(state.job, "job")
    image = _need(state.image, "image")
    pushed = _need(state.pushed, "push")
    outcomes = _need(state.scans, "layer scans")
    if [o.digest for o in outcomes] != [layer.digest for layer in image.layers]:
        raise EventInvalid("the layer scans do not match the image's layers")
    stored = StoredImage.model_validate_json(svc.bucket.get(image.resolved_key))
    results: dict[int, tuple[LayerScan, bool]] = {}
    problems: dict[int, str] = {}
    for layer, outcome in zip(image.layers, outcomes, strict=True):
        if outcome.problem:
            problems[layer.index] = outcome.problem
        elif layer.media_type not in FOREIGN_LAYER_TYPES:
            scan = svc.layers.get(layer.digest)
            if scan is None:
                raise PipelineError(f"the scan of layer {layer.digest} is missing from the layer cache")
            results[layer.index] = (scan, outcome.cached)
    inventory = assemble_inventory(ecr_uri(pushed), stored.resolved(), Platform(), results, problems)
    report = build_report(inventory, job.binding.profile, _policy(job))
    prefix = image_prefix(pushed)
    errors = len(report.errors)
    state.evaluation = Evaluation(
        verdict=report.verdict,
        errors=errors,
        warnings=len(report.findings) - errors,
        findings=payload.travelling_findings(report.findings),
        findings_total=len(report.findings),
        report_uri=svc.bucket.put(prefix + "report.json", render_json(report).encode(), "application/json"),
        report_markdown_uri=svc.bucket.put(
            prefix + "report.md", render_markdown(report).encode(), "text/markdown"
        ),
        app_image_config=report.app_image_config_fields(),
    )
    return state


def _policy(job: Job) -> Policy:
    policy = job.binding.policy
    if not job.kernels:
        return policy
    try:
        return Policy.model_validate({**policy.model_dump(), "kernels": job.kernels})
    except ValidationError as err:
        raise PipelineError(f"label {LABEL_KERNELS}: {validation_problems(err)}") from err


# Register, then wait for the version --------------------------------------------------------------


def register(state: RunState, svc: Services) -> RunState:
    """Create the SageMaker image if absent and a version of it for this digest. The version's
    client token is derived from the execution, so a retried call makes no second version; across
    executions the digest's claim decides (and a digest retried after a failure, or pushed again
    after a delete, gets a new version, not the old one back)."""
    job = _need(state.job, "job")
    pushed = _need(state.pushed, "push")
    marker = f"Built from ECR repository {pushed.repository} by {MANAGED_BY}"
    existing = svc.sagemaker.describe_image(job.image_name)
    if existing is not None and not job.binding.image_name and existing.get("Description") != marker:
        # The derived name is another repository's image: take the collision-free form instead.
        job.image_name = derive_image_name(svc.settings.image_name_prefix, pushed.repository, unique=True)
        existing = svc.sagemaker.describe_image(job.image_name)
    if existing is None:
        svc.sagemaker.create_image(
            job.image_name, svc.settings.image_role_arn, job.display_name[:128], marker
        )
    token = str(uuid.UUID(hashlib.sha256(state.execution_arn.encode()).hexdigest()[:32]))
    base_image = platforms.base_image(pushed, _need(state.image, "image"))
    arn = svc.sagemaker.create_image_version(job.image_name, base_image, token)
    state.registration = Registration(
        image_name=job.image_name,
        image_version_arn=arn,
        version=int(arn.rsplit("/", 1)[1]),
        status="CREATING",
    )
    return state


def check_version(state: RunState, svc: Services) -> RunState:
    registration = _need(state.registration, "registration")
    found = svc.sagemaker.describe_image_version(registration.image_name, registration.version)
    registration.status = str(found["ImageVersionStatus"])
    registration.polls += 1
    if registration.status == "CREATE_FAILED":
        raise ImageVersionFailed(
            f"{registration.image_name} version {registration.version}: "
            f"{found.get('FailureReason') or 'SageMaker gave no reason'}"
        )
    if registration.status != "CREATED" and registration.polls >= svc.settings.version_max_polls:
        raise ImageVersionTimeout(
            f"{registration.image_name} version {registration.version} is still {registration.status} "
            f"after {registration.polls} checks"
        )
    return state


# Configure and attach ------------------------------------------------------------------------------


def configure(state: RunState, svc: Services) -> RunState:
    """Create or update the image's AppImageConfig, derived from the image itself."""
    registration = _need(state.registration, "registration")
    evaluation = _need(state.evaluation, "evaluation")
    name = config_name(registration.image_name, registration.version)
    svc.sagemaker.put_app_image_config({"AppImageConfigName": name, **(evaluation.app_image_config or {})})
    registration.app_image_config_name = name
    return state


def attach(state: RunState, svc: Services) -> RunState:
    job = _need(state.job, "job")
    registration = _need(state.registration, "registration")
    entry = {
        "ImageName": registration.image_name,
        "ImageVersionNumber": registration.version,
        "AppImageConfigName": _need(registration.app_image_config_name, "AppImageConfig"),
    }
    targets = binding_targets(job.binding, job.domain_id)
    limits.check_custom_image_room(
        svc.sagemaker, job.domain_id, targets, APP_SETTINGS[job.binding.profile], entry
    )
    before = previous.versions_before_run(
        svc.state,
        state.execution_arn,
        svc.sagemaker,
        job.domain_id,
        targets,
        APP_SETTINGS[job.binding.profile],
        registration.image_name,
    )
    lock = DomainLock(svc.state, job.domain_id, state.execution_arn)
    state.attached = attach_image(svc.sagemaker, lock, job.binding, job.domain_id, entry)
    for target in state.attached:
        if target.target in before:
            target.previous_version, target.previous_config = before[target.target]
    return state


# Canary --------------------------------------------------------------------------------------------

STUDIO_LOG_GROUP = "/aws/sagemaker/studio"
LOG_APP_TYPES = {"RSessionGateway": "RSession"}  # an app's type in its log stream's name, where it differs


def _canary_plan(binding: Binding) -> CanaryPlan | None:
    canary = binding.canary
    if not canary.active or binding.profile not in CANARY_APP_TYPES:
        return None
    return CanaryPlan(
        owner_kind="UserProfile" if canary.user_profile else "Space",
        owner=_need(canary.user_profile or canary.space, "canary owner"),
        app_type=CANARY_APP_TYPES[binding.profile],
        instance_type=canary.instance_type,
        budget_seconds=canary.budget_seconds,
        rollback=canary.on_failure == "rollback",
    )


def _app_of(state: RunState) -> tuple[str, str, str, str, str]:
    """CreateApp's domain, owner kind, owner, app type and app name for this run's canary."""
    job = _need(state.job, "job")
    plan = _need(job.canary, "canary plan")
    return job.domain_id, plan.owner_kind, plan.owner, plan.app_type, _need(state.canary, "canary").app_name


def start_canary(state: RunState, svc: Services) -> RunState:
    """Create an app of the image's type with the new version, for the canary user or space."""
    job = _need(state.job, "job")
    plan = _need(job.canary, "canary plan")
    registration = _need(state.registration, "registration")
    run = hashlib.sha256(state.execution_arn.encode()).hexdigest()[:8]
    name = canaries.app_name(plan, registration.version, run)
    canaries.check_space_free(svc.sagemaker, job.domain_id, plan, name)
    image_arn, _, _ = split_version_arn(registration.image_version_arn)
    svc.sagemaker.create_app(
        job.domain_id,
        plan.owner_kind,
        plan.owner,
        plan.app_type,
        name,
        {
            "SageMakerImageArn": image_arn,
            "SageMakerImageVersionArn": registration.image_version_arn,
            "InstanceType": plan.instance_type,
        },
    )
    log_type = LOG_APP_TYPES.get(plan.app_type, plan.app_type)
    state.canary = Canary(
        app_name=name,
        log_stream=f"{job.domain_id}/{plan.owner}/{log_type}/{name}",
        deadline=time.time() + plan.budget_seconds,
    )
    return state


def watch_canary(state: RunState, svc: Services) -> RunState:
    """Read the app's status and its start-up log from where the last read stopped."""
    canary = _need(state.canary, "canary")
    app = svc.sagemaker.describe_app(*_app_of(state))
    lines, canary.log_token = svc.logs.read_on(STUDIO_LOG_GROUP, canary.log_stream, canary.log_token)
    if lines:  # the whole log goes to S3; the state keeps the latest lines and each match, clipped
        prefix = (
            image_prefix(_need(state.pushed, "push")) + f"canary/{state.execution_arn.rsplit(':', 1)[-1]}/"
        )
        canary.log_uri = svc.bucket.put(
            f"{prefix}{time.time_ns()}.log", "\n".join(lines).encode(), "text/plain"
        )
    canary.matches = payload.merge_matches(canary.matches, match_lines(canary.lines[-CONTEXT:] + lines))
    canary.lines = payload.keep_lines(canary.lines, lines)
    canary.status = str(app["Status"])
    canary.failure_reason = app.get("FailureReason") or None
    if canary.status == "Pending" and time.time() > canary.deadline:
        canary.status = "TimedOut"
    canary.done = canary.status != "Pending"
    canary.failed = canary.status != "InService" or bool(known_failures(canary.matches))
    return state


def stop_canary(state: RunState, svc: Services) -> RunState:
    """Delete the canary app, whatever happened; on a failure the binding wants rolled back,
    restore what Attach replaced."""
    canary = _need(state.canary, "canary")
    job = _need(state.job, "job")
    plan = _need(job.canary, "canary plan")
    svc.sagemaker.delete_app(*_app_of(state))
    canary.deleted = True
    if canary.failed and plan.rollback and state.attached:
        lock = DomainLock(svc.state, job.domain_id, state.execution_arn)
        image_name = _need(state.registration, "registration").image_name
        canary.rolled_back = restore_image(
            svc.sagemaker, lock, job.binding, job.domain_id, image_name, state.attached
        )
    return state


# Retire and prune ----------------------------------------------------------------------------------


def _take_out_of_use(state: RunState, svc: Services, retired: Retired) -> Retired:
    """Detach the versions wherever the binding attaches the image, then delete them."""
    job = _need(state.job, "job")
    if retired.versions:
        lock = DomainLock(svc.state, job.domain_id, state.execution_arn)
        retired.detached_from = detach_versions(
            svc.sagemaker, lock, job.binding, job.domain_id, retired.image_name, set(retired.versions)
        )
        retired.deleted = [
            v for v in retired.versions if svc.sagemaker.delete_image_version(retired.image_name, v)
        ]
        for version in retired.deleted:
            svc.sagemaker.delete_app_image_config(config_name(retired.image_name, version))
    return retired


def retire(state: RunState, svc: Services) -> RunState:
    """Take the versions built from a deleted digest out of use, and forget the digest."""
    pushed = _need(state.pushed, "push")
    state.retired = _take_out_of_use(state, svc, _need(state.retired, "versions to retire"))
    Claims(svc.state).release(pushed.repository, _need(pushed.digest, "digest"))
    return state


def prune(state: RunState, svc: Services) -> RunState:
    """After a successful attach, keep the binding's newest `keep_versions` versions of the image."""
    job = _need(state.job, "job")
    keep = _need(job.binding.keep_versions, "keep_versions")
    registration = _need(state.registration, "registration")
    versions = [
        v for v in svc.sagemaker.list_image_versions(registration.image_name) if v != registration.version
    ]
    older = sorted(versions)[: max(len(versions) + 1 - keep, 0)]  # the new version counts as one kept
    state.retired = _take_out_of_use(
        state, svc, Retired(reason="pruned", image_name=registration.image_name, versions=older)
    )
    return state


# Notify --------------------------------------------------------------------------------------------


def notify(state: RunState, svc: Services) -> Notice:
    """Publish the run's one notification and record its result on the digest's claim."""
    outcome = notices.outcome_of(state)
    subject = notices.subject(state, outcome)
    message_id = svc.topic.publish(
        subject, notices.message(state, outcome), notices.attributes(state, outcome)
    )
    pushed = state.pushed
    version_arn = state.registration.image_version_arn if state.registration else None
    holds_claim = state.retired is None or state.retired.reason != "deleted"  # Retire let go of it
    if holds_claim and state.job is not None and pushed is not None and pushed.digest:
        Claims(svc.state).finish(pushed.repository, pushed.digest, state.execution_arn, outcome, version_arn)
    return Notice(
        outcome=outcome,
        subject=subject,
        message_id=message_id,
        image=notices.image_label(state),
        verdict=notices.verdict_of(state),
        image_version_arn=version_arn or (state.skip.image_version_arn if state.skip else None),
        attached=bool(state.attached) and not (state.canary and state.canary.rolled_back),
        report_uri=state.evaluation.report_markdown_uri if state.evaluation else None,
    )
