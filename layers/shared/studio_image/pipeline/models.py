"""The slices of the workflow's state: what each state decides (`Evaluation`, `Registration`,
`Canary`, ...), placed by the ASL at the state's own path. Empty fields are left out of the JSON,
which is what the state machine's Choice states test. How the run's state is laid out is in
`state`."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..findings import Finding
from ..oci import Descriptor
from ..rules.judging import Verdict
from ..vulnerabilities import ScanStatus, ScanType
from .config import Binding
from .signatures import SignatureMatch


class StateModel(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def dump(self) -> dict[str, Any]:
        """The JSON the state machine passes on: empty fields left out."""
        return self.model_dump(mode="json", exclude_none=True, by_alias=True)


class Outcome(StrEnum):
    PASSED = "passed"  # checked, registered and attached
    REFUSED = "refused"  # checked and found wanting: nothing registered
    FAILED = "failed"  # the pipeline itself failed: the error says why
    SKIPPED = "skipped"  # nothing to do: not an image, not a managed repository
    UNCHANGED = "unchanged"  # this repository and digest were handled before
    CANARY_FAILED = "canary-failed"  # registered and attached, but a canary app failed to start
    RETIRED = "retired"  # its ECR image was deleted: the versions built from it were detached and deleted


class Pushed(StateModel):
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


class Skip(StateModel):
    outcome: Outcome
    reason: str
    image_version_arn: str | None = None  # of an earlier run of the same digest
    earlier_outcome: Outcome | None = None  # that run's outcome, when it has finished
    quiet: bool | None = None  # True: ends without a notification


class CanaryPlan(StateModel):
    """Where and how the canary app starts, settled by Resolve from the binding."""

    owner_kind: Literal["UserProfile", "Space"]
    owner: str
    app_type: str  # CreateApp's AppType
    instance_type: str
    budget_seconds: int
    rollback: bool  # on failure: restore what Attach replaced (else: report only)


class Job(StateModel):
    """What the run works on, settled by Resolve."""

    binding: Binding
    registers: bool  # Gateway Provisioners images are checked only: they run outside SageMaker
    image_name: str
    domain_id: str
    display_name: str
    kernels: list[str] | None = None  # from the image's label; refines the binding's policy
    poll_seconds: int
    canary: CanaryPlan | None = None  # None: no canary start for this binding
    # The version a failed earlier run registered for this digest: Register reuses it if it was created.
    earlier_version_arn: str | None = None


class Canary(StateModel):
    """The canary app as the workflow has seen it so far."""

    app_name: str
    log_stream: str
    deadline: float  # epoch seconds: still Pending after this is TimedOut
    status: str = "Pending"  # SageMaker's app status, TimedOut, or StartFailed (StartCanary failed)
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
    outcome: Outcome | None = None  # decided by StopCanary: canary-failed, or passed


class LayerRef(StateModel):
    """One layer: its place in the manifest, and what reading it takes of its descriptor (media type,
    digest, size). The descriptor's annotations, as many and as long as the image's builder wrote,
    are dropped: the run's state passes between states in at most 256 KiB (see `payload`)."""

    index: int
    descriptor: Descriptor

    @field_validator("descriptor")
    @classmethod
    def _read_only(cls, descriptor: Descriptor) -> Descriptor:
        return Descriptor(media_type=descriptor.media_type, digest=descriptor.digest, size=descriptor.size)

    @property
    def digest(self) -> str:
        return self.descriptor.digest


class ImageRead(StateModel):
    manifest_digest: str
    platform: str
    resolved_key: str  # S3 key of the resolved manifest and config
    layers: list[LayerRef]


class LayerOutcome(StateModel):
    digest: str
    cached: bool = False
    seconds: float = 0.0
    problem: str | None = None  # why the layer could not be read: becomes a finding


class ScanWatch(StateModel):
    """The watch of ECR's scan of the judged image, at `$.vulnerability_scan`: WatchVulnerabilityScan
    writes one look at a time; for a binding with no gate the state machine writes NOT_WATCHED."""

    status: ScanStatus
    description: str = ""
    scan_type: ScanType | None = None  # the registry's, read at the first look
    started: bool = False  # the pipeline called StartImageScan
    looks: int = 1
    waited_seconds: int = 0
    done: bool = False  # no more looks: the scan ended, or wait_seconds passed


class Evaluation(StateModel):
    verdict: Verdict
    errors: int
    warnings: int
    findings: list[Finding]  # the most important ones; the report has them all
    findings_total: int
    report_uri: str
    report_markdown_uri: str
    report_html_uri: str | None = None  # the page a person reads, beside the Markdown
    app_image_config: dict[str, Any] | None = None  # CreateAppImageConfig's fields, sans name
    sbom_uri: str | None = None  # CycloneDX JSON, beside the report
    # Decided here when the run ends with the checks: refused, or passed and not to be registered.
    outcome: Outcome | None = None


class Registration(StateModel):
    image_name: str
    image_version_arn: str
    version: int
    status: str
    polls: int = 0
    app_image_config_name: str | None = None


class AttachedTo(StateModel):
    target: str  # "domain d-x default user settings", "space s in d-x", ...
    previous_version: int | None = None  # the version this image had there before; None: new
    previous_config: str | None = None  # the AppImageConfig that version ran with
    setting: Literal["DefaultUserSettings", "DefaultSpaceSettings", "Space", "UserProfile"]
    name: str  # the domain's ID, or the space's or user profile's name


class Attachment(StateModel):
    """Attach's result, at `$.attached`: every target, with the version it replaced. Attached, the
    run has passed (unless a canary then fails it)."""

    targets: list[AttachedTo]
    outcome: Outcome = Outcome.PASSED


class Retired(StateModel):
    """Image versions taken out of use: those built from a digest deleted from ECR, or those
    beyond the binding's keep_versions after a successful attach."""

    reason: Literal["deleted", "pruned"]
    image_name: str
    versions: list[int]
    detached_from: list[str] = Field(default_factory=list)
    deleted: list[int] = Field(default_factory=list)
    outcome: Outcome | None = None  # decided by Retire: retired (pruning leaves the run's outcome be)


class StepError(StateModel):
    """What a Catch records at `$.error`."""

    error: str = Field(alias="Error")
    cause: str = Field(default="", alias="Cause")


class Notice(StateModel):
    """Notify's output: the run's result, which is also the execution's output."""

    outcome: Outcome
    subject: str
    message_id: str
    image: str  # repository:tag, or repository@digest
    verdict: Verdict | None = None  # of the checks (for "unchanged", of the earlier run's); None: not checked
    image_version_arn: str | None = None
    attached: bool = False
    report_uri: str | None = None
