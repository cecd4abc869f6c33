"""What the workflow's states pass each other. Every state takes and returns a `RunState` (the Map
iterations take a `LayerTask` and return a `LayerOutcome`); fields fill in as the run advances and
are left out of the JSON while empty, which is what the state machine's Choice states test."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..findings import Finding
from ..report import Verdict
from .config import Binding
from .signatures import SignatureMatch


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def dump(self) -> dict[str, Any]:
        """The JSON the state machine passes on: empty fields left out."""
        return self.model_dump(mode="json", exclude_none=True, by_alias=True)


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


class Outcome(StrEnum):
    PASSED = "passed"  # checked, registered and attached
    REFUSED = "refused"  # checked and found wanting: nothing registered
    FAILED = "failed"  # the pipeline itself failed: the error says why
    SKIPPED = "skipped"  # nothing to do: not an image, not a managed repository
    UNCHANGED = "unchanged"  # this repository and digest were handled before
    CANARY_FAILED = "canary-failed"  # registered and attached, but a canary app failed to start
    RETIRED = "retired"  # its ECR image was deleted: the versions built from it were detached and deleted


class Pushed(_Model):
    """The push, as the event reports it."""

    account: str
    region: str
    repository: str
    digest: str | None = None
    tag: str | None = None

    @property
    def name(self) -> str:
        return (
            f"{self.repository}:{self.tag}" if self.tag else f"{self.repository}@{(self.digest or '')[:19]}"
        )


class Skip(_Model):
    outcome: Outcome
    reason: str
    image_version_arn: str | None = None  # of an earlier run of the same digest
    earlier_outcome: Outcome | None = None  # that run's outcome, when it has finished
    quiet: bool | None = None  # True: ends without a notification


class CanaryPlan(_Model):
    """Where and how the canary app starts, settled by Resolve from the binding."""

    owner_kind: Literal["UserProfile", "Space"]
    owner: str
    app_type: str  # CreateApp's AppType
    instance_type: str
    budget_seconds: int
    rollback: bool  # on failure: restore what Attach replaced (else: report only)


class Job(_Model):
    """What the run works on, settled by Resolve."""

    binding: Binding
    registers: bool  # Gateway Provisioners images are checked only: they run outside SageMaker
    image_name: str
    domain_id: str
    display_name: str
    kernels: list[str] | None = None  # from the image's label; refines the binding's policy
    poll_seconds: int
    canary: CanaryPlan | None = None  # None: no canary start for this binding


class Canary(_Model):
    """The canary app as the workflow has seen it so far."""

    app_name: str
    log_stream: str
    deadline: float  # epoch seconds: still Pending after this is TimedOut
    status: str = "Pending"  # SageMaker's app status, or TimedOut
    failure_reason: str | None = None
    log_token: str | None = None  # where the next read of the log stream goes on from
    lines: list[str] = Field(default_factory=list)  # the start-up log, the latest lines
    log_uri: str | None = None  # the last part of the start-up log copied to S3
    matches: list[SignatureMatch] = Field(default_factory=list)
    done: bool = False  # the app has left Pending (or ran out of time): the loop ends
    # Until the app is seen in service with no known start-up failure in its log.
    failed: bool = True
    deleted: bool = False
    rolled_back: list[str] | None = None  # targets restored to what they had before


class LayerRef(_Model):
    index: int
    digest: str
    media_type: str
    size: int


class ImageRead(_Model):
    manifest_digest: str
    platform: str
    resolved_key: str  # S3 key of the resolved manifest and config
    layers: list[LayerRef]


class LayerTask(_Model):
    """One Map iteration's input."""

    pushed: Pushed
    layer: LayerRef


class LayerOutcome(_Model):
    digest: str
    cached: bool = False
    seconds: float = 0.0
    problem: str | None = None  # why the layer could not be read: becomes a finding


class Evaluation(_Model):
    verdict: Verdict
    errors: int
    warnings: int
    findings: list[Finding]  # the most important ones; the report has them all
    findings_total: int
    report_uri: str
    report_markdown_uri: str
    app_image_config: dict[str, Any] | None = None  # CreateAppImageConfig's fields, sans name


class Registration(_Model):
    image_name: str
    image_version_arn: str
    version: int
    status: str
    polls: int = 0
    app_image_config_name: str | None = None


class AttachedTo(_Model):
    target: str  # "domain d-x default user settings", "space s in d-x", ...
    previous_version: int | None = None  # the version this image had there before; None: new
    previous_config: str | None = None  # the AppImageConfig that version ran with
    setting: Literal["DefaultUserSettings", "DefaultSpaceSettings", "Space", "UserProfile"]
    name: str  # the domain's ID, or the space's or user profile's name


class Retired(_Model):
    """Image versions taken out of use: those built from a digest deleted from ECR, or those
    beyond the binding's keep_versions after a successful attach."""

    reason: Literal["deleted", "pruned"]
    image_name: str
    versions: list[int]
    detached_from: list[str] = Field(default_factory=list)
    deleted: list[int] = Field(default_factory=list)


class StepError(_Model):
    """What a Catch records at `$.error`."""

    error: str = Field(alias="Error")
    cause: str = Field(default="", alias="Cause")


class RunState(_Model):
    """The workflow's state. It starts as the execution's ARN and the event as delivered (kept raw:
    a malformed event must still reach Notify); Resolve parses the event into `pushed`."""

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

    pushed: Pushed | None = None
    skip: Skip | None = None
    job: Job | None = None
    image: ImageRead | None = None
    scans: list[LayerOutcome] | None = None
    evaluation: Evaluation | None = None
    registration: Registration | None = None
    attached: list[AttachedTo] | None = None
    canary: Canary | None = None
    retired: Retired | None = None
    error: StepError | None = None


class Notice(_Model):
    """Notify's output: the run's result, which is also the execution's output."""

    outcome: Outcome
    subject: str
    message_id: str
    image: str  # repository:tag, or repository@digest
    verdict: Verdict | None = None  # of the checks (for "unchanged", of the earlier run's); None: not checked
    image_version_arn: str | None = None
    attached: bool = False
    report_uri: str | None = None
