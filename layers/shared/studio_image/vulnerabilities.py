"""The vulnerability gate: the policy's `vulnerabilities` section applied to ECR's scan of the image.

Findings at or above `fail_on` that no unexpired ignore covers are error findings of the
`vulnerability` rule, worst first; an expired ignore applies no more and says so. A scan that did
not complete is an error when `require_scan` is set, else a warning. The full list of the scan's
vulnerabilities goes to the report whatever the verdict.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from .findings import Finding, Severity

if TYPE_CHECKING:
    from .rules.judging import Report
    from .sources import ImageSource

RULE = "vulnerability"
RANK = {"CRITICAL": 4, "HIGH": 3, "MEDIUM": 2, "LOW": 1}  # the rest (INFORMATIONAL, UNDEFINED,
# Inspector's UNTRIAGED) rank below every threshold
SHOWN = 20  # error findings listed one by one; the rest are counted in one more


class ScanStatus(StrEnum):
    """ECR's ScanStatus (botocore `ecr` model), with three of ours: no scan, no wait, no look."""

    IN_PROGRESS = "IN_PROGRESS"
    COMPLETE = "COMPLETE"
    FAILED = "FAILED"
    UNSUPPORTED_IMAGE = "UNSUPPORTED_IMAGE"
    ACTIVE = "ACTIVE"  # enhanced scanning: continuously monitored, findings available
    PENDING = "PENDING"
    SCAN_ELIGIBILITY_EXPIRED = "SCAN_ELIGIBILITY_EXPIRED"
    FINDINGS_UNAVAILABLE = "FINDINGS_UNAVAILABLE"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
    IMAGE_ARCHIVED = "IMAGE_ARCHIVED"
    NOT_FOUND = "NOT_FOUND"  # ScanNotFoundException: no scan was started
    SCAN_REFUSED = "SCAN_REFUSED"  # ValidationException: ECR would not scan or report on the image
    TIMED_OUT = "TIMED_OUT"  # still not complete after the binding's wait_seconds
    NOT_WATCHED = "NOT_WATCHED"  # the binding sets no gate: the pipeline did not look


class ScanType(StrEnum):
    """botocore `ecr` ScanType: the registry's scanning, basic (ECR) or enhanced (Amazon Inspector)."""

    BASIC = "BASIC"
    ENHANCED = "ENHANCED"


DONE = frozenset({ScanStatus.COMPLETE, ScanStatus.ACTIVE})  # findings are final (or current)
WAITING = frozenset({ScanStatus.IN_PROGRESS, ScanStatus.PENDING})  # worth another look


class Ignore(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)  # CVE-2024-3094, GHSA-..., as the scan names it
    reason: str = Field(min_length=1)
    expires: date  # the last day it applies (UTC)


class VulnerabilityPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fail_on: Literal["CRITICAL", "HIGH", "MEDIUM", "LOW"] | None = None  # None: no threshold
    ignore: list[Ignore] = Field(default_factory=list)
    require_scan: bool = False
    wait_seconds: int = Field(default=600, ge=0, le=86_400)


class Vulnerability(BaseModel):
    id: str
    severity: str  # as ECR grades it: CRITICAL ... INFORMATIONAL, UNDEFINED, UNTRIAGED
    package: str = ""
    installed: str = ""
    fixed: str | None = None
    uri: str | None = None
    ignored: str | None = None  # the reason of the ignore that covers it


class ScanResult(BaseModel):
    status: ScanStatus
    description: str = ""
    vulnerabilities: list[Vulnerability] = Field(default_factory=list)


class VulnerabilityReport(BaseModel):
    """What the report carries: whether the gate was applied, the scan's status, every finding."""

    applied: bool
    status: ScanStatus | None = None
    note: str = ""
    vulnerabilities: list[Vulnerability] = Field(default_factory=list)

    def summary(self) -> str:
        if not self.applied or self.status not in DONE:
            return self.note
        counts: dict[str, int] = {}
        for v in self.vulnerabilities:
            counts[v.severity] = counts.get(v.severity, 0) + 1
        by_severity = ", ".join(f"{n} {severity}" for severity, n in counts.items())
        ignored = sum(1 for v in self.vulnerabilities if v.ignored)
        return f"ECR scan: {len(self.vulnerabilities)} found ({by_severity or 'none'}), {ignored} ignored"


GateResult = tuple[list[Finding], VulnerabilityReport]


def rank(severity: str) -> int:
    return RANK.get(severity, 0)


def _describe(v: Vulnerability) -> str:
    fixed = f", fixed in {v.fixed}" if v.fixed else ", no fix yet"
    return f"{v.id} ({v.severity}) in {v.package or '?'} {v.installed}{fixed}"


def gate(scan: ScanResult, policy: VulnerabilityPolicy, today: date | None = None) -> GateResult:
    """The gate's findings, and the report's vulnerability section, for one scan."""
    today = today or datetime.now(UTC).date()
    findings: list[Finding] = []
    if scan.status not in DONE:
        findings.append(
            Finding(
                rule=RULE,
                severity=Severity.ERROR if policy.require_scan else Severity.WARNING,
                message=f"ECR's scan did not complete: {scan.status.value}"
                + (f" ({scan.description})" if scan.description else ""),
                remediation="enable scan on push or enhanced scanning for the repository, "
                "or raise wait_seconds"
                if policy.require_scan
                else "the image was not gated on vulnerabilities (require_scan is off)",
            )
        )
        return findings, VulnerabilityReport(applied=True, status=scan.status, note=findings[0].message)

    active = {i.id: i for i in policy.ignore if i.expires >= today}
    for expired in (i for i in policy.ignore if i.expires < today):
        if any(v.id == expired.id for v in scan.vulnerabilities):
            findings.append(
                Finding(
                    rule=RULE,
                    severity=Severity.WARNING,
                    message=f"the ignore for {expired.id} expired on {expired.expires} and applies no "
                    f"more (it said: {expired.reason})",
                    remediation="fix the vulnerability, or renew the ignore with a new expiry date",
                )
            )
    listed = sorted(
        (
            v.model_copy(update={"ignored": active[v.id].reason}) if v.id in active else v
            for v in scan.vulnerabilities
        ),
        key=lambda v: (-rank(v.severity), v.id, v.package),
    )
    threshold = rank(policy.fail_on) if policy.fail_on else None
    failing = [v for v in listed if threshold is not None and rank(v.severity) >= threshold and not v.ignored]
    for v in failing[:SHOWN]:
        findings.append(
            Finding(
                rule=RULE,
                severity=Severity.ERROR,
                message=_describe(v),
                remediation=f"upgrade {v.package} to {v.fixed}"
                if v.fixed
                else "remove the package, or ignore the finding in the policy with a reason and an expiry",
            )
        )
    if len(failing) > SHOWN:
        findings.append(
            Finding(
                rule=RULE,
                severity=Severity.ERROR,
                message=f"and {len(failing) - SHOWN} more at {policy.fail_on} or above (see the report)",
                remediation="see the report's vulnerabilities",
            )
        )
    return findings, VulnerabilityReport(applied=True, status=scan.status, vulnerabilities=listed)


def not_applied(reason: str) -> GateResult:
    """The gate could not look at a scan (not an ECR image): a warning that says so."""
    finding = Finding(
        rule=RULE,
        severity=Severity.WARNING,
        message=f"vulnerability gate not applied: {reason}",
        remediation="check the image as ecr://REPOSITORY@DIGEST once it is pushed to a scanning repository",
    )
    return [finding], VulnerabilityReport(applied=False, note=finding.message)


POLL_SECONDS = 5


def check_source(source: ImageSource, digest: str | None, policy: VulnerabilityPolicy) -> GateResult:
    """For `studio-image check`: ECR's scan of an `ecr://` image, waited for up to wait_seconds;
    for any other source, a note that the gate was not applied."""
    from .aws.ecr_scanning import EcrScanning  # boto3 only when an ECR image is checked
    from .sources.ecr import EcrSource

    if not isinstance(source, EcrSource) or digest is None:
        return not_applied(f"{source.reference} is not in ECR, whose scan findings the gate reads")
    scanning = EcrScanning(source.ecr.client)
    deadline = time.monotonic() + policy.wait_seconds
    while True:
        scan = scanning.findings(source.repository, source.registry_id, digest)
        if scan.status not in WAITING or time.monotonic() >= deadline:
            break
        time.sleep(POLL_SECONDS)
    if scan.status in WAITING:
        scan = scan.model_copy(update={"status": ScanStatus.TIMED_OUT})
    return gate(scan, policy)


def with_gate(report: Report, result: GateResult) -> Report:
    """The report with the gate's findings and section; failed if the gate found an error."""
    from .rules.judging import Verdict

    findings, section = result
    failed = report.verdict == Verdict.FAIL or any(f.severity == Severity.ERROR for f in findings)
    return report.model_copy(
        update={
            # errors first, as the rules sort theirs (a notification lists the first few)
            "findings": sorted([*report.findings, *findings], key=lambda f: f.severity != Severity.ERROR),
            "rules_checked": [*report.rules_checked, RULE],
            "vulnerabilities": section,
            "verdict": Verdict.FAIL if failed else Verdict.PASS,
        }
    )
