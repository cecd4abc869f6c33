"""Prune: after a successful attach, keep the binding's newest `keep_versions` versions of the
image; detach and delete the older ones."""

from __future__ import annotations

from pydantic import Field

from ..customimages import retire_versions
from ..models import Job, Registration, Retired, StateModel
from ..records import DomainLock
from ..services import Services


class PruneInput(StateModel):
    execution_arn: str
    job: Job
    keep_versions: int = Field(ge=1)
    registration: Registration


def prune(given: PruneInput, svc: Services) -> Retired:
    registration = given.registration
    versions = [
        v for v in svc.sagemaker.list_image_versions(registration.image_name) if v != registration.version
    ]
    older = sorted(versions)[: max(len(versions) + 1 - given.keep_versions, 0)]  # the new one counts as kept
    lock = DomainLock(svc.state, given.job.domain_id, given.execution_arn)
    plan = Retired(reason="pruned", image_name=registration.image_name, versions=older)
    return retire_versions(svc.sagemaker, lock, given.job.binding, given.job.domain_id, plan)
