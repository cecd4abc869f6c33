"""StartCanary, WatchCanary and StopCanary: start an app of the image's type with the new version
for the canary user or space, watch it start, then delete it (and roll back a failure if the
binding says so)."""

from __future__ import annotations

import hashlib
import time

from ...aws.sagemaker import split_version_arn
from .. import canaryspace
from ..customimages import restore_image
from ..images import image_prefix
from ..models import AttachedTo, Canary, CanaryPlan, Job, Outcome, Pushed, Registration, StateModel
from ..payload import keep_lines, merge_matches
from ..records import DomainLock
from ..services import Services
from ..signatures import CONTEXT, known_failures, match_lines
from ..studio import STUDIO_LOG_GROUP, log_stream


class CanaryInput(StateModel):
    execution_arn: str
    job: Job
    plan: CanaryPlan
    registration: Registration


def start_canary(given: CanaryInput, svc: Services) -> Canary:
    job, plan, registration = given.job, given.plan, given.registration
    run = hashlib.sha256(given.execution_arn.encode()).hexdigest()[:8]
    name = canaryspace.app_name(plan, registration.version, run)
    canaryspace.check_space_free(svc.sagemaker, job.domain_id, plan, name)
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
    return Canary(
        app_name=name,
        log_stream=log_stream(job.domain_id, plan.owner, plan.app_type, name),
        deadline=time.time() + plan.budget_seconds,
    )


class _CanaryRun(StateModel):
    execution_arn: str
    job: Job
    plan: CanaryPlan
    canary: Canary


class WatchInput(_CanaryRun):
    pushed: Pushed  # where in S3 the start-up log is copied


def watch_canary(given: WatchInput, svc: Services) -> Canary:
    """Read the app's status and its start-up log from where the last read stopped. The whole log
    goes to S3; the state keeps the latest lines and each signature's first match, clipped."""
    job, plan, canary = given.job, given.plan, given.canary.model_copy()
    app = svc.sagemaker.describe_app(
        job.domain_id, plan.owner_kind, plan.owner, plan.app_type, canary.app_name
    )
    lines, canary.log_token = svc.logs.read_on(STUDIO_LOG_GROUP, canary.log_stream, canary.log_token)
    if lines:
        prefix = image_prefix(given.pushed) + f"canary/{given.execution_arn.rsplit(':', 1)[-1]}/"
        canary.log_uri = svc.bucket.put(
            f"{prefix}{time.time_ns()}.log", "\n".join(lines).encode(), "text/plain"
        )
    canary.matches = merge_matches(canary.matches, match_lines(canary.lines[-CONTEXT:] + lines))
    canary.lines = keep_lines(canary.lines, lines)
    canary.status = app.status
    canary.failure_reason = app.failure_reason
    if canary.status == "Pending" and time.time() > canary.deadline:
        canary.status = "TimedOut"
    canary.done = canary.status != "Pending"
    canary.failed = canary.status != "InService" or bool(known_failures(canary.matches))
    return canary


class StopInput(_CanaryRun):
    registration: Registration
    attached: list[AttachedTo]  # Attach's targets


def stop_canary(given: StopInput, svc: Services) -> Canary:
    """Delete the canary app, whatever happened; on a failure the binding wants rolled back,
    restore what Attach replaced. Decides the run's outcome: canary-failed or passed."""
    job, plan, canary = given.job, given.plan, given.canary.model_copy()
    svc.sagemaker.delete_app(job.domain_id, plan.owner_kind, plan.owner, plan.app_type, canary.app_name)
    canary.deleted = True
    if canary.failed and plan.rollback and given.attached:
        lock = DomainLock(svc.state, job.domain_id, given.execution_arn)
        canary.rolled_back = restore_image(
            svc.sagemaker,
            lock,
            job.binding,
            job.domain_id,
            given.registration.image_name,
            given.registration.version,
            given.attached,
        )
    canary.outcome = Outcome.CANARY_FAILED if canary.failed else Outcome.PASSED
    return canary
