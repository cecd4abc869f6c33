"""Retire: an ECR delete; detach and delete the image versions built from the deleted digest, and
forget the digest."""

from __future__ import annotations

from ..customimages import retire_versions
from ..models import Job, Outcome, Pushed, Retired, StateModel
from ..records import Claims, DomainLock
from ..services import Services


class RetireInput(StateModel):
    execution_arn: str
    pushed: Pushed
    job: Job
    retire: Retired  # Resolve's plan


def retire(given: RetireInput, svc: Services) -> Retired:
    """Decides the run's outcome: retired."""
    job, pushed = given.job, given.pushed
    lock = DomainLock(svc.state, job.domain_id, given.execution_arn)
    retired = retire_versions(svc.sagemaker, lock, job.binding, job.domain_id, given.retire)
    if pushed.digest:
        Claims(svc.state).release(pushed.repository, pushed.digest)
    return retired.model_copy(update={"outcome": Outcome.RETIRED})
