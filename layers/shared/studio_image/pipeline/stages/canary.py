"""StartCanary, WatchCanary and StopCanary: start an app of the image's type with the new version
for the canary user or space, watch it start, then delete it (and roll back a failure if the
binding says so). A StartCanary that failed is stopped too: its CreateApp may have gone through."""

from __future__ import annotations

import hashlib
import time
from typing import Literal

from ...aws.common import NotFound
from ...aws.sagemaker import AlreadyExists, split_version_arn
from ...errors import CanarySpaceBusy
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
    canary = _new_canary(given.execution_arn, job, plan, registration)
    image_arn, _, _ = split_version_arn(registration.image_version_arn)
    try:
        canaryspace.check_space_free(svc.sagemaker, job.domain_id, plan, canary.app_name)
        svc.sagemaker.create_app(
            job.domain_id,
            plan.owner_kind,
            plan.owner,
            plan.app_type,
            canary.app_name,
            {
                "SageMakerImageArn": image_arn,
                "SageMakerImageVersionArn": registration.image_version_arn,
                "InstanceType": plan.instance_type,
            },
        )
    except (CanarySpaceBusy, AlreadyExists):
        # CreateApp answers ResourceInUse for an app that exists (botocore's CreateApp errors:
        # "Resource being accessed is in use"). If this run's own CreateApp went through before (a
        # retried Lambda, a lost response), the app of this name running this version (DescribeApp's
        # ResourceSpec.SageMakerImageVersionArn) is the canary, started.
        if _own_app_status(svc, job, plan, canary.app_name, registration) not in canaryspace.RUNNING:
            raise
    return canary


def _new_canary(execution_arn: str, job: Job, plan: CanaryPlan, registration: Registration) -> Canary:
    """The run's canary app: its name is the same on every try of the run."""
    run = hashlib.sha256(execution_arn.encode()).hexdigest()[:8]
    name = canaryspace.app_name(plan, registration.version, run)
    return Canary(
        app_name=name,
        log_stream=log_stream(job.domain_id, plan.owner, plan.app_type, name),
        deadline=time.time() + plan.budget_seconds,
    )


def _own_app_status(
    svc: Services, job: Job, plan: CanaryPlan, name: str, registration: Registration
) -> str | None:
    """The status of the app `name` if it runs the registration's version; None if there is no such
    app, or it runs another image (a space's app may be someone else's)."""
    try:
        app = svc.sagemaker.describe_app(job.domain_id, plan.owner_kind, plan.owner, plan.app_type, name)
    except NotFound:
        return None
    return app.status if app.image_version_arn == registration.image_version_arn else None


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


class StartFailed(StateModel):
    """What the workflow holds as the canary when StartCanary failed (its Catch's Pass state):
    a CreateApp may have gone through all the same."""

    status: Literal["StartFailed"]


class StopInput(StateModel):
    execution_arn: str
    job: Job
    plan: CanaryPlan
    canary: Canary | StartFailed
    registration: Registration
    attached: list[AttachedTo]  # Attach's targets


def stop_canary(given: StopInput, svc: Services) -> Canary:
    """Delete the canary app, whatever happened; on a failure the binding wants rolled back,
    restore what Attach replaced. Decides the run's outcome: canary-failed or passed."""
    job, plan, registration = given.job, given.plan, given.registration
    if isinstance(given.canary, Canary):
        canary = given.canary.model_copy()
        svc.sagemaker.delete_app(job.domain_id, plan.owner_kind, plan.owner, plan.app_type, canary.app_name)
    else:  # delete the app StartCanary may have created, and only that: a space's app may be a user's
        canary = _new_canary(given.execution_arn, job, plan, registration)
        canary.status = "StartFailed"
        if _own_app_status(svc, job, plan, canary.app_name, registration) not in (None, "Deleted"):
            svc.sagemaker.delete_app(
                job.domain_id, plan.owner_kind, plan.owner, plan.app_type, canary.app_name
            )
    canary.deleted = True
    if canary.failed and plan.rollback and given.attached:
        lock = DomainLock(svc.state, job.domain_id, given.execution_arn)
        canary.rolled_back = restore_image(
            svc.sagemaker,
            lock,
            job.binding,
            job.domain_id,
            registration.image_name,
            registration.version,
            given.attached,
        )
    canary.outcome = Outcome.CANARY_FAILED if canary.failed else Outcome.PASSED
    return canary
