"""ECR image scanning as the pipeline reads it, where moto stops short:

- A repository whose `imageScanningConfiguration.scanOnPush` is set has a scan of every pushed
  image, as ECR starts one on push (moto starts none: DescribeImageScanFindings would answer
  ScanNotFoundException until StartImageScan). Under the registry's ENHANCED scan type
  (PutRegistryScanningConfiguration), the registry's rules decide instead: "Any repositories not
  matching an enhanced scanning filter will have scanning disabled" (ECR User Guide, Image scanning,
  "Using filters"), and StartImageScan, which "starts a basic image vulnerability scan" (botocore
  `StartImageScan`), is refused with a ValidationException (AWS does not document its wording).
- Scans are of image manifests. An index (a multi-platform push) has none: DescribeImageScanFindings
  answers ScanNotFoundException, and StartImageScan UnsupportedImageTypeException with ECR's
  message "An artifact with media type '...' cannot be scanned" (reported in
  docker/setup-buildx-action#186 and aws/containers-roadmap#1683); each platform image of the
  index has its own scan.
- An image may choose its own scan result with the `moto-studio.scan-result` label on its config:
  JSON in DescribeImageScanFindings' response shape (botocore `ecr` model), e.g.
  `{"status": "COMPLETE", "findings": [ImageScanFinding, ...], "enhancedFindings": [...]}`
  (status any `ScanStatus`; default COMPLETE). Without the label, moto's own result applies
  (its fixed default, or what a test set through moto's `scan_finding_results`).
- The findings are paged by `maxResults` (1 to 1000, botocore's `MaxResults`; ECR's default page is
  100) and `nextToken`, across `findings` then `enhancedFindings`, the two result keys of botocore's
  DescribeImageScanFindings paginator.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime
from typing import Any

from moto.core.responses import ActionResult
from moto.ecr.exceptions import ScanNotFoundException, ValidationException
from moto.ecr.models import ECRBackend, Image, Repository
from moto.utilities.paginator import paginate

from .ecr import UnsupportedImageTypeException, layer_blobs

SCAN_RESULT_LABEL = "moto-studio.scan-result"
INDEX_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
SCANNED_BY_ENHANCED_RULES = ("SCAN_ON_PUSH", "CONTINUOUS_SCAN")  # botocore `ScanFrequency`, less MANUAL
PAGINATION_MODEL = {
    "scan_findings_page": {
        "input_token": "next_token",
        "limit_key": "max_results",
        "limit_default": 100,
        "unique_attribute": "position",
    }
}


def _labelled_result(repository: Repository, image: Image) -> dict[str, Any] | None:
    try:
        manifest = json.loads(image.image_manifest)
        config = json.loads(layer_blobs(repository)[manifest["config"]["digest"]])
        label = (config.get("config") or {}).get("Labels", {}).get(SCAN_RESULT_LABEL)
    except (KeyError, TypeError, ValueError):
        return None
    return json.loads(label) if label else None


def _index_type(image: Image) -> str | None:
    """The media type of an image that is an index (a manifest list), else None."""
    try:
        media_type = json.loads(image.image_manifest).get("mediaType")
    except (TypeError, ValueError):
        return None
    return media_type if media_type in INDEX_TYPES else None


class StudioScanBackend:
    """Grafted onto moto's ECRBackend; `describe_image_scan_findings` and `start_image_scan` wrap
    moto's."""

    _moto_describe_image_scan_findings: Any  # moto's own, kept by install()
    _moto_start_image_scan: Any
    registry_scanning_configuration: dict[str, Any]

    def _enhanced(self) -> bool:
        return self.registry_scanning_configuration.get("scanType") == "ENHANCED"

    def _scanned_on_push(self, repository: Repository) -> bool:
        if self._enhanced():
            frequency = repository.scanning_config["scanFrequency"]  # set by the registry's rules
            return frequency in SCANNED_BY_ENHANCED_RULES
        configuration: dict[str, Any] = repository.image_scanning_configuration  # type: ignore[assignment]
        return bool(configuration.get("scanOnPush"))

    def start_image_scan(
        self, registry_id: str | None, repository_name: str, image_id: dict[str, Any]
    ) -> dict[str, Any]:
        repository = self._get_repository(repository_name, registry_id)  # type: ignore[attr-defined]
        image = repository._get_image(image_id.get("imageTag"), image_id.get("imageDigest"))
        if self._enhanced():
            raise ValidationException(
                "StartImageScan starts basic scans; this registry uses enhanced scanning"
            )
        index_type = _index_type(image)
        if index_type:
            raise UnsupportedImageTypeException(
                f"An artifact with media type '{index_type}' cannot be scanned. "
                "For more information, see the Amazon ECR documentation."
            )
        return self._moto_start_image_scan(registry_id, repository_name, image_id)  # type: ignore[no-any-return]

    def describe_image_scan_findings(
        self,
        registry_id: str | None,
        repository_name: str,
        image_id: dict[str, Any],
        max_results: int | None = None,
        next_token: str | None = None,
    ) -> dict[str, Any]:
        repository = self._get_repository(repository_name, registry_id)  # type: ignore[attr-defined]
        image = repository._get_image(image_id.get("imageTag"), image_id.get("imageDigest"))
        if _index_type(image):
            tag = image_id.get("imageTag") or "null"
            shown = f"{{imageDigest:'{image.get_image_digest()}', imageTag:'{tag}'}}"  # as moto words it
            raise ScanNotFoundException(shown, repository_name, repository.registry_id)
        if image.last_scan is None and self._scanned_on_push(repository):
            image.last_scan = datetime.fromtimestamp(image.image_pushed_at)
        # A copy: moto keeps a result set through its API, and pages are cut from this one.
        result = copy.deepcopy(
            self._moto_describe_image_scan_findings(registry_id, repository_name, image_id)
        )
        labelled = _labelled_result(repository, image)
        if labelled is not None:
            status = labelled.get("status", "COMPLETE")
            result["imageScanStatus"] = {"status": status, "description": labelled.get("description", "")}
            result["imageScanFindings"] = {
                "findings": labelled.get("findings", []),
                "enhancedFindings": labelled.get("enhancedFindings", []),
            }
        found = result.get("imageScanFindings", {})
        items = [("findings", f) for f in found.get("findings", [])]
        items += [("enhancedFindings", f) for f in found.get("enhancedFindings", [])]
        page, token = self.scan_findings_page(
            [{"position": i, "key": key, "finding": f} for i, (key, f) in enumerate(items)],
            max_results=max_results,
            next_token=next_token,
        )
        if items:
            for key in ("findings", "enhancedFindings"):
                if key in found:
                    found[key] = [item["finding"] for item in page if item["key"] == key]
        if token:
            result["nextToken"] = token
        return result  # type: ignore[no-any-return]

    @paginate(pagination_model=PAGINATION_MODEL)
    def scan_findings_page(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return items


class StudioScanResponse:
    """Grafted onto moto's ECRResponse: passes maxResults and nextToken on."""

    ecr_backend: ECRBackend

    def describe_image_scan_findings(self) -> ActionResult:
        return ActionResult(
            self.ecr_backend.describe_image_scan_findings(  # type: ignore[call-arg]
                self._get_param("registryId"),  # type: ignore[attr-defined]
                self._get_param("repositoryName"),  # type: ignore[attr-defined]
                self._get_param("imageId"),  # type: ignore[attr-defined]
                max_results=self._get_param("maxResults"),  # type: ignore[attr-defined]
                next_token=self._get_param("nextToken"),  # type: ignore[attr-defined]
            )
        )
