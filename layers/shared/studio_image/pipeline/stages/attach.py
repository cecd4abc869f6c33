"""Attach: add the version to the domain's, spaces' and user profiles' custom images."""

from __future__ import annotations

from .. import limits, previous
from ..config import APP_SETTINGS
from ..customimages import attach_image, binding_targets
from ..models import Attachment, Job, Registration, StateModel
from ..records import DomainLock
from ..services import Services


class AttachInput(StateModel):
    execution_arn: str
    job: Job
    registration: Registration
    app_image_config_name: str


def attach(given: AttachInput, svc: Services) -> Attachment:
    """Checks SageMaker's custom-image limits under the domain lock, before any write (so two runs
    cannot both find room for one more image), and records what each target had before the run's
    first attempt, so a rollback after a retried Attach restores that."""
    job, registration = given.job, given.registration
    entry = {
        "ImageName": registration.image_name,
        "ImageVersionNumber": registration.version,
        "AppImageConfigName": given.app_image_config_name,
    }
    app_key = APP_SETTINGS[job.binding.profile]
    targets = binding_targets(job.binding, job.domain_id)
    before = previous.versions_before_run(
        svc.state,
        given.execution_arn,
        svc.sagemaker,
        job.domain_id,
        targets,
        app_key,
        registration.image_name,
    )
    lock = DomainLock(svc.state, job.domain_id, given.execution_arn)
    attached = attach_image(
        svc.sagemaker,
        lock,
        job.binding,
        job.domain_id,
        entry,
        lambda: limits.check_custom_image_room(svc.sagemaker, job.domain_id, targets, app_key, entry),
    )
    for target in attached:
        if target.target in before:
            target.previous_version, target.previous_config = before[target.target]
    return Attachment(targets=attached)
