"""The run's state, as the ASL lays it out. It starts as the execution's ARN and the event
(`RunStart`); each state is handed only what it needs (the ASL's `Parameters`) and returns only what
it decided, which the ASL places at the state's own path (`ResultPath`): `$.resolved`, `$.scans`,
`$.vulnerability_scan`, `$.evaluation`, `$.registration`, `$.attached`, `$.canary`, `$.retired`,
and a caught error at `$.failed.<state>`. Notify reads the whole record (`RunRecord`)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from .models import (
    Attachment,
    Canary,
    Evaluation,
    ImageRead,
    Job,
    LayerOutcome,
    Outcome,
    Pushed,
    Registration,
    Retired,
    ScanWatch,
    Skip,
    StateModel,
    StepError,
)


class RunStart(StateModel):
    """The run as it starts: the execution's ARN and the event as delivered (kept raw: a malformed
    event must still reach Notify)."""

    execution_arn: str = Field(min_length=1)
    event: dict[str, Any]

    @model_validator(mode="before")
    @classmethod
    def _bare_event(cls, data: Any) -> Any:
        """A bare EventBridge event (`sam local invoke -e events/push-tag.json`) starts a run
        outside Step Functions."""
        if isinstance(data, dict) and "detail-type" in data:
            return {"execution_arn": f"local:{data.get('id', 'event')}", "event": data}
        return data


class Resolved(StateModel):
    """Resolve's decision, at `$.resolved`: a `skip` ends the run; a `retire` plan goes to Retire;
    else the `image` is checked."""

    pushed: Pushed
    skip: Skip | None = None
    job: Job | None = None
    image: ImageRead | None = None
    retire: Retired | None = None  # an ECR delete: the versions built from the digest


class RunRecord(RunStart):
    """Everything the run's states recorded: what Notify reads. Any state may have failed (its
    error caught at `$.failed.<its name>`), so every part is optional."""

    resolved: Resolved | None = None
    scans: list[LayerOutcome] | None = None
    vulnerability_scan: ScanWatch | None = None
    evaluation: Evaluation | None = None
    registration: Registration | None = None
    attached: Attachment | None = None
    canary: Canary | None = None
    retired: Retired | None = None
    failed: dict[str, StepError] = Field(default_factory=dict)  # by state name, as each Catch records

    @property
    def failed_step(self) -> str | None:
        """The state that failed first (a failed WatchCanary is followed by StopCanary)."""
        return next(iter(self.failed), None)

    @property
    def error(self) -> StepError | None:
        return self.failed[self.failed_step] if self.failed_step else None

    @property
    def pushed(self) -> Pushed | None:
        return self.resolved.pushed if self.resolved else None

    @property
    def skip(self) -> Skip | None:
        return self.resolved.skip if self.resolved else None

    @property
    def job(self) -> Job | None:
        return self.resolved.job if self.resolved else None

    @property
    def retirement(self) -> Retired | None:
        """The versions retired, or (if Retire failed) the ones Resolve planned to."""
        return self.retired or (self.resolved.retire if self.resolved else None)

    @property
    def outcome(self) -> Outcome:
        """A caught error fails the run; else the last decision a state recorded stands (each
        records its own `outcome`: Resolve's skip, Evaluate, Attach, StopCanary, Retire)."""
        if self.error is not None:
            return Outcome.FAILED
        decided = [
            self.skip.outcome if self.skip else None,
            self.evaluation.outcome if self.evaluation else None,
            self.attached.outcome if self.attached else None,
            self.canary.outcome if self.canary else None,
            self.retired.outcome if self.retired else None,
        ]
        return next((o for o in reversed(decided) if o is not None), Outcome.FAILED)
