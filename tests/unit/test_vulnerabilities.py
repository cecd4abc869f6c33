"""The vulnerability gate: thresholds, ignores and their expiry, scans that did not complete."""

from __future__ import annotations

from datetime import date

import boto3
import pytest
from botocore.stub import Stubber

from studio_image.aws.ecr_scanning import EcrScanning
from studio_image.errors import PolicyInvalid
from studio_image.findings import Severity
from studio_image.policy import Policy, load_policy
from studio_image.vulnerabilities import (
    ScanResult,
    ScanStatus,
    Vulnerability,
    VulnerabilityPolicy,
    gate,
)

TODAY = date(2026, 11, 29)


def vuln(id_: str, severity: str, package: str = "openssl", fixed: str | None = "3.0.15-1") -> Vulnerability:
    return Vulnerability(id=id_, severity=severity, package=package, installed="3.0.11-1", fixed=fixed)


SCAN = ScanResult(
    status=ScanStatus.COMPLETE,
    vulnerabilities=[
        vuln("CVE-2024-0001", "MEDIUM"),
        vuln("CVE-2024-0002", "CRITICAL", "xz-utils", fixed=None),
        vuln("CVE-2024-0003", "HIGH"),
        vuln("CVE-2024-0004", "UNTRIAGED"),
        vuln("CVE-2024-0005", "LOW"),
    ],
)


def errors(findings):
    return [f.message for f in findings if f.severity == Severity.ERROR]


def test_findings_at_or_over_the_threshold_are_errors_worst_first():
    # Given a scan with one finding of each severity, and a gate failing on HIGH
    findings, section = gate(SCAN, VulnerabilityPolicy(fail_on="HIGH"), TODAY)
    # Then the critical and the high one are errors, critical first, with package and versions
    assert errors(findings) == [
        "CVE-2024-0002 (CRITICAL) in xz-utils 3.0.11-1, no fix yet",
        "CVE-2024-0003 (HIGH) in openssl 3.0.11-1, fixed in 3.0.15-1",
    ]
    assert all(f.rule == "vulnerability" for f in findings)
    # And the report keeps every finding, worst first
    assert [v.id for v in section.vulnerabilities] == [
        "CVE-2024-0002",
        "CVE-2024-0003",
        "CVE-2024-0001",
        "CVE-2024-0005",
        "CVE-2024-0004",
    ]


@pytest.mark.parametrize(
    ("fail_on", "count"), [("CRITICAL", 1), ("HIGH", 2), ("MEDIUM", 3), ("LOW", 4), (None, 0)]
)
def test_each_threshold_counts_its_severity_and_those_above(fail_on, count):
    findings, _ = gate(SCAN, VulnerabilityPolicy(fail_on=fail_on), TODAY)
    assert len(errors(findings)) == count


def test_an_ignore_applies_until_its_expiry_and_then_says_it_expired():
    # Given ignores for the critical finding: one expiring today, one that expired yesterday
    def policy(expires: date) -> VulnerabilityPolicy:
        ignore = {
            "id": "CVE-2024-0002",
            "reason": "not reachable: no xz in the kernel path",
            "expires": expires,
        }
        return VulnerabilityPolicy.model_validate({"fail_on": "CRITICAL", "ignore": [ignore]})

    # When the gate runs with each
    current, section = gate(SCAN, policy(TODAY), TODAY)
    expired, _ = gate(SCAN, policy(date(2026, 11, 28)), TODAY)
    # Then the current ignore passes the image and marks the finding in the report
    assert current == []
    assert section.vulnerabilities[0].ignored == "not reachable: no xz in the kernel path"
    # And the expired one applies no more and says so
    assert errors(expired) == ["CVE-2024-0002 (CRITICAL) in xz-utils 3.0.11-1, no fix yet"]
    assert [f.message for f in expired if f.severity == Severity.WARNING] == [
        "the ignore for CVE-2024-0002 expired on 2026-11-28 and applies no more "
        "(it said: not reachable: no xz in the kernel path)"
    ]


@pytest.mark.parametrize(
    "status", [ScanStatus.FAILED, ScanStatus.UNSUPPORTED_IMAGE, ScanStatus.NOT_FOUND, ScanStatus.TIMED_OUT]
)
@pytest.mark.parametrize(("require_scan", "severity"), [(True, Severity.ERROR), (False, Severity.WARNING)])
def test_a_scan_that_did_not_complete_fails_only_when_a_scan_is_required(status, require_scan, severity):
    findings, section = gate(ScanResult(status=status), VulnerabilityPolicy(require_scan=require_scan), TODAY)
    assert [(f.severity, f.message) for f in findings] == [
        (severity, f"ECR's scan did not complete: {status.value}")
    ]
    assert section.status == status


def test_many_failing_findings_are_listed_to_a_bound_and_counted(monkeypatch):
    scan = ScanResult(
        status=ScanStatus.COMPLETE, vulnerabilities=[vuln(f"CVE-2024-{i:04}", "HIGH") for i in range(25)]
    )
    findings, section = gate(scan, VulnerabilityPolicy(fail_on="HIGH"), TODAY)
    assert len(findings) == 21
    assert findings[-1].message == "and 5 more at HIGH or above (see the report)"
    assert len(section.vulnerabilities) == 25


def test_the_policy_section_validates(tmp_path):
    # Given a policy whose ignore lacks an expiry, and one with an unknown threshold
    missing = tmp_path / "missing.yaml"
    missing.write_text("vulnerabilities:\n  ignore:\n    - {id: CVE-2024-1, reason: vendor says no}\n")
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("vulnerabilities: {fail_on: SEVERE}\n")
    # Then each is a clear PolicyInvalid naming the field
    with pytest.raises(PolicyInvalid, match=r"vulnerabilities\.ignore\.0\.expires: Field required"):
        load_policy(missing)
    with pytest.raises(PolicyInvalid, match=r"vulnerabilities\.fail_on"):
        load_policy(unknown)
    # And without the section there is no gate
    assert Policy().vulnerabilities is None


@pytest.mark.parametrize(
    ("operation", "code", "status"),
    [
        ("start_image_scan", "ImageArchivedException", ScanStatus.IMAGE_ARCHIVED),
        ("start_image_scan", "ValidationException", ScanStatus.SCAN_REFUSED),
        ("start_image_scan", "UnsupportedImageTypeException", ScanStatus.UNSUPPORTED_IMAGE),
        ("describe_image_scan_findings", "ValidationException", ScanStatus.SCAN_REFUSED),
        ("describe_image_scan_findings", "ScanNotFoundException", ScanStatus.NOT_FOUND),
    ],
)
def test_ecr_refusing_a_scan_is_a_scan_outcome_the_policy_grades(operation, code, status):
    # Given ECR answering the scan call with one of botocore's errors for it
    client = boto3.client("ecr", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    assert code in {
        e.name
        for e in client.meta.service_model.operation_model(
            "StartImageScan" if operation == "start_image_scan" else "DescribeImageScanFindings"
        ).error_shapes
    }
    scanning = EcrScanning(client)
    with Stubber(client) as stub:
        stub.add_client_error(operation, code, "ECR says no")
        # When the adapter makes the call
        if operation == "start_image_scan":
            found, why = scanning.start("team/app", None, "sha256:" + "a" * 64)
        else:
            result = scanning.findings("team/app", None, "sha256:" + "a" * 64)
            found, why = result.status, result.description
    # Then it is an outcome with ECR's reason, not a failure of the run
    assert found == status
    assert "ECR says no" in why
    # And the gate makes it an error where a scan is required, a warning elsewhere
    for require_scan, severity in ((True, Severity.ERROR), (False, Severity.WARNING)):
        (finding,), _ = gate(
            ScanResult(status=found, description=why), VulnerabilityPolicy(require_scan=require_scan)
        )
        assert (finding.severity, finding.message.split(":")[0]) == (severity, "ECR's scan did not complete")
