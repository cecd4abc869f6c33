"""ECR image scanning: the registry's scan type (GetRegistryScanningConfiguration),
DescribeImageScanFindings (basic and enhanced findings, paginated) and StartImageScan, returning our
models. Shapes are botocore's `ecr` model: `ImageScanFinding` (basic: name, severity, attributes
package_name/package_version) and `EnhancedImageScanFinding` (Amazon Inspector:
packageVulnerabilityDetails.vulnerabilityId and vulnerablePackages).

ECR scans image manifests, never an index: StartImageScan on an index answers
UnsupportedImageTypeException ("An artifact with media type 'application/vnd.oci.image.index.v1+json'
cannot be scanned", as reported in docker/setup-buildx-action#186; aws/containers-roadmap#1683), so
callers pass the digest of the platform manifest that is judged and registered."""

from __future__ import annotations

from typing import Any

import boto3

from ..errors import AwsRequestFailed, AwsUnavailable, ImageNotFound, RegistryAuthFailed, RepositoryNotFound
from ..vulnerabilities import ScanResult, ScanStatus, ScanType, Vulnerability
from .common import ErrorMap, call


class ScanNotFound(AwsRequestFailed):
    """No scan was started for the image."""


class ScanLimitExceeded(AwsRequestFailed):
    """ECR scans an image at most once a day."""


class UnsupportedImageType(AwsRequestFailed):
    """ECR's basic scanning does not support the image (its OS, or its manifest type)."""


class ImageArchived(AwsRequestFailed):
    """botocore `ImageArchivedException`: "The specified image is archived and cannot be scanned"."""


class ScanRequestInvalid(AwsRequestFailed):
    """botocore `ValidationException` of the scan calls ("There was an exception validating this
    request"), as ECR answers a request its registry's scanning cannot serve."""


_ERRORS: ErrorMap = {
    "ScanNotFoundException": ScanNotFound,
    "LimitExceededException": ScanLimitExceeded,
    "UnsupportedImageTypeException": UnsupportedImageType,
    "RepositoryNotFoundException": RepositoryNotFound,
    "ImageNotFoundException": ImageNotFound,
    "AccessDeniedException": RegistryAuthFailed,
    "ImageArchivedException": ImageArchived,
    "ValidationException": ScanRequestInvalid,
}
PAGE = 1000  # DescribeImageScanFindings' largest maxResults


def _attributes(finding: dict[str, Any]) -> dict[str, str]:
    return {a["key"]: a.get("value", "") for a in finding.get("attributes", [])}


def basic_vulnerabilities(finding: dict[str, Any]) -> list[Vulnerability]:
    attributes = _attributes(finding)
    return [
        Vulnerability(
            id=finding.get("name", "?"),
            severity=finding.get("severity", "UNDEFINED"),
            package=attributes.get("package_name", ""),
            installed=attributes.get("package_version", ""),
            uri=finding.get("uri"),
        )
    ]


def _installed(package: dict[str, Any]) -> str:
    version = str(package.get("version", ""))
    if package.get("release"):
        version += f"-{package['release']}"
    return f"{package['epoch']}:{version}" if package.get("epoch") else version


def enhanced_vulnerabilities(finding: dict[str, Any]) -> list[Vulnerability]:
    """One per vulnerable package: an Inspector finding may name several."""
    details = finding.get("packageVulnerabilityDetails", {})
    packages = details.get("vulnerablePackages") or [{}]
    return [
        Vulnerability(
            id=details.get("vulnerabilityId") or finding.get("title", "?"),
            severity=finding.get("severity", "UNDEFINED"),
            package=package.get("name", ""),
            installed=_installed(package),
            fixed=package.get("fixedInVersion") if package.get("fixedInVersion") != "NotAvailable" else None,
            uri=details.get("sourceUrl"),
        )
        for package in packages
    ]


class EcrScanning:
    def __init__(self, client: Any = None, region: str | None = None) -> None:
        self._client = client or boto3.client("ecr", region_name=region)

    def _call(self, what: str, operation: str, **kwargs: Any) -> dict[str, Any]:
        return call(self._client, operation, what, _ERRORS, unavailable=AwsUnavailable, **kwargs)

    def scan_type(self) -> ScanType:
        """The caller's registry's scan type (botocore `RegistryScanningConfiguration.scanType`):
        BASIC, or ENHANCED (Amazon Inspector), under which StartImageScan is not used (it "starts a
        basic image vulnerability scan")."""
        found = self._call("ECR registry scanning configuration", "get_registry_scanning_configuration")
        return ScanType(found.get("scanningConfiguration", {}).get("scanType", ScanType.BASIC))

    def findings(self, repository: str, registry_id: str | None, digest: str) -> ScanResult:
        """The scan of `digest` as ECR reports it now; status NOT_FOUND when none was started, and
        SCAN_REFUSED when ECR refuses to look (a ValidationException)."""
        what = f"ECR scan of {repository}@{digest}"
        kwargs: dict[str, Any] = {"repositoryName": repository, "imageId": {"imageDigest": digest}}
        if registry_id:
            kwargs["registryId"] = registry_id
        vulnerabilities: list[Vulnerability] = []
        while True:
            try:
                page = self._call(what, "describe_image_scan_findings", maxResults=PAGE, **kwargs)
            except ScanNotFound as err:
                return ScanResult(status=ScanStatus.NOT_FOUND, description=str(err))
            except ScanRequestInvalid as err:
                return ScanResult(status=ScanStatus.SCAN_REFUSED, description=str(err))
            found = page.get("imageScanFindings", {})
            for finding in found.get("findings", []):
                vulnerabilities += basic_vulnerabilities(finding)
            for finding in found.get("enhancedFindings", []):
                vulnerabilities += enhanced_vulnerabilities(finding)
            if not page.get("nextToken"):
                status = page.get("imageScanStatus", {})
                return ScanResult(
                    status=status.get("status", ScanStatus.NOT_FOUND),
                    description=status.get("description", ""),
                    vulnerabilities=vulnerabilities,
                )
            kwargs["nextToken"] = page["nextToken"]

    def start(self, repository: str, registry_id: str | None, digest: str) -> tuple[ScanStatus, str]:
        """Start a basic scan: the status it leaves, and why when ECR refused it. ECR allows one a
        day per image: a second start reports the first."""
        kwargs: dict[str, Any] = {"repositoryName": repository, "imageId": {"imageDigest": digest}}
        if registry_id:
            kwargs["registryId"] = registry_id
        try:
            started = self._call(f"ECR start scan of {repository}@{digest}", "start_image_scan", **kwargs)
        except ScanLimitExceeded:
            return ScanStatus.IN_PROGRESS, ""
        except UnsupportedImageType as err:
            return ScanStatus.UNSUPPORTED_IMAGE, str(err)
        except ImageArchived as err:
            return ScanStatus.IMAGE_ARCHIVED, str(err)
        except ScanRequestInvalid as err:
            return ScanStatus.SCAN_REFUSED, str(err)
        return ScanStatus(started.get("imageScanStatus", {}).get("status", ScanStatus.IN_PROGRESS)), ""
