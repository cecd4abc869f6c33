"""Register, then CheckVersion until the version is ready: create the SageMaker image if absent and
a version of it for the pushed digest."""

from __future__ import annotations

import hashlib
import uuid

from ...aws.common import NotFound
from ...aws.sagemaker import ImageState, split_version_arn
from ...errors import ConfigurationInvalid, ImageBusy, ImageUnusable, ImageVersionFailed, ImageVersionTimeout
from ..images import ecr_uri
from ..models import Job, Pushed, Registration, StateModel
from ..services import Services
from ..studio import built_from, image_description


class RegisterInput(StateModel):
    execution_arn: str
    pushed: Pushed
    job: Job
    manifest_digest: str  # the judged platform's manifest (of a multi-platform push's index)


def register(given: RegisterInput, svc: Services) -> Registration:
    """The version's client token is derived from the execution, so a retried call makes no second
    version; across executions the digest's claim decides: a digest retried after a failed run gets
    the version that run registered back, if SageMaker created it, and a digest pushed again after a
    delete gets a new version."""
    job, pushed = given.job, given.pushed
    marker = image_description(pushed.repository)
    image_name = job.image_name
    existing = svc.sagemaker.describe_image(image_name)
    if existing is not None and not job.binding.image_name and existing.description != marker:
        other = built_from(existing.description)
        holder = (
            f"the image built from repository {other}" if other else "an image this pipeline did not create"
        )
        raise ConfigurationInvalid(
            f"repository {pushed.repository} derives the image name {image_name}, already taken by {holder} "
            "(derived names fold '/', '-' and other characters alike): give the binding "
            f"{job.binding.match!r} an image_name of its own"
        )
    reused = _created_earlier(svc, job, image_name)
    if reused is not None:
        return reused
    if existing is None:
        svc.sagemaker.create_image(image_name, svc.settings.image_role_arn, job.display_name[:128], marker)
        existing = svc.sagemaker.describe_image(image_name)
    check_created(image_name, existing)
    token = str(uuid.UUID(hashlib.sha256(given.execution_arn.encode()).hexdigest()[:32]))
    arn = svc.sagemaker.create_image_version(image_name, ecr_uri(pushed, given.manifest_digest), token)
    return Registration(
        image_name=image_name, image_version_arn=arn, version=split_version_arn(arn)[2], status="CREATING"
    )


# CreateImage is asynchronous: DescribeImage's ImageStatus is CREATING, then CREATED or
# CREATE_FAILED (botocore's ImageStatus; the ImageCreated waiter in sagemaker's waiters-2.json), and
# UpdateImage's UPDATING ends CREATED again (the ImageUpdated waiter).
IMAGE_IN_PROGRESS = frozenset({"CREATING", "UPDATING"})


def check_created(name: str, image: ImageState | None) -> None:
    """A version can be made of a CREATED image only: one still being created or changed (or not
    yet visible after CreateImage) is busy, and the state's retry waits for it; a failed or
    departing one ends the run, with SageMaker's reason."""
    if image is None or image.status in IMAGE_IN_PROGRESS:
        status = image.status if image else "not visible yet"
        raise ImageBusy(f"image {name} is {status}; its version is made once it is CREATED")
    if image.status != "CREATED":
        raise ImageUnusable(
            f"image {name} is {image.status}: {image.failure_reason or 'SageMaker gave no reason'}; "
            "no version can be made of it: once it is deleted (DeleteImage), push again"
        )


def _created_earlier(svc: Services, job: Job, image_name: str) -> Registration | None:
    """The version a failed earlier run of this digest registered, if SageMaker created it."""
    if not job.earlier_version_arn:
        return None
    _, name, version = split_version_arn(job.earlier_version_arn)
    if name != image_name:
        return None
    try:
        found = svc.sagemaker.describe_image_version(name, version)
    except NotFound:  # retired or deleted since
        return None
    if found.status not in ("CREATING", "CREATED"):
        return None
    return Registration(
        image_name=name, image_version_arn=job.earlier_version_arn, version=version, status=found.status
    )


class CheckVersionInput(StateModel):
    execution_arn: str
    registration: Registration


def check_version(given: CheckVersionInput, svc: Services) -> Registration:
    registration = given.registration.model_copy()
    found = svc.sagemaker.describe_image_version(registration.image_name, registration.version)
    registration.status = found.status
    registration.polls += 1
    if registration.status == "CREATE_FAILED":
        raise ImageVersionFailed(
            f"{registration.image_name} version {registration.version}: "
            f"{found.failure_reason or 'SageMaker gave no reason'}"
        )
    if registration.status != "CREATED" and registration.polls >= svc.settings.version_max_polls:
        raise ImageVersionTimeout(
            f"{registration.image_name} version {registration.version} is still {registration.status} "
            f"after {registration.polls} checks"
        )
    return registration
