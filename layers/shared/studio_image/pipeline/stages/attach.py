"""Attach: add the version to the domain's, spaces' and user profiles' custom images."""

from __future__ import annotations

from ..customimages import attach_image
from ..models import Attachment, Job, Registration, StateModel
from ..records import DomainLock
from ..services import Services


class AttachInput(StateModel):
    execution_arn: str
    job: Job
    registration: Registration
    app_image_config_name: str


def attach(given: AttachInput, svc: Services) -> Attachment:
    job, registration = given.job, given.registration
    entry = {
        "ImageName": registration.image_name,
        "ImageVersionNumber": registration.version,
        "AppImageConfigName": given.app_image_config_name,
    }
    lock = DomainLock(svc.state, job.domain_id, given.execution_arn)
    return Attachment(targets=attach_image(svc.sagemaker, lock, job.binding, job.domain_id, entry))
